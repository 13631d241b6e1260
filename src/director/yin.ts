// YIN pitch estimation (de Cheveigne & Kawahara 2002): cumulative-mean-normalised difference, first dip under
// the threshold, parabolic refinement. Returns 0 when no period is clear enough (unvoiced or silent).

const THRESHOLD = 0.15;
/** Above this aperiodicity even the best dip is not a pitch. */
const MAX_APERIODICITY = 0.35;

/**
 * x: at least window + tauMax samples (the most recent ones are analysed); returns F0 in Hz or 0.
 */
export function yinPitch(x: Float32Array, window: number, tauMin: number, tauMax: number, sampleRate: number): number {
  const start = x.length - window - tauMax;
  if (start < 0) throw new RangeError(`yin needs ${window + tauMax} samples, got ${x.length}`);
  let energy = 0;
  for (let j = 0; j < window; j++) energy += x[start + j] * x[start + j];
  if (energy / window < 1e-7) return 0; // below about -70 dBFS: silence
  const d = new Float32Array(tauMax + 1);
  for (let tau = 1; tau <= tauMax; tau++) {
    let acc = 0;
    for (let j = 0; j < window; j++) {
      const diff = x[start + j] - x[start + j + tau];
      acc += diff * diff;
    }
    d[tau] = acc;
  }
  // Cumulative mean normalised difference.
  const cmnd = new Float32Array(tauMax + 1);
  cmnd[0] = 1;
  let running = 0;
  for (let tau = 1; tau <= tauMax; tau++) {
    running += d[tau];
    cmnd[tau] = running > 0 ? (d[tau] * tau) / running : 1;
  }
  let best = -1;
  for (let tau = tauMin; tau <= tauMax; tau++) {
    if (cmnd[tau] < THRESHOLD) {
      while (tau + 1 <= tauMax && cmnd[tau + 1] < cmnd[tau]) tau++;
      best = tau;
      break;
    }
  }
  if (best < 0) {
    // No dip under the threshold: take the global minimum if it is periodic enough.
    let min = Infinity;
    for (let tau = tauMin; tau <= tauMax; tau++) {
      if (cmnd[tau] < min) {
        min = cmnd[tau];
        best = tau;
      }
    }
    if (min > MAX_APERIODICITY) return 0;
  }
  let refined = best;
  if (best > tauMin && best < tauMax) {
    const a = cmnd[best - 1];
    const b = cmnd[best];
    const c = cmnd[best + 1];
    const denom = a - 2 * b + c;
    if (denom !== 0) refined = best + (0.5 * (a - c)) / denom;
  }
  return sampleRate / refined;
}
