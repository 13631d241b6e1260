// The render graph on synthetic inputs (no face involved): the layered warp, the still background, the two-layer
// mouth with its interior, the feature windows and the colour conversion, checked against values computed here.
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  RENDER_INPUT,
  RENDER_INPUT_OFFSETS,
  RENDER_OUTPUT_I420,
  RENDER_OUTPUT_RGB,
  buildRenderGraph,
  type RenderGraphSpec,
} from '../../src/packs/default/index.ts';

const W = 32;
const H = 32;
const full = { x: 0, y: 0, width: W, height: H };
const crop = { x: 8, y: 8, width: 16, height: 16 };
const cropPlane = crop.width * crop.height;
const INTERIOR: [number, number, number] = [10, 200, 30];
/** The head: a disc of radius 12 around (16, 14); the torso: rows 26 and below. */
const inHead = (x: number, y: number): boolean => (x - 16) ** 2 + (y - 14) ** 2 <= 144;
const inTorso = (_x: number, y: number): boolean => y >= 26;

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

/** A shift field in pixels as backward displacements (GridSample units), `n` (dx, dy) pairs or planar. */
function shift(n: number, dx: number, dy: number, planar = false): Float32Array {
  const f = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    f[planar ? i : 2 * i] = (2 * dx) / W;
    f[planar ? n + i : 2 * i + 1] = (2 * dy) / H;
  }
  return f;
}

const lattice = (box: typeof full, cols: number, rows: number) => ({ box, cols, rows });

/**
 * Two coefficients: 0 moves the head layer by (headDx, headDy) pixels; 1 drives the mouth's lower side down by
 * `jawPx` pixels. Everything else is still.
 */
function spec(opts: { headDx?: number; headDy?: number; jawPx?: number } = {}): RenderGraphSpec {
  const plane = W * H;
  const headAlpha = new Float32Array(plane);
  const torsoAlpha = new Float32Array(plane);
  const plate = new Uint8Array(plane * 3);
  const seam = new Float32Array(plane);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (inHead(x, y)) headAlpha[i] = 1;
      else if (inTorso(x, y)) torsoAlpha[i] = 1;
      // The plate is the reference where no person is, blue where the person hides the background.
      plate.set(headAlpha[i] || torsoAlpha[i] ? [60, 60, 240] : [x * 8, y * 8, 100], 3 * i);
      if (y >= 16) seam[i] = 1;
    }
  }
  const interior = new Float32Array(3 * cropPlane);
  for (let c = 0; c < 3; c++) interior.fill(INTERIOR[c]!, c * cropPlane, (c + 1) * cropPlane);
  const sides = new Float32Array(4 * cropPlane);
  const mouthLayer = new Float32Array(cropPlane);
  for (let y = 0; y < crop.height; y++) for (let x = 0; x < crop.width; x++) mouthLayer[y * crop.width + x] = inHead(crop.x + x, crop.y + y) ? 1 : 0;
  sides.set(shift(cropPlane, 0, -(opts.jawPx ?? 0), true).subarray(cropPlane), 3 * cropPlane); // lower dy plane
  const window = (home: { x: number; y: number }, size: number) => ({
    width: size,
    height: size,
    home,
    view: full,
    motion: new Float32Array(2),
    pose: shift(plane, opts.headDx ?? 0, opts.headDy ?? 0),
  });
  return {
    width: W,
    height: H,
    coefficientCount: 2,
    reference: reference(),
    renderBox: full,
    poseFields: [{ coefficient: 0, side: 'both' }],
    headLattice: lattice(full, 17, 17),
    headPose: shift(17 * 17, opts.headDx ?? 0, opts.headDy ?? 0, true),
    torsoLattice: lattice(full, 17, 17),
    torsoPose: new Float32Array(17 * 17 * 2),
    faceFields: [{ coefficient: 1, side: 'both' }],
    faceLattice: lattice(full, 17, 17),
    face: new Float32Array(17 * 17 * 2),
    eyeFields: [{ coefficient: 1, side: 'both' }],
    eyeLattice: lattice({ x: 4, y: 4, width: 8, height: 8 }, 8, 8),
    eyes: new Float32Array(2 * 64),
    eyeLid: new Float32Array(64).fill(1),
    eyeLidTexture: new Uint8Array(64 * 3),
    eyeWindow: window({ x: 2, y: 2 }, 8),
    mouthSeam: seam,
    mouthCrop: crop,
    mouthSides: sides,
    mouthRegion: new Float32Array(cropPlane).fill(1),
    mouthLayer,
    mouthWindow: window({ x: crop.x, y: crop.y }, 16),
    headAlpha,
    torsoAlpha,
    torsoColour: new Uint8Array(plane * 3),
    plate,
    interior,
  };
}

