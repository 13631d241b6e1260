// An avatar session: one media clock, one room, one cascade, one encode, any number of
// viewers. Audio from the microphone (live) or from TTS (ahead) lands on the playout buffer
// and the mouth track; the scheduler renders ahead; the pacer sends video and audio out at
// media time + output delay, so both leave on one timeline.
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { MediaClock } from '../clock/index.ts';
import { MouthFeatureTrack } from '../audio/mouth-features.ts';
import { PlayoutBuffer } from '../audio/playout.ts';
import { CascadeScheduler } from '../cascade/scheduler.ts';
import { FramePacer, TICK_US } from '../cascade/pacer.ts';
import type { PackStages, RenderOutput } from '../cascade/types.ts';
import type { EnrolledAvatar } from '../packs/default/index.ts';
import { MicIngest } from '../ingest/mic.ts';
import type { TtsTarget } from '../ingest/tts.ts';
import { Room } from '../rtc/room.ts';
import { CHUNK_SAMPLES, FRAME_US, type AudioChunk } from '../media/types.ts';
import { randomUint32 } from '../media/rtp.ts';
import { moduleLogger } from '../log.ts';
import type { ServerStats } from '../../signaling/protocol.ts';
import type { IngestReply } from '../../signaling/ingest-protocol.ts';
import { Egress } from './egress.ts';
import { Director, conditioningLayer, portraitInputFromAvatar } from '../director/index.ts';
import { LazyRecognizer, OpenAiTranscriber, PocketsphinxRecognizer } from '../asr/index.ts';
import type { PlanLayer } from '../packs/default/blueprint.ts';
import { TurnTracker } from './turns.ts';

const log = moduleLogger('session');

export interface SessionOptions {
  avatarId: string;
  /** What enrollment knows of the picture (the director's visual expert reads it). */
  avatar?: EnrolledAvatar;
  outputDelayUs: number;
  rightContextUs: number;
  /** How long after its media time live audio may still arrive (network + packetisation). */
  liveJitterUs: number;
  videoKbps: number;
  keyframeIntervalFrames: number;
  listenIp: string;
  announcedIp?: string;
  /** Playout buffer bound, seconds of audio. */
  maxQueuedAudioS: number;
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
  readonly #stages: PackStages & { readonly planner?: { plan: PlanLayer | null } };
  readonly director: Director;
  readonly #mouth: MouthFeatureTrack;
  readonly #playout: PlayoutBuffer;
  readonly #scheduler: CascadeScheduler;
  readonly #pacer: FramePacer;
  readonly #egress: Egress;
  readonly #mic: MicIngest;
  readonly #turns: TurnTracker;
  readonly #silence = new Int16Array(CHUNK_SAMPLES);
  readonly #instructions: string[] = [];
  #epoch = 0;
  #queuedEndUs = 0;
  #lastFrame: RenderOutput | null = null;
  #lateFrames = 0;
  /** The last few late frames, for diagnosis in the API (bounded ring). */
  readonly #lateLog: { frame: number; atMs: number; coveredMs: number; nextToRender: number; queued: number }[] = [];
  #lastLatencyUs = 0;
  #closed = false;
  #onClose: (() => void) | null = null;
  readonly #closing = new AbortController();

