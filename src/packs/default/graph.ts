// The default pack's render graph, built with onnx-proto:
//
//   coeffs [1,K] --MatMul(basis [K, H*W*2])--> flow --Reshape [1,H,W,2]--> + identity grid --> grid
//   warped = GridSample(reference [1,3,H,W], grid, bilinear, border)
//   Around the lips only (a small crop), two layers: the upper side (skull: upper lip, upper teeth) and the lower
//   side (jaw: lower lip, chin), each warping the reference and the seam selector S with its own grid.
//     aU = 1 - S(upper grid)   the upper layer covers the pixel (its sample is above the seam)
//     aL = S(lower grid)       the lower layer covers the pixel (its sample is below the seam)
//     gap = 1 - aU - aL        neither does: the lips have parted here
//     lips  = (aU*U + aL*L) / max(aU + aL, eps)
//     mouth = lips + clip((gap - t) * region, 0, 1) * (interior - lips)
//   out = warped + pad(layer * (mouth - warped_crop))
//   rgb  = uint8 [H,W,3]      (round, clip, cast, CHW->HWC in the graph)
//   i420 = uint8 [H*W*3/2]    (BT.601 limited range; chroma from 2x2 averages)
//
// JavaScript does no per-pixel work per frame: it feeds K floats and gets both buffers back.
import { OnnxGraphBuilder, ElemType } from './onnx-builder.ts';
import { buildMouthInterior, sampleColours } from './interior.ts';
import type { Box, EnrolledAvatar } from './types.ts';

export const RENDER_INPUT = 'coeffs';
export const RENDER_OUTPUT_RGB = 'rgb';
export const RENDER_OUTPUT_I420 = 'i420';
/** GridSample arrived in opset 16; 17 keeps us on the widely supported IR 8. */
export const RENDER_OPSET = 17;

/** A gap below this is not an opening (sub-pixel lip motion along the seam). */
const GAP_THRESHOLD = 0.1;

export interface RenderGraphSpec {
  readonly width: number;
  readonly height: number;
  /** Number of coefficients K. */
  readonly coefficientCount: number;
  /** Reference portrait, RGB interleaved [H, W, 3]. */
  readonly reference: Uint8Array;
  /** Motion basis [K, H, W, 2] in GridSample units. */
  readonly fields: Float32Array;
  /** Lip seam selector [H, W]. */
  readonly mouthSeam: Float32Array;
  /**
   * The mouth crop (pixels) and, inside it, the per-side fields [K, h, w, 2], where the interior may show [h, w]
   * and how much the layered lips replace the single warp [h, w].
   */
  readonly mouthCrop: Box;
  readonly upperFields: Float32Array;
  readonly lowerFields: Float32Array;
  readonly mouthRegion: Float32Array;
  readonly mouthLayer: Float32Array;
  /** Mouth-interior layer over the crop, planar RGB [3, h, w], 0..255. */
  readonly interior: Float32Array;
}

/** Builds the render graph for an enrolled avatar (its mouth interior is made here from the avatar's colours). */
export function buildAvatarRenderGraph(avatar: EnrolledAvatar): Uint8Array {
  const interior = buildMouthInterior(avatar.landmarks, avatar.basis, sampleColours(avatar.reference, avatar.masks));
  const b = avatar.basis;
  return buildRenderGraph({
    width: avatar.width,
    height: avatar.height,
    coefficientCount: b.coefficientNames.length,
    reference: avatar.reference,
    fields: b.fields,
    mouthSeam: b.mouthSeam,
    mouthCrop: b.mouthCrop,
    upperFields: b.upperFields,
    lowerFields: b.lowerFields,
    mouthRegion: b.mouthRegion,
    mouthLayer: b.mouthLayer,
    interior,
  });
}