async function render(s: RenderGraphSpec, coeffs: [number, number]): Promise<{ rgb: Uint8Array; i420: Uint8Array }> {
  const session = await ort.InferenceSession.create(buildRenderGraph(s), { intraOpNumThreads: 1 });
  try {
    const out = await session.run({
      [RENDER_INPUT]: new ort.Tensor('float32', Float32Array.from(coeffs), [1, 2]),
      [RENDER_INPUT_OFFSETS]: new ort.Tensor('int64', new BigInt64Array(4), [4]),
    });
    return { rgb: out[RENDER_OUTPUT_RGB]!.data as Uint8Array, i420: out[RENDER_OUTPUT_I420]!.data as Uint8Array };
  } finally {
    await session.release();
  }
}

const px = (rgb: Uint8Array, x: number, y: number): number[] => Array.from(rgb.subarray(3 * (y * W + x), 3 * (y * W + x) + 3));

describe('default pack render graph', () => {
  it('renders the reference exactly at rest, layers and plate included', async () => {
    const { rgb } = await render(spec({ headDx: 3, headDy: 1, jawPx: 4 }), [0, 0]);
    expect(Buffer.from(rgb).equals(Buffer.from(reference()))).toBe(true);
  });

  it('moves the head layer and leaves the background and the torso exactly still', async () => {
    const { rgb } = await render(spec({ headDx: -2 }), [1, 0]); // samples 2 px to the left: the head moves right
    expect(px(rgb, 16, 14)).toEqual([14 * 8, 14 * 8, 100]); // inside the head
    expect(px(rgb, 29, 14)).toEqual([27 * 8, 14 * 8, 100]); // the head's right rim moved out over the background
    expect(px(rgb, 5, 14)).toEqual([60, 60, 240]); // uncovered on the left: the plate, not a stretched head
    for (const [x, y] of [[1, 1], [30, 3], [2, 22], [30, 22], [16, 29], [2, 30]] as const) {
      expect(px(rgb, x, y)).toEqual([x * 8, y * 8, 100]); // background and torso untouched
    }
  });

  it('shows the mouth interior where the lower side moved away from the upper one', async () => {
    // Upper side still; lower side drops by 4 px (samples 4 px above): rows 16..19 are the gap.
    const s = spec({ jawPx: 4 });
    const { rgb } = await render(s, [0, 1]);
    expect(px(rgb, 12, 10)).toEqual([96, 80, 100]); // upper lip: unchanged
    expect(px(rgb, 12, 16)).toEqual(INTERIOR);
    expect(px(rgb, 20, 19)).toEqual(INTERIOR);
    expect(px(rgb, 12, 21)).toEqual([96, 17 * 8, 100]); // lower lip: moved down by 4 rows
    expect(px(rgb, 4, 17)).toEqual([32, 136, 100]); // outside the mouth crop: untouched
    const half = await render(s, [0, 0.5]);
    expect(px(half.rgb, 12, 17)).toEqual(INTERIOR);
    expect(px(half.rgb, 12, 18)).toEqual([96, 16 * 8, 100]); // half the drop: 2 rows
  });

  it('outputs BT.601 I420 matching the RGB output', async () => {
    const { rgb, i420 } = await render(spec({ headDx: 1, headDy: 1 }), [1, 0]);
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
  });

  it('rejects sizes I420 cannot carry, odd render boxes and mismatched arrays', () => {
    const ok = spec();
    expect(() => buildRenderGraph({ ...ok, width: 31 })).toThrow(RangeError);
    expect(() => buildRenderGraph({ ...ok, renderBox: { x: 1, y: 0, width: 30, height: 32 } })).toThrow(RangeError);
    expect(() => buildRenderGraph({ ...ok, headPose: new Float32Array(10) })).toThrow(RangeError);
    expect(() => buildRenderGraph({ ...ok, mouthCrop: { x: 20, y: 20, width: 16, height: 16 } })).toThrow(RangeError);
    expect(() => buildRenderGraph({ ...ok, poseFields: [{ coefficient: 5, side: 'both' }] })).toThrow(RangeError);
  });
});
