// TTS turns (segments) as playback sees them: each ends exactly once, with the position
// reached and whether it was interrupted (as in LiveKit agents' segment protocol).
import type { IngestReply } from '../../signaling/ingest-protocol.ts';
import { CHUNK_MS } from '../media/types.ts';

interface Turn {
  reply: (r: IngestReply) => void;
  started: boolean;
  playedChunks: number;
  text: string[];
}

export class TurnTracker {
  readonly #turns = new Map<number, Turn>();
  readonly #wallMs: (mediaUs: number) => number;

  constructor(wallMs: (mediaUs: number) => number) {
    this.#wallMs = wallMs;
  }

  begin(segmentId: number, reply: (r: IngestReply) => void): void {
    this.#turns.set(segmentId, { reply, started: false, playedChunks: 0, text: [] });
  }

  text(segmentId: number, text: string): void {
    this.#turns.get(segmentId)?.text.push(text);
  }

  transcript(segmentId: number): string {
    return this.#turns.get(segmentId)?.text.join(' ') ?? '';
  }

  /** A chunk of the turn left the pacer at media time `sentAtUs`. */
  played(segmentId: number, ptsUs: number, last: boolean, sentAtUs: number): void {
    const turn = this.#turns.get(segmentId);
    if (!turn) return;
    if (!turn.started) {
      turn.started = true;
      turn.reply({ type: 'playback_started', segmentId, mediaTimeMs: ptsUs / 1000, wallTimeMs: this.#wallMs(sentAtUs) });
    }
    turn.playedChunks++;
    if (last) this.#finish(segmentId, false, sentAtUs);
  }

  finishEmpty(segmentId: number, atUs: number): void {
    this.#finish(segmentId, false, atUs);
  }

  /** Every open turn ends, interrupted. */
  interruptAll(atUs: number): void {
    for (const id of [...this.#turns.keys()]) this.#finish(id, true, atUs);
  }

  #finish(segmentId: number, interrupted: boolean, atUs: number): void {
    const turn = this.#turns.get(segmentId);
    if (!turn) return;
    this.#turns.delete(segmentId);
    turn.reply({ type: 'playback_finished', segmentId, positionMs: turn.playedChunks * CHUNK_MS, interrupted, wallTimeMs: this.#wallMs(atUs) });
  }
}
