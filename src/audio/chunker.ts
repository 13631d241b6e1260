// Cuts a stream of PCM16 @ 48 kHz into exact 20 ms chunks and stamps each on the media
// timeline. Timestamps come from the sample count, never from arrival time, so audio
// that arrives early or in odd-sized pieces keeps its place on the clock.
import { CHUNK_SAMPLES, PIPELINE_SAMPLE_RATE, type AudioChunk } from '../media/types.ts';

export class Chunker {
  #pending = new Int16Array(CHUNK_SAMPLES);
  #fill = 0;
  #nextPtsUs: number;
  readonly #epoch: number;

  constructor(startPtsUs: number, epoch: number) {
    this.#nextPtsUs = startPtsUs;
    this.#epoch = epoch;
  }

  /** Media time the next chunk will carry. */
  get nextPtsUs(): number {
    return this.#nextPtsUs;
  }

  /** Samples held back until a whole chunk is there. */
  get pendingSamples(): number {
    return this.#fill;
  }

  /** Moves the timeline forward (an underrun: the clock caught up); pending samples keep. */
  rebase(ptsUs: number): void {
    if (ptsUs > this.#nextPtsUs) this.#nextPtsUs = ptsUs;
  }

  push(samples: Int16Array): AudioChunk[] {
    const out: AudioChunk[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(CHUNK_SAMPLES - this.#fill, samples.length - offset);
      this.#pending.set(samples.subarray(offset, offset + take), this.#fill);
      this.#fill += take;
      offset += take;
      if (this.#fill === CHUNK_SAMPLES) out.push(this.#emit());
    }
    return out;
  }

  /** Pads the tail with silence so nothing the user sent is dropped. */
  flush(): AudioChunk[] {
    if (this.#fill === 0) return [];
    this.#pending.fill(0, this.#fill);
    this.#fill = CHUNK_SAMPLES;
    return [this.#emit()];
  }

  #emit(): AudioChunk {
    const chunk: AudioChunk = { ptsUs: this.#nextPtsUs, samples: this.#pending, epoch: this.#epoch };
    this.#pending = new Int16Array(CHUNK_SAMPLES);
    this.#fill = 0;
    this.#nextPtsUs += (CHUNK_SAMPLES * 1_000_000) / PIPELINE_SAMPLE_RATE;
    return chunk;
  }
}
