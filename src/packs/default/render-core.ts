// One onnxruntime session over an avatar's render graph (graph.ts), and the paste of its render box into the
// reference. onnxruntime-node's run() blocks the thread that calls it (7-12 ms a frame), so live sessions keep this
// in a worker thread (render-thread.ts); offline renders and benchmarks may hold it on their own thread.
import ort from 'onnxruntime-node';
import { RENDER_INPUT, RENDER_INPUT_OFFSETS, RENDER_OUTPUT_I420, RENDER_OUTPUT_RGB, buildConvertGraph } from './graph.ts';
import type { Box } from './types.ts';

export interface RenderCoreInit {
  /** Serialised render graph (buildAvatarRenderGraph). */
  readonly model: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly renderBox: Box;
  /** Reference portrait, RGB interleaved [H, W, 3]. */
  readonly reference: Uint8Array;
  /** onnxruntime intra-op threads. */
  readonly threads: number;
}

/** A rendered frame; `rgb` only when it was asked for (live sessions encode I420 only). */
export interface CoreFrame {
  readonly i420: Uint8Array;
  readonly rgb?: Uint8Array;
}

const SESSION_OPTIONS = { interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;

export class RenderCore {
  readonly #init: RenderCoreInit;
  readonly #session: ort.InferenceSession;
  /** The reference as the render graph outputs it (I420 by the graph's own conversion, so the box matches). */
  readonly restI420: Uint8Array;

  private constructor(init: RenderCoreInit, session: ort.InferenceSession, restI420: Uint8Array) {
    this.#init = init;
    this.#session = session;
    this.restI420 = restI420;
  }

  static async create(init: RenderCoreInit): Promise<RenderCore> {
    const session = await ort.InferenceSession.create(init.model, { ...SESSION_OPTIONS, intraOpNumThreads: init.threads });
    return new RenderCore(init, session, await convertReference(init));
  }

  /** `input`: normalized coefficients; `offsets`: the feature windows' offsets (graph.ts windowOffsets). */
  async render(input: Float32Array, offsets: BigInt64Array, rgb: boolean): Promise<CoreFrame> {
    const feeds = {
      [RENDER_INPUT]: new ort.Tensor('float32', input, [1, input.length]),
      [RENDER_INPUT_OFFSETS]: new ort.Tensor('int64', offsets, [4]),
    };
    // Fetching only i420 lets onnxruntime skip the RGB branch of the graph.
    const out = await this.#session.run(feeds, rgb ? [RENDER_OUTPUT_RGB, RENDER_OUTPUT_I420] : [RENDER_OUTPUT_I420]);
    const i420 = out[RENDER_OUTPUT_I420]?.data;
    if (!(i420 instanceof Uint8Array)) throw new Error('render graph returned no i420 output');
    if (!rgb) return { i420: this.#pasteI420(i420) };
    const rgbBox = out[RENDER_OUTPUT_RGB]?.data;
    if (!(rgbBox instanceof Uint8Array)) throw new Error('render graph returned no rgb output');
    return { i420: this.#pasteI420(i420), rgb: this.#pasteRgb(rgbBox) };
  }

  release(): Promise<void> {
    return this.#session.release();
  }

  #pasteRgb(box: Uint8Array): Uint8Array {
    const { reference, width: W } = this.#init;
    const out = new Uint8Array(reference.length);
    out.set(reference);
    const { x, y, width: w, height: h } = this.#init.renderBox;
    for (let r = 0; r < h; r++) out.set(box.subarray(r * w * 3, (r + 1) * w * 3), ((y + r) * W + x) * 3);
    return out;
  }

  #pasteI420(box: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.restI420.length);
    out.set(this.restI420);
    const { x, y, width: w, height: h } = this.#init.renderBox;
    const { width: W, height: H } = this.#init;
    for (let r = 0; r < h; r++) out.set(box.subarray(r * w, (r + 1) * w), (y + r) * W + x);
    const cw = w / 2;
    const ch = h / 2;
    const lumaPlane = W * H;
    const chromaPlane = lumaPlane / 4;
    for (let plane = 0; plane < 2; plane++) {
      const src = w * h + plane * cw * ch;
      const dst = lumaPlane + plane * chromaPlane;
      for (let r = 0; r < ch; r++) out.set(box.subarray(src + r * cw, src + (r + 1) * cw), dst + (y / 2 + r) * (W / 2) + x / 2);
    }
    return out;
  }
}

/** The reference's I420, by the same conversion the render graph uses. */
async function convertReference(init: RenderCoreInit): Promise<Uint8Array> {
  const { width: W, height: H, reference } = init;
  const planar = new Float32Array(3 * W * H);
  for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) planar[c * W * H + i] = reference[3 * i + c]!;
  const session = await ort.InferenceSession.create(buildConvertGraph(W, H), { ...SESSION_OPTIONS, intraOpNumThreads: 1 });
  try {
    const out = await session.run({ image: new ort.Tensor('float32', planar, [1, 3, H, W]) });
    const i420 = out[RENDER_OUTPUT_I420]?.data;
    if (!(i420 instanceof Uint8Array)) throw new Error('conversion graph returned unexpected outputs');
    return i420;
  } finally {
    await session.release();
  }
}
