// TTS ingest: one WebSocket connection's worth of logic, transport-agnostic (the server
// feeds it messages). Audio is resampled to 48 kHz, cut into 20 ms chunks stamped from
// the segment's start on the media clock and queued for playout.
import { audioFormatSchema, ingestEventSchema, type AudioFormat, type IngestReply } from '../../signaling/ingest-protocol.ts';
import { Resampler } from '../audio/resampler.ts';
import { OpusDecoder, OpusDecodeError } from '../audio/opus-decoder.ts';
import { pcm16FromBytes } from '../audio/pcm.ts';
import { Chunker } from '../audio/chunker.ts';
import PQueue from 'p-queue';
import type { AudioChunk } from '../media/types.ts';
import { moduleLogger } from '../log.ts';

const log = moduleLogger('ingest/tts');

/** What the session offers an ingest connection. */
export interface TtsTarget {
  readonly sessionId: string;
  /** Media time at which a new turn may start (after anything already queued). */
  nextTurnStartUs(): number;
  /** Earliest media time that can still be played (the pacer is past anything earlier). */
  earliestPtsUs(): number;
  epoch(): number;
  /** False when the playout buffer is full. */
  queue(chunk: AudioChunk, segmentId: number, last: boolean): boolean;
  /** Declares a turn; its events reach `reply`. */
  beginTurn(segmentId: number, reply: (r: IngestReply) => void): void;
  /** A turn with no audio at all ends at once. */
  endEmptyTurn(segmentId: number): void;
  text(segmentId: number, text: string): void;
  instruction(text: string): void;
  interrupt(): { droppedUs: number };
}

let nextSegmentId = 1;
/** Messages waiting to be processed before new ones are refused. */
const MAX_PENDING_MESSAGES = 1024;

export class TtsIngest {
  readonly #target: TtsTarget;
  readonly #reply: (r: IngestReply) => void;
  #format: AudioFormat | null;
  #resampler: Resampler | null = null;
  #opus: OpusDecoder | null = null;
  #segmentId: number | null = null;
  #chunker: Chunker | null = null;
  #held: AudioChunk | null = null;
  /** Messages in order, one at a time (resampler creation is async). Bounded: see #enqueue. */
  readonly #work = new PQueue({ concurrency: 1 });
  #closed = false;

  constructor(target: TtsTarget, format: AudioFormat | null, reply: (r: IngestReply) => void) {
    this.#target = target;
    this.#format = format;
    this.#reply = reply;
    reply({ type: 'ready', sessionId: target.sessionId, format });
  }

  static parseFormatFromQuery(encoding: string, sampleRate: string): AudioFormat | null {
    if (!encoding && !sampleRate) return null;
    return audioFormatSchema.parse({ encoding: encoding || 'pcm16', sampleRate: Number(sampleRate || 48_000) });
  }

  onBinary(data: Uint8Array): Promise<void> {
    const copy = new Uint8Array(data); // the transport may reuse its buffer
    return this.#enqueue(() => this.#audio(copy));
  }

  onText(text: string): Promise<void> {
    return this.#enqueue(() => this.#event(text));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#work.clear();
    this.#resampler?.close();
  }

  /** Overflow policy: reject with an error to the client (never a silent drop). */
  #enqueue(fn: () => Promise<void> | void): Promise<void> {
    if (this.#work.size >= MAX_PENDING_MESSAGES) {
      this.#reply({ type: 'error', code: 'buffer-full', message: `more than ${MAX_PENDING_MESSAGES} messages waiting: this one was not processed` });
      return Promise.resolve();
    }
    return this.#work.add(async () => {
      if (this.#closed) return;
      try {
        await fn();
      } catch (err) {
        log.error({ err }, 'ingest message failed');
        this.#reply({ type: 'error', code: 'bad-event', message: (err as Error).message });
      }
    });
  }

  async #event(text: string): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.#reply({ type: 'error', code: 'bad-event', message: 'text messages must be JSON events' });
      return;
    }
    const parsed = ingestEventSchema.safeParse(raw);
    if (!parsed.success) {
      this.#reply({ type: 'error', code: 'bad-event', message: `invalid event: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ')}` });
      return;
    }
    const ev = parsed.data;
    switch (ev.type) {
      case 'config':
        this.#format = { encoding: ev.encoding, sampleRate: ev.sampleRate };
        this.#resampler?.close();
        this.#resampler = null;
        break;
      case 'text':
        this.#target.text(this.#ensureTurn(), ev.text);
        break;
      case 'instruction':
        this.#target.instruction(ev.text);
        break;
      case 'interrupt': {
        // Snapshot synchronously before anything else: the turn is over.
        this.#segmentId = null;
        this.#chunker = null;
        this.#held = null;
        const { droppedUs } = this.#target.interrupt();
        this.#reply({ type: 'interrupted', wallTimeMs: Date.now(), droppedMs: droppedUs / 1000 });
        break;
      }
      case 'end_of_turn':
        this.#endTurn();
        break;
    }
  }

  async #audio(data: Uint8Array): Promise<void> {
    const format = this.#format;
    if (!format) {
      this.#reply({ type: 'error', code: 'no-format', message: 'send a config event (encoding, sampleRate) or give them in the URL before audio' });
      return;
    }
    let pcm: Int16Array;
    try {
      if (format.encoding === 'opus') {
        this.#opus ??= new OpusDecoder();
        pcm = this.#opus.decode(data);
      } else {
        pcm = pcm16FromBytes(data);
        if (format.sampleRate !== 48_000) {
          this.#resampler ??= await Resampler.create(format.sampleRate);
          pcm = this.#resampler.process(pcm);
        }
      }
    } catch (err) {
      const message = err instanceof OpusDecodeError || err instanceof RangeError ? err.message : `bad audio: ${(err as Error).message}`;
      this.#reply({ type: 'error', code: 'bad-audio', message });
      return;
    }
    const segmentId = this.#ensureTurn();
    this.#chunker ??= new Chunker(this.#target.nextTurnStartUs(), this.#target.epoch());
    // Audio arriving slower than real time: the clock caught up with the turn. Play the
    // rest from now rather than drop it as late (an audible gap, never a loss).
    this.#chunker.rebase(this.#target.earliestPtsUs());
    for (const chunk of this.#chunker.push(pcm)) this.#queue(chunk, segmentId);
  }

  /** One chunk is held back so the turn's last chunk can be marked when the turn ends. */
  #queue(chunk: AudioChunk, segmentId: number): void {
    const held = this.#held;
    this.#held = chunk;
    if (held && !this.#target.queue(held, segmentId, false)) this.#full();
  }

  #full(): void {
    this.#reply({ type: 'error', code: 'buffer-full', message: 'playout buffer is full: send audio closer to real time' });
  }

  #ensureTurn(): number {
    if (this.#segmentId === null) {
      this.#segmentId = nextSegmentId++;
      this.#target.beginTurn(this.#segmentId, this.#reply);
    }
    return this.#segmentId;
  }

  #endTurn(): void {
    const segmentId = this.#ensureTurn();
    const tail = this.#chunker?.flush() ?? [];
    const held = this.#held;
    this.#held = null;
    const chunks = [...(held ? [held] : []), ...tail];
    if (chunks.length === 0) this.#target.endEmptyTurn(segmentId);
    chunks.forEach((c, i) => {
      if (!this.#target.queue(c, segmentId, i === chunks.length - 1)) this.#full();
    });
    this.#segmentId = null;
    this.#chunker = null;
  }
}
