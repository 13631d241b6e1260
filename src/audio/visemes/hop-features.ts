// Per-10 ms-hop audio features for the mouth: level, band energies (a 1024-point FFT over the last 20 ms) and the
// zero-crossing rate. The bands follow the articulation, not the voice: F1 (300-1000 Hz) rises with jaw
// opening, F2 (1200-3000 Hz) against F1 separates spread front vowels from rounded back ones, energy above 4 kHz is
// frication (s, sh, f), and F1 against the voicing band (80-300 Hz) tells a vowel from a nasal murmur.
import { PIPELINE_SAMPLE_RATE } from '../../media/types.ts';

export const HOP_SAMPLES = 480;
const N = 1024;
const WINDOW = 2 * HOP_SAMPLES;
const BIN_HZ = PIPELINE_SAMPLE_RATE / N;

export interface HopFeatures {
  /** RMS level of the hop, dBFS. */
  readonly db: number;
  /** Band levels over the 20 ms window ending with the hop, dB (same reference for all bands). */
  readonly lowDb: number; // 80-300 Hz: voicing
  readonly f1Db: number; // 300-1000 Hz
  readonly f2Db: number; // 1200-3000 Hz
  readonly hiDb: number; // 4000-10000 Hz: frication
  /** Energy-weighted mean frequency in 250-1200 Hz (a crude F1), Hz. */
  readonly f1Hz: number;
  /** Zero crossings per sample. */
  readonly zcr: number;
}

const hann = Float64Array.from({ length: WINDOW }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / WINDOW));
const bitrev = new Uint16Array(N);
for (let i = 0, j = 0; i < N; i++) {
  bitrev[i] = j;
  let bit = N >> 1;
  while (j & bit) {
    j ^= bit;
    bit >>= 1;
  }
  j |= bit;
}
const cosT = Float64Array.from({ length: N / 2 }, (_, i) => Math.cos((2 * Math.PI * i) / N));
const sinT = Float64Array.from({ length: N / 2 }, (_, i) => -Math.sin((2 * Math.PI * i) / N));

/** In-place radix-2 FFT of (re, im), length N. */
function fft(re: Float64Array, im: Float64Array): void {
  for (let i = 0; i < N; i++) {
    const j = bitrev[i];
    if (j > i) {
      const tr = re[i];
      re[i] = re[j];
      re[j] = tr;
      const ti = im[i];
      im[i] = im[j];
      im[j] = ti;
    }
  }
  for (let size = 2; size <= N; size <<= 1) {
    const half = size >> 1;
    const step = N / size;
    for (let start = 0; start < N; start += size) {
      for (let k = 0; k < half; k++) {
        const c = cosT[k * step];
        const s = sinT[k * step];
        const a = start + k;
        const b = a + half;
        const xr = re[b] * c - im[b] * s;
        const xi = re[b] * s + im[b] * c;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

const band = (lo: number, hi: number): [number, number] => [Math.round(lo / BIN_HZ), Math.round(hi / BIN_HZ)];
const LOW = band(80, 300);
const F1 = band(300, 1000);
const F2 = band(1200, 3000);
const HI = band(4000, 10_000);
const F1C = band(250, 1200);

/** Stateful: each hop's window includes the hop before it, so hops must come in order (reset() after a gap). */
export class HopAnalyzer {
  readonly #prev = new Float64Array(HOP_SAMPLES);
  readonly #re = new Float64Array(N);
  readonly #im = new Float64Array(N);
  readonly #power = new Float64Array(N / 2);

  reset(): void {
    this.#prev.fill(0);
  }

  /** Features of samples[offset, offset + HOP_SAMPLES). */
  analyze(samples: Int16Array, offset: number): HopFeatures {
    const re = this.#re;
    const im = this.#im;
    re.fill(0);
    im.fill(0);
    let acc = 0;
    let crossings = 0;
    for (let i = 0; i < HOP_SAMPLES; i++) {
      const s = samples[offset + i] / 32768;
      acc += s * s;
      if (i > 0 && (samples[offset + i] >= 0) !== (samples[offset + i - 1] >= 0)) crossings++;
      re[i] = this.#prev[i] * hann[i];
      re[HOP_SAMPLES + i] = s * hann[HOP_SAMPLES + i];
      this.#prev[i] = s;
    }
    fft(re, im);
    const p = this.#power;
    for (let k = 0; k < N / 2; k++) p[k] = re[k] * re[k] + im[k] * im[k];
    const sum = ([lo, hi]: [number, number]) => {
      let e = 0;
      for (let k = lo; k < hi; k++) e += p[k];
      return e;
    };
    let num = 0;
    let den = 0;
    for (let k = F1C[0]; k < F1C[1]; k++) {
      num += p[k] * k * BIN_HZ;
      den += p[k];
    }
    // Normalised so that a full-scale sine in one band reads about 0 dB.
    const dB = (e: number) => 10 * Math.log10(e / (WINDOW * WINDOW * 0.09) + 1e-12);
    return {
      db: 10 * Math.log10(acc / HOP_SAMPLES + 1e-18),
      lowDb: dB(sum(LOW)),
      f1Db: dB(sum(F1)),
      f2Db: dB(sum(F2)),
      hiDb: dB(sum(HI)),
      f1Hz: den > 0 ? num / den : 0,
      zcr: crossings / HOP_SAMPLES,
    };
  }
}
