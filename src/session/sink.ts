// The session's sink, driven by the pacer: at each 20 ms tick the audio chunk of that media time goes out (from the
// intake, silence when none), and every other tick the frame of that media time (from the scheduler; the last frame
// again, counted late, when it is not ready). At an interrupt it says where audio and mouth are cut, lets the first
// frame after it wait a little for its render, and sends one extra frame at the mouth's cut.
import type { MediaClock } from '../clock/index.ts';
import type { MouthFeatureTrack } from '../audio/mouth-features.ts';
import { TICK_US } from '../cascade/pacer.ts';
import type { CascadeScheduler } from '../cascade/scheduler.ts';
import type { RenderOutput } from '../cascade/types.ts';
import { FRAME_US } from '../media/types.ts';
import { moduleLogger } from '../log.ts';
import { metrics } from '../metrics/index.ts';
import type { Egress } from './egress.ts';
import type { SessionIntake } from './intake.ts';

const log = moduleLogger('session/sink');
/** How long the first video tick after an interrupt may wait for its frame's render (half a frame interval). */
const VIDEO_GRACE_US = 20_000;

export interface SinkOptions {
  readonly sessionId: string;
  readonly clock: MediaClock;
  readonly intake: SessionIntake;
  readonly scheduler: CascadeScheduler;
  readonly mouth: MouthFeatureTrack;
  readonly egress: Egress;
  readonly outputDelayUs: number;
  /** How long after its media time live audio may still arrive (network + packetisation). */
  readonly liveJitterUs: number;
  readonly closed: () => boolean;
}

/** Where an interrupt cuts: the audio at the pacer's next tick, the mouth at the media time being heard. */
export interface Cut {
  readonly audioCutUs: number;
  readonly mouthCutUs: number;
  /** The first frame slot after the interrupt. */
  readonly nextVideoIndex: number;
}

interface LastInterrupt {
  atUs: number;
  audioCutUs: number;
  mouthCutUs: number;
  /** How long after the interrupt silence and a closed mouth left the server; null until they did. */
  audioCutMs: number | null;
  mouthCutMs: number | null;
}

export class SessionSink {
  readonly #o: SinkOptions;
  #lastFrame: RenderOutput | null = null;
  #lateFrames = 0;
  /** Frames sent fresh but late, after waiting for their render (VIDEO_GRACE_US). */
  #graceFrames = 0;
  /** The frame index that may wait for its render (the first after an interrupt). */
  #graceIndex = -1;
  /** Extra frames sent at an interrupt's cut, between two frame slots. */
  #cutFrames = 0;
  #lastVideoPtsUs = -1;
  #lastInterrupt: LastInterrupt | null = null;
  /** The last few late frames, for diagnosis in the API (bounded ring). */
  readonly #lateLog: { frame: number; atMs: number; coveredMs: number; nextToRender: number; queued: number }[] = [];
  #lastLatencyUs = 0;

  constructor(o: SinkOptions) {
    this.#o = o;
  }

  /** Frames repeated because not ready, so far. */
  get lateFrames(): number {
    return this.#lateFrames;
  }

  get figures() {
    const cut = this.#lastInterrupt;
    return {
      pipelineLatencyMs: this.#lastLatencyUs / 1000,
      lateFrames: this.#lateFrames,
      graceFrames: this.#graceFrames,
      cutFrames: this.#cutFrames,
      recentLateFrames: this.#lateLog,
      lastInterrupt: cut && { audioCutMs: cut.audioCutMs, mouthCutMs: cut.mouthCutMs },
    };
  }

  /** The pacer's tick: media time tick x 20 ms leaves now. */
  tick(tick: number, lateUs: number): void {
    const o = this.#o;
    metrics.tickLateness.observe(lateUs / 1e6);
    const nowUs = tick * TICK_US + o.outputDelayUs;
    // Live audio that has not arrived by now never will in time: its span is silence.
    o.mouth.coverSilenceUntil(nowUs - o.liveJitterUs);
    if (tick % 2 === 0) this.#videoTick(tick / 2, nowUs);
    // Audio leaves in the same tick as the video of the same media time; the encoder adds
    // ~3 ms to the video (measured in test/media), well inside what browsers resync.
    const ptsUs = tick * TICK_US;
    const { chunk } = o.intake.take(ptsUs, nowUs);
    o.egress.sendAudio({ ...chunk, ptsUs });
    this.#markCut('audioCutMs', ptsUs);
    o.scheduler.poke();
  }

