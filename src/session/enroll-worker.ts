// Enrollers: where enrollPortrait runs. The server uses one worker thread, because detection and the motion
// basis block the thread for stretches of ~300 ms (measured), which would stall every live session's pacer; a
// crash or an out-of-memory in the worker fails the requests in flight and nothing else. The CLI enrolls
// in-process. This file is also the worker's entry: it serves requests when loaded in a worker made here.
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { moduleLogger } from '../log.ts';
import { startModuleWorker } from '../util/ts-worker.ts';
import { NICE, lowerThisThread } from '../util/proc.ts';
import { FaceIndexError, ImageDecodeError, MultipleFacesError, NoFaceError, enrollPortrait } from '../packs/default/index.ts';
import type { Box, EnrollStage, EnrolledAvatar } from '../packs/default/index.ts';

const log = moduleLogger('session/enroll-worker');

export type ProgressFn = (stage: EnrollStage, fraction: number) => void;

export interface EnrollRequest {
  /** Which face, numbered left to right (enrollPortrait's `face`). */
  readonly face?: number;
  readonly onProgress?: ProgressFn;
}

/** Enrolls portraits into one cache folder. Throws the default pack's named errors. */
export interface Enroller {
  enroll(image: Uint8Array, req?: EnrollRequest): Promise<EnrolledAvatar>;
  /** Idempotent; requests in flight fail with EnrollerClosedError. */
  close(): Promise<void>;
}

export class EnrollerClosedError extends Error {
  override readonly name = 'EnrollerClosedError';
  constructor() {
    super('the enrollment worker is closed (server shutting down)');
  }
}

/** The worker thread died (crash, out of memory) while enrolling. */
export class EnrollWorkerError extends Error {
  override readonly name = 'EnrollWorkerError';
}

export class InProcessEnroller implements Enroller {
  readonly #cacheDir: string;
  constructor(cacheDir: string) {
    this.#cacheDir = cacheDir;
  }
  enroll(image: Uint8Array, req: EnrollRequest = {}): Promise<EnrolledAvatar> {
    return enrollPortrait(image, { cacheDir: this.#cacheDir, face: req.face, onProgress: req.onProgress });
  }
  async close(): Promise<void> {}
}

// --- messages between the threads ------------------------------------------------------------------------
interface WireError {
  name: string;
  message: string;
  index?: number;
  boxes?: readonly Box[];
  scores?: readonly number[];
}
type ToWorker = { type: 'enroll'; id: number; image: Uint8Array; face?: number };
type FromWorker =
  | { type: 'progress'; id: number; stage: EnrollStage; fraction: number }
  | { type: 'done'; id: number; avatar: EnrolledAvatar }
  | { type: 'error'; id: number; error: WireError };

interface WorkerInit {
  facecastEnrollWorker: true;
  cacheDir: string;
}

function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const wire: WireError = { name: e.name, message: e.message };
  if (e instanceof MultipleFacesError || e instanceof FaceIndexError) {
    wire.boxes = e.boxes;
    wire.scores = e.scores;
  }
  if (e instanceof FaceIndexError) wire.index = e.index;
  return wire;
}

/** The same named error classes on this side, so callers branch on classes (house rule 4). */
function fromWire(w: WireError): Error {
  switch (w.name) {
    case 'ImageDecodeError':
      return new ImageDecodeError(w.message);
    case 'NoFaceError':
      return new NoFaceError(w.message);
    case 'MultipleFacesError':
      return new MultipleFacesError(w.boxes ?? [], w.scores ?? []);
    case 'FaceIndexError':
      return new FaceIndexError(w.index ?? 0, w.boxes ?? [], w.scores ?? []);
    case 'RangeError':
      return new RangeError(w.message);
    default:
      return new EnrollWorkerError(`enrollment failed in the worker: ${w.message}`);
  }
}

interface Pending {
  resolve(a: EnrolledAvatar): void;
  reject(e: Error): void;
  onProgress?: ProgressFn;
}

/** Starts the worker on first use, stops it after `idleMs` without requests. Requests run concurrently in it. */
export class WorkerEnroller implements Enroller {
  readonly #cacheDir: string;
  readonly #idleMs: number;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #nextId = 1;
  #closed = false;
  #exited: Promise<void> = Promise.resolve();

