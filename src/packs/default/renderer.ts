// Renders frames of one enrolled avatar: onnxruntime sessions over the avatar's render graph (graph.ts), which
// renders only the render box (the pixels the basis can change); the box is pasted into a copy of the reference.
// By default each session lives in a worker thread (render-thread.ts): its run() blocks whichever thread calls it.
// Sessions that share an avatar share its render threads: one to start with, more on demand (growTo, up to one per
// core), each render going to the thread with the fewest in flight, so that several streams of one avatar are never
// serialised into one thread that cannot keep up. A stream's own frames stay in order (it awaits each).
import { moduleLogger } from '../../log.ts';
import { COEFFICIENTS, COEFFICIENT_COUNT, COEFFICIENT_NAMES, normalizeCoefficients } from './coefficients.ts';
import { RendererClosedError } from './errors.ts';
import { windowOffsets } from './graph.ts';
import { RenderCore, type CoreFrame, type CoreRequest, type RenderCoreInit } from './render-core.ts';
import { RenderThread } from './render-thread.ts';
import type { Box, EnrolledAvatar, MotionBasis } from './types.ts';

const log = moduleLogger('packs/default/renderer');

export interface DefaultRendererOptions {
  /** onnxruntime intra-op threads for this avatar's session; default 1 (one core per stream). */
  readonly intraOpThreads?: number;
  /**
   * Where onnxruntime runs: 'worker' (default) in a worker thread of its own, so a render never blocks the
   * caller's event loop; 'main' on the caller's thread (one-shot tools, and timing the graph alone).
   */
  readonly thread?: 'worker' | 'main';
}

export interface RenderedFrame {
  /** RGB interleaved, width*height*3 bytes. */
  readonly rgb: Uint8Array;
  /** I420: width*height luma bytes, then the U and V planes at half resolution. */
  readonly i420: Uint8Array;
}

/** A frame rendered without its RGB copy (what a live session encodes). */
export interface I420Frame {
  readonly i420: Uint8Array;
}

interface Backend {
  readonly restI420: Uint8Array;
  readonly cpuSeconds: number | null;
  render(req: CoreRequest): Promise<CoreFrame>;
  forget(stream: number): void;
  close(): Promise<void>;
}

/** A backend, its renders in flight (the dispatcher's load measure) and the streams it keeps a base for. */
interface Lane {
  readonly backend: Backend;
  inFlight: number;
  streams: number;
}

/** Options of one render. */
export interface RenderOptions {
  /** Also the RGB frame (offline measurement); live sessions encode I420 only. Default true. */
  readonly rgb?: boolean;
  /** The stream (a session's fill: newStream()) the frame belongs to: its frames go to one render thread. */
  readonly stream?: number;
  /**
   * Only the feature windows (eyes, mouth) over the stream's last whole frame: the head and torso layers keep their
   * last pose (the head layer at half rate; ~1/3 of a whole frame's cost). Needs `stream`.
   */
  readonly windowsOnly?: boolean;
  /** The head and torso layers at half resolution (the feature windows still full): ~0.8 of a whole frame's cost. */
  readonly halfRes?: boolean;
}

let nextStream = 1;

