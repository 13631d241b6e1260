// How many sessions this machine serves in real time, and whether it can take one more now. A session it cannot
// serve is refused (503 at-capacity, with Retry-After) rather than admitted to make every session late.
// - Stated: a fixed number (FACECAST_CAPACITY: the operator's figure, no measuring and no live refusals), or 'auto':
//   the cores x a headroom share, less what other work on the machine uses, over the cost of a session.
// - The cost of a session: at start, a render probe (frames of a talking face rendered on the render thread, its
//   own CPU time) plus the rest of a session's work (encode, audio, director, RTP: PER_SESSION_OVERHEAD_CORES,
//   measured with bench/load.ts); once sessions run, what the server's processes really use per session
//   (a moving average over CPU windows), so the figure follows the machine and the content.
// - Live ('auto'): what other work on the machine uses (a noisy neighbour) comes off the cores, and a new session
//   is refused while the running ones are already late (frames repeated), both read over the last 10 s so that a
//   passing spike refuses nobody.
import { availableParallelism } from 'node:os';
import { moduleLogger } from '../log.ts';
import { machineTimes, type MachineTimes } from '../util/proc.ts';

const log = moduleLogger('session/capacity');

/** Encode (ffmpeg VP8), audio analysis, director, Opus, RTP and mediasoup for one talking session, in cores
 *  (bench/results/load-*.json: server tree CPU per session minus the render threads' share). */
export const PER_SESSION_OVERHEAD_CORES = 0.16;
/** How often the live figures are read. */
const SAMPLE_MS = 2_000;
/** The live figures' window. */
const WINDOW_MS = 10_000;
/** Frames repeated per second, all sessions together, above which no session is admitted (over the window). */
const LATE_FRAMES_PER_S = 0.5;
/** How long a refused client should wait before asking again. */
export const RETRY_AFTER_S = 10;

export interface CapacityOptions {
  /** A fixed number of sessions, or 'auto' (measured). */
  readonly stated: number | 'auto';
  /** Share of the cores that sessions may use (0.5-1). */
  readonly headroom: number;
  /** Cores to plan for; default: the machine's. */
  readonly cores?: number;
}

/** What the server reads live: its running sessions' late frames so far, and its processes' CPU seconds so far. */
export interface LoadReading {
  readonly sessions: number;
  readonly lateFrames: number;
  readonly cpuSeconds: number;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly reason: 'at-capacity'; readonly message: string; readonly retryAfterS: number };

export class CapacityError extends Error {
  override readonly name = 'CapacityError';
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

export class Capacity {
  readonly cores: number;
  readonly options: Readonly<CapacityOptions>;
  /** Cores one talking session costs (probe first, then measured). */
  #perSessionCores: number | null = null;
  #probeMsPerFrame: number | null = null;
  /** Readings over the last window, oldest first. */
  readonly #readings: (LoadReading & { at: number; machine: MachineTimes | null })[] = [];
  #lateRate = 0;
  #machineBusy = 0;
  /** Cores other work on the machine used over the window (all that is busy but this server's processes). */
  #otherCores = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: CapacityOptions) {
    if (options.stated !== 'auto' && !(Number.isInteger(options.stated) && options.stated >= 1)) throw new RangeError(`capacity must be 'auto' or a positive integer, got ${String(options.stated)}`);
    if (!(options.headroom >= 0.5 && options.headroom <= 1)) throw new RangeError(`capacity headroom must be in [0.5, 1], got ${options.headroom}`);
    this.options = Object.freeze({ ...options });
    this.cores = options.cores ?? availableParallelism();
  }

  /** The render probe's result: CPU ms one talking frame costs on a render thread. */
  setProbe(msPerFrame: number): void {
    this.#probeMsPerFrame = msPerFrame;
    this.#perSessionCores ??= (msPerFrame * 25) / 1000 + PER_SESSION_OVERHEAD_CORES;
    log.info({ msPerFrame: Number(msPerFrame.toFixed(2)), perSessionCores: Number(this.#perSessionCores.toFixed(3)), sessions: this.sessions }, 'capacity from the render probe');
  }

  /** Sessions the machine serves in real time now (at least 1). */
  get sessions(): number {
    if (this.options.stated !== 'auto') return this.options.stated;
    const per = this.#perSessionCores ?? 0.5;
    return Math.max(1, Math.floor((this.cores * this.options.headroom - this.#otherCores) / per));
  }

  get figures() {
    return {
      sessions: this.sessions,
      stated: this.options.stated,
      cores: this.cores,
      headroom: this.options.headroom,
      perSessionCores: this.#perSessionCores === null ? null : Number(this.#perSessionCores.toFixed(3)),
      probeMsPerFrame: this.#probeMsPerFrame === null ? null : Number(this.#probeMsPerFrame.toFixed(2)),
      lateFramesPerS: Number(this.#lateRate.toFixed(2)),
      machineBusy: Number(this.#machineBusy.toFixed(2)),
      otherCores: Number(this.#otherCores.toFixed(2)),
    };
  }

  /** Reads the live figures every couple of seconds from `read`. */
  start(read: () => LoadReading): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.observe(read()), SAMPLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One live reading (the timer calls it; tests may too). */
  observe(now: LoadReading, at = performance.now(), machine: MachineTimes | null = machineTimes()): void {
    const prev = this.#readings[this.#readings.length - 1];
    this.#readings.push({ ...now, at, machine });
    while (this.#readings.length > 2 && this.#readings[0]!.at < at - WINDOW_MS) this.#readings.shift();
    if (!prev || at <= prev.at) return;
    // The measured cost takes over from the probe once sessions ran through a whole reading.
    if (now.sessions > 0 && now.sessions === prev.sessions) {
      const per = (now.cpuSeconds - prev.cpuSeconds) / ((at - prev.at) / 1000) / now.sessions;
      if (per > 0) this.#perSessionCores = this.#perSessionCores === null ? per : 0.8 * this.#perSessionCores + 0.2 * per;
    }
    const first = this.#readings[0]!;
    const seconds = (at - first.at) / 1000;
    this.#lateRate = now.sessions > 0 ? Math.max(0, now.lateFrames - first.lateFrames) / seconds : 0;
    if (machine && first.machine && machine.total > first.machine.total) {
      this.#machineBusy = (machine.busy - first.machine.busy) / (machine.total - first.machine.total);
      const ours = Math.max(0, now.cpuSeconds - first.cpuSeconds) / seconds;
      this.#otherCores = Math.max(0, this.#machineBusy * this.cores - ours);
    }
  }

  /** Whether one more session can be served now, given `running` sessions. */
  admit(running: number): Admission {
    const refuse = (message: string): Admission => ({ ok: false, reason: 'at-capacity', message, retryAfterS: RETRY_AFTER_S });
    const capacity = this.sessions;
    if (running >= capacity) {
      const others = this.#otherCores >= 0.1 ? ` (other work on the machine uses ${this.#otherCores.toFixed(1)} of its ${this.cores} cores)` : '';
      return refuse(`at capacity: this server serves ${capacity} sessions in real time${others} and runs ${running}`);
    }
    if (this.options.stated === 'auto' && running > 0 && this.#lateRate > LATE_FRAMES_PER_S) {
      return refuse(`at capacity: the running sessions are already late (${this.#lateRate.toFixed(1)} repeated frames/s)`);
    }
    return { ok: true };
  }
}
