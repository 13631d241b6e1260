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
import { metrics } from '../metrics/index.ts';
import { background } from '../util/cooperative.ts';
import { parseClientJson } from '../util/json.ts';

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
  /**
   * The turn's audio is all sent: it ends (playback_finished, once) when the last of it the playout buffer accepted
   * has played, or at once if none was accepted.
   */
  endTurn(segmentId: number): void;
  text(segmentId: number, text: string): void;
  instruction(text: string): void;
  interrupt(): { droppedUs: number };
}

let nextSegmentId = 1;
/** Messages waiting to be processed before new ones are refused. */
const MAX_PENDING_MESSAGES = 1024;
/**
 * A message's audio is resampled, chunked and queued in slices of this much, each a unit of the main thread's
 * cooperative queue (util/cooperative.ts): a whole TTS turn arriving at once (tens of seconds in one message, on
 * every session at the same moment) would otherwise hold the thread that runs every session's pacer for 100+ ms.
 */
const SLICE_MS = 100;
/**
 * Text one turn may carry, all its `text` events together (each is at most 20,000 characters): the mouth's
 * alignment and the director read a turn's whole text again as it grows. Beyond it, `too-large` (never dropped
 * silently): ~40 minutes of speech, far more than one message of audio can carry.
 */
export const MAX_TURN_TEXT_CHARS = 60_000;

export class TtsIngest {
  readonly #target: TtsTarget;
  readonly #reply: (r: IngestReply) => void;
  #format: AudioFormat | null;
  #resampler: Resampler | null = null;
  #opus: OpusDecoder | null = null;
  #segmentId: number | null = null;
  /** Characters of text the current turn has taken. */
  #turnTextChars = 0;
  #chunker: Chunker | null = null;
  #held: AudioChunk | null = null;
  /** Messages in order, one at a time (resampler creation is async). Bounded: see #enqueue. */
  readonly #work = new PQueue({ concurrency: 1 });
  /** Bumped by each interrupt: a message's audio still being sliced belongs to the interrupted turn and stops. */
  #generation = 0;
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
    const generation = this.#generation;
    return this.#enqueue(() => this.#audio(copy, generation));
  }

  onText(text: string): Promise<void> {
    // An interrupt overtakes the messages waiting before it (the first phase of a flush): everything they carry
    // belongs to the turn it ends. Later messages start the next turn, in order.
    if (text.length < 256 && /^\s*\{\s*"type"\s*:\s*"interrupt"\s*\}\s*$/.test(text)) {
      if (!this.#closed) this.#interrupt();
      return Promise.resolve();
    }
    const generation = this.#generation;
    return this.#enqueue(() => this.#event(text, generation));
  }

  close(): void {
    if (this.#closed) return;
    // A client that vanishes mid-turn: what it sent plays, and the turn ends after it (exactly once, like any other).
    if (this.#segmentId !== null) this.#endTurn();
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

  /** `generation`: when the message came; turn events (text, end_of_turn) from before an interrupt are void. */
  async #event(text: string, generation: number): Promise<void> {
    let raw: unknown;
    try {
      raw = parseClientJson(text);
    } catch (err) {
      this.#reply({ type: 'error', code: 'bad-event', message: `text messages must be JSON events: ${(err as Error).message}` });
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
        if (generation !== this.#generation) break;
        if (this.#turnTextChars + ev.text.length > MAX_TURN_TEXT_CHARS) {
          this.#reply({ type: 'error', code: 'too-large', message: `a turn's text is at most ${MAX_TURN_TEXT_CHARS} characters: this text event was not used (end the turn and start another)` });
          break;
        }
        this.#turnTextChars += ev.text.length;
        this.#target.text(this.#ensureTurn(), ev.text);
        break;
      case 'instruction':
        this.#target.instruction(ev.text);
        break;
      case 'interrupt':
        this.#interrupt();
        break;
      case 'end_of_turn':
        if (generation === this.#generation) this.#endTurn();
        break;
    }
  }

  #interrupt(): void {
    // Snapshot synchronously before anything else: the turn is over.
    this.#generation++;
    this.#segmentId = null;
    this.#turnTextChars = 0;
    this.#chunker = null;
    this.#held = null;
    const { droppedUs } = this.#target.interrupt();
    this.#reply({ type: 'interrupted', wallTimeMs: Date.now(), droppedMs: droppedUs / 1000 });
  }

  /**
   * `generation`: when the message came. Audio sent before an interrupt that overtook it belongs to the interrupted
   * turn, and so does what is left of it when an interrupt comes while it is processed (even while its resampler is
   * made): never played.
   */
  async #audio(data: Uint8Array, generation: number): Promise<void> {
    if (generation !== this.#generation) return;
    const format = this.#format;
    if (!format) {
      this.#reply({ type: 'error', code: 'no-format', message: 'send a config event (encoding, sampleRate) or give them in the URL before audio' });
      return;
    }
    let pcm: Int16Array;
    let rate: number = 48_000;
    try {
      if (format.encoding === 'opus') {
        this.#opus ??= new OpusDecoder();
        pcm = this.#opus.decode(data);
      } else {
        pcm = pcm16FromBytes(data);
        rate = format.sampleRate;
        if (rate !== 48_000) this.#resampler ??= await Resampler.create(rate);
      }
    } catch (err) {
      const message = err instanceof OpusDecodeError || err instanceof RangeError ? err.message : `bad audio: ${(err as Error).message}`;
      this.#reply({ type: 'error', code: 'bad-audio', message });
      return;
    }
    const slice = (rate * SLICE_MS) / 1000;
    for (let off = 0; off < pcm.length; off += slice) {
      const piece = pcm.subarray(off, off + slice);
      // Interrupted meanwhile: the rest belonged to that turn.
      const played = await background.run(() => !this.#closed && generation === this.#generation && metrics.time('ingest', () => this.#slice(piece, rate)));
      if (!played) return;
    }
  }

  /** One slice of a message's audio: to 48 kHz, into chunks on the turn's timeline, queued. */
  #slice(piece: Int16Array, rate: number): true {
    const pcm = rate === 48_000 ? piece : this.#resampler!.process(piece);
    const segmentId = this.#ensureTurn();
    if (!this.#chunker) {
      const startUs = this.#target.nextTurnStartUs();
      this.#chunker = new Chunker(startUs, this.#target.epoch());
      this.#reply({ type: 'turn_queued', segmentId, startMs: startUs / 1000 });
    }
    // Audio arriving slower than real time: the clock caught up with the turn. Play the
    // rest from now rather than drop it as late (an audible gap, never a loss).
    this.#chunker.rebase(this.#target.earliestPtsUs());
    for (const chunk of this.#chunker.push(pcm)) this.#queue(chunk, segmentId);
    return true;
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
    chunks.forEach((c, i) => {
      if (!this.#target.queue(c, segmentId, i === chunks.length - 1)) this.#full();
    });
    this.#target.endTurn(segmentId);
    this.#segmentId = null;
    this.#turnTextChars = 0;
    this.#chunker = null;
  }
}