/** Serialised ONNX ModelProto of the render graph. */
export function buildRenderGraph(spec: RenderGraphSpec): Uint8Array {
  const { width: W, height: H, coefficientCount: K } = spec;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 2 || H < 2 || W % 2 !== 0 || H % 2 !== 0) {
    throw new RangeError(`render size must be even positive integers (I420), got ${W}x${H}`);
  }
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`coefficientCount must be a positive integer, got ${K}`);
  const plane = W * H;
  const crop = spec.mouthCrop;
  if (
    ![crop.x, crop.y, crop.width, crop.height].every(Number.isInteger) ||
    crop.x < 0 ||
    crop.y < 0 ||
    crop.width < 1 ||
    crop.height < 1 ||
    crop.x + crop.width > W ||
    crop.y + crop.height > H
  ) {
    throw new RangeError(`mouthCrop ${JSON.stringify(crop)} is not an integer box inside ${W}x${H}`);
  }
  const { width: cw, height: ch } = crop;
  const cropPlane = cw * ch;
  expectLength('reference', spec.reference.length, plane * 3);
  expectLength('fields', spec.fields.length, K * plane * 2);
  expectLength('mouthSeam', spec.mouthSeam.length, plane);
  expectLength('upperFields', spec.upperFields.length, K * cropPlane * 2);
  expectLength('lowerFields', spec.lowerFields.length, K * cropPlane * 2);
  expectLength('mouthRegion', spec.mouthRegion.length, cropPlane);
  expectLength('mouthLayer', spec.mouthLayer.length, cropPlane);
  expectLength('interior', spec.interior.length, cropPlane * 3);

  const g = new OnnxGraphBuilder();

  // Initializers.
  const ref3 = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    ref3[i] = spec.reference[3 * i]!;
    ref3[plane + i] = spec.reference[3 * i + 1]!;
    ref3[2 * plane + i] = spec.reference[3 * i + 2]!;
  }
  const gx = (x: number): number => (2 * x + 1) / W - 1;
  const gy = (y: number): number => (2 * y + 1) / H - 1;
  const identity = new Float32Array(plane * 2);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = 2 * (y * W + x);
      identity[i] = gx(x);
      identity[i + 1] = gy(y);
    }
  }
  // Crop: the upper side's rows, then the lower side's rows, stacked as one [1, 2h, w, 2] grid.
  const cropIdentity = new Float32Array(2 * cropPlane * 2);
  const sideFields = new Float32Array(K * 2 * cropPlane * 2);
  for (let half = 0; half < 2; half++) {
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const i = 2 * (half * cropPlane + y * cw + x);
        cropIdentity[i] = gx(crop.x + x);
        cropIdentity[i + 1] = gy(crop.y + y);
      }
    }
  }
  for (let k = 0; k < K; k++) {
    const src = k * cropPlane * 2;
    const dst = k * 2 * cropPlane * 2;
    sideFields.set(spec.upperFields.subarray(src, src + cropPlane * 2), dst);
    sideFields.set(spec.lowerFields.subarray(src, src + cropPlane * 2), dst + cropPlane * 2);
  }
  const gain = new Float32Array(cropPlane);
  for (let i = 0; i < cropPlane; i++) gain[i] = spec.mouthRegion[i]! / (1 - GAP_THRESHOLD);

  const ref4 = new Float32Array(4 * plane);
  ref4.set(ref3);
  ref4.set(spec.mouthSeam, 3 * plane);

  const reference = g.float('reference', ref3, [1, 3, H, W]);
  const referenceSeam = g.float('reference_seam', ref4, [1, 4, H, W]);
  const basis = g.float('basis', spec.fields, [K, plane * 2]);
  const idGrid = g.float('identity_grid', identity, [1, H, W, 2]);
  const sideBasis = g.float('mouth_side_basis', sideFields, [K, 2 * cropPlane * 2]);
  const cropGrid = g.float('mouth_identity_grid', cropIdentity, [1, 2 * ch, cw, 2]);
  const alphaGain = g.float('mouth_alpha_gain', gain, [1, 1, ch, cw]);
  const layerWeight = g.float('mouth_layer_weight', Float32Array.from(spec.mouthLayer), [1, 1, ch, cw]);
  const interior = g.float('mouth_interior', spec.interior, [1, 3, ch, cw]);
  const sample = (input: string, grid: string): string =>
    g.op('GridSample', [input, grid], { mode: 'bilinear', padding_mode: 'border', align_corners: { int: 0 } });
  const slice = (input: string, name: string, starts: number[], ends: number[], axes: number[]): string =>
    g.op('Slice', [input, g.int64(`${name}_start`, starts), g.int64(`${name}_end`, ends), g.int64(`${name}_axes`, axes)]);

  // Whole frame: one warp.
  const flow = g.op('MatMul', [RENDER_INPUT, basis]);
  const grid = g.op('Add', [idGrid, g.op('Reshape', [flow, g.int64('grid_shape', [1, H, W, 2])])], {}, 'grid');
  const warped = sample(reference, grid);

  // Around the lips: two layers and the mouth interior.
  const sideFlow = g.op('MatMul', [RENDER_INPUT, sideBasis]);
  const sideGrid = g.op('Add', [cropGrid, g.op('Reshape', [sideFlow, g.int64('side_grid_shape', [1, 2 * ch, cw, 2])])]);
  const sides = sample(referenceSeam, sideGrid); // [1, 4, 2h, w]: upper side's rows, then the lower side's
  const upperRgb = slice(sides, 'upper_rgb', [0, 0], [3, ch], [1, 2]);
  const upperSeam = slice(sides, 'upper_seam', [3, 0], [4, ch], [1, 2]);
  const lowerRgb = slice(sides, 'lower_rgb', [0, ch], [3, 2 * ch], [1, 2]);
  const lowerSeam = slice(sides, 'lower_seam', [3, ch], [4, 2 * ch], [1, 2]);
  const one = g.scalar('one', 1);
  const zero = g.scalar('zero', 0);
  const aU = g.op('Sub', [one, upperSeam]);
  const aL = lowerSeam;
  const coverage = g.op('Add', [aU, aL]);
  const lips = g.op('Div', [
    g.op('Add', [g.op('Mul', [aU, upperRgb]), g.op('Mul', [aL, lowerRgb])]),
    g.op('Max', [coverage, g.scalar('eps', 1e-3)]),
  ]);
  const gap = g.op('Sub', [one, coverage]);
  const alpha = g.op('Clip', [g.op('Mul', [g.op('Sub', [gap, g.scalar('gap_threshold', GAP_THRESHOLD)]), alphaGain]), zero, one], {}, 'mouth_alpha');
  const mouth = g.op('Add', [lips, g.op('Mul', [alpha, g.op('Sub', [interior, lips])])]);
  const warpedCrop = slice(warped, 'crop', [crop.y, crop.x], [crop.y + ch, crop.x + cw], [2, 3]);
  const delta = g.op('Mul', [layerWeight, g.op('Sub', [mouth, warpedCrop])]);
  const pads = g.int64('crop_pads', [0, 0, crop.y, crop.x, 0, 0, H - crop.y - ch, W - crop.x - cw]);
  const composite = g.op('Add', [warped, g.op('Pad', [delta, pads], { mode: 'constant' })]);
  const clipped = g.op('Clip', [composite, g.scalar('lo', 0), g.scalar('hi', 255)]);
  const half = g.scalar('half', 0.5);

  // rgb: [1,3,H,W] float -> uint8 -> [H,W,3].
  const rgb8 = g.op('Cast', [g.op('Add', [clipped, half])], { to: { int: ElemType.UINT8 } });
  const rgbChw = g.op('Reshape', [rgb8, g.int64('chw_shape', [3, H, W])]);
  g.op('Transpose', [rgbChw], { perm: { ints: [1, 2, 0] } }, RENDER_OUTPUT_RGB);

  // i420: BT.601 limited range. Y at full resolution, U and V from 2x2 averages (linear, so averaging RGB first
  // equals averaging U and V).
  const yW = g.float('y_weights', Float32Array.of(65.481 / 255, 128.553 / 255, 24.966 / 255), [1, 3, 1, 1]);
  const yB = g.float('y_bias', Float32Array.of(16 + 0.5), [1]);
  const luma = g.op('Conv', [clipped, yW, yB]);
  const y8 = g.op('Cast', [luma], { to: { int: ElemType.UINT8 } });
  const pooled = g.op('AveragePool', [clipped], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
  const uvW = g.float(
    'uv_weights',
    Float32Array.of(-37.797 / 255, -74.203 / 255, 112.0 / 255, 112.0 / 255, -93.786 / 255, -18.214 / 255),
    [2, 3, 1, 1],
  );
  const uvB = g.float('uv_bias', Float32Array.of(128 + 0.5, 128 + 0.5), [2]);
  const chroma = g.op('Conv', [pooled, uvW, uvB]);
  const uv8 = g.op('Cast', [chroma], { to: { int: ElemType.UINT8 } });
  const flat = g.int64('flat_shape', [-1]);
  g.op('Concat', [g.op('Reshape', [y8, flat]), g.op('Reshape', [uv8, flat])], { axis: { int: 0 } }, RENDER_OUTPUT_I420);

  return g.build(
    'facecast_default_render',
    [{ name: RENDER_INPUT, elemType: ElemType.FLOAT, dims: [1, K] }],
    [
      { name: RENDER_OUTPUT_RGB, elemType: ElemType.UINT8, dims: [H, W, 3] },
      { name: RENDER_OUTPUT_I420, elemType: ElemType.UINT8, dims: [(plane * 3) / 2] },
    ],
    { opset: RENDER_OPSET, docString: 'facecast default pack: GridSample(reference, identity + coeffs x basis) + mouth interior' },
  );
}

function expectLength(name: string, actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`${name}: expected ${expected} values, got ${actual}`);
}
