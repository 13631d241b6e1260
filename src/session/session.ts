// An avatar session: one media clock, one room, one cascade, one encode, any number of
// viewers. Audio from the microphone (live) or from TTS (ahead) takes one path in (intake.ts): the playout buffer
// and the mouth track; the scheduler renders ahead; the pacer sends video and audio out at
// media time + output delay, so both leave on one timeline.
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { MediaClock } from '../clock/index.ts';
import { HOP_US, MouthFeatureTrack } from '../audio/mouth-features.ts';
import { CascadeScheduler } from '../cascade/scheduler.ts';
import { FramePacer, TICK_US } from '../cascade/pacer.ts';
import type { PackStages } from '../cascade/types.ts';
import type { TtsTarget } from '../ingest/tts.ts';
import { Room } from '../rtc/room.ts';
import { FRAME_US, type AudioChunk } from '../media/types.ts';
import { randomUint32 } from '../media/rtp.ts';
import { moduleLogger } from '../log.ts';
import type { ServerStats } from '../../signaling/protocol.ts';
import type { IngestReply } from '../../signaling/ingest-protocol.ts';
import { Egress } from './egress.ts';
import { SessionSink } from './sink.ts';
import { Director, conditioningLayer, portraitInputFromAvatar, type PortraitSource } from '../director/index.ts';
import { LazyRecognizer, OpenAiTranscriber, PocketsphinxRecognizer } from '../asr/index.ts';
import { SessionIntake } from './intake.ts';
import { DegradeController } from './degrade.ts';

const log = moduleLogger('session');

export interface SessionOptions {
  avatarId: string;
  /** What enrollment knows of the picture (the director's visual expert reads it). */
  avatar?: PortraitSource;
  outputDelayUs: number;
  rightContextUs: number;
  /** How long after its media time live audio may still arrive (network + packetisation). */
  liveJitterUs: number;
  videoKbps: number;
  keyframeIntervalFrames: number;
  /** Most smoothing delay viewers' browsers may add to the video (RTP playout-delay); null: leave it to them. */
  videoPlayoutDelayMaxMs: number | null;
  listenIp: string;
  announcedIp?: string;
  /** Most WebRTC transports open in one session at once (RoomOptions.maxTransports). */
  maxTransports: number;
  /** Playout buffer bound, seconds of audio. */
  maxQueuedAudioS: number;
  /** False: the pack never steps down its degradation ladder (late frames are repeated). Default true. */
  degrade?: boolean;
  director?: SessionDirectorOptions;
}

export interface SessionDirectorOptions {
  /** An OpenAI-compatible chat endpoint for the director; the rule-based experts otherwise. */
  chat?: { baseUrl: string; model: string; apiKey?: string; timeoutMs?: number };
  /** Live-mode speech recognition, started on the first microphone audio. */
  asr?: { kind: 'pocketsphinx' } | { kind: 'openai'; baseUrl: string; model: string; apiKey?: string };
}

function recognizerFor(asr: SessionDirectorOptions['asr']): LazyRecognizer | undefined {
  if (!asr) return undefined;
  if (asr.kind === 'openai') return new LazyRecognizer('openai', () => new OpenAiTranscriber({ baseUrl: asr.baseUrl, model: asr.model, apiKey: asr.apiKey }));
  return new LazyRecognizer('pocketsphinx', () => new PocketsphinxRecognizer());
}

export class AvatarSession implements TtsTarget {
  readonly id: string;
  readonly createdAt = new Date();
  readonly options: Readonly<SessionOptions>;
  readonly clock = new MediaClock();
  readonly room: Room;
  readonly #stages: PackStages;
  readonly director: Director;
  readonly #mouth: MouthFeatureTrack;
  /** Every chunk in (microphone or TTS) takes its one path there; the pacer takes them out. */
  readonly intake: SessionIntake;
  readonly #scheduler: CascadeScheduler;
  readonly #pacer: FramePacer;
  readonly #egress: Egress;
  #ingestOpen = false;
  readonly #roomMovedListeners = new Set<() => void>();
  #roomMoves = 0;
  /** Steps the pack down its degradation ladder when frames are late, and back up; null when the pack has none. */
  readonly #degrade: DegradeController | null;
  readonly #instructions: string[] = [];
  readonly #sink: SessionSink;
  #closed = false;
  #onClose: (() => void) | null = null;
  readonly #closing = new AbortController();

