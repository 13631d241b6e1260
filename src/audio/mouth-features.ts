// Audio -> mouth drive, for any voice and language, from the audio alone (plus visemes when the text is known).
// Per 10 ms hop (visemes/hop-features.ts): level and band energies. The level, normalised against a tracked
// speech peak and noise floor (quiet and loud microphones both animate), opens the jaw, a little more for a high
// F1 and less for frication; F2 against F1 (relative to this voice) spreads (front vowels, s) or rounds (back
// vowels) the lips; a sharp dip of the vowel bands between voiced stretches (a p, b, m closure) presses them.
// Smoothing is causal per hop (fast attack, slower release), then a short window around the frame that never
// reads past the right context. In silence every output is exactly 0: the mouth is closed and still.
import { CHUNK_SAMPLES, type AudioChunk } from '../media/types.ts';
import { HOP_SAMPLES, HopAnalyzer, VisemeTrack, blendVisemes, type AudioHop, type HopFeatures, type PronunciationDictionary } from './visemes/index.ts';

export const HOP_US = 10_000;
const HOPS_PER_CHUNK = CHUNK_SAMPLES / HOP_SAMPLES;

export interface MouthDrive {
  /** 0 closed .. 1 fully open. */
  jawOpen: number;
  /** -1 rounded .. 1 spread. */
  lipSpread: number;
  /** 0 relaxed .. 1 lips pressed together (m, b, p). */
  lipPress: number;
}

export interface MouthFeatureOptions {
  /** How far past the frame time the mouth may look (the live-mode latency it costs). */
  rightContextUs?: number;
  /** How far before the frame time the mouth looks (closure detection needs ~150 ms). */
  leftContextUs?: number;
  /** Level below which the mouth is closed, dBFS (adapted upward to the noise floor). */
  gateDb?: number;
  /** Hops kept in memory (a ring); older hops are forgotten. */
  historyHops?: number;
  /** Pronunciations for the visemes; default: the shared CMU dictionary, loaded on first use. */
  dictionary?: PronunciationDictionary;
}

/** Where the jaw window is centred, after the frame time: smoothing lags the sound by about this much. */
const LEAD_US = 20_000;
const JAW_HALF_WINDOW_US = 25_000;
/** Per-hop smoothing factors (10 ms hops): time constants 15 ms attack, 60 ms release, 50 ms lips. */
const ATTACK = 1 - Math.exp(-10 / 15);
const RELEASE = 1 - Math.exp(-10 / 60);
const LIPS = 1 - Math.exp(-10 / 50);
/** Below this, an output is 0 (a dead zone, so that silence is exactly still). */
const DEAD = 0.02;

interface Hop extends AudioHop {
  /** F1 + F2 band level, dB. */
  vowelDb: number;
  /** Smoothed targets. */
  open: number;
  spread: number;
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const dead = (x: number) => (Math.abs(x) <= DEAD ? 0 : (x - Math.sign(x) * DEAD) / (1 - DEAD));

export class MouthFeatureTrack {
  readonly rightContextUs: number;
  readonly leftContextUs: number;
  /** Text-driven mouth shapes; empty (and free) until text is added. */
  readonly visemes: VisemeTrack;
  readonly #gateDb: number;
  readonly #capacity: number;
  readonly #hops = new Map<number, Hop>();
  readonly #analyzer = new HopAnalyzer();
  #lastKey = Number.NaN;
  #peakDb = -20;
  #noiseDb = -70;
  /** This voice's mean F2-F1 band difference in speech, dB (spread is measured against it). */
  #meanF2F1 = -14;
  /** Audio is known (present or declared silent) up to this media time. */
  #coveredUntilUs = 0;

