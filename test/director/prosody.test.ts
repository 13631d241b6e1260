// The audio expert's measurements on real speech (espeak-ng): rate, level and pitch move the right way.
import { describe, expect, it } from 'vitest';
import { emotionFromProsody, ProsodyTracker, type ProsodySummary } from '../../src/director/index.ts';
import { yinPitch } from '../../src/director/yin.ts';
import { chunks, concat, silence, speech } from './fixtures.ts';

const TEXT = 'The weather today is quite pleasant, and I think we could go for a long walk in the park this afternoon.';

function measure(samples: Int16Array): ProsodySummary {
  const t = new ProsodyTracker();
  const cs = chunks(samples);
  for (const c of cs) t.push(c);
  return t.summarize(0, cs.length * 20_000);
}

describe('prosody on espeak-ng speech', () => {
  it('speaking rate: -s 220 measures faster than -s 120', () => {
    const slow = measure(speech('espeak', TEXT, ['-s', '120']));
    const fast = measure(speech('espeak', TEXT, ['-s', '220']));
    expect(slow.nuclei.length).toBeGreaterThan(15); // about 30 syllables in the text
    expect(fast.syllableRate).toBeGreaterThan(slow.syllableRate * 1.3);
  });

  it('energy: a loud rendering measures louder than a quiet one', () => {
    const loud = measure(speech('espeak', TEXT, [], 1));
    const quiet = measure(speech('espeak', TEXT, [], 0.2));
    expect(loud.meanDb - quiet.meanDb).toBeGreaterThan(10); // 0.2x = -14 dB
    expect(loud.meanDb - quiet.meanDb).toBeLessThan(18);
  });

  it('pitch: -p 70 measures higher than -p 30', () => {
    const low = measure(speech('espeak', TEXT, ['-p', '30']));
    const high = measure(speech('espeak', TEXT, ['-p', '70']));
    expect(low.f0MedianHz).toBeGreaterThan(60);
    expect(12 * Math.log2(high.f0MedianHz / low.f0MedianHz)).toBeGreaterThan(2);
  });

  it('finds the pause between two sentences', () => {
    const s = concat(speech('espeak', 'First we talk.'), silence(1.2), speech('espeak', 'Then we rest.'));
    const m = measure(s);
    const long = m.pauses.filter((p) => p.endUs - p.startUs >= 1_000_000);
    expect(long).toHaveLength(1);
  });

  it('prosody reads a loud fast voice as more aroused than a quiet slow one', () => {
    const base = { speechS: 0, meanDb: -100, f0MedianHz: 0 };
    const hot = emotionFromProsody(measure(speech('espeak', TEXT, ['-s', '230', '-p', '70'], 1.5)), base);
    const cold = emotionFromProsody(measure(speech('espeak', TEXT, ['-s', '110', '-p', '25'], 0.15)), base);
    expect(hot.arousal).toBeGreaterThan(cold.arousal + 0.3);
    expect(['sad', 'calm']).toContain(cold.emotion);
  });
});

describe('yin', () => {
  it('finds the pitch of a harmonic tone and nothing in noise', () => {
    const fs = 16_000;
    const n = 629 + 400;
    const tone = new Float32Array(n);
    for (let i = 0; i < n; i++) tone[i] = 0.3 * Math.sin((2 * Math.PI * 150 * i) / fs) + 0.15 * Math.sin((2 * Math.PI * 300 * i) / fs) + 0.1 * Math.sin((2 * Math.PI * 450 * i) / fs);
    expect(yinPitch(tone, 400, 40, 229, fs)).toBeCloseTo(150, 0);
    let seed = 1;
    const noise = Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31 - 0.5) * 0.5;
    });
    expect(yinPitch(noise, 400, 40, 229, fs)).toBe(0);
  });
});