  /**
   * An interrupt at media time nowUs with the pacer at `pacerTick`. The audio stops at the next tick (the chunk
   * already sent plays out). The mouth closes from the media time being heard now, up to a tick sooner: its frame
   * then shows in the page with the last of that chunk rather than after it (a mouth closing <= 20 ms early is well
   * inside what viewers take as in sync).
   */
  cut(nowUs: number, pacerTick: number): Cut {
    const audioCutUs = pacerTick * TICK_US;
    const heardUs = Math.floor((nowUs - this.#o.outputDelayUs) / 1000) * 1000;
    const mouthCutUs = Math.min(audioCutUs, Math.max(heardUs, this.#lastVideoPtsUs + 1000));
    this.#lastInterrupt = { atUs: nowUs, audioCutUs, mouthCutUs, audioCutMs: null, mouthCutMs: null };
    return { audioCutUs, mouthCutUs, nextVideoIndex: Math.ceil(pacerTick / 2) };
  }

  /**
   * After the cascade dropped the cut's future: the first frame after it may wait for its render, and between two
   * frame slots one extra frame at the mouth's cut goes out as soon as it is rendered, so the mouth closes with the
   * audio instead of up to a frame interval later.
   */
  afterCut(cut: Cut): void {
    this.#graceIndex = cut.nextVideoIndex;
    if (cut.mouthCutUs < cut.nextVideoIndex * FRAME_US) this.#sendCutFrame(cut.mouthCutUs);
  }

  #sendCutFrame(ptsUs: number): void {
    const o = this.#o;
    const epoch = o.intake.epoch;
    o.scheduler.renderAt(ptsUs).then(
      (frame) => {
        // Dropped if a newer interrupt came, or (in #emitVideo) if a later frame has gone out first.
        if (o.closed() || epoch !== o.intake.epoch) return;
        if (this.#emitVideo(frame, ptsUs, true)) {
          this.#cutFrames++;
          metrics.frames.inc({ kind: 'cut' });
        }
      },
      (err: unknown) => log.warn({ err, session: o.sessionId }, 'interrupt frame not rendered'),
    );
  }

  #videoTick(index: number, nowUs: number): void {
    const { scheduler, clock } = this.#o;
    // The first frame after an interrupt is usually being rendered at its tick: wait a little for it, on the
    // media clock, rather than repeat the last (talking) frame; the audio ticks are not held up.
    if (index === this.#graceIndex && !scheduler.has(index) && scheduler.nextIndex === index) {
      const grace = new AbortController();
      void Promise.race([scheduler.rendered(index), clock.waitUntil(nowUs + VIDEO_GRACE_US, grace.signal).catch(() => undefined)]).then(() => {
        grace.abort();
        if (this.#o.closed()) return;
        if (scheduler.has(index)) this.#graceFrames++;
        this.#sendVideo(index, nowUs);
      });
      return;
    }
    this.#sendVideo(index, nowUs);
  }

  #sendVideo(index: number, nowUs: number): void {
    const { scheduler, mouth } = this.#o;
    const scheduled = scheduler.take(index);
    const frame = scheduled?.frame ?? this.#lastFrame;
    if (!scheduled) {
      this.#lateFrames++;
      metrics.frames.inc({ kind: 'late' });
      this.#lateLog.push({ frame: index, atMs: nowUs / 1000, coveredMs: mouth.coveredUntilUs / 1000, nextToRender: scheduler.nextIndex, queued: scheduler.queued });
      if (this.#lateLog.length > 20) this.#lateLog.shift();
    } else {
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
    this.#o.egress.sendVideo(frame, ptsUs);
    if (fresh) this.#markCut('mouthCutMs', ptsUs);
    return true;
  }

  /** The first audio (or fresh video) at or after the last interrupt's cut left now: record how long that took. */
  #markCut(what: 'audioCutMs' | 'mouthCutMs', ptsUs: number): void {
    const cut = this.#lastInterrupt;
    if (!cut || cut[what] !== null || ptsUs < (what === 'audioCutMs' ? cut.audioCutUs : cut.mouthCutUs)) return;
    cut[what] = (this.#o.clock.nowUs() - cut.atUs) / 1000;
  }
}
