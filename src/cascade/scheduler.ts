// The cascade scheduler: renders frames ahead of the pacer through the pack's stages
// (blueprint -> refine -> fill -> SR). It never waits on the clock: it waits for audio to
// cover a frame's right context, or for room in its bounded frame queue (policy: block),
// and it skips frames the pacer reports it can no longer make (QoS, counted).
import type { MouthFeatureTrack } from '../audio/mouth-features.ts';
import { FRAME_US } from '../media/types.ts';
import { moduleLogger } from '../log.ts';
import { metrics } from '../metrics/index.ts';
import type { Anchor, FillWindow, Keyframe, PackStages, RenderOutput, ScheduledFrame } from './types.ts';

const log = moduleLogger('cascade/scheduler');

export interface SchedulerOptions {
  /** Frames rendered ahead of the pacer at most (the queue's bound). */
  aheadFrames: number;
  /** Source of "now" for latency stamps only; the scheduler never sleeps on it. */
  nowUs: () => number;
}

export interface SchedulerStats {
  rendered: number;
  skipped: number;
  staleDropped: number;
  lastRenderUs: number;
}

interface Waiter {
  resolve: () => void;
}

/** Offline use only: waits for a frame instead of taking what is ready. */
interface FrameWaiter {
  index: number;
  resolve: () => void;
}

export class CascadeScheduler<K extends Keyframe = Keyframe> {
  readonly #stages: PackStages<K>;
  readonly #mouth: MouthFeatureTrack;
  readonly #opts: SchedulerOptions;
  readonly #frames = new Map<number, ScheduledFrame>();
  readonly #anchors = new Map<number, Promise<Anchor<K>>>();
  readonly #stats: SchedulerStats = { rendered: 0, skipped: 0, staleDropped: 0, lastRenderUs: 0 };
  #epoch = 0;
  #next = 0;
  /** First frame index the pacer still wants. */
  #pacerAt = 0;
  #waiter: Waiter | null = null;
  #frameWaiter: FrameWaiter | null = null;
  /** rendered() callers, by the frame each waits for. */
  readonly #readyWaiters = new Map<() => void, number>();
  #abort = new AbortController();
  #task: Promise<void> | null = null;

  constructor(stages: PackStages<K>, mouth: MouthFeatureTrack, opts: SchedulerOptions) {
    this.#stages = stages;
    this.#mouth = mouth;
    this.#opts = opts;
  }