  private constructor(id: string, opts: SessionOptions, room: Room, stages: PackStages) {
    this.id = id;
    this.options = Object.freeze({ ...opts });
    this.room = room;
    this.#stages = stages;
    // The mouth keeps the analysis of everything queued (TTS may run far ahead of playback) plus 10 s played.
    const historyHops = Math.ceil(((opts.maxQueuedAudioS + 10) * 1_000_000) / HOP_US);
    this.#mouth = new MouthFeatureTrack({ rightContextUs: opts.rightContextUs, historyHops });
    this.#scheduler = new CascadeScheduler(stages, this.#mouth, { aheadFrames: 25, nowUs: () => this.clock.nowUs() });
    this.#pacer = new FramePacer(this.clock, opts.outputDelayUs, { onTick: (k, late) => this.#sink.tick(k, late) });
    this.#degrade = stages.degrade && opts.degrade !== false ? new DegradeController(stages.degrade, () => this.#sink.lateFrames, id) : null;
    this.#egress = new Egress(room, this.clock, {
      width: stages.width,
      height: stages.height,
      videoKbps: opts.videoKbps,
      keyframeIntervalFrames: opts.keyframeIntervalFrames,
      videoPlayoutDelayMaxMs: opts.videoPlayoutDelayMaxMs,
      // NTP in sender reports = the wall time the media leaves the pacer.
      sendDelayUs: opts.outputDelayUs,
    });
    this.director = new Director(
      { chat: opts.director?.chat },
      {
        // Plans are about playback: the pacer sends media time t at t + output delay.
        nowUs: () => Math.max(0, this.clock.nowUs() - opts.outputDelayUs),
        portrait: opts.avatar ? portraitInputFromAvatar(opts.avatar) : undefined,
        recognizer: recognizerFor(opts.director?.asr),
      },
    );
    this.director.on('error', (err) => log.warn({ err, session: id }, 'director'));
    this.intake = new SessionIntake({
      sessionId: id,
      clock: this.clock,
      mouth: this.#mouth,
      director: this.director,
      outputDelayUs: opts.outputDelayUs,
      maxQueuedAudioS: opts.maxQueuedAudioS,
      poke: () => this.#scheduler.poke(),
    });
    this.#sink = new SessionSink({
      sessionId: id,
      clock: this.clock,
      intake: this.intake,
      scheduler: this.#scheduler,
      mouth: this.#mouth,
      egress: this.#egress,
      outputDelayUs: opts.outputDelayUs,
      liveJitterUs: opts.liveJitterUs,
      closed: () => this.#closed,
    });
    // The plan drives the pack's blueprint (the default pack: coefficient targets and limits).
    stages.setPlan?.(conditioningLayer(this.director, { idle: false }));
    room.on('micRtp', this.#onMicRtp);
  }

  static async create(worker: ms.Worker, stages: PackStages, opts: SessionOptions): Promise<AvatarSession> {
    const id = randomUUID();
    const room = await Room.create(
      worker,
      { listenIp: opts.listenIp, announcedIp: opts.announcedIp, initialAvailableOutgoingBitrate: 1_000_000, maxTransports: opts.maxTransports },
      { video: randomUint32(), audio: randomUint32() },
    );
    const session = new AvatarSession(id, opts, room, stages);
    session.#start();
    return session;
  }

  /**
   * Declared latency of the live path, checked against the output delay at start: the
   * mouth's look-ahead, one chunk of packetisation (a chunk is known when it ends), then
   * fill, SR and encode.
   */
  get declaredLatencyUs(): number {
    const s = this.#stages;
    return this.options.rightContextUs + TICK_US + s.fill.latencyUs + (s.sr.enabled ? s.sr.latencyUs : 0) + this.#egress.declaredLatencyUs;
  }

  get sessionId(): string {
    return this.id;
  }

  set onClose(fn: () => void) {
    this.#onClose = fn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * One TTS ingest socket at a time: a session has one turn timeline, and two sockets stamping turns on it at once
   * would overwrite each other's audio. False when one is open already (the second is refused, never merged).
   */
  claimIngest(): boolean {
    if (this.#ingestOpen || this.#closed) return false;
    this.#ingestOpen = true;
    return true;
  }

  releaseIngest(): void {
    this.#ingestOpen = false;
  }

  get ingestOpen(): boolean {
    return this.#ingestOpen;
  }

  /** Aborted when the session closes: sockets and tasks tied to it listen here. */
  get closeSignal(): AbortSignal {
    return this.#closing.signal;
  }

  get instructions(): readonly string[] {
    return this.#instructions;
  }

  stats(): ServerStats {
    const e = this.#egress.stats();
    const f = this.#sink.figures;
    return {
      fps: e.fps,
      videoKbps: e.videoKbps,
      pipelineLatencyMs: f.pipelineLatencyMs,
      lateFrames: f.lateFrames,
      graceFrames: f.graceFrames,
      cutFrames: f.cutFrames,
      viewers: this.room.viewerCount,
      mediaTimeMs: Math.max(0, this.clock.nowUs() - this.options.outputDelayUs) / 1000,
    };
  }

  /**
   * Moves the session's room to another mediasoup worker (its own died). The clock, the cascade, the encode and
   * the TTS turns go on untouched; the viewers' and the publisher's connections died with the worker, and each
   * listener given to onRoomMoved hears it, to tell its client to reconnect.
   */
  async moveRoom(worker: ms.Worker): Promise<void> {
    if (this.#closed) return;
    await this.room.moveTo(worker);
    this.#roomMoves++;
    for (const fn of [...this.#roomMovedListeners]) fn();
  }

  /** Called after each move of the room; returns the function that removes the listener. */
  onRoomMoved(fn: () => void): () => void {
    this.#roomMovedListeners.add(fn);
    return () => this.#roomMovedListeners.delete(fn);
  }

  /** The session's own processes (its encoder), for CPU accounting. */
  get pids(): number[] {
    const pid = this.#egress.encoderPid;
    return pid === undefined ? [] : [pid];
  }

  /** Fuller figures for the HTTP API and benchmarks. */
  details() {
    return {
      ...this.stats(),
      scheduler: this.#scheduler.stats,
      pacer: this.#pacer.stats,
      ...this.intake.figures,
      encoder: this.#egress.encoderStats(),
      rtpClocks: this.#egress.rtpClocks,
      recentLateFrames: this.#sink.figures.recentLateFrames,
      declaredLatencyMs: this.declaredLatencyUs / 1000,
      outputDelayMs: this.options.outputDelayUs / 1000,
      director: this.director.metrics,
      degrade: this.#degrade?.figures ?? null,
      /** Times the session's room was rebuilt on a new mediasoup worker (its own died). */
      roomMoves: this.#roomMoves,
      lastInterrupt: this.#sink.figures.lastInterrupt,
    };
  }

  // --- TtsTarget: the intake's, but for instructions and interrupts (the session's) ---------------------------

  nextTurnStartUs(): number {
    return this.intake.nextTurnStartUs();
  }

  earliestPtsUs(): number {
    return this.intake.earliestPtsUs();
  }

  epoch(): number {
    return this.intake.epoch;
  }

  queue(chunk: AudioChunk, segmentId: number, last: boolean): boolean {
    return this.intake.queue(chunk, segmentId, last);
  }

  beginTurn(segmentId: number, reply: (r: IngestReply) => void): void {
    this.intake.beginTurn(segmentId, reply);
  }

  endTurn(segmentId: number): void {
    this.intake.endTurn(segmentId);
  }

  text(segmentId: number, text: string): void {
    this.intake.text(segmentId, text);
  }

  /** A direction for the avatar; returns how the director understood it. */
  instruction(text: string): ReturnType<Director['instruction']> {
    this.#instructions.push(text);
    if (this.#instructions.length > 64) this.#instructions.shift();
    const understood = this.director.instruction(text);
    log.info({ session: this.id, text }, 'instruction received');
    return understood;
  }

  /**
   * Barge-in. Synchronous: the playout queue, the mouth's future and the rendered frames
   * are dropped before the next tick, so the next frame and chunk out are already silent.
   */
  interrupt(): { droppedUs: number } {
    const nowUs = this.clock.nowUs();
    const dropped = this.intake.interrupt(nowUs);
    const cut = this.#sink.cut(nowUs, this.#pacer.tick);
    this.#mouth.truncate(cut.mouthCutUs); // the visemes' future too
    this.#mouth.coverSilenceUntil(cut.nextVideoIndex * FRAME_US + this.options.rightContextUs + 2 * FRAME_US);
    this.#scheduler.interrupt();
    this.#sink.afterCut(cut);
    this.director.interrupt(cut.audioCutUs);
    return { droppedUs: dropped * TICK_US };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Open turns end (interrupted) while their sockets are still open to hear it; the abort then closes them.
    this.intake.close(this.clock.nowUs());
    this.#closing.abort();
    this.room.off('micRtp', this.#onMicRtp);
    this.#degrade?.stop();
    await this.#pacer.close();
    await this.#scheduler.close();
    await this.#egress.close();
    await this.director.close();
    this.room.close();
    log.info({ session: this.id }, 'session closed');
    this.#onClose?.();
  }

  // --- internals -------------------------------------------------------------------------

  #start(): void {
    if (this.declaredLatencyUs > this.options.outputDelayUs) {
      log.warn({ declaredMs: this.declaredLatencyUs / 1000, outputDelayMs: this.options.outputDelayUs / 1000 }, 'declared stage latencies exceed the output delay: expect late frames');
    }
    this.#egress.on('error', (err) => {
      log.error({ err, session: this.id }, 'egress failed; closing the session');
      void this.close();
    });
    this.director.start();
    this.#degrade?.start();
    this.#scheduler.start(0);
    this.#pacer.start(0);
  }

  readonly #onMicRtp = (packet: Buffer): void => {
    this.intake.micRtp(packet);
  };
}