export class DefaultRenderer {
  readonly avatarId: string;
  readonly width: number;
  readonly height: number;
  readonly coefficientNames: readonly string[];
  /** The part of the frame a render can change; the rest is always the reference. */
  readonly renderBox: Box;
  readonly thread: 'worker' | 'main';
  readonly #basis: MotionBasis;
  readonly #lanes: Lane[];
  /** Each stream's render thread (its base lives there). */
  readonly #streamLane = new Map<number, Lane>();
  /** What another render thread starts from (it builds its own graphs); null for 'main'. */
  readonly #init: RenderCoreInit | null;
  #growing: Promise<void> | null = null;
  /** The reference as the renderer outputs it (rgb, and i420 by the render graph's own conversion). */
  readonly #restRgb: Uint8Array;
  readonly #restI420: Uint8Array;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  private constructor(avatar: EnrolledAvatar, backend: Backend, thread: 'worker' | 'main', init: RenderCoreInit | null) {
    this.avatarId = avatar.id;
    this.width = avatar.width;
    this.height = avatar.height;
    this.coefficientNames = avatar.basis.coefficientNames;
    this.renderBox = avatar.basis.renderBox;
    this.thread = thread;
    this.#basis = avatar.basis;
    this.#lanes = [{ backend, inFlight: 0, streams: 0 }];
    this.#init = init;
    this.#restRgb = avatar.reference;
    this.#restI420 = backend.restI420;
  }

  static async create(avatar: EnrolledAvatar, opts: DefaultRendererOptions = {}): Promise<DefaultRenderer> {
    const threads = opts.intraOpThreads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new RangeError(`intraOpThreads must be an integer in [1, 64], got ${String(opts.intraOpThreads)}`);
    }
    const names = avatar.basis.coefficientNames;
    if (names.length !== COEFFICIENT_COUNT || names.some((n, i) => n !== COEFFICIENT_NAMES[i])) {
      throw new RangeError(`avatar ${avatar.id} was enrolled with coefficients [${names.join(', ')}]; re-enroll it for [${COEFFICIENT_NAMES.join(', ')}]`);
    }
    const thread = opts.thread ?? 'worker';
    if (thread !== 'worker' && thread !== 'main') throw new RangeError(`thread must be 'worker' or 'main', got ${String(opts.thread)}`);
    const t0 = performance.now();
    const init: RenderCoreInit = { avatar, threads };
    let backend: Backend;
    if (thread === 'worker') {
      backend = await RenderThread.start(init);
    } else {
      const core = await RenderCore.create(init);
      backend = { restI420: core.restI420, cpuSeconds: null, render: (req) => core.render(req), forget: (s) => core.forget(s), close: () => core.release() };
    }
    log.debug({ avatar: avatar.id, threads, thread, renderBox: avatar.basis.renderBox, startMs: Math.round(performance.now() - t0) }, 'renderer created');
    return new DefaultRenderer(avatar, backend, thread, thread === 'worker' ? init : null);
  }

  /** CPU seconds the render threads have used, as of their last frames: null on the caller's thread ('main'). */
  get cpuSeconds(): number | null {
    const each = this.#lanes.map((l) => l.backend.cpuSeconds);
    return each.some((c) => c === null) ? null : each.reduce((a: number, b) => a + b!, 0);
  }

  /** Render threads running. */
  get threads(): number {
    return this.#lanes.length;
  }

  /**
   * Grows to `n` render threads (never shrinks; 'main' renderers stay at one). Threads start one at a time in the
   * background of the caller's renders; each costs a copy of the graph and an onnxruntime session.
   */
  growTo(n: number): Promise<void> {
    const init = this.#init;
    if (!init || this.#closing || n <= this.#lanes.length) return this.#growing ?? Promise.resolve();
    const previous = this.#growing ?? Promise.resolve();
    const growing = previous.then(async () => {
      while (this.#lanes.length < n && !this.#closing) {
        const backend = await RenderThread.start(init);
        if (this.#closing) {
          await backend.close();
          return;
        }
        this.#lanes.push({ backend, inFlight: 0, streams: 0 });
        log.debug({ avatar: this.avatarId, threads: this.#lanes.length }, 'render thread added');
      }
    });
    this.#growing = growing.finally(() => {
      if (this.#growing === growing) this.#growing = null;
    });
    return growing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Renders one frame into new buffers (callers may keep them). `coeffs` is indexed by COEFFICIENT_NAMES; values are
   * clamped into range (a copy). With `{ rgb: false }` only the I420 frame is made (cheaper).
   */
  render(coeffs: Float32Array): Promise<RenderedFrame>;
  render(coeffs: Float32Array, opts: RenderOptions & { rgb: false }): Promise<I420Frame>;
  render(coeffs: Float32Array, opts: RenderOptions & { rgb: true }): Promise<RenderedFrame>;
  render(coeffs: Float32Array, opts: RenderOptions): Promise<RenderedFrame | I420Frame>;
  async render(coeffs: Float32Array, opts: RenderOptions = {}): Promise<RenderedFrame | I420Frame> {
    if (this.#closing) throw new RendererClosedError();
    const rgb = opts.rgb ?? true;
    const input = normalizeCoefficients(coeffs);
    if (COEFFICIENTS.every((c, i) => input[i] === c.neutral)) {
      return rgb ? { rgb: this.#restRgb.slice(), i420: this.#restI420.slice() } : { i420: this.#restI420.slice() };
    }
    const lane = this.#laneFor(opts.stream);
    const run = lane.backend.render({ input, offsets: windowOffsets(this.#basis, input), rgb, stream: opts.stream, windowsOnly: opts.windowsOnly === true && opts.stream !== undefined, halfRes: opts.halfRes === true });
    this.#inFlight.add(run);
    lane.inFlight++;
    try {
      const out = await run;
      if (!rgb) return { i420: out.i420 };
      if (!out.rgb) throw new Error('renderer returned no rgb frame');
      return { rgb: out.rgb, i420: out.i420 };
    } finally {
      lane.inFlight--;
      this.#inFlight.delete(run);
    }
  }

  /** A new stream id (a session's fill): its frames stay on one render thread, which keeps its base. */
  newStream(): number {
    return nextStream++;
  }

  /** The stream ended: its render thread drops its base. */
  endStream(stream: number): void {
    const lane = this.#streamLane.get(stream);
    if (!lane) return;
    this.#streamLane.delete(stream);
    lane.streams--;
    lane.backend.forget(stream);
  }

  /** A stream's lane (the least used one on its first frame); other renders go to the least busy lane. */
  #laneFor(stream: number | undefined): Lane {
    if (stream === undefined) return this.#lanes.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    let lane = this.#streamLane.get(stream);
    // A stream placed while there were fewer threads moves to a new one that has none yet (its base is re-made).
    const idle = this.#lanes.find((l) => l.streams === 0);
    if (lane && idle && lane.streams > 1) {
      this.endStream(stream);
      lane = undefined;
    }
    if (!lane) {
      lane = this.#lanes.reduce((a, b) => (b.streams < a.streams || (b.streams === a.streams && b.inFlight < a.inFlight) ? b : a));
      lane.streams++;
      this.#streamLane.set(stream, lane);
    }
    return lane;
  }

  /** Waits for renders in flight, then releases the session. Idempotent. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = (async () => {
        await Promise.allSettled([...this.#inFlight]);
        await this.#growing?.catch(() => undefined);
        await Promise.all(this.#lanes.map((l) => l.backend.close()));
        log.debug({ avatar: this.avatarId }, 'renderer closed');
      })();
    }
    return this.#closing;
  }
}
