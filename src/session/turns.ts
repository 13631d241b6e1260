// TTS turns (segments) as playback sees them: each ends exactly once, with the position
// reached and whether it was interrupted (as in LiveKit agents' segment protocol).
// A turn ends when the ingest says it is complete (end_of_turn) and the last of its audio that the playout buffer
// accepted has played: so a turn whose final chunks were refused (buffer full) still ends, at what did play, and a
// turn with no accepted audio ends at once. An interrupt, or the session ending, ends every open turn, interrupted.
import type { IngestReply } from '../../signaling/ingest-protocol.ts';
import { CHUNK_MS } from '../media/types.ts';

interface Turn {
  reply: (r: IngestReply) => void;
  started: boolean;
  playedChunks: number;
  text: string[];
  /** Media time of the last chunk the playout buffer accepted; null before any. */
  lastAcceptedUs: number | null;
  /** Media time of the last chunk that played; null before any. */
  lastPlayedUs: number | null;
  /** The ingest has sent everything (end_of_turn). */
  complete: boolean;
}

export class TurnTracker {
  readonly #turns = new Map<number, Turn>();
  readonly #wallMs: (mediaUs: number) => number;

  constructor(wallMs: (mediaUs: number) => number) {
    this.#wallMs = wallMs;
  }

  begin(segmentId: number, reply: (r: IngestReply) => void): void {
    this.#turns.set(segmentId, { reply, started: false, playedChunks: 0, text: [], lastAcceptedUs: null, lastPlayedUs: null, complete: false });
  }

  text(segmentId: number, text: string): void {
    this.#turns.get(segmentId)?.text.push(text);
  }

  transcript(segmentId: number): string {
    return this.#turns.get(segmentId)?.text.join(' ') ?? '';
  }

  /** The playout buffer took a chunk of the turn at media time `ptsUs`. */
  accepted(segmentId: number, ptsUs: number): void {
    const turn = this.#turns.get(segmentId);
    if (turn) turn.lastAcceptedUs = Math.max(turn.lastAcceptedUs ?? ptsUs, ptsUs);
  }

  /** A chunk of the turn left the pacer at media time `sentAtUs`. */
  played(segmentId: number, ptsUs: number, sentAtUs: number): void {
    const turn = this.#turns.get(segmentId);
    if (!turn) return;
    if (!turn.started) {
      turn.started = true;
      turn.reply({ type: 'playback_started', segmentId, mediaTimeMs: ptsUs / 1000, wallTimeMs: this.#wallMs(sentAtUs) });
    }
    turn.playedChunks++;
    turn.lastPlayedUs = ptsUs;
    if (this.#done(turn)) this.#finish(segmentId, false, sentAtUs);
  }

  /** The ingest sent the whole turn: it ends once what was accepted of it has played (at once if nothing was). */
  complete(segmentId: number, atUs: number): void {
    const turn = this.#turns.get(segmentId);
    if (!turn) return;
    turn.complete = true;
    if (this.#done(turn)) this.#finish(segmentId, false, atUs);
  }

  /** Every open turn ends, interrupted. */
  interruptAll(atUs: number): void {
    for (const id of [...this.#turns.keys()]) this.#finish(id, true, atUs);
  }

  /** Turns not yet ended (for the session's figures and tests). */
  get open(): number {
    return this.#turns.size;
  }

  #done(turn: Turn): boolean {
    return turn.complete && (turn.lastAcceptedUs === null || (turn.lastPlayedUs !== null && turn.lastPlayedUs >= turn.lastAcceptedUs));
  }

  #finish(segmentId: number, interrupted: boolean, atUs: number): void {
    const turn = this.#turns.get(segmentId);
    if (!turn) return;
    this.#turns.delete(segmentId);
    turn.reply({ type: 'playback_finished', segmentId, positionMs: turn.playedChunks * CHUNK_MS, interrupted, wallTimeMs: this.#wallMs(atUs) });
  }
}
