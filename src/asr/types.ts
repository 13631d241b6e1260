// Speech recognition for live mode: audio chunks on the media clock in, words with media times out.
import type { AudioChunk } from '../media/types.ts';

export interface RecognizedWord {
  /** Lower-case word as the recogniser spells it (pronunciation variants like "the(2)" folded). */
  readonly word: string;
  /** Media time, microseconds. */
  readonly startUs: number;
  readonly endUs: number;
  /** 0..1 where the recogniser gives one, else 1. */
  readonly confidence: number;
}

/** One utterance (a stretch of speech between pauses), final. */
export interface RecognitionResult {
  readonly words: readonly RecognizedWord[];
  readonly text: string;
  /** Wall milliseconds from the end of the utterance's audio being pushed to this result. */
  readonly latencyMs: number;
}

export interface RecognizerStats {
  /** Utterances recognised. */
  results: number;
  words: number;
  /** Audio pushed, seconds (speech and silence). */
  pushedS: number;
  /** Speech segments dropped by a bounded queue (policy: drop-oldest), never silently. */
  droppedSegments: number;
  errors: number;
  /** Latency of the last result and the median of the recent ones, ms. */
  lastLatencyMs: number;
  medianLatencyMs: number;
}

export type RecognizerEvents = {
  result: [RecognitionResult];
  error: [Error];
};

/** What the director and the session see of any recogniser. Push never blocks. */
export interface SpeechRecognizer {
  readonly name: string;
  /** A 20 ms chunk at 48 kHz on the media clock. Gaps in ptsUs are fine. */
  push(chunk: AudioChunk): void;
  /** End of speech for now (end of a turn): recognise what is pending without waiting for a pause. */
  flush(): void;
  /** Forget pending audio at and after atUs (barge-in). */
  interrupt(atUs: number): void;
  readonly stats: Readonly<RecognizerStats>;
  on<K extends keyof RecognizerEvents>(event: K, listener: (...args: RecognizerEvents[K]) => void): unknown;
  off<K extends keyof RecognizerEvents>(event: K, listener: (...args: RecognizerEvents[K]) => void): unknown;
  /** Idempotent; resolves when child processes and requests have ended. */
  close(): Promise<void>;
}

export class RecognizerUnavailableError extends Error {
  override readonly name = 'RecognizerUnavailableError';
}

export class RecognizerClosedError extends Error {
  override readonly name = 'RecognizerClosedError';
  constructor() {
    super('the recogniser is closed');
  }
}

export class TranscriptionRequestError extends Error {
  override readonly name = 'TranscriptionRequestError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
