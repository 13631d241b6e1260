// Renders frames of one enrolled avatar: one onnxruntime session over the avatar's render graph (graph.ts).
import ort from 'onnxruntime-node';
import { moduleLogger } from '../../log.ts';
import { COEFFICIENT_COUNT, COEFFICIENT_NAMES, normalizeCoefficients } from './coefficients.ts';
import { RendererClosedError } from './errors.ts';
import { RENDER_INPUT, RENDER_OUTPUT_I420, RENDER_OUTPUT_RGB, buildAvatarRenderGraph } from './graph.ts';
import type { EnrolledAvatar } from './types.ts';

const log = moduleLogger('packs/default/renderer');

export interface DefaultRendererOptions {
  /** onnxruntime intra-op threads for this avatar's session; default 1 (one core per stream). */
  readonly intraOpThreads?: number;
}

export interface RenderedFrame {
  /** RGB interleaved, width*height*3 bytes. */
  readonly rgb: Uint8Array;
  /** I420: width*height luma bytes, then the U and V planes at half resolution. */
  readonly i420: Uint8Array;
}

export class DefaultRenderer {
  readonly avatarId: string;
  readonly width: number;
  readonly height: number;
  readonly coefficientNames: readonly string[];
  readonly #session: ort.InferenceSession;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  private constructor(avatar: EnrolledAvatar, session: ort.InferenceSession) {
    this.avatarId = avatar.id;
    this.width = avatar.width;
    this.height = avatar.height;
    this.coefficientNames = avatar.basis.coefficientNames;
    this.#session = session;
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
    const t0 = performance.now();
    const model = buildAvatarRenderGraph(avatar);
    const t1 = performance.now();
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    log.debug(
      { avatar: avatar.id, threads, modelBytes: model.byteLength, buildMs: Math.round(t1 - t0), sessionMs: Math.round(performance.now() - t1) },
      'renderer created',
    );
    return new DefaultRenderer(avatar, session);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Renders one frame. `coeffs` is indexed by COEFFICIENT_NAMES; values are clamped into range (a copy). */
  async render(coeffs: Float32Array): Promise<RenderedFrame> {
    if (this.#closing) throw new RendererClosedError();
    const input = normalizeCoefficients(coeffs);
    const run = this.#session.run({ [RENDER_INPUT]: new ort.Tensor('float32', input, [1, input.length]) });
    this.#inFlight.add(run);
    try {
      const out = await run;
      const rgb = out[RENDER_OUTPUT_RGB];
      const i420 = out[RENDER_OUTPUT_I420];
      if (!rgb || !i420 || !(rgb.data instanceof Uint8Array) || !(i420.data instanceof Uint8Array)) {
        throw new Error('render graph returned unexpected outputs');
      }
      return { rgb: rgb.data, i420: i420.data };
    } finally {
      this.#inFlight.delete(run);
    }
  }

  /** Waits for renders in flight, then releases the session. Idempotent. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = (async () => {
        await Promise.allSettled([...this.#inFlight]);
        await this.#session.release();
        log.debug({ avatar: this.avatarId }, 'renderer closed');
      })();
    }
    return this.#closing;
  }
}
