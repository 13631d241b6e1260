import { describe, expect, it } from 'vitest';
import { Resampler, idleResamplers, warmResamplers } from '../../src/audio/resampler.ts';

function sine(rate: number, hz: number, ms: number, amp = 8000): Int16Array {
  return Int16Array.from({ length: (rate * ms) / 1000 }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)));
}

/** Zero crossings per second of the steady part: a tone's frequency, twice over. */
function crossingsPerS(x: Int16Array, rate: number): number {
  const from = Math.floor(x.length / 4);
  let n = 0;
  for (let i = from + 1; i < x.length; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) n++;
  return n / ((x.length - from) / rate);
}

describe('resampler', () => {
  it('brings 16 and 24 kHz speech-band audio to 48 kHz in 100 ms pieces, keeping pitch, level and length', async () => {
    for (const rate of [16_000, 24_000]) {
      const r = await Resampler.create(rate);
      const input = sine(rate, 440, 1000);
      const pieces: Int16Array[] = [];
      for (let off = 0; off < input.length; off += rate / 10) pieces.push(r.process(input.subarray(off, off + rate / 10)));
      r.close();
      const out = Int16Array.from(pieces.flatMap((p) => [...p]));
      expect(Math.abs(out.length - 48_000)).toBeLessThan(200); // the filter's delay may hold a few ms back
      expect(crossingsPerS(out, 48_000)).toBeCloseTo(880, -1);
      const peak = out.slice(out.length / 4).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(peak).toBeGreaterThan(7000);
      expect(peak).toBeLessThan(9000);
    }
  });

  it('passes 48 kHz through untouched', async () => {
    const r = await Resampler.create(48_000);
    const x = sine(48_000, 300, 20);
    expect(r.process(x)).toBe(x);
    r.close();
  });

  it('reuses a closed converter for the next stream from a clean state, and keeps at most two idle', async () => {
    await warmResamplers();
    expect(idleResamplers(16_000)).toBeGreaterThan(0);
    const x = sine(16_000, 200, 100);
    const a = await Resampler.create(16_000);
    const first = a.process(x);
    a.close();
    // Dirty the same converter with other audio, then close it again.
    const b = await Resampler.create(16_000);
    b.process(sine(16_000, 3000, 100, 20000));
    b.close();
    const c = await Resampler.create(16_000);
    expect([...c.process(x)]).toEqual([...first]);
    c.close();

    const many = await Promise.all(Array.from({ length: 6 }, () => Resampler.create(24_000)));
    for (const r of many) r.close();
    expect(idleResamplers(24_000)).toBe(2);
    expect(() => many[0].process(x)).toThrow(/closed/);
  });
});