  constructor(opts: MouthFeatureOptions = {}) {
    this.rightContextUs = opts.rightContextUs ?? 40_000;
    this.leftContextUs = opts.leftContextUs ?? 150_000;
    this.#gateDb = opts.gateDb ?? -48;
    this.#capacity = opts.historyHops ?? 3000;
    if (!(this.rightContextUs >= 0) || !(this.leftContextUs >= 0)) throw new RangeError('contexts must be >= 0');
    this.visemes = new VisemeTrack(
      { hopUs: HOP_US, hopAt: (key) => this.#hops.get(key), coveredUntilUs: () => this.#coveredUntilUs },
      { dictionary: opts.dictionary },
    );
  }

  get coveredUntilUs(): number {
    return this.#coveredUntilUs;
  }

  push(chunk: AudioChunk): void {
    for (let h = 0; h < HOPS_PER_CHUNK; h++) {
      const key = Math.round((chunk.ptsUs + h * HOP_US) / HOP_US);
      if (key !== this.#lastKey + 1) this.#analyzer.reset();
      const f = this.#analyzer.analyze(chunk.samples, h * HOP_SAMPLES);
      this.#track(f.db);
      this.#hops.set(key, this.#hop(f, this.#hops.get(key - 1)));
      this.#lastKey = key;
    }
    this.#coveredUntilUs = Math.max(this.#coveredUntilUs, chunk.ptsUs + HOPS_PER_CHUNK * HOP_US);
    if (this.#hops.size > this.#capacity) {
      let oldest = 0;
      while (this.#hops.size > this.#capacity) {
        oldest = this.#hops.keys().next().value as number;
        this.#hops.delete(oldest);
      }
      this.visemes.forgetBefore(oldest * HOP_US);
    }
  }

  /** Declares the timeline silent up to a time (live mode with no audio arriving). */
  coverSilenceUntil(ptsUs: number): void {
    this.#coveredUntilUs = Math.max(this.#coveredUntilUs, ptsUs);
  }

  /** Forgets everything at and after a time (interruption), the text's future included. */
  truncate(fromUs: number): void {
    const fromKey = Math.floor(fromUs / HOP_US);
    for (const key of [...this.#hops.keys()]) if (key >= fromKey) this.#hops.delete(key);
    this.#coveredUntilUs = Math.min(this.#coveredUntilUs, fromUs);
    this.#lastKey = Number.NaN;
    this.visemes.truncate(fromUs);
  }

  /** The mouth drive for a frame at ptsUs, from hops in [pts - left, pts + right). */
  mouthAt(ptsUs: number): MouthDrive {
    const endKey = Math.ceil((ptsUs + this.rightContextUs) / HOP_US); // exclusive
    const startKey = Math.floor((ptsUs - this.leftContextUs) / HOP_US);
    const centre = (ptsUs + LEAD_US) / HOP_US - 0.5; // hop k's centre is at k + 0.5
    const half = JAW_HALF_WINDOW_US / HOP_US;
    let wsum = 0;
    let open = 0;
    let spread = 0;
    for (let k = Math.floor(centre - half); k <= Math.ceil(centre + half) && k < endKey; k++) {
      const w = Math.max(0, 1 - Math.abs(k - centre) / (half + 1));
      if (w === 0) continue;
      wsum += w;
      const hop = this.#hops.get(k);
      if (!hop) continue;
      open += w * hop.open;
      spread += w * hop.spread;
    }
    if (wsum > 0) {
      open /= wsum;
      spread /= wsum;
    }
    const closure = this.#closure(ptsUs, startKey, endKey);
    const audio: MouthDrive = {
      jawOpen: dead(clamp01(open * (1 - 0.6 * closure))),
      // The lips relax as the jaw closes, so spread and rounding fade into silence.
      lipSpread: dead(Math.max(-1, Math.min(1, spread * Math.min(1, 4 * open)))),
      lipPress: dead(0.7 * closure),
    };
    const shape = this.visemes.shapeAt(ptsUs);
    return shape ? blendVisemes(audio, shape) : audio;
  }

  /**
   * A lip closure between voiced stretches (m, b, p; t, d, k, g look the same to the ear's first 40 ms): the vowel
   * bands fall well below their level a moment ago while speech was recent, more so when speech resumes inside
   * the right context. Fades out 150 ms into a pause.
   */
  #closure(ptsUs: number, startKey: number, endKey: number): number {
    const at = Math.floor(ptsUs / HOP_US);
    const here = this.#hops.get(at);
    if (!here) return 0;
    let before = 0;
    let peakDb = -Infinity;
    for (let k = Math.max(startKey, at - 15); k < at; k++) {
      const h = this.#hops.get(k);
      if (!h) continue;
      before = Math.max(before, h.act * (1 - (at - k) / 16));
      if (h.act > 0.5) peakDb = Math.max(peakDb, h.vowelDb);
    }
    if (before === 0) return 0;
    // A fricative is a narrowing, not a closure: the lips stay apart.
    const dip = clamp01((peakDb - here.vowelDb - 10) / 12) * (1 - here.fric);
    let after = 0;
    for (let k = at + 1; k < endKey; k++) after = Math.max(after, this.#hops.get(k)?.act ?? 0);
    return dip * before * (0.35 + 0.65 * after);
  }

  #hop(f: HopFeatures, prev: Hop | undefined): Hop {
    const gate = Math.max(this.#gateDb, this.#noiseDb + 8);
    const top = Math.max(gate + 12, this.#peakDb);
    const act = clamp01((f.db - gate) / 6);
    // Frication (s, f, sh): energy above 4 kHz outweighs the voiced bands; the jaw stays nearly closed.
    const fric = act * clamp01((f.hiDb - Math.max(f.f1Db, f.lowDb) + 5) / 15);
    // Amplitude relative to the speech peak, compressed (^0.7): syllables modulate the jaw, loud ones open it most.
    const g = (10 ** ((gate - top) / 20)) ** 0.7;
    const a = Math.min(1, 10 ** ((f.db - top) / 20)) ** 0.7;
    const x = Math.max(0, (a - g) / (1 - g));
    const f1 = clamp01((f.f1Hz - 350) / 400);
    // At most 0.85: speech rarely drops the jaw all the way; the rest is left for shouting and the director.
    const openRaw = clamp01(x * (0.6 + 0.25 * f1) * (1 - 0.5 * fric));
    // Front vowels put F2 energy close to F1's, back rounded ones leave F2 weak; relative to this voice's own mean.
    const d = f.f2Db - f.f1Db;
    if (act > 0.5 && fric < 0.3) this.#meanF2F1 += 0.01 * (d - this.#meanF2F1);
    const front = Math.max(-1, Math.min(1, (d - this.#meanF2F1) / 8));
    const spreadRaw = act * ((1 - fric) * 0.7 * front + 0.5 * fric);
    // The vowel bands' level, for closures (m, b, p and other stops): the lips shut, F1-F2 energy collapses.
    const vowelDb = 10 * Math.log10(10 ** (f.f1Db / 10) + 10 ** (f.f2Db / 10));
    const p = prev ?? { open: 0, spread: 0 };
    return {
      features: f,
      act,
      vowelDb,
      fric,
      level: x,
      open: p.open + (openRaw > p.open ? ATTACK : RELEASE) * (openRaw - p.open),
      spread: p.spread + LIPS * (spreadRaw - p.spread),
    };
  }

  #track(db: number): void {
    // Peak: fast attack, slow release. Noise floor: slow rise, fast fall.
    this.#peakDb = db > this.#peakDb ? 0.7 * this.#peakDb + 0.3 * db : Math.max(-40, this.#peakDb - 0.005);
    this.#noiseDb = db < this.#noiseDb ? db : this.#noiseDb + 0.002;
  }
}
