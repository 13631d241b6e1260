// The session's playout buffer: audio chunks waiting for their media time. Bounded; the
// overflow policy is reject (the ingest answers the client with an error), never a silent drop.
import { CHUNK_MS, type AudioChunk } from '../media/types.ts';

const CHUNK_US = CHUNK_MS * 1000;

export interface PlayoutEntry {
  readonly chunk: AudioChunk;
  /** TTS segment (turn) the chunk belongs to; null for live microphone audio. */
  readonly segmentId: number | null;
  /** Last chunk of its segment. */
  readonly last: boolean;
}

export class PlayoutBuffer {
  readonly capacity: number;
  readonly #entries = new Map<number, PlayoutEntry>();
  #lateDrops = 0;

  constructor(capacityChunks: number) {
    this.capacity = capacityChunks;
  }

  get size(): number {
    return this.#entries.size;
  }

  get lateDrops(): number {
    return this.#lateDrops;
  }

  /** False when full; the caller must tell its client. */
  push(entry: PlayoutEntry): boolean {
    if (this.#entries.size >= this.capacity) return false;
    this.#entries.set(Math.round(entry.chunk.ptsUs / CHUNK_US), entry);
    return true;
  }

  /**
   * Takes the chunk whose slot starts at ptsUs, and drops (counting them) chunks for slots
   * already played: they arrived too late for the clock.
   */
  take(ptsUs: number): PlayoutEntry | undefined {
    const slot = Math.round(ptsUs / CHUNK_US);
    for (const key of this.#entries.keys()) {
      if (key < slot) {
        this.#entries.delete(key);
        this.#lateDrops++;
      }
    }
    const entry = this.#entries.get(slot);
    if (entry) this.#entries.delete(slot);
    return entry;
  }

  /** Removes everything queued (interruption); returns what was removed. */
  flush(): PlayoutEntry[] {
    const all = [...this.#entries.values()];
    this.#entries.clear();
    return all;
  }
}
