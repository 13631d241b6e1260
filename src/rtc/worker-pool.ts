// mediasoup workers, one per core by default; sessions are placed round-robin. A worker that dies (killed, crashed)
// is replaced by a new one on the same ports; 'replaced' tells the owner of the sessions that lived on it, which
// rebuild their rooms there.
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { moduleLogger } from '../log.ts';
import { metrics } from '../metrics/index.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import type { WorkerPoolOptions } from './types.ts';

const log = moduleLogger('rtc/worker-pool');

/** Tries to start a replacement this many times, this far apart, before the pool reports itself unhealthy for good. */
const RESPAWN_TRIES = 5;
const RESPAWN_RETRY_MS = 500;

type WorkerPoolEvents = {
  /** `dead` died and `fresh` took its place (its ports): sessions on `dead` must move. */
  replaced: [dead: ms.Worker, fresh: ms.Worker];
};

interface Slot {
  worker: ms.Worker;
  readonly settings: ms.WorkerSettings;
}

export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  readonly #slots: Slot[];
  #next = 0;
  #closed = false;
  #respawns = 0;

  private constructor(slots: Slot[]) {
    super();
    this.#slots = slots;
    for (const slot of slots) this.#watch(slot);
  }

  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const slots: Slot[] = [];
    const span = Math.floor((opts.rtcMaxPort - opts.rtcMinPort + 1) / opts.workers);
    for (let i = 0; i < opts.workers; i++) {
      const settings: ms.WorkerSettings = { logLevel: opts.logLevel, rtcMinPort: opts.rtcMinPort + i * span, rtcMaxPort: opts.rtcMinPort + (i + 1) * span - 1 };
      slots.push({ worker: await mediasoup.createWorker(settings), settings });
    }
    log.info({ workers: slots.map((s) => s.worker.pid), version: mediasoup.version }, 'mediasoup workers ready');
    return new WorkerPool(slots);
  }

  get pids(): number[] {
    return this.#slots.map((s) => s.worker.pid);
  }

  /** Every worker alive (false while a dead one is being replaced). */
  get healthy(): boolean {
    return !this.#closed && this.#slots.every((s) => !s.worker.closed && !s.worker.died);
  }

  /** Workers replaced since start. */
  get respawns(): number {
    return this.#respawns;
  }

  /** The next live worker, round-robin. */
  pick(): ms.Worker {
    if (this.#closed) throw new Error('worker pool is closed');
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[this.#next++ % this.#slots.length]!;
      if (!slot.worker.died && !slot.worker.closed) return slot.worker;
    }
    throw new Error('no mediasoup worker is alive (being replaced)');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#slots) s.worker.close();
  }

  #watch(slot: Slot): void {
    const worker = slot.worker;
    worker.on('died', (err) => {
      log.error({ err, pid: worker.pid }, 'mediasoup worker died: starting a replacement');
      metrics.faults.inc({ kind: 'mediasoup-worker-died' });
      void this.#replace(slot, worker);
    });
  }

  async #replace(slot: Slot, dead: ms.Worker): Promise<void> {
    for (let attempt = 1; attempt <= RESPAWN_TRIES && !this.#closed; attempt++) {
      try {
        const fresh = await mediasoup.createWorker(slot.settings);
        if (this.#closed) return void fresh.close();
        slot.worker = fresh;
        this.#respawns++;
        this.#watch(slot);
        metrics.faults.inc({ kind: 'mediasoup-worker-respawned' });
        log.info({ dead: dead.pid, pid: fresh.pid }, 'mediasoup worker replaced');
        this.emit('replaced', dead, fresh);
        return;
      } catch (err) {
        log.error({ err, attempt }, 'mediasoup worker replacement failed');
        await new Promise((r) => setTimeout(r, RESPAWN_RETRY_MS));
      }
    }
  }
}
