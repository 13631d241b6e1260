// Renders frames of one enrolled avatar: onnxruntime sessions over the avatar's render graph (graph.ts), which
// renders only the render box (the pixels the basis can change); the box is pasted into a copy of the reference.
// By default each session lives in a worker thread (render-thread.ts): its run() blocks whichever thread calls it.
// Sessions that share an avatar share its render threads: one to start with, more on demand (growTo, up to one per
// core), each render going to the thread with the fewest in flight, so that several streams of one avatar are never
// serialised into one thread that cannot keep up. A stream's own frames stay in order (it awaits each).
import { moduleLogger } from '../../log.ts';
import { COEFFICIENTS, COEFFICIENT_COUNT, COEFFICIENT_NAMES, normalizeCoefficients } from './coefficients.ts';
import { RendererClosedError } from './errors.ts';
import { buildAvatarRenderGraph, windowOffsets } from './graph.ts';
import { RenderCore, type CoreFrame, type RenderCoreInit } from './render-core.ts';
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
  render(input: Float32Array, offsets: BigInt64Array, rgb: boolean): Promise<CoreFrame>;
  close(): Promise<void>;
}

/** A backend and its renders in flight (the dispatcher's load measure). */
interface Lane {
  readonly backend: Backend;
  inFlight: number;
}

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
  /** What another render thread starts from (a copy of the graph: each thread takes its own). */
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
    this.#lanes = [{ backend, inFlight: 0 }];
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
    const model = buildAvatarRenderGraph(avatar);
    const modelBytes = model.byteLength;
    const t1 = performance.now();
    const init: RenderCoreInit = { model, width: avatar.width, height: avatar.height, renderBox: avatar.basis.renderBox, reference: avatar.reference, threads };
    let backend: Backend;
    let spare: RenderCoreInit | null = null;
    if (thread === 'worker') {
      spare = { ...init, model: new Uint8Array(model) } // a copy (the graph may be a Buffer, whose slice is a view);
      backend = await RenderThread.start(init);
    } else {
      const core = await RenderCore.create(init);
      backend = { restI420: core.restI420, cpuSeconds: null, render: (i, o, rgb) => core.render(i, o, rgb), close: () => core.release() };
    }
    log.debug(
      { avatar: avatar.id, threads, thread, modelBytes, renderBox: avatar.basis.renderBox, buildMs: Math.round(t1 - t0), sessionMs: Math.round(performance.now() - t1) },
      'renderer created',
    );
    return new DefaultRenderer(avatar, backend, thread, spare);
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
        const backend = await RenderThread.start({ ...init, model: new Uint8Array(init.model) });
        if (this.#closing) {
          await backend.close();
          return;
        }
        this.#lanes.push({ backend, inFlight: 0 });
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
  render(coeffs: Float32Array, opts: { rgb: false }): Promise<I420Frame>;
  render(coeffs: Float32Array, opts: { rgb: boolean }): Promise<RenderedFrame | I420Frame>;
  async render(coeffs: Float32Array, opts: { rgb: boolean } = { rgb: true }): Promise<RenderedFrame | I420Frame> {
    if (this.#closing) throw new RendererClosedError();
    const input = normalizeCoefficients(coeffs);
    if (COEFFICIENTS.every((c, i) => input[i] === c.neutral)) {
      return opts.rgb ? { rgb: this.#restRgb.slice(), i420: this.#restI420.slice() } : { i420: this.#restI420.slice() };
    }
    const lane = this.#lanes.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const run = lane.backend.render(input, windowOffsets(this.#basis, input), opts.rgb);
    this.#inFlight.add(run);
    lane.inFlight++;
    try {
      const out = await run;
      if (!opts.rgb) return { i420: out.i420 };
      if (!out.rgb) throw new Error('renderer returned no rgb frame');
      return { rgb: out.rgb, i420: out.i420 };
    } finally {
      lane.inFlight--;
      this.#inFlight.delete(run);
    }
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
