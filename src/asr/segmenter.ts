// Cuts a 16 kHz stream into speech segments at pauses, for recognisers that work per utterance.
// Energy VAD against a tracked noise floor; a short pre-roll keeps the first consonant.

export interface SpeechSegment {
  /** Media time of the first sample, us. */
  readonly startUs: number;
  readonly endUs: number;
  /** 16 kHz mono PCM16. */
  readonly samples: Int16Array;
}

export interface SegmenterOptions {
  /** Silence that ends a segment, ms (default 300). */
  minPauseMs?: number;
  /** A segment is cut here even without a pause, ms (default 12 000). */
  maxSegmentMs?: number;
  /** dB above the noise floor that counts as speech (default 12). */
  speechAboveFloorDb?: number;
}

const FRAME_US = 20_000;
const PRE_ROLL_FRAMES = 10;
/** Below this level nothing is speech whatever the floor (dBFS). */
const ABSOLUTE_MIN_DB = -55;

interface Frame {
  ptsUs: number;
  samples: Int16Array;
}

export function frameDb(samples: Int16Array): number {
  let acc = 0;
  for (let i = 0; i < samples.length; i++) acc += samples[i] * samples[i];
  const rms = Math.sqrt(acc / Math.max(1, samples.length)) / 32768;
  return rms > 1e-5 ? 20 * Math.log10(rms) : -100;
}

/** Streaming view of the same decisions: speech starts, audio of the speech (pre-roll first), speech ends. */
export type SegmenterEvent =
  | { readonly type: 'start'; readonly ptsUs: number }
  | { readonly type: 'audio'; readonly ptsUs: number; readonly samples: Int16Array }
  | { readonly type: 'end'; readonly endUs: number };

export class PauseSegmenter {
  readonly #minPauseFrames: number;
  readonly #maxFrames: number;
  readonly #aboveFloor: number;
  #floorDb = -60;
  #preRoll: Frame[] = [];
  #current: Frame[] | null = null;
  #speechRun = 0;
  #silentRun = 0;
  #lastPts = -Infinity;
  /** push()/flush(): the open segment's audio, gathered from the events. */
  #pieces: { ptsUs: number; samples: Int16Array }[] = [];

  constructor(opts: SegmenterOptions = {}) {
    this.#minPauseFrames = Math.max(1, Math.round((opts.minPauseMs ?? 300) / 20));
    this.#maxFrames = Math.max(10, Math.round((opts.maxSegmentMs ?? 12_000) / 20));
    this.#aboveFloor = opts.speechAboveFloorDb ?? 12;
  }

  /** One 20 ms frame of 16 kHz audio (320 samples) at ptsUs; returns whole segments that ended. */
  push(ptsUs: number, samples: Int16Array): SpeechSegment[] {
    return this.#collect(this.stream(ptsUs, samples));
  }

  /** Ends the open segment, if any (end of a turn). */
  flush(): SpeechSegment[] {
    return this.#collect(this.flushStream());
  }

  /** The same as push, as events: speech audio is handed out as it arrives (for streaming recognisers). */
  stream(ptsUs: number, samples: Int16Array): SegmenterEvent[] {
    const out: SegmenterEvent[] = [];
    // A hole in the timeline is a pause: what was open ends before it.
    if (ptsUs - this.#lastPts > 1.5 * FRAME_US && this.#current) out.push(this.#end());
    this.#lastPts = ptsUs;
    const db = frameDb(samples);
    // Floor: follows quiet frames down at once, creeps up slowly (so speech does not raise it).
    this.#floorDb = db < this.#floorDb ? db : this.#floorDb + 0.05;
    const speech = db > Math.max(this.#floorDb + this.#aboveFloor, ABSOLUTE_MIN_DB);
    const frame = { ptsUs, samples };
    if (!this.#current) {
      this.#speechRun = speech ? this.#speechRun + 1 : 0;
      this.#preRoll.push(frame);
      if (this.#preRoll.length > PRE_ROLL_FRAMES) this.#preRoll.shift();
      if (this.#speechRun >= 2) {
        this.#current = this.#preRoll;
        this.#preRoll = [];
        this.#silentRun = 0;
        out.push({ type: 'start', ptsUs: this.#current[0]!.ptsUs });
        for (const f of this.#current) out.push({ type: 'audio', ptsUs: f.ptsUs, samples: f.samples });
      }
      return out;
    }
    this.#current.push(frame);
    out.push({ type: 'audio', ptsUs, samples });
    this.#silentRun = speech ? 0 : this.#silentRun + 1;
    if (this.#silentRun >= this.#minPauseFrames || this.#current.length >= this.#maxFrames) out.push(this.#end());
    return out;
  }

  flushStream(): SegmenterEvent[] {
    return this.#current ? [this.#end()] : [];
  }

  /** Drops the open segment and the pre-roll (barge-in). */
  reset(): void {
    this.#current = null;
    this.#preRoll = [];
    this.#pieces = [];
    this.#speechRun = 0;
    this.#silentRun = 0;
  }

  #end(): SegmenterEvent {
    const frames = this.#current ?? [];
    this.#current = null;
    this.#speechRun = 0;
    const last = frames[frames.length - 1];
    return { type: 'end', endUs: last ? last.ptsUs + FRAME_US : this.#lastPts + FRAME_US };
  }

  /** Events -> whole segments (audio between a start and its end). */
  #collect(events: SegmenterEvent[]): SpeechSegment[] {
    const out: SpeechSegment[] = [];
    for (const e of events) {
      if (e.type === 'start') this.#pieces = [];
      else if (e.type === 'audio') this.#pieces.push(e);
      else if (this.#pieces.length > 0) {
        const total = this.#pieces.reduce((n, f) => n + f.samples.length, 0);
        const samples = new Int16Array(total);
        let o = 0;
        for (const f of this.#pieces) {
          samples.set(f.samples, o);
          o += f.samples.length;
        }
        out.push({ startUs: this.#pieces[0]!.ptsUs, endUs: e.endUs, samples });
        this.#pieces = [];
      }
    }
    return out;
  }
}