  private constructor(id: string, opts: SessionOptions, room: Room, stages: PackStages & { readonly planner?: { plan: PlanLayer | null } }) {
    this.id = id;
    this.options = Object.freeze({ ...opts });
    this.room = room;
    this.#stages = stages;
    this.#mouth = new MouthFeatureTrack({ rightContextUs: opts.rightContextUs });
    this.#playout = new PlayoutBuffer(Math.round((opts.maxQueuedAudioS * 1_000_000) / TICK_US));
    this.#scheduler = new CascadeScheduler(stages, this.#mouth, { aheadFrames: 25, nowUs: () => this.clock.nowUs() });
    this.#pacer = new FramePacer(this.clock, opts.outputDelayUs, { onTick: (k, late) => this.#onTick(k, late) });
    this.#turns = new TurnTracker((us) => this.clock.wallUsAt(us) / 1000);
    this.#egress = new Egress(room, this.clock, {
      width: stages.width,
      height: stages.height,
      videoKbps: opts.videoKbps,
      keyframeIntervalFrames: opts.keyframeIntervalFrames,
      // NTP in sender reports = the wall time the media leaves the pacer.
      sendDelayUs: opts.outputDelayUs,
    });
    this.#mic = new MicIngest({ nowUs: () => this.clock.nowUs(), epoch: () => this.#epoch, onChunk: (c) => this.#onLiveChunk(c) });
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
    // The plan drives the pack's blueprint (the default pack: coefficient targets and limits).
    if (stages.planner) stages.planner.plan = conditioningLayer(this.director, { idle: false }) as PlanLayer;
    room.on('micRtp', this.#onMicRtp);
  }

  static async create(worker: ms.Worker, stages: PackStages & { readonly planner?: { plan: PlanLayer | null } }, opts: SessionOptions): Promise<AvatarSession> {
    const id = randomUUID();
    const room = await Room.create(
      worker,
      { listenIp: opts.listenIp, announcedIp: opts.announcedIp, initialAvailableOutgoingBitrate: 1_000_000 },
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
      viewers: this.room.viewerCount,
      mediaTimeMs: Math.max(0, this.clock.nowUs() - this.options.outputDelayUs) / 1000,
    };
  }

  /** Fuller figures for the HTTP API and benchmarks. */
  details() {
    return {
      ...this.stats(),
      scheduler: this.#scheduler.stats,
      pacer: this.#pacer.stats,
      mic: this.#mic.stats,
      encoder: this.#egress.encoderStats(),
      playoutLateDrops: this.#playout.lateDrops,
      recentLateFrames: this.#lateLog,
      queuedAudioMs: (this.#playout.size * TICK_US) / 1000,
      declaredLatencyMs: this.declaredLatencyUs / 1000,
      outputDelayMs: this.options.outputDelayUs / 1000,
      director: this.director.metrics,
    };
  }

  // --- TtsTarget -------------------------------------------------------------------------

  nextTurnStartUs(): number {
    return Math.max(this.earliestPtsUs(), this.#queuedEndUs);
  }

  earliestPtsUs(): number {
    // The pacer has sent audio up to (tick - 1); leave two chunks of margin.
    return Math.ceil((this.clock.nowUs() - this.options.outputDelayUs) / TICK_US) * TICK_US + 2 * TICK_US;
  }

  epoch(): number {
    return this.#epoch;
  }

  queue(chunk: AudioChunk, segmentId: number, last: boolean): boolean {
    if (chunk.epoch !== this.#epoch) return true; // a stale turn's tail after an interrupt
    if (!this.#playout.push({ chunk, segmentId, last })) return false;
    this.#queuedEndUs = Math.max(this.#queuedEndUs, chunk.ptsUs + TICK_US);
    this.#mouth.push(chunk);
    this.director.audio(chunk, { segmentId, last });
    this.#scheduler.poke();
    return true;
  }

  beginTurn(segmentId: number, reply: (r: IngestReply) => void): void {
    this.#turns.begin(segmentId, reply);
  }

  endEmptyTurn(segmentId: number): void {
    this.#turns.finishEmpty(segmentId, this.clock.nowUs());
  }

  text(segmentId: number, text: string): void {
    this.#turns.text(segmentId, text);
    this.director.transcript({ text, segmentId });
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
    const dropped = this.#playout.flush();
    this.#epoch++;
    this.#queuedEndUs = 0;
    const nextVideoPts = Math.ceil(this.#pacer.tick / 2) * FRAME_US;
    this.#mouth.truncate(nextVideoPts);
    this.#mouth.coverSilenceUntil(nextVideoPts + this.options.rightContextUs + 2 * FRAME_US);
    this.#scheduler.interrupt();
    this.#turns.interruptAll(this.clock.nowUs());
    this.director.interrupt(nextVideoPts);
    return { droppedUs: dropped.length * TICK_US };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    this.room.off('micRtp', this.#onMicRtp);
    this.#turns.interruptAll(this.clock.nowUs());
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
    this.#scheduler.start(0);
    this.#pacer.start(0);
  }

  readonly #onMicRtp = (packet: Buffer): void => {
    this.#mic.push(packet);
  };

  #onLiveChunk(chunk: AudioChunk): void {
    if (!this.#playout.push({ chunk, segmentId: null, last: false })) {
      log.warn({ session: this.id }, 'playout buffer full: live chunk not queued');
      return;
    }
    this.#mouth.push(chunk);
    this.director.audio(chunk);
    this.#scheduler.poke();
  }

  #onTick(tick: number, _lateUs: number): void {
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
    const scheduled = this.#scheduler.take(index);
    let frame = scheduled?.frame ?? this.#lastFrame;
    if (!scheduled) {
      this.#lateFrames++;
      this.#lateLog.push({ frame: index, atMs: nowUs / 1000, coveredMs: this.#mouth.coveredUntilUs / 1000, nextToRender: this.#scheduler.nextIndex, queued: this.#scheduler.queued });
      if (this.#lateLog.length > 20) this.#lateLog.shift();
    }
    else this.#lastLatencyUs = nowUs - scheduled.ptsUs;
    if (!frame) return; // nothing rendered yet at the very start
    this.#lastFrame = frame;
    this.#egress.sendVideo(frame, index * FRAME_US);
  }

  #audioTick(ptsUs: number, nowUs: number): void {
    const entry = this.#playout.take(ptsUs);
    const chunk: AudioChunk = entry?.chunk ?? { ptsUs, samples: this.#silence, epoch: this.#epoch };
    this.#egress.sendAudio({ ...chunk, ptsUs });
    if (entry?.segmentId != null) this.#turns.played(entry.segmentId, ptsUs, entry.last, nowUs);
  }
}
