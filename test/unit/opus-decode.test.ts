import { describe, expect, it } from 'vitest';
import opus from '@discordjs/opus';
import { OpusDecoder, OpusDecodeError } from '../../src/audio/opus-decoder.ts';
import { rms } from '../../src/audio/pcm.ts';

function tone(freq: number, n: number, amp = 8000, phase0 = 0): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin(2 * Math.PI * freq * ((i + phase0) / 48_000))));
}

function dominantFreq(x: Int16Array): number {
  let best = 0;
  let bestF = 0;
  for (let f = 100; f <= 2000; f += 10) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < x.length; i++) {
      re += x[i] * Math.cos((2 * Math.PI * f * i) / 48_000);
      im += x[i] * Math.sin((2 * Math.PI * f * i) / 48_000);
    }
    const p = re * re + im * im;
    if (p > best) [best, bestF] = [p, f];
  }
  return bestF;
}

describe('OpusDecoder (the microphone decode path)', () => {
  it('decodes stereo Opus (as browsers send it) to mono PCM that keeps the tone', () => {
    const enc = new opus.OpusEncoder(48_000, 2);
    const dec = new OpusDecoder();
    const out: Int16Array[] = [];
    for (let k = 0; k < 25; k++) {
      const mono = tone(440, 960, 8000, k * 960);
      const stereo = new Int16Array(1920);
      for (let i = 0; i < 960; i++) stereo[2 * i] = stereo[2 * i + 1] = mono[i];
      const pcm = dec.decode(enc.encode(Buffer.from(stereo.buffer)));
      expect(pcm.length).toBe(960);
      out.push(pcm);
    }
    const tail = Int16Array.from(out.slice(5).flatMap((a) => [...a]));
    expect(Math.abs(rms(tail) - rms(tone(440, 4800))) / rms(tone(440, 4800))).toBeLessThan(0.25);
    expect(Math.abs(dominantFreq(tail.subarray(0, 4800)) - 440)).toBeLessThanOrEqual(10);
  });

  it('rejects empty, oversized and garbage packets with OpusDecodeError', () => {
    const dec = new OpusDecoder();
    expect(() => dec.decode(new Uint8Array(0))).toThrow(OpusDecodeError);
    expect(() => dec.decode(new Uint8Array(10_000))).toThrow(OpusDecodeError);
    // A TOC byte announcing code 3 with an impossible frame count.
    expect(() => dec.decode(Uint8Array.from([0xff, 0xff, 0xff]))).toThrow(OpusDecodeError);
  });
});
