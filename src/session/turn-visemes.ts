// A TTS turn's text -> the mouth's visemes, placed at the media time of the turn's first audio. The text usually
// arrives before any audio, and that time is only fixed when the ingest cuts the turn's first chunk (from the
// queue's end, or later after an underrun), so text waits here for it. Pieces of a turn's text share its start:
// the viseme track continues that turn's utterance rather than starting a new one.
import { moduleLogger } from '../log.ts';

const log = moduleLogger('session/turn-visemes');

/** Where the text goes: MouthFeatureTrack.visemes. */
export interface VisemeSink {
  addText(text: string, startUs: number): void;
}

interface OpenTurn {
  /** Media time of the turn's first queued chunk; null until it is queued. */
  startUs: number | null;
  /** Texts received before that chunk. */
  readonly pending: string[];
}

/** Turns begun but never ended (a socket closed mid-turn) are forgotten beyond this many. */
const MAX_OPEN_TURNS = 64;

export class TurnVisemes {
  readonly #sink: VisemeSink;
  readonly #turns = new Map<number, OpenTurn>();
  /** Start of the latest turn given to the sink: an earlier start would cut the texts after it. */
  #latestStartUs = Number.NEGATIVE_INFINITY;

  constructor(sink: VisemeSink) {
    this.#sink = sink;
  }

  /** Turns still open (tests and diagnosis). */
  get openTurns(): number {
    return this.#turns.size;
  }

  begin(segmentId: number): void {
    if (this.#turns.has(segmentId)) return;
    this.#turns.set(segmentId, { startUs: null, pending: [] });
    if (this.#turns.size > MAX_OPEN_TURNS) this.#turns.delete(this.#turns.keys().next().value!);
  }

  text(segmentId: number, text: string): void {
    if (!this.#turns.has(segmentId)) this.begin(segmentId);
    const turn = this.#turns.get(segmentId)!;
    if (turn.startUs === null) turn.pending.push(text);
    else this.#add(text, turn.startUs);
  }

  /** A chunk of the turn was queued at ptsUs; `last` ends the turn. */
  audio(segmentId: number, ptsUs: number, last: boolean): void {
    const turn = this.#turns.get(segmentId);
    if (!turn) return; // ended by an interrupt, or never begun: its text (if any) is not ours to place
    if (turn.startUs === null) {
      turn.startUs = ptsUs;
      for (const text of turn.pending.splice(0)) this.#add(text, ptsUs);
    }
    if (last) this.#turns.delete(segmentId);
  }

  /** A turn that ended without audio: its text is never spoken. */
  end(segmentId: number): void {
    this.#turns.delete(segmentId);
  }

  /**
   * Barge-in: every open turn is over. Texts not yet placed are dropped here; the ones already on the viseme track
   * are cut by MouthFeatureTrack.truncate (the session calls it at the same time). The next turn may start before
   * a turn that was queued but never played, so the order guard starts over.
   */
  interrupt(): void {
    this.#turns.clear();
    this.#latestStartUs = Number.NEGATIVE_INFINITY;
  }

  #add(text: string, startUs: number): void {
    if (startUs < this.#latestStartUs) {
      log.debug({ startUs, latestStartUs: this.#latestStartUs }, 'text of an older turn after a newer one started: no visemes for it');
      return;
    }
    this.#latestStartUs = startUs;
    this.#sink.addText(text, startUs);
  }
}
