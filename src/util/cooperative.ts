// Background work on the main thread, in small units, a few ms per turn of the event loop. The main thread runs
// every session's pacer: a whole TTS turn arriving at once (on every session at the same moment) must not hold it
// for tens of ms. Each piece of such work (a slice of a turn's audio, a batch of the director's analysis) is one
// unit; units of all sessions share one FIFO queue, and one turn of the loop runs units only until its budget is
// spent, then lets the timers (the pacers' ticks) and the sockets run. A caller awaits each unit before queueing
// its next, so sessions take turns.
import { moduleLogger } from '../log.ts';

const log = moduleLogger('util/cooperative');

export class CooperativeQueue {
  readonly budgetMs: number;
  readonly #units: (() => void)[] = [];
  #scheduled = false;
  /** Units run, and loop turns that ran some (for the metrics and tests). */
  readonly stats = { units: 0, turns: 0, maxTurnMs: 0 };

  constructor(budgetMs = 3) {
    if (!(budgetMs > 0)) throw new RangeError(`budgetMs must be > 0, got ${budgetMs}`);
    this.budgetMs = budgetMs;
  }

  /** Units waiting. */
  get pending(): number {
    return this.#units.length;
  }

  /** Runs `unit` in its turn; resolves with its result (or rejects with its error). */
  run<T>(unit: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#units.push(() => {
        try {
          resolve(unit());
        } catch (err) {
          reject(err);
        }
      });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#turn);
  }

  readonly #turn = (): void => {
    this.#scheduled = false;
    const t0 = performance.now();
    let ran = 0;
    while (this.#units.length > 0 && (ran === 0 || performance.now() - t0 < this.budgetMs)) {
      this.#units.shift()!();
      ran++;
    }
    const ms = performance.now() - t0;
    this.stats.units += ran;
    this.stats.turns++;
    if (ms > this.stats.maxTurnMs) this.stats.maxTurnMs = ms;
    if (ms > 4 * this.budgetMs) log.debug({ ms, ran }, 'a background turn overran its budget');
    if (this.#units.length > 0) this.#schedule();
  };
}

/** The main thread's queue. */
export const background = new CooperativeQueue();
