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
import type { PackStages, RenderOutput } from '../cascade/types.ts';
import type { TtsTarget } from '../ingest/tts.ts';
import { Room } from '../rtc/room.ts';
import { FRAME_US, type AudioChunk } from '../media/types.ts';
import { randomUint32 } from '../media/rtp.ts';
import { moduleLogger } from '../log.ts';
import type { ServerStats } from '../../signaling/protocol.ts';
import type { IngestReply } from '../../signaling/ingest-protocol.ts';
import { Egress } from './egress.ts';
import { Director, conditioningLayer, portraitInputFromAvatar, type PortraitSource } from '../director/index.ts';
import { LazyRecognizer, OpenAiTranscriber, PocketsphinxRecognizer } from '../asr/index.ts';
import { SessionIntake } from './intake.ts';
import { metrics } from '../metrics/index.ts';
import { DegradeController } from './degrade.ts';

const log = moduleLogger('session');
/** How long the first video tick after an interrupt may wait for its frame's render (half a frame interval). */
const VIDEO_GRACE_US = 20_000;

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
  #lastFrame: RenderOutput | null = null;
  #lateFrames = 0;
  /** Frames sent fresh but late, after waiting for their render (VIDEO_GRACE_US). */
  #graceFrames = 0;
  /** The frame index that may wait for its render (the first after an interrupt). */
  #graceIndex = -1;
  /** Extra frames sent at an interrupt's cut, between two frame slots. */
  #cutFrames = 0;
  #lastVideoPtsUs = -1;
  /** The last interrupt: when it came (media clock), where audio and mouth were cut, how long until silence and a closed mouth left the server. */
  #lastInterrupt: { atUs: number; audioCutUs: number; mouthCutUs: number; audioCutMs: number | null; mouthCutMs: number | null } | null = null;
  /** The last few late frames, for diagnosis in the API (bounded ring). */
  readonly #lateLog: { frame: number; atMs: number; coveredMs: number; nextToRender: number; queued: number }[] = [];
  #lastLatencyUs = 0;
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
    this.#pacer = new FramePacer(this.clock, opts.outputDelayUs, { onTick: (k, late) => this.#onTick(k, late) });
    this.#degrade = stages.degrade && opts.degrade !== false ? new DegradeController(stages.degrade, () => this.#lateFrames, id) : null;
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
    return {
      fps: e.fps,
      videoKbps: e.videoKbps,
      pipelineLatencyMs: this.#lastLatencyUs / 1000,
      lateFrames: this.#lateFrames,
      graceFrames: this.#graceFrames,
      cutFrames: this.#cutFrames,
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
      recentLateFrames: this.#lateLog,
      declaredLatencyMs: this.declaredLatencyUs / 1000,
      outputDelayMs: this.options.outputDelayUs / 1000,
      director: this.director.metrics,
      degrade: this.#degrade?.figures ?? null,
      /** Times the session's room was rebuilt on a new mediasoup worker (its own died). */
      roomMoves: this.#roomMoves,
      lastInterrupt: this.#lastInterrupt && { audioCutMs: this.#lastInterrupt.audioCutMs, mouthCutMs: this.#lastInterrupt.mouthCutMs },
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
    const dropped = this.intake.interrupt(this.clock.nowUs());
    // The audio stops at the next tick (the chunk already sent plays out). The mouth closes from the media time
    // being heard now, up to a tick sooner: its frame then shows in the page with the last of that chunk rather than
    // after it (a mouth closing <= 20 ms early is well inside what viewers take as in sync).
    const nowUs = this.clock.nowUs();
    const cutUs = this.#pacer.tick * TICK_US;
    const heardUs = Math.floor((nowUs - this.options.outputDelayUs) / 1000) * 1000;
    const mouthCutUs = Math.min(cutUs, Math.max(heardUs, this.#lastVideoPtsUs + 1000));
    this.#lastInterrupt = { atUs: nowUs, audioCutUs: cutUs, mouthCutUs, audioCutMs: null, mouthCutMs: null };
    const nextVideoIndex = Math.ceil(this.#pacer.tick / 2);
    this.#mouth.truncate(mouthCutUs); // the visemes' future too
    this.#mouth.coverSilenceUntil(nextVideoIndex * FRAME_US + this.options.rightContextUs + 2 * FRAME_US);
    this.#scheduler.interrupt();
    this.#graceIndex = nextVideoIndex;
    // Between two frame slots: one extra frame at the mouth's cut, sent as soon as it is rendered, so the mouth
    // closes with the audio instead of up to a frame interval later.
    if (mouthCutUs < nextVideoIndex * FRAME_US) this.#sendCutFrame(mouthCutUs);
    this.director.interrupt(cutUs);
    return { droppedUs: dropped * TICK_US };
  }

  #sendCutFrame(ptsUs: number): void {
    const epoch = this.intake.epoch;
    this.#scheduler.renderAt(ptsUs).then(
      (frame) => {
        // Dropped if a newer interrupt came, or (in #emitVideo) if a later frame has gone out first.
        if (this.#closed || epoch !== this.intake.epoch) return;
        if (this.#emitVideo(frame, ptsUs, true)) {
          this.#cutFrames++;
          metrics.frames.inc({ kind: 'cut' });
        }
      },
      (err: unknown) => log.warn({ err, session: this.id }, 'interrupt frame not rendered'),
    );
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

  #onTick(tick: number, lateUs: number): void {
    metrics.tickLateness.observe(lateUs / 1e6);
    const nowUs = tick * TICK_US + this.options.outputDelayUs;
    // Live audio that has not arrived by now never will in time: its span is silence.
    this.#mouth.coverSilenceUntil(nowUs - this.options.liveJitterUs);
    if (tick % 2 === 0) this.#videoTick(tick / 2, nowUs);
    // Audio leaves in the same tick as the video of the same media time; the encoder adds
    // ~3 ms to the video (measured in test/media), well inside what browsers resync.
    this.#audioTick(tick * TICK_US, nowUs);
    this.#scheduler.poke();
  }

  #videoTick(index: number, nowUs: number): void {
    // The first frame after an interrupt is usually being rendered at its tick: wait a little for it, on the
    // media clock, rather than repeat the last (talking) frame; the audio ticks are not held up.
    if (index === this.#graceIndex && !this.#scheduler.has(index) && this.#scheduler.nextIndex === index) {
      const grace = new AbortController();
      void Promise.race([this.#scheduler.rendered(index), this.clock.waitUntil(nowUs + VIDEO_GRACE_US, grace.signal).catch(() => undefined)]).then(() => {
        grace.abort();
        if (this.#closed) return;
        if (this.#scheduler.has(index)) this.#graceFrames++;
        this.#sendVideo(index, nowUs);
      });
      return;
    }
    this.#sendVideo(index, nowUs);
  }

  #sendVideo(index: number, nowUs: number): void {
    const scheduled = this.#scheduler.take(index);
    let frame = scheduled?.frame ?? this.#lastFrame;
    if (!scheduled) {
      this.#lateFrames++;
      metrics.frames.inc({ kind: 'late' });
      this.#lateLog.push({ frame: index, atMs: nowUs / 1000, coveredMs: this.#mouth.coveredUntilUs / 1000, nextToRender: this.#scheduler.nextIndex, queued: this.#scheduler.queued });
      if (this.#lateLog.length > 20) this.#lateLog.shift();
    }
    else {
      this.#lastLatencyUs = nowUs - scheduled.ptsUs;
      metrics.frames.inc({ kind: 'fresh' });
    }
    if (!frame) return; // nothing rendered yet at the very start
    if (this.#emitVideo(frame, index * FRAME_US, scheduled !== undefined)) this.#lastFrame = frame;
  }

  /** Sends a frame unless one at or after its time has gone out (the encoder needs rising pts); `fresh`: rendered now. */
  #emitVideo(frame: RenderOutput, ptsUs: number, fresh: boolean): boolean {
    if (ptsUs <= this.#lastVideoPtsUs) return false;
    this.#lastVideoPtsUs = ptsUs;
    this.#egress.sendVideo(frame, ptsUs);
    if (fresh) this.#markCut('mouthCutMs', ptsUs);
    return true;
  }

  /** The first audio (or fresh video) at or after the last interrupt's cut left now: record how long that took. */
  #markCut(what: 'audioCutMs' | 'mouthCutMs', ptsUs: number): void {
    const cut = this.#lastInterrupt;
    if (!cut || cut[what] !== null || ptsUs < (what === 'audioCutMs' ? cut.audioCutUs : cut.mouthCutUs)) return;
    cut[what] = (this.clock.nowUs() - cut.atUs) / 1000;
  }

  #audioTick(ptsUs: number, nowUs: number): void {
    const { chunk } = this.intake.take(ptsUs, nowUs);
    this.#egress.sendAudio({ ...chunk, ptsUs });
    this.#markCut('audioCutMs', ptsUs);
  }
}
