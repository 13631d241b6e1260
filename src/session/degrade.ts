// A session's degradation controller (DESIGN.md: "under unexpected load it degrades in a documented order"). Every
// second it reads the frames the pacer had to repeat: any in the last 2 s take the pack one step down its ladder
// (DegradeControl: idle detail, then the head layer at half rate); 10 s clean take it one step back up. Every step
// is counted (the session's figures, and facecast_degradation_steps_total). Deliberate, few and visible, never
// random repeats; it recovers when the load falls.
import type { DegradeControl } from '../cascade/types.ts';
import { metrics } from '../metrics/index.ts';
import { moduleLogger } from '../log.ts';

const log = moduleLogger('session/degrade');

/** How long without a late frame before stepping back up, ms. */
const RECOVER_AFTER_MS = 10_000;
/** The window of late frames that steps down, ms. */
const LATE_WINDOW_MS = 2_000;
const CHECK_MS = 1_000;

export interface DegradeFigures {
  level: number;
  /** The steps applied now, cheapest loss first. */
  applied: string[];
  stepsDown: number;
  stepsUp: number;
}

export class DegradeController {
  readonly #control: DegradeControl;
  readonly #lateFrames: () => number;
  readonly #session: string;
  /** (time, late frames so far) readings over the last window. */
  readonly #readings: { at: number; late: number }[] = [];
  #level = 0;
  #lastLateAt = -Infinity;
  #stepsDown = 0;
  #stepsUp = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(control: DegradeControl, lateFrames: () => number, session: string) {
    this.#control = control;
    this.#lateFrames = lateFrames;
    this.#session = session;
  }

  get figures(): DegradeFigures {
    return { level: this.#level, applied: this.#control.steps.slice(0, this.#level), stepsDown: this.#stepsDown, stepsUp: this.#stepsUp };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.check(), CHECK_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One check (the timer calls it; tests may too, with their own clock). */
  check(now = performance.now()): void {
    const late = this.#lateFrames();
    this.#readings.push({ at: now, late });
    while (this.#readings.length > 1 && this.#readings[0]!.at < now - LATE_WINDOW_MS) this.#readings.shift();
    const recent = late - this.#readings[0]!.late;
    if (recent > 0) {
      this.#lastLateAt = now;
      if (this.#level < this.#control.steps.length) {
        this.#set(this.#level + 1, 'down');
        // The new level gets a whole window to show its effect before the next step.
        this.#readings.length = 0;
        this.#readings.push({ at: now, late });
      }
    } else if (this.#level > 0 && now - this.#lastLateAt >= RECOVER_AFTER_MS) {
      this.#set(this.#level - 1, 'up');
      this.#lastLateAt = now; // another clean stretch before the next step up
    }
  }

  #set(level: number, direction: 'down' | 'up'): void {
    const step = this.#control.steps[direction === 'down' ? level - 1 : level]!;
    this.#level = level;
    this.#control.setLevel(level);
    if (direction === 'down') this.#stepsDown++;
    else this.#stepsUp++;
    metrics.degradations.inc({ step, direction });
    log.info({ session: this.#session, step, direction, level }, direction === 'down' ? 'degrading: frames were late' : 'recovering');
  }
}
