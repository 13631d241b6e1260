// A RenderCore in its own worker thread, so that onnxruntime's blocking run() never stalls the main thread's
// pacer, media and sockets. Frames come back as transferred buffers (no copy). This file is also the worker's
// entry: loaded in a worker made here, it serves render requests one at a time.
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { moduleLogger } from '../../log.ts';
import { startModuleWorker } from '../../util/ts-worker.ts';
import { NICE, lowerThisThread, threadCpuSeconds } from '../../util/proc.ts';
import { RenderCore, type CoreFrame, type CoreRequest, type RenderCoreInit } from './render-core.ts';

const log = moduleLogger('packs/default/render-thread');

/** The render worker failed or exited; the renderer cannot render any more. */
export class RenderThreadError extends Error {
  override readonly name = 'RenderThreadError';
}

type ToThread =
  | ({ type: 'init' } & RenderCoreInit)
  | ({ type: 'render'; id: number } & CoreRequest)
  | { type: 'forget'; stream: number }
  | { type: 'close' };
type FromThread =
  | { type: 'ready'; restI420: Uint8Array }
  | { type: 'frame'; id: number; i420: Uint8Array; rgb?: Uint8Array; cpuS: number | null }
  | { type: 'error'; id: number; message: string };

interface Pending {
  resolve(f: CoreFrame): void;
  reject(e: Error): void;
}

const MARKER = 'facecastRenderThread';
/** How long close() waits for the worker to release its session before terminating it. */
const CLOSE_GRACE_MS = 2_000;

export class RenderThread {
  readonly restI420: Uint8Array;
  readonly #worker: Worker;
  readonly #pending: Map<number, Pending>;
  #nextId = 1;
  #failure: RenderThreadError | null = null;
  /** The worker thread's own CPU time as of its last frame (null where /proc cannot tell). */
  cpuSeconds: number | null = null;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker, restI420: Uint8Array, pending: Map<number, Pending>) {
    this.#worker = worker;
    this.restI420 = restI420;
    this.#pending = pending;
  }

  /** Starts the worker, which builds the render graphs and their sessions there (from a copy of `init.avatar`). */
  static async start(init: RenderCoreInit): Promise<RenderThread> {
    const worker = startModuleWorker(import.meta.url, { workerData: { [MARKER]: true } });
    const pending = new Map<number, Pending>();
    let thread: RenderThread | null = null;
    const fail = (err: RenderThreadError): void => {
      if (thread && !thread.#failure) thread.#failure = err;
      const all = [...pending.values()];
      pending.clear();
      for (const p of all) p.reject(err);
    };
    const restI420 = await new Promise<Uint8Array>((resolve, reject) => {
      worker.on('message', (m: FromThread) => {
        if (m.type === 'ready') return resolve(m.restI420);
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.type === 'frame') {
          if (thread) thread.cpuSeconds = m.cpuS;
          p.resolve(m.rgb ? { i420: m.i420, rgb: m.rgb } : { i420: m.i420 });
        } else if (m.id === 0) reject(new RenderThreadError(`render worker could not start: ${m.message}`));
        else p.reject(new Error(m.message));
      });
      worker.on('error', (err) => {
        log.error({ err }, 'render worker failed');
        const e = new RenderThreadError(`render worker failed: ${err.message}`);
        reject(e);
        fail(e);
      });
      worker.on('exit', (code) => {
        const e = new RenderThreadError(`render worker exited (code ${code})`);
        reject(e);
        fail(e);
      });
      // Init failures come back as an error for id 0.
      pending.set(0, { resolve: () => undefined, reject });
      const msg: ToThread = { type: 'init', ...init };
      worker.postMessage(msg);
    });
    pending.delete(0);
    thread = new RenderThread(worker, restI420, pending);
    return thread;
  }

  /** `req.input` and `req.offsets` are moved to the worker (detached here). */
  render(req: CoreRequest): Promise<CoreFrame> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<CoreFrame>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const msg: ToThread = { type: 'render', id, ...req };
      this.#worker.postMessage(msg, [req.input.buffer as ArrayBuffer, req.offsets.buffer as ArrayBuffer]);
    });
  }

  /** A stream ended: the worker drops what it kept for it. */
  forget(stream: number): void {
    if (!this.#failure) this.#worker.postMessage({ type: 'forget', stream } satisfies ToThread);
  }

  /** Lets renders in flight finish, releases the session in the worker and ends it. Idempotent. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = (async () => {
        const exited = new Promise<void>((resolve) => {
          if (this.#failure) return resolve();
          this.#worker.once('exit', () => resolve());
        });
        if (!this.#failure) this.#worker.postMessage({ type: 'close' } satisfies ToThread);
        const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_GRACE_MS);
        await exited;
        clearTimeout(timer);
      })();
    }
    return this.#closing;
  }
}

// --- the worker side ---------------------------------------------------------------------------------------

function serveInWorker(): void {
  const port = parentPort;
  if (!port) return;
  lowerThisThread(NICE.render);
  let core: RenderCore | null = null;
  // Messages are handled in order: a render waits for init, close waits for the renders before it.
  let queue: Promise<unknown> = Promise.resolve();
  const send = (m: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  port.on('message', (m: ToThread) => {
    queue = queue.then(async () => {
      if (m.type === 'init') {
        try {
          core = await RenderCore.create(m);
          send({ type: 'ready', restI420: core.restI420.slice() });
        } catch (err) {
          send({ type: 'error', id: 0, message: err instanceof Error ? err.message : String(err) });
        }
      } else if (m.type === 'render') {
        try {
          if (!core) throw new Error('render worker has no session');
          const f = await core.render(m);
          send({ type: 'frame', id: m.id, ...f, cpuS: threadCpuSeconds() }, f.rgb ? [f.i420.buffer as ArrayBuffer, f.rgb.buffer as ArrayBuffer] : [f.i420.buffer as ArrayBuffer]);
        } catch (err) {
          send({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) });
        }
      } else if (m.type === 'forget') {
        core?.forget(m.stream);
      } else {
        await core?.release();
        port.close();
      }
    });
  });
}

const data = workerData as Record<string, unknown> | null;
if (!isMainThread && data?.[MARKER] === true) serveInWorker();
