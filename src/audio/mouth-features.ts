// Audio -> mouth drive. Per 10 ms hop: RMS level and zero-crossing rate; per video frame:
// jaw opening from the level around the frame time (with a small right context) and lip
// spread from the ZCR (fricatives spread the lips). Works for any voice and language.
// The level is normalised against a tracked speech peak and noise floor, so quiet and
// loud microphones both animate.
import { CHUNK_SAMPLES, type AudioChunk } from '../media/types.ts';

export const HOP_US = 10_000;
const HOP_SAMPLES = CHUNK_SAMPLES / 2;

export interface MouthDrive {
  /** 0 closed .. 1 fully open. */
  jawOpen: number;
  /** -1 rounded .. 1 spread. */
  lipSpread: number;
}

export interface MouthFeatureOptions {
  /** How far past the frame time the mouth may look (the live-mode latency it costs). */
  rightContextUs?: number;
  leftContextUs?: number;
  /** Level below which the mouth is closed, dBFS (adapted upward to the noise floor). */
  gateDb?: number;
  /** Hops kept in memory (a ring); older hops are forgotten. */
  historyHops?: number;
}

interface Hop {
  db: number;
  zcr: number;
}

export class MouthFeatureTrack {
  readonly rightContextUs: number;
  readonly leftContextUs: number;
  readonly #gateDb: number;
  readonly #capacity: number;
  readonly #hops = new Map<number, Hop>();
  #peakDb = -20;
  #noiseDb = -70;
  /** Audio is known (present or declared silent) up to this media time. */
  #coveredUntilUs = 0;

  constructor(opts: MouthFeatureOptions = {}) {
    this.rightContextUs = opts.rightContextUs ?? 40_000;
    this.leftContextUs = opts.leftContextUs ?? 30_000;
    this.#gateDb = opts.gateDb ?? -48;
    this.#capacity = opts.historyHops ?? 3000;
  }

  get coveredUntilUs(): number {
    return this.#coveredUntilUs;
  }

  push(chunk: AudioChunk): void {
    for (let h = 0; h < 2; h++) {
      const start = h * HOP_SAMPLES;
      let acc = 0;
      let crossings = 0;
      for (let i = start; i < start + HOP_SAMPLES; i++) {
        const s = chunk.samples[i];
        acc += s * s;
        if (i > start && (s >= 0) !== (chunk.samples[i - 1] >= 0)) crossings++;
      }
      const level = Math.sqrt(acc / HOP_SAMPLES) / 32768;
      const db = 20 * Math.log10(level + 1e-9);
      this.#track(db);
      const key = Math.round((chunk.ptsUs + h * HOP_US) / HOP_US);
      this.#hops.set(key, { db, zcr: crossings / HOP_SAMPLES });
    }
    this.#coveredUntilUs = Math.max(this.#coveredUntilUs, chunk.ptsUs + 2 * HOP_US);
    while (this.#hops.size > this.#capacity) {
      const oldest = this.#hops.keys().next().value as number;
      this.#hops.delete(oldest);
    }
  }

  /** Declares the timeline silent up to a time (live mode with no audio arriving). */
  coverSilenceUntil(ptsUs: number): void {
    this.#coveredUntilUs = Math.max(this.#coveredUntilUs, ptsUs);
  }

  /** Forgets everything at and after a time (interruption). */
  truncate(fromUs: number): void {
    const fromKey = Math.floor(fromUs / HOP_US);
    for (const key of [...this.#hops.keys()]) if (key >= fromKey) this.#hops.delete(key);
    this.#coveredUntilUs = Math.min(this.#coveredUntilUs, fromUs);
  }

  /** The mouth drive for a frame at ptsUs, from hops in [pts - left, pts + right]. */
  mouthAt(ptsUs: number): MouthDrive {
    const from = Math.floor((ptsUs - this.leftContextUs) / HOP_US);
    const to = Math.floor((ptsUs + this.rightContextUs) / HOP_US);
    const centre = ptsUs / HOP_US;
    let wsum = 0;
    let open = 0;
    let zcr = 0;
    for (let k = from; k <= to; k++) {
      const hop = this.#hops.get(k);
      // Triangular weights centred a little after the frame: the mouth leads the sound slightly.
      const w = Math.max(0.05, 1 - Math.abs(k + 0.5 - centre - 0.5) / 4);
      wsum += w;
      if (!hop) continue;
      open += w * this.#openness(hop.db);
      zcr += w * hop.zcr;
    }
    if (wsum === 0) return { jawOpen: 0, lipSpread: 0 };
    const jawOpen = Math.min(1, Math.max(0, open / wsum));
    const z = zcr / wsum;
    // High ZCR (s, sh, f) -> spread; low ZCR with voice (o, u) -> slightly rounded.
    const lipSpread = jawOpen < 0.05 ? 0 : Math.max(-0.6, Math.min(0.8, (z - 0.08) * 6));
    return { jawOpen, lipSpread };
  }

  #openness(db: number): number {
    const gate = Math.max(this.#gateDb, this.#noiseDb + 8);
    const top = Math.max(gate + 12, this.#peakDb - 2);
    if (db <= gate) return 0;
    const x = (db - gate) / (top - gate);
    return Math.min(1, x) ** 0.8;
  }

  #track(db: number): void {
    // Peak: fast attack, slow release. Noise floor: slow rise, fast fall.
    this.#peakDb = db > this.#peakDb ? 0.7 * this.#peakDb + 0.3 * db : Math.max(-40, this.#peakDb - 0.005);
    this.#noiseDb = db < this.#noiseDb ? db : this.#noiseDb + 0.002;
  }
}
