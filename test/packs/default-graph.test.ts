// The render graph on synthetic inputs (no face involved): the warp, the two-layer mouth compositing and the
// colour conversion are checked against values computed here by hand.
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { RENDER_INPUT, RENDER_OUTPUT_I420, RENDER_OUTPUT_RGB, buildRenderGraph, type RenderGraphSpec } from '../../src/packs/default/index.ts';

const W = 32;
const H = 32;
const crop = { x: 8, y: 8, width: 16, height: 16 };
const cropPlane = crop.width * crop.height;
const INTERIOR: [number, number, number] = [10, 200, 30];

function reference(): Uint8Array {
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = 3 * (y * W + x);
      rgb[i] = x * 8;
      rgb[i + 1] = y * 8;
      rgb[i + 2] = 100;
    }
  }
  return rgb;
}

/** A constant shift in pixels as a backward field (GridSample units) over n pixels. */
function shiftField(n: number, dxPx: number, dyPx: number): Float32Array {
  const f = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    f[2 * i] = (2 * dxPx) / W;
    f[2 * i + 1] = (2 * dyPx) / H;
  }
  return f;
}

function spec(fields: Float32Array, upper: Float32Array, lower: Float32Array): RenderGraphSpec {
  const seam = new Float32Array(W * H);
  for (let y = 16; y < H; y++) seam.fill(1, y * W, (y + 1) * W);
  const interior = new Float32Array(3 * cropPlane);
  for (let c = 0; c < 3; c++) interior.fill(INTERIOR[c]!, c * cropPlane, (c + 1) * cropPlane);
  return {
    width: W,
    height: H,
    coefficientCount: 1,
    reference: reference(),
    fields,
    mouthSeam: seam,
    mouthCrop: crop,
    upperFields: upper,
    lowerFields: lower,
    mouthRegion: new Float32Array(cropPlane).fill(1),
    mouthLayer: new Float32Array(cropPlane).fill(1),
    interior,
  };
}

async function run(model: Uint8Array, coeff: number): Promise<{ rgb: Uint8Array; i420: Uint8Array; session: ort.InferenceSession }> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const out = await session.run({ [RENDER_INPUT]: new ort.Tensor('float32', Float32Array.of(coeff), [1, 1]) });
  return { rgb: out[RENDER_OUTPUT_RGB]!.data as Uint8Array, i420: out[RENDER_OUTPUT_I420]!.data as Uint8Array, session };
}

const px = (rgb: Uint8Array, x: number, y: number): number[] => Array.from(rgb.subarray(3 * (y * W + x), 3 * (y * W + x) + 3));

describe('default pack render graph', () => {
  it('warps the whole frame by the coefficient-weighted field (border padding)', async () => {
    const full = shiftField(W * H, 2, 0);
    const model = buildRenderGraph(spec(full, shiftField(cropPlane, 2, 0), shiftField(cropPlane, 2, 0)));
    const { rgb, session } = await run(model, 1);
    try {
      for (const [x, y] of [[0, 0], [5, 20], [12, 12], [29, 3], [31, 31]] as const) {
        expect(px(rgb, x, y)).toEqual([Math.min(x + 2, 31) * 8, y * 8, 100]);
      }
    } finally {
      await session.release();
    }
  });

  it('renders the reference unchanged at coefficient 0', async () => {
    const model = buildRenderGraph(spec(shiftField(W * H, 3, 1), shiftField(cropPlane, 0, 0), shiftField(cropPlane, 0, -4)));
    const { rgb, session } = await run(model, 0);
    try {
      expect(Buffer.from(rgb).equals(Buffer.from(reference()))).toBe(true);
    } finally {
      await session.release();
    }
  });

  it('shows the mouth interior where the lower layer moved away from the upper one', async () => {
    // Upper side still; lower side drops by 4 px (samples 4 px above): rows 16..19 of the crop are the gap.
    const model = buildRenderGraph(spec(new Float32Array(W * H * 2), shiftField(cropPlane, 0, 0), shiftField(cropPlane, 0, -4)));
    const { rgb, session } = await run(model, 1);
    try {
      expect(px(rgb, 12, 10)).toEqual([96, 80, 100]); // upper lip: unchanged
      expect(px(rgb, 12, 16)).toEqual(INTERIOR);
      expect(px(rgb, 20, 19)).toEqual(INTERIOR);
      expect(px(rgb, 12, 21)).toEqual([96, 17 * 8, 100]); // lower lip: moved down by 4 rows
      expect(px(rgb, 4, 17)).toEqual([32, 136, 100]); // outside the mouth crop: untouched
    } finally {
      await session.release();
    }
    const half = await run(model, 0.5);
    try {
      expect(px(half.rgb, 12, 17)).toEqual(INTERIOR);
      expect(px(half.rgb, 12, 18)).toEqual([96, 16 * 8, 100]); // half the drop: 2 rows
    } finally {
      await half.session.release();
    }
  });

  it('outputs BT.601 I420 matching the RGB output', async () => {
    const model = buildRenderGraph(spec(shiftField(W * H, 1, 1), shiftField(cropPlane, 1, 1), shiftField(cropPlane, 1, 1)));
    const { rgb, i420, session } = await run(model, 1);
    try {
      expect(i420.length).toBe((W * H * 3) / 2);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const [r, g, b] = px(rgb, x, y) as [number, number, number];
          const Y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
          expect(Math.abs(i420[y * W + x]! - Y)).toBeLessThanOrEqual(1);
        }
      }
      const cw = W / 2;
      for (const [cx, cy] of [[0, 0], [5, 9], [15, 15]] as const) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
          const p = px(rgb, 2 * cx + dx, 2 * cy + dy);
          r += p[0]! / 4;
          g += p[1]! / 4;
          b += p[2]! / 4;
        }
        const U = 128 + (-37.797 * r - 74.203 * g + 112 * b) / 255;
        const V = 128 + (112 * r - 93.786 * g - 18.214 * b) / 255;
        expect(Math.abs(i420[W * H + cy * cw + cx]! - U)).toBeLessThanOrEqual(1);
        expect(Math.abs(i420[W * H + (W * H) / 4 + cy * cw + cx]! - V)).toBeLessThanOrEqual(1);
      }
    } finally {
      await session.release();
    }
  });

  it('rejects sizes I420 cannot carry and mismatched arrays', () => {
    const ok = spec(new Float32Array(W * H * 2), shiftField(cropPlane, 0, 0), shiftField(cropPlane, 0, 0));
    expect(() => buildRenderGraph({ ...ok, width: 31 })).toThrow(RangeError);
    expect(() => buildRenderGraph({ ...ok, fields: new Float32Array(10) })).toThrow(RangeError);
    expect(() => buildRenderGraph({ ...ok, mouthCrop: { x: 20, y: 20, width: 16, height: 16 } })).toThrow(RangeError);
  });
});
