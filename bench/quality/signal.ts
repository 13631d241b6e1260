// Signal helpers for the quality measures: the audio RMS envelope at frame times, Pearson r, best lag.
import { FRAME_US, PIPELINE_SAMPLE_RATE } from '../../src/media/types.ts';

// Pearson r is the one the end-to-end lip-sync measure uses.
import { pearson } from '../../test/support/signal-analysis.ts';
export { pearson };

/** RMS (linear, full scale = 1) of PCM16 in a window of widthUs centred on tUs; 0 outside the audio. */
export function rmsAt(samples: Int16Array, tUs: number, widthUs = FRAME_US): number {
  const c = (tUs * PIPELINE_SAMPLE_RATE) / 1e6;
  const h = (widthUs * PIPELINE_SAMPLE_RATE) / 2e6;
  const a = Math.max(0, Math.round(c - h));
  const b = Math.min(samples.length, Math.round(c + h));
  if (b <= a) return 0;
  let acc = 0;
  for (let i = a; i < b; i++) acc += samples[i] * samples[i];
  return Math.sqrt(acc / (b - a)) / 32768;
}

/** The envelope as a function of time, sampled on a 5 ms grid (cheap to evaluate at any lag). */
export function envelopeFn(samples: Int16Array, widthUs = FRAME_US): (tUs: number) => number {
  const stepUs = 5_000;
  const n = Math.ceil((samples.length / PIPELINE_SAMPLE_RATE) * 200) + 1;
  const grid = Float64Array.from({ length: n }, (_, i) => rmsAt(samples, i * stepUs, widthUs));
  return (tUs) => {
    const x = tUs / stepUs;
    const i = Math.floor(x);
    if (i < 0 || i + 1 >= n) return 0;
    return grid[i] + (grid[i + 1] - grid[i]) * (x - i);
  };
}

export interface LagFit {
  /** Pearson r at the best lag. */
  readonly r: number;
  /** Best lag, ms; positive = the mouth moves after the sound. */
  readonly lagMs: number;
  /** r at lag 0. */
  readonly r0: number;
}

/** r of y(t_i) against env(t_i - lag) for lags in [-maxLagMs, maxLagMs] (step 10 ms). */
export function bestLag(tsUs: readonly number[], y: readonly number[], env: (tUs: number) => number, maxLagMs = 200, stepMs = 10): LagFit {
  let best = { r: -Infinity, lagMs: 0 };
  let r0 = 0;
  for (let lag = -maxLagMs; lag <= maxLagMs; lag += stepMs) {
    const r = pearson(y, tsUs.map((t) => env(t - lag * 1000)));
    if (lag === 0) r0 = r;
    if (r > best.r) best = { r, lagMs: lag };
  }
  return { ...best, r0 };
}

export function mean(x: readonly number[]): number {
  return x.length ? x.reduce((a, b) => a + b, 0) / x.length : Number.NaN;
}

export function percentile(x: readonly number[], q: number): number {
  if (x.length === 0) return Number.NaN;
  const s = [...x].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/** Frames whose envelope stays under the floor from marginUs before to marginUs after them. */
export function silentFrames(tsUs: readonly number[], env: (tUs: number) => number, floor: number, marginUs = 100_000): boolean[] {
  return tsUs.map((t) => {
    for (let d = -marginUs; d <= marginUs; d += 10_000) if (env(t + d) >= floor) return false;
    return true;
  });
}
