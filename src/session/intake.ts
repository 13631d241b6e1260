// The session's intake: every chunk of audio in, from the microphone (RTP, MicIngest) or from TTS (TtsIngest), takes
// one path: onto the playout buffer at its media time, into the mouth's analysis (and a TTS turn's text into its
// visemes), to the director, and counted for its turn. The pacer takes the chunks out at their media time (take);
// an interrupt empties it (flush). One epoch per turn timeline: audio of an older epoch is void.
import type { MediaClock } from '../clock/index.ts';
import type { MouthFeatureTrack } from '../audio/mouth-features.ts';
import { PlayoutBuffer } from '../audio/playout.ts';
import { TICK_US } from '../cascade/pacer.ts';
import type { Director } from '../director/index.ts';
import { MicIngest } from '../ingest/mic.ts';
import { CHUNK_SAMPLES, type AudioChunk } from '../media/types.ts';
import type { IngestReply } from '../../signaling/ingest-protocol.ts';
import { moduleLogger } from '../log.ts';
import { metrics } from '../metrics/index.ts';
import { TurnTracker } from './turns.ts';
import { TurnVisemes } from './turn-visemes.ts';

const log = moduleLogger('session/intake');

export interface IntakeOptions {
  readonly sessionId: string;
  readonly clock: MediaClock;
  readonly mouth: MouthFeatureTrack;
  readonly director: Director;
  /** Media time t leaves the pacer at t + outputDelayUs. */
  readonly outputDelayUs: number;
  /** Playout buffer bound, seconds of audio. */
  readonly maxQueuedAudioS: number;
  /** New audio is there: the cascade may render further. */
  readonly poke: () => void;
}

/** What the pacer takes at one tick: the chunk to send (silence when none) and, for TTS, its turn. */
export interface TakenChunk {
  readonly chunk: AudioChunk;
  readonly segmentId: number | null;
}

export class SessionIntake {
  readonly #o: IntakeOptions;
  readonly #playout: PlayoutBuffer;
  readonly #turns: TurnTracker;
  /** TTS text -> the mouth's visemes, at the media time its turn's audio starts. */
  readonly #turnVisemes: TurnVisemes;
  readonly #mic: MicIngest;
  readonly #silence = new Int16Array(CHUNK_SAMPLES);
  #epoch = 0;
  #queuedEndUs = 0;

  constructor(o: IntakeOptions) {
    this.#o = o;
    this.#playout = new PlayoutBuffer(Math.round((o.maxQueuedAudioS * 1_000_000) / TICK_US));
    this.#turns = new TurnTracker((us) => o.clock.wallUsAt(us) / 1000);
    this.#turnVisemes = new TurnVisemes(o.mouth.visemes);
    this.#mic = new MicIngest({ nowUs: () => o.clock.nowUs(), epoch: () => this.#epoch, onChunk: (c) => this.#accept(c, null, false) });
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** The microphone's RTP, as mediasoup hands it over. */
  micRtp(packet: Buffer): void {
    this.#mic.push(packet);
  }

  // --- TTS turns (the session's TtsTarget delegates here) ---------------------------------------------------

  /** Media time at which a new turn may start (after anything already queued). */
  nextTurnStartUs(): number {
    return Math.max(this.earliestPtsUs(), this.#queuedEndUs);
  }

  /** Earliest media time that can still be played: the pacer has sent audio up to (tick - 1); two chunks of margin. */
  earliestPtsUs(): number {
    return Math.ceil((this.#o.clock.nowUs() - this.#o.outputDelayUs) / TICK_US) * TICK_US + 2 * TICK_US;
  }

  /** A TTS chunk; false when the playout buffer is full (the ingest answers buffer-full). */
  queue(chunk: AudioChunk, segmentId: number, last: boolean): boolean {
    if (chunk.epoch !== this.#epoch) return true; // a stale turn's tail after an interrupt
    return this.#accept(chunk, segmentId, last);
  }

  beginTurn(segmentId: number, reply: (r: IngestReply) => void): void {
    this.#turns.begin(segmentId, reply);
    this.#turnVisemes.begin(segmentId);
  }

  endTurn(segmentId: number): void {
    this.#turns.complete(segmentId, this.#o.clock.nowUs());
    this.#turnVisemes.end(segmentId);
  }

  text(segmentId: number, text: string): void {
    this.#turns.text(segmentId, text);
    this.#turnVisemes.text(segmentId, text);
    this.#o.director.transcript({ text, segmentId });
  }

  // --- the pacer's side -------------------------------------------------------------------------------------

  /** The chunk to send at media time ptsUs (silence when none), counted as played for its turn at nowUs. */
  take(ptsUs: number, nowUs: number): TakenChunk {
    const entry = this.#playout.take(ptsUs);
    if (entry?.segmentId != null) this.#turns.played(entry.segmentId, ptsUs, nowUs);
    return { chunk: entry?.chunk ?? { ptsUs, samples: this.#silence, epoch: this.#epoch }, segmentId: entry?.segmentId ?? null };
  }

  /**
   * Barge-in: everything queued is dropped, a new epoch starts, every open turn ends interrupted, and texts not yet
   * placed are dropped. Returns the chunks dropped.
   */
  interrupt(nowUs: number): number {
    const dropped = this.#playout.flush().length;
    this.#epoch++;
    this.#queuedEndUs = 0;
    this.#turnVisemes.interrupt();
    this.#turns.interruptAll(nowUs);
    return dropped;
  }

  /** The session ends: open turns end, interrupted (while their sockets can still hear it). */
  close(nowUs: number): void {
    this.#turns.interruptAll(nowUs);
  }

  get figures() {
    return { mic: this.#mic.stats, playoutLateDrops: this.#playout.lateDrops, queuedAudioMs: (this.#playout.size * TICK_US) / 1000 };
  }

  /** The one path of every chunk, microphone (segmentId null) or TTS. */
  #accept(chunk: AudioChunk, segmentId: number | null, last: boolean): boolean {
    if (!this.#playout.push({ chunk, segmentId, last })) {
      if (segmentId === null) log.warn({ session: this.#o.sessionId }, 'playout buffer full: live chunk not queued');
      return false;
    }
    if (segmentId !== null) {
      this.#queuedEndUs = Math.max(this.#queuedEndUs, chunk.ptsUs + TICK_US);
      this.#turns.accepted(segmentId, chunk.ptsUs);
    }
    metrics.time('audio_analysis', () => {
      this.#o.mouth.push(chunk);
      if (segmentId !== null) this.#turnVisemes.audio(segmentId, chunk.ptsUs, last);
    });
    this.#o.director.audio(chunk, segmentId === null ? undefined : { segmentId, last });
    this.#o.poke();
    return true;
  }
}
