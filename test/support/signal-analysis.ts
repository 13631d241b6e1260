// Measures used by tests and benches on what a browser received: envelopes, correlation at
// the best lag, activity of an image region over time.

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  if (n < 3) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/** RMS envelope of PCM16 at a hop in samples. */
export function envelope(samples: Int16Array, hop: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + hop <= samples.length; i += hop) {
    let acc = 0;
    for (let j = i; j < i + hop; j++) acc += samples[j] * samples[j];
    out.push(Math.sqrt(acc / hop) / 32768);
  }
  return out;
}

/** Value of a uniformly sampled series (t0, dt) at time t, linear interpolation, 0 outside. */
export function sampleAt(series: readonly number[], t0: number, dt: number, t: number): number {
  const x = (t - t0) / dt;
  const i = Math.floor(x);
  if (i < 0 || i + 1 >= series.length) return 0;
  return series[i] + (series[i + 1] - series[i]) * (x - i);
}

/** Value of a series sampled at increasing times, linear interpolation, 0 outside. */
export function seriesAt(times: readonly number[], values: readonly number[], t: number): number {
  if (times.length < 2 || t < times[0] || t > times[times.length - 1]) return 0;
  let lo = 0;
  let hi = times.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid;
    else hi = mid;
  }
  const span = times[hi] - times[lo];
  return span > 0 ? values[lo] + ((values[hi] - values[lo]) * (t - times[lo])) / span : values[lo];
}

/** Moving average with a centred window of w samples. */
export function smooth(x: readonly number[], w: number): number[] {
  const h = Math.floor(w / 2);
  return x.map((_, i) => {
    let s = 0;
    let n = 0;
    for (let j = Math.max(0, i - h); j <= Math.min(x.length - 1, i + h); j++) {
      s += x[j];
      n++;
    }
    return s / n;
  });
}

/**
 * Correlation of y(t) against x(t + lag) over lags in [minLag, maxLag] (ms, step stepMs),
 * where x is given as a function of time. Returns the best r and its lag.
 */
export function bestLagCorrelation(ts: readonly number[], y: readonly number[], x: (t: number) => number, minLag: number, maxLag: number, stepMs = 10) {
  let best = { r: -Infinity, lagMs: 0 };
  for (let lag = minLag; lag <= maxLag; lag += stepMs) {
    const r = pearson(y, ts.map((t) => x(t - lag)));
    if (r > best.r) best = { r, lagMs: lag };
  }
  return best;
}

/**
 * Activity of an image region per frame: mean absolute difference from a reference image,
 * the per-pixel median of the frames picked as "at rest".
 */
export function regionActivity(frames: readonly number[][], restIdx: readonly number[]): number[] {
  const n = frames[0]?.length ?? 0;
  const ref = new Float64Array(n);
  const col: number[] = [];
  for (let p = 0; p < n; p++) {
    col.length = 0;
    for (const i of restIdx) col.push(frames[i][p]);
    col.sort((a, b) => a - b);
    ref[p] = col[Math.floor(col.length / 2)] ?? 0;
  }
  return frames.map((f) => {
    let s = 0;
    for (let p = 0; p < n; p++) s += Math.abs(f[p] - ref[p]);
    return s / Math.max(1, n);
  });
}

/**
 * How open the mouth is, per frame: the share of the region darker than `dark` (the mouth
 * cavity), minus its median over the frames picked as at rest. Unlike a pixel difference it
 * ignores the small head sway, breathing and blinks of a living face.
 */
export function mouthOpening(frames: readonly number[][], restIdx: readonly number[], dark = 70): number[] {
  const share = frames.map((f) => f.reduce((n, v) => n + (v < dark ? 1 : 0), 0) / Math.max(1, f.length));
  const rest = restIdx.map((i) => share[i]).sort((a, b) => a - b);
  const base = rest.length ? rest[Math.floor(rest.length / 2)] : 0;
  return share.map((x) => Math.max(0, x - base) * 100);
}

export function percentile(x: readonly number[], q: number): number {
  if (x.length === 0) return NaN;
  const s = [...x].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

export function mean(x: readonly number[]): number {
  return x.length ? x.reduce((a, b) => a + b, 0) / x.length : NaN;
}

/**
 * The first time at or after fromMs (10 ms steps) where the speech is loud (above 20% of its peak, 10 ms RMS) for
 * beforeMs before and afterMs after: inside a word, where an interrupt must be what stops the mouth.
 */
export function insideSpeechMs(samples: Int16Array, rate: number, fromMs: number, beforeMs: number, afterMs: number): number {
  const env = envelope(samples, rate / 100);
  const loud = percentile(env, 0.98) * 0.2;
  for (let t = fromMs; t + afterMs <= env.length * 10; t += 10) {
    let ok = true;
    for (let b = (t - beforeMs) / 10; ok && b < (t + afterMs) / 10; b++) ok = b >= 0 && env[b] > loud;
    if (ok) return t;
  }
  throw new Error(`no ${beforeMs + afterMs} ms of continuous speech after ${fromMs} ms`);
}