  constructor(cacheDir: string, opts: { idleMs?: number } = {}) {
    this.#cacheDir = cacheDir;
    this.#idleMs = opts.idleMs ?? 60_000;
  }

  enroll(image: Uint8Array, req: EnrollRequest = {}): Promise<EnrolledAvatar> {
    if (this.#closed) return Promise.reject(new EnrollerClosedError());
    const worker = this.#worker ?? this.#start();
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    const id = this.#nextId++;
    const copy = new Uint8Array(image); // our own buffer, moved to the worker
    return new Promise<EnrolledAvatar>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress: req.onProgress });
      worker.ref();
      const msg: ToWorker = { type: 'enroll', id, image: copy, face: req.face };
      worker.postMessage(msg, [copy.buffer]);
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#stop(new EnrollerClosedError());
    }
    return this.#exited;
  }

  #start(): Worker {
    const init: WorkerInit = { facecastEnrollWorker: true, cacheDir: this.#cacheDir };
    const worker = startModuleWorker(import.meta.url, { workerData: init, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromWorker) => this.#onMessage(m));
    worker.on('error', (err) => {
      log.error({ err }, 'enrollment worker failed');
      this.#failAll(new EnrollWorkerError(`enrollment worker failed: ${err.message}`));
    });
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = null;
      if (this.#pending.size > 0) this.#failAll(new EnrollWorkerError(`enrollment worker exited (code ${code})`));
    });
    log.debug({ threadId: worker.threadId }, 'enrollment worker started');
    return worker;
  }

  #onMessage(m: FromWorker): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      try {
        p.onProgress?.(m.stage, m.fraction);
      } catch (err) {
        log.warn({ err }, 'progress listener threw; ignored');
      }
      return;
    }
    this.#pending.delete(m.id);
    if (m.type === 'done') p.resolve(Object.freeze(m.avatar));
    else p.reject(fromWire(m.error));
    this.#idleCheck();
  }

  #failAll(err: Error): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) p.reject(err);
  }

  #idleCheck(): void {
    if (this.#pending.size > 0 || !this.#worker) return;
    this.#worker.unref();
    this.#idleTimer = setTimeout(() => this.#stop(null), this.#idleMs);
    this.#idleTimer.unref();
  }

  #stop(reason: Error | null): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    if (reason) this.#failAll(reason);
    const worker = this.#worker;
    this.#worker = null;
    if (worker) void worker.terminate().catch((err: unknown) => log.warn({ err }, 'enrollment worker did not terminate cleanly'));
  }
}

// --- the worker side ---------------------------------------------------------------------------------------
function serveInWorker(init: WorkerInit): void {
  const port = parentPort;
  if (!port) return;
  lowerThisThread(NICE.enrollment);
  port.on('message', (m: ToWorker) => {
    if (m.type !== 'enroll') return;
    const onProgress: ProgressFn = (stage, fraction) => port.postMessage({ type: 'progress', id: m.id, stage, fraction } satisfies FromWorker);
    enrollPortrait(m.image, { cacheDir: init.cacheDir, face: m.face, onProgress }).then(
      (avatar) => port.postMessage({ type: 'done', id: m.id, avatar } satisfies FromWorker),
      (err: unknown) => port.postMessage({ type: 'error', id: m.id, error: toWire(err) } satisfies FromWorker),
    );
  });
}

const init = workerData as Partial<WorkerInit> | null;
if (!isMainThread && init?.facecastEnrollWorker === true && typeof init.cacheDir === 'string') serveInWorker(init as WorkerInit);