  get stats(): Readonly<SchedulerStats> {
    return this.#stats;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** The next frame the render loop will work on. */
  get nextIndex(): number {
    return this.#next;
  }

  /** Frames rendered and waiting for the pacer. */
  get queued(): number {
    return this.#frames.size;
  }

  start(fromFrame: number): void {
    if (this.#task) throw new Error('scheduler already started');
    this.#next = fromFrame;
    this.#pacerAt = fromFrame;
    this.#task = this.#run(this.#abort.signal).catch((err) => log.error({ err }, 'scheduler stopped on an error'));
  }

  /** Wakes the loop: new audio arrived, or the pacer moved on. */
  poke(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.resolve();
  }

  /**
   * The pacer takes frame n (or nothing if it is not ready) and tells the scheduler where
   * it is, which frees queue room and marks older frames as too late.
   */
  take(index: number): ScheduledFrame | undefined {
    this.#pacerAt = index + 1;
    for (const k of this.#frames.keys()) if (k < index) this.#frames.delete(k);
    const frame = this.#frames.get(index);
    this.#frames.delete(index);
    this.poke();
    return frame;
  }

  /** Whether frame n is rendered and waiting. */
  has(index: number): boolean {
    return this.#frames.has(index);
  }

  /**
   * Resolves when frame n is rendered (or the scheduler closes); the caller bounds the wait. Live sessions use it
   * for a frame the render loop is working on at its tick (right after an interrupt): a fresh frame a few ms late
   * beats repeating the last one.
   */
  rendered(index: number): Promise<void> {
    if (this.#frames.has(index) || this.#abort.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#readyWaiters.delete(done);
        resolve();
      };
      this.#readyWaiters.set(done, index);
    });
  }

  /**
   * Renders one frame at a media time between frame slots, outside the queue (the frame that shows an interrupt
   * at once, see AvatarSession.interrupt). Same stages and mouth as the queue's frames.
   */
  renderAt(ptsUs: number): Promise<RenderOutput> {
    if (this.#abort.signal.aborted) return Promise.reject(new Error('scheduler closed'));
    return this.#render(ptsUs / FRAME_US, ptsUs, false);
  }

  /**
   * Offline rendering (no clock): waits until frame n is rendered, then takes it. Live
   * sessions use take(), which never waits.
   */
  async takeWhenReady(index: number): Promise<ScheduledFrame> {
    while (!this.#frames.has(index)) {
      if (this.#abort.signal.aborted) throw new Error('scheduler closed');
      await new Promise<void>((resolve) => (this.#frameWaiter = { index, resolve }));
    }
    return this.take(index)!;
  }

  /**
   * Interruption: a new epoch. Queued frames are dropped at once and rendering restarts at
   * the pacer's position, so the next frame out already follows the new audio.
   */
  interrupt(): number {
    this.#epoch++;
    this.#stats.staleDropped += this.#frames.size;
    this.#frames.clear();
    this.#next = this.#pacerAt;
    this.poke();
    return this.#epoch;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    this.poke();
    this.#frameWaiter?.resolve();
    for (const done of [...this.#readyWaiters.keys()]) done();
    await this.#task;
    this.#frames.clear();
    this.#anchors.clear();
    this.#stages.fill.close?.();
  }

  async #run(signal: AbortSignal): Promise<void> {
    const R = this.#mouth.rightContextUs;
    while (!signal.aborted) {
      const n = this.#next;
      // QoS: the pacer has passed this frame already; skip to where it is.
      if (n < this.#pacerAt) {
        this.#stats.skipped += this.#pacerAt - n;
        this.#next = this.#pacerAt;
        continue;
      }
      const ptsUs = n * FRAME_US;
      if (n >= this.#pacerAt + this.#opts.aheadFrames || this.#mouth.coveredUntilUs < ptsUs + R) {
        await this.#wait();
        continue;
      }
      const epoch = this.#epoch;
      const late = n <= this.#pacerAt; // due at the pacer's very next tick
      const frame = await this.#render(n, ptsUs, late);
      if (signal.aborted) return;
      if (epoch !== this.#epoch || this.#next !== n) {
        this.#stats.staleDropped++;
        continue;
      }
      this.#frames.set(n, { index: n, ptsUs, epoch, frame, readyAtUs: this.#opts.nowUs() });
      this.#stats.rendered++;
      this.#next = n + 1;
      for (const [done, index] of this.#readyWaiters) if (index <= n) done();
      if (this.#frameWaiter?.index === n) {
        const w = this.#frameWaiter;
        this.#frameWaiter = null;
        w.resolve();
      }
    }
  }

  /** n: the frame position (fractional for renderAt). */
  async #render(n: number, ptsUs: number, degrade: boolean): Promise<RenderOutput> {
    const t0 = performance.now();
    const spacing = this.#stages.blueprint.spacingFrames;
    const w = Math.floor(n / spacing);
    const window: FillWindow<K> = { index: w, first: await this.#anchor(w * spacing), last: await this.#anchor((w + 1) * spacing) };
    // Ahead of need: the next window's last anchor, so window changes never stall.
    void this.#anchor((w + 2) * spacing).catch(() => undefined);
    const alpha = (n - w * spacing) / spacing;
    let frame = await this.#stages.fill.fill({ window, ptsUs, alpha, mouth: this.#mouth.mouthAt(ptsUs), degrade });
    if (this.#stages.sr.enabled && !degrade) frame = await this.#stages.sr.upscale(frame);
    this.#stats.lastRenderUs = (performance.now() - t0) * 1000;
    metrics.stageSeconds.observe({ stage: 'render' }, this.#stats.lastRenderUs / 1e6);
    return frame;
  }

  #anchor(frameIndex: number): Promise<Anchor<K>> {
    let anchor = this.#anchors.get(frameIndex);
    if (!anchor) {
      const keyframe = this.#stages.blueprint.keyframeAt(frameIndex * FRAME_US);
      anchor = this.#stages.refine.refine(keyframe);
      this.#anchors.set(frameIndex, anchor);
      // Keep only anchors near the playhead.
      const oldest = (Math.floor(this.#pacerAt / this.#stages.blueprint.spacingFrames) - 1) * this.#stages.blueprint.spacingFrames;
      for (const k of this.#anchors.keys()) if (k < oldest) this.#anchors.delete(k);
    }
    return anchor;
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiter = { resolve };
    });
  }
}
