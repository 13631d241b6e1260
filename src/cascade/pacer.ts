// The frame pacer: the only stage that waits on the media clock (house rule 8). It ticks
// every 20 ms of media time (one audio chunk; every second tick is a 25 fps video frame),
// measures how late each tick fires and hands the tick to the session's sink.
import type { MediaClock } from '../clock/index.ts';
import { CHUNK_MS } from '../media/types.ts';
import { moduleLogger } from '../log.ts';

const log = moduleLogger('cascade/pacer');
export const TICK_US = CHUNK_MS * 1000;

export interface PacerSink {
  /** Tick k stands for media time k*20ms; it fires at that time + the output delay. */
  onTick(tick: number, lateUs: number): void;
}

export interface PacerStats {
  ticks: number;
  /** Ticks that fired more than one tick late (event loop stalls). */
  lateTicks: number;
  maxLateUs: number;
  /** Lateness of the last 500 ticks (10 s), 95th percentile: how steadily packets leave (receivers buffer for it). */
  recentLateP95Us: number;
  /** The last ticks that fired more than 30 ms late: their media time (ms) and lateness (ms). */
  stalls: { tickMs: number; lateMs: number }[];
  /** Ticks by lateness since the start: lateCounts[i] fired at most LATE_BOUNDS_MS[i] late (the last: later than all). */
  lateCounts: number[];
}

/** Upper bounds (ms) of the lateness counts: 10 ms is on time, 40 ms a whole video frame. */
export const LATE_BOUNDS_MS: readonly number[] = [1, 2, 5, 10, 20, 40, 80, 160, 320];

const RECENT_TICKS = 500;

export class FramePacer {
  readonly #clock: MediaClock;
  readonly #outputDelayUs: number;
  readonly #sink: PacerSink;
  readonly #abort = new AbortController();
  readonly #stats: PacerStats = { ticks: 0, lateTicks: 0, maxLateUs: 0, recentLateP95Us: 0, stalls: [], lateCounts: new Array<number>(LATE_BOUNDS_MS.length + 1).fill(0) };
  readonly #recentLate = new Float64Array(RECENT_TICKS);
  #task: Promise<void> | null = null;
  #tick = 0;

  constructor(clock: MediaClock, outputDelayUs: number, sink: PacerSink) {
    this.#clock = clock;
    this.#outputDelayUs = outputDelayUs;
    this.#sink = sink;
  }

  get stats(): Readonly<PacerStats> {
    const n = Math.min(this.#stats.ticks, RECENT_TICKS);
    if (n > 0) {
      const sorted = this.#recentLate.slice(0, n).sort();
      this.#stats.recentLateP95Us = Math.round(sorted[Math.min(n - 1, Math.floor(0.95 * n))]!);
    }
    return this.#stats;
  }

  /** The next tick to fire. */
  get tick(): number {
    return this.#tick;
  }

  start(fromTick: number): void {
    if (this.#task) throw new Error('pacer already started');
    this.#tick = fromTick;
    this.#task = this.#run(this.#abort.signal);
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#task;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const due = this.#tick * TICK_US + this.#outputDelayUs;
      await this.#clock.waitUntil(due, signal);
      if (signal.aborted) return;
      const lateUs = Math.max(0, this.#clock.nowUs() - due);
      this.#stats.ticks++;
      if (lateUs > TICK_US) this.#stats.lateTicks++;
      this.#stats.maxLateUs = Math.max(this.#stats.maxLateUs, lateUs);
      this.#recentLate[this.#stats.ticks % RECENT_TICKS] = lateUs;
      const bucket = LATE_BOUNDS_MS.findIndex((ms) => lateUs <= ms * 1000);
      this.#stats.lateCounts[bucket < 0 ? LATE_BOUNDS_MS.length : bucket]!++;
      if (lateUs > 30_000) {
        this.#stats.stalls.push({ tickMs: (this.#tick * TICK_US) / 1000, lateMs: Math.round(lateUs / 1000) });
        if (this.#stats.stalls.length > 10) this.#stats.stalls.shift();
      }
      try {
        this.#sink.onTick(this.#tick, lateUs);
      } catch (err) {
        log.error({ err, tick: this.#tick }, 'pacer sink threw');
      }
      this.#tick++;
    }
  }
}
