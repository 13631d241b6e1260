// Renders frames of one enrolled avatar: one onnxruntime session over the avatar's render graph (graph.ts), which
// renders only the render box (the pixels the basis can change); the box is pasted into a copy of the reference.
import ort from 'onnxruntime-node';
import { moduleLogger } from '../../log.ts';
import { COEFFICIENTS, COEFFICIENT_COUNT, COEFFICIENT_NAMES, normalizeCoefficients } from './coefficients.ts';
import { RendererClosedError } from './errors.ts';
import { RENDER_INPUT, RENDER_INPUT_OFFSETS, RENDER_OUTPUT_I420, RENDER_OUTPUT_RGB, buildAvatarRenderGraph, buildConvertGraph, windowOffsets } from './graph.ts';
import type { Box, EnrolledAvatar, MotionBasis } from './types.ts';

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

const SESSION_OPTIONS = { interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;

export class DefaultRenderer {
  readonly avatarId: string;
  readonly width: number;
  readonly height: number;
  readonly coefficientNames: readonly string[];
  /** The part of the frame a render can change; the rest is always the reference. */
  readonly renderBox: Box;
  readonly #basis: MotionBasis;
  readonly #session: ort.InferenceSession;
  /** The reference as the renderer outputs it (rgb, and i420 by the render graph's own conversion). */
  readonly #restRgb: Uint8Array;
  readonly #restI420: Uint8Array;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  private constructor(avatar: EnrolledAvatar, session: ort.InferenceSession, restI420: Uint8Array) {
    this.avatarId = avatar.id;
    this.width = avatar.width;
    this.height = avatar.height;
    this.coefficientNames = avatar.basis.coefficientNames;
    this.renderBox = avatar.basis.renderBox;
    this.#basis = avatar.basis;
    this.#session = session;
    this.#restRgb = avatar.reference;
    this.#restI420 = restI420;
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
    const session = await ort.InferenceSession.create(model, { ...SESSION_OPTIONS, intraOpNumThreads: threads });
    const restI420 = await convertReference(avatar);
    log.debug(
      {
        avatar: avatar.id,
        threads,
        modelBytes: model.byteLength,
        renderBox: avatar.basis.renderBox,
        buildMs: Math.round(t1 - t0),
        sessionMs: Math.round(performance.now() - t1),
      },
      'renderer created',
    );
    return new DefaultRenderer(avatar, session, restI420);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Renders one frame into new buffers (callers may keep them). `coeffs` is indexed by COEFFICIENT_NAMES; values are
   * clamped into range (a copy).
   */
  async render(coeffs: Float32Array): Promise<RenderedFrame> {
    if (this.#closing) throw new RendererClosedError();
    const input = normalizeCoefficients(coeffs);
    if (COEFFICIENTS.every((c, i) => input[i] === c.neutral)) return { rgb: this.#restRgb.slice(), i420: this.#restI420.slice() };
    const run = this.#session.run({
      [RENDER_INPUT]: new ort.Tensor('float32', input, [1, input.length]),
      [RENDER_INPUT_OFFSETS]: new ort.Tensor('int64', windowOffsets(this.#basis, input), [4]),
    });
    this.#inFlight.add(run);
    try {
      const out = await run;
      const rgb = out[RENDER_OUTPUT_RGB];
      const i420 = out[RENDER_OUTPUT_I420];
      if (!rgb || !i420 || !(rgb.data instanceof Uint8Array) || !(i420.data instanceof Uint8Array)) {
        throw new Error('render graph returned unexpected outputs');
      }
      return { rgb: this.#pasteRgb(rgb.data), i420: this.#pasteI420(i420.data) };
    } finally {
      this.#inFlight.delete(run);
    }
  }

  #pasteRgb(box: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.#restRgb.length);
    out.set(this.#restRgb);
    const { x, y, width: w, height: h } = this.renderBox;
    for (let r = 0; r < h; r++) out.set(box.subarray(r * w * 3, (r + 1) * w * 3), ((y + r) * this.width + x) * 3);
    return out;
  }

  #pasteI420(box: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.#restI420.length);
    out.set(this.#restI420);
    const { x, y, width: w, height: h } = this.renderBox;
    const W = this.width;
    for (let r = 0; r < h; r++) out.set(box.subarray(r * w, (r + 1) * w), (y + r) * W + x);
    const cw = w / 2;
    const ch = h / 2;
    const lumaPlane = W * this.height;
    const chromaPlane = lumaPlane / 4;
    for (let plane = 0; plane < 2; plane++) {
      const src = w * h + plane * cw * ch;
      const dst = lumaPlane + plane * chromaPlane;
      for (let r = 0; r < ch; r++) out.set(box.subarray(src + r * cw, src + (r + 1) * cw), dst + (y / 2 + r) * (W / 2) + x / 2);
    }
    return out;
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

/** The reference's I420, by the same conversion the render graph uses (so the pasted box matches around it). */
async function convertReference(avatar: EnrolledAvatar): Promise<Uint8Array> {
  const { width: W, height: H, reference } = avatar;
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
