// onnxruntime sessions over an avatar's render graphs (graph.ts: the whole render box, and the feature windows over
// a kept base), and the paste of the render box into the reference. The graphs are built here, on the thread that
// runs them: building one takes ~0.25 s of CPU, which on the main thread would stall every session's pacer.
// onnxruntime-node's run() blocks the thread that calls it (7-12 ms a frame), so live sessions keep this in a
// worker thread (render-thread.ts); offline renders and benchmarks may hold it on their own thread.
import ort from 'onnxruntime-node';
import {
  RENDER_BASE_COMPOSITE,
  RENDER_BASE_UNDER,
  RENDER_INPUT,
  RENDER_INPUT_OFFSETS,
  RENDER_OUTPUT_I420,
  RENDER_OUTPUT_RGB,
  buildAvatarRenderGraph,
  buildConvertGraph,
} from './graph.ts';
import type { Box, EnrolledAvatar } from './types.ts';

export interface RenderCoreInit {
  /** The avatar: the core builds its render graphs from it (on its own thread, not the caller's). */
  readonly avatar: EnrolledAvatar;
  /** onnxruntime intra-op threads. */
  readonly threads: number;
}

/** A rendered frame; `rgb` only when it was asked for (live sessions encode I420 only). */
export interface CoreFrame {
  readonly i420: Uint8Array;
  readonly rgb?: Uint8Array;
}

/** One frame to render. */
export interface CoreRequest {
  /** Normalized coefficients. */
  readonly input: Float32Array;
  /** The feature windows' offsets (graph.ts windowOffsets). */
  readonly offsets: BigInt64Array;
  readonly rgb: boolean;
  /**
   * The stream the frame belongs to (a session's fill), and whether only its feature windows are rendered, over
   * the base of that stream's last whole frame (the head layer at half rate). A stream without a base gets a
   * whole frame.
   */
  readonly stream?: number;
  readonly windowsOnly?: boolean;
  /** A whole frame with the head and torso layers at half resolution (graph.ts 'half'): the resolution step. */
  readonly halfRes?: boolean;
}

const SESSION_OPTIONS = { interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;
/** Streams whose base is kept (2 x 3 floats a render-box pixel each, ~3 MB at 346x374); the oldest go first. */
const MAX_STREAM_BASES = 32;

interface Base {
  readonly under: ort.Tensor;
  readonly composite: ort.Tensor;
}

export class RenderCore {
  readonly #width: number;
  readonly #height: number;
  readonly #renderBox: Box;
  readonly #reference: Uint8Array;
  readonly #session: ort.InferenceSession;
  readonly #windows: ort.InferenceSession;
  readonly #half: ort.InferenceSession;
  /** Per stream, the base of its last whole frame (insertion order = age). */
  readonly #bases = new Map<number, Base>();
  /** The reference as the render graph outputs it (I420 by the graph's own conversion, so the box matches). */
  readonly restI420: Uint8Array;

  private constructor(avatar: EnrolledAvatar, session: ort.InferenceSession, windows: ort.InferenceSession, half: ort.InferenceSession, restI420: Uint8Array) {
    this.#width = avatar.width;
    this.#height = avatar.height;
    this.#renderBox = avatar.basis.renderBox;
    this.#reference = avatar.reference;
    this.#session = session;
    this.#windows = windows;
    this.#half = half;
    this.restI420 = restI420;
  }

  static async create(init: RenderCoreInit): Promise<RenderCore> {
    const { avatar } = init;
    const options = { ...SESSION_OPTIONS, intraOpNumThreads: init.threads };
    const session = await ort.InferenceSession.create(buildAvatarRenderGraph(avatar, 'full'), options);
    const windows = await ort.InferenceSession.create(buildAvatarRenderGraph(avatar, 'windows'), options);
    // Built now, not when the degradation ladder first reaches it: that is when this thread has the least to spare.
    const half = await ort.InferenceSession.create(buildAvatarRenderGraph(avatar, 'half'), options);
    return new RenderCore(avatar, session, windows, half, await convertReference(avatar.width, avatar.height, avatar.reference));
  }

  async render(req: CoreRequest): Promise<CoreFrame> {
    const { input, offsets, rgb, stream } = req;
    const feeds: Record<string, ort.Tensor> = {
      [RENDER_INPUT]: new ort.Tensor('float32', input, [1, input.length]),
      [RENDER_INPUT_OFFSETS]: new ort.Tensor('int64', offsets, [4]),
    };
    const base = stream === undefined ? undefined : this.#bases.get(stream);
    const images = rgb ? [RENDER_OUTPUT_RGB, RENDER_OUTPUT_I420] : [RENDER_OUTPUT_I420];
    let out: ort.InferenceSession.ReturnType;
    const whole = req.halfRes ? this.#half : this.#session;
    if (req.windowsOnly && base) {
      out = await this.#windows.run({ ...feeds, [RENDER_BASE_UNDER]: base.under, [RENDER_BASE_COMPOSITE]: base.composite }, images);
    } else if (stream !== undefined) {
      // Fetching only what is used lets onnxruntime skip the rest (the RGB branch).
      out = await whole.run(feeds, [...images, RENDER_BASE_UNDER, RENDER_BASE_COMPOSITE]);
      this.#bases.delete(stream);
      this.#bases.set(stream, { under: out[RENDER_BASE_UNDER]!, composite: out[RENDER_BASE_COMPOSITE]! });
      if (this.#bases.size > MAX_STREAM_BASES) this.#bases.delete(this.#bases.keys().next().value!);
    } else {
      out = await whole.run(feeds, images);
    }
    const i420 = out[RENDER_OUTPUT_I420]?.data;
    if (!(i420 instanceof Uint8Array)) throw new Error('render graph returned no i420 output');
    if (!rgb) return { i420: this.#pasteI420(i420) };
    const rgbBox = out[RENDER_OUTPUT_RGB]?.data;
    if (!(rgbBox instanceof Uint8Array)) throw new Error('render graph returned no rgb output');
    return { i420: this.#pasteI420(i420), rgb: this.#pasteRgb(rgbBox) };
  }

  /** A stream ended: its base is dropped. */
  forget(stream: number): void {
    this.#bases.delete(stream);
  }

  async release(): Promise<void> {
    this.#bases.clear();
    await this.#session.release();
    await this.#windows.release();
    await this.#half.release();
  }

  #pasteRgb(box: Uint8Array): Uint8Array {
    const reference = this.#reference;
    const W = this.#width;
    const out = new Uint8Array(reference.length);
    out.set(reference);
    const { x, y, width: w, height: h } = this.#renderBox;
    for (let r = 0; r < h; r++) out.set(box.subarray(r * w * 3, (r + 1) * w * 3), ((y + r) * W + x) * 3);
    return out;
  }

  #pasteI420(box: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.restI420.length);
    out.set(this.restI420);
    const { x, y, width: w, height: h } = this.#renderBox;
    const W = this.#width;
    const H = this.#height;
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
async function convertReference(W: number, H: number, reference: Uint8Array): Promise<Uint8Array> {
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
