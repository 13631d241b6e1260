// The quality measures themselves, on synthetic inputs where the truth is known.
import { describe, expect, it } from 'vitest';
import { aperture, closedThreshold, descriptorDistance, eyeOpenness, lipJitter, measureClip, measureIdentity, mouthWidth, type FrameFace } from '../../bench/quality/measure.ts';
import { bestLag, envelopeFn, pearson, silentFrames } from '../../bench/quality/signal.ts';

/** 68 landmarks: eyes 100 px apart, inner lips `open` px apart, mouth `width` px wide. */
function face(open: number, width = 80, dx = 0, eye = 9): Float32Array {
  const L = new Float32Array(136);
  const set = (i: number, x: number, y: number) => {
    L[2 * i] = x + dx;
    L[2 * i + 1] = y;
  };
  // Eyes 30 px wide, `eye` px tall (lids at 1, 2 above and 4, 5 below), centres 100 px apart.
  for (const [o, cx] of [[36, 200], [42, 300]] as const) {
    set(o, cx - 15, 200);
    set(o + 3, cx + 15, 200);
    set(o + 1, cx - 5, 200 - eye / 2);
    set(o + 2, cx + 5, 200 - eye / 2);
    set(o + 4, cx + 5, 200 + eye / 2);
    set(o + 5, cx - 5, 200 + eye / 2);
  }
  for (let i = 27; i < 36; i++) set(i, 250, 230 + i);
  for (let i = 48; i < 68; i++) set(i, 250, 300);
  set(48, 250 - width / 2, 300);
  set(54, 250 + width / 2, 300);
  set(62, 250, 300 - open / 2);
  set(66, 250, 300 + open / 2);
  return L;
}

describe('quality measures', () => {
  it('aperture and width are normalised by the inter-ocular distance', () => {
    expect(aperture(face(30))).toBeCloseTo(0.3, 5);
    expect(mouthWidth(face(0, 90))).toBeCloseTo(0.9, 5);
    expect(closedThreshold({ neutral: 0.1, open: 0.5 })).toBeCloseTo(0.16, 5);
    expect(descriptorDistance(Float32Array.of(0, 3), Float32Array.of(4, 0))).toBe(5);
  });

  it('identity leaves blinks out (the descriptor jumps on closed eyes) and counts frames with no face', () => {
    expect(eyeOpenness(face(0))).toBeCloseTo(0.3, 5);
    expect(eyeOpenness(face(0, 80, 0, 2))).toBeLessThan(0.1);
    const ref = Float32Array.of(0, 0);
    const frames: FrameFace[] = [
      { index: 0, tUs: 0, landmarks: face(0), descriptor: Float32Array.of(0.3, 0) },
      { index: 1, tUs: 40_000, landmarks: face(0, 80, 0, 2), descriptor: Float32Array.of(0.5, 0) },
      { index: 2, tUs: 80_000, landmarks: null, descriptor: null },
    ];
    const id = measureIdentity(frames, ref);
    expect(id).toMatchObject({ samples: 3, missed: 1, blinks: 1 });
    expect(id.max).toBeCloseTo(0.3, 5);
    expect(id.maxWithBlinks).toBeCloseTo(0.5, 5);
  });

  it('eye pixels decide blinks first: a shut eye with open-looking landmarks, and a shut eye with no face found', () => {
    const ref = Float32Array.of(0, 0);
    const frames: FrameFace[] = [
      { index: 0, tUs: 0, landmarks: face(0), descriptor: Float32Array.of(0.2, 0), eyesOpen: 1.05 },
      { index: 1, tUs: 40_000, landmarks: face(0), descriptor: Float32Array.of(0.45, 0), eyesOpen: 0.3 },
      { index: 2, tUs: 80_000, landmarks: null, descriptor: null, eyesOpen: 0.2 },
      { index: 3, tUs: 120_000, landmarks: null, descriptor: null, eyesOpen: 0.9 },
    ];
    const id = measureIdentity(frames, ref);
    expect(id).toMatchObject({ samples: 4, missed: 1, missedAt: [3], blinks: 2 });
    expect(id.max).toBeCloseTo(0.2, 5);
    expect(id.maxWithBlinks).toBeCloseTo(0.45, 5);
  });

  it('lip jitter counts lip motion, and head motion only when asked to', () => {
    const still: [Float32Array, Float32Array] = [face(0), face(0)];
    const moved: [Float32Array, Float32Array] = [face(0), face(0, 80, 2)];
    expect(lipJitter([still], true)).toBe(0);
    expect(lipJitter([moved], false)).toBeCloseTo(Math.SQRT1_2 * 2, 5);
    expect(lipJitter([moved], true)).toBeCloseTo(0, 5);
    expect(lipJitter([[face(0), face(4)]], true)).toBeCloseTo(Math.sqrt(8 / 40), 5); // 62 and 66 move 2 px each
  });

  it('finds the lag of a shifted envelope and the silent frames', () => {
    // 4 s of PCM: a 3 Hz modulated tone from 1 s to 3 s.
    const sr = 48_000;
    const pcm = Int16Array.from({ length: 4 * sr }, (_, n) => (n > sr && n < 3 * sr ? Math.round(8000 * (0.5 + 0.5 * Math.sin((2 * Math.PI * 3 * n) / sr)) * Math.sin((2 * Math.PI * 200 * n) / sr)) : 0));
    const env = envelopeFn(pcm);
    const ts = Array.from({ length: 100 }, (_, i) => i * 40_000);
    const lagged = ts.map((t) => env(t - 80_000)); // a mouth 80 ms late
    const fit = bestLag(ts, lagged, env);
    expect(fit.lagMs).toBe(80);
    expect(fit.r).toBeGreaterThan(0.99);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 10);
    const silent = silentFrames(ts, env, 0.001);
    expect(silent[10]).toBe(true); // 0.4 s
    expect(silent[24]).toBe(false); // 0.96 s: within 100 ms of the onset
    expect(silent[50]).toBe(false);
    expect(silent[90]).toBe(true);
  });

  it('scores a mouth that follows the audio and one that does not', () => {
    const sr = 48_000;
    const pcm = Int16Array.from({ length: 4 * sr }, (_, n) => (n > sr && n < 3 * sr ? Math.round(8000 * (0.5 + 0.5 * Math.sin((2 * Math.PI * 3 * n) / sr)) * Math.sin((2 * Math.PI * 200 * n) / sr)) : 0));
    const env = envelopeFn(pcm);
    const frames = (open: (t: number) => number): FrameFace[] =>
      Array.from({ length: 100 }, (_, i) => ({ index: i, tUs: i * 40_000, landmarks: face(10 + 200 * open(i * 40_000)), descriptor: null }));
    const calib = { neutral: 0.1, open: 0.6 };
    const good = measureClip(frames((t) => env(t)), pcm, calib);
    expect(good.lip.r).toBeGreaterThan(0.95);
    expect(good.closedFraction).toBe(1);
    expect(good.jitterPx).toBe(0);
    const flapping = measureClip(frames((t) => 0.2 + 0.2 * Math.sin(t / 50_000)), pcm, calib);
    expect(flapping.lip.r).toBeLessThan(0.5);
    expect(flapping.closedFraction).toBeLessThan(0.95);
    expect(flapping.jitterPx).toBeGreaterThan(1);
  });
});
