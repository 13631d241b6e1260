// mediasoup workers, one per core by default; sessions are placed round-robin.
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { moduleLogger } from '../log.ts';
import type { WorkerPoolOptions } from './types.ts';

const log = moduleLogger('rtc/worker-pool');

export class WorkerPool {
  readonly #workers: ms.Worker[];
  #next = 0;
  #closed = false;

  private constructor(workers: ms.Worker[]) {
    this.#workers = workers;
  }

  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const workers: ms.Worker[] = [];
    const span = Math.floor((opts.rtcMaxPort - opts.rtcMinPort + 1) / opts.workers);
    for (let i = 0; i < opts.workers; i++) {
      const worker = await mediasoup.createWorker({
        logLevel: opts.logLevel,
        rtcMinPort: opts.rtcMinPort + i * span,
        rtcMaxPort: opts.rtcMinPort + (i + 1) * span - 1,
      });
      worker.on('died', (err) => log.error({ err, pid: worker.pid }, 'mediasoup worker died'));
      workers.push(worker);
    }
    log.info({ workers: workers.map((w) => w.pid), version: mediasoup.version }, 'mediasoup workers ready');
    return new WorkerPool(workers);
  }

  get pids(): number[] {
    return this.#workers.map((w) => w.pid);
  }

  get healthy(): boolean {
    return !this.#closed && this.#workers.every((w) => !w.closed && !w.died);
  }

  pick(): ms.Worker {
    if (this.#closed) throw new Error('worker pool is closed');
    const worker = this.#workers[this.#next % this.#workers.length];
    this.#next++;
    return worker;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.close();
  }
}
