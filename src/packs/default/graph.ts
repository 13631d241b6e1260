// The default pack's render graph, built with onnx-proto. It renders only the render box (the pixels the basis can
// change; renderer.ts pastes it into the reference) and works in three steps:
//
// 1. Grids, on a half-resolution lattice over the box (they are smooth; Resize brings them to full resolution):
//      r = Relu([c, -c]); wPose = r x Epose; wFace = r x Eface        (per-field weights; rotations have one field
//                                                                       per side of zero)
//      q = lattice identity + wPose x pose fields                     [2, rows, cols, 2]: head layer, torso layer
//      head grid += face(q)  (the face fields, a reference-space image, sampled where the head shows each point:
//                             a mouth that opens on a turned head opens where the head is)
// 2. Layers: one GridSample of [head, torso] (premultiplied RGB + alpha each) with the two grids, then
//      out = head + (1 - headAlpha) * (torso + (1 - torsoAlpha) * plate)
//    The premultiplied colours are chosen so that neutral coefficients give back the reference exactly.
// 3. Around the lips, at full resolution over the mouth view (wherever the head may carry the mouth): the upper side
//    (skull: upper lip, upper teeth) and the lower side (jaw: lower lip, chin) each warp the reference and the seam
//    selector S with their own grid (q + side(q)), and layer:
//      aU = 1 - S(upper grid); aL = S(lower grid); gap = 1 - aU - aL
//      lips  = (aU*U + aL*L) / max(aU + aL, eps)
//      mouth = lips + clip((gap - t) * region, 0, 1) * (interior - lips)
//      out  += layer * (mouth - out)          (region, layer and interior also sampled at q: they follow the head)
// Outputs: `rgb` uint8 [h, w, 3] and `i420` uint8 [h*w*3/2] (BT.601 limited range, chroma from 2x2 averages) of the
// render box. JavaScript does no per-pixel work per frame besides pasting the box.
import { OnnxGraphBuilder, ElemType } from './onnx-builder.ts';
import { buildJawInterior, buildMouthInterior, sampleColours } from './interior.ts';
import type { BasisField, Box, EnrolledAvatar, FeatureWindow, Lattice, MotionBasis } from './types.ts';

export const RENDER_INPUT = 'coeffs';
/** int64 [4]: the mouth window's and the eye window's offsets from home (dx, dy each); see windowOffsets. */
export const RENDER_INPUT_OFFSETS = 'offsets';
export const RENDER_OUTPUT_RGB = 'rgb';
export const RENDER_OUTPUT_I420 = 'i420';
/**
 * The frame's base under its feature windows, float [1, 3, bh, bw] each: what shows under the head (torso over
 * plate) and the head over it. Outputs of the full graph; inputs of the windows graph, which renders only the eye
 * and mouth windows over a base kept from an earlier frame (the head layer at half rate, the mouth at every frame).
 */
export const RENDER_BASE_UNDER = 'base_under';
export const RENDER_BASE_COMPOSITE = 'base_composite';

/**
 * Which graph: the whole render box; only the feature windows over a given base; or the whole box with the head and
 * torso layers sampled at half resolution and scaled up (the feature windows still at full resolution: the mouth and
 * eyes stay sharp), about 0.7 of a whole frame's cost, the degradation ladder's resolution step.
 */
export type RenderGraphVariant = 'full' | 'windows' | 'half';
/** GridSample arrived in opset 16; 17 keeps us on the widely supported IR 8. */
export const RENDER_OPSET = 17;

/** A gap below this is not an opening (sub-pixel lip motion along the seam). */
const GAP_THRESHOLD = 0.1;
/** The jaw's interior layer shows from this gap on, fully JAW_GAP_RAMP further. */
const JAW_GAP = 0.5;
const JAW_GAP_RAMP = 0.3;

/** What the graph needs: the reference, the mouth interior and the basis' fields, boxes and layers. */
export type RenderGraphSpec = Pick<
  MotionBasis,
  | 'width'
  | 'height'
  | 'renderBox'
  | 'poseFields'
  | 'headLattice'
  | 'headPose'
  | 'torsoLattice'
  | 'torsoPose'
  | 'faceFields'
  | 'faceLattice'
  | 'face'
  | 'mouthSeam'
  | 'mouthCrop'
  | 'mouthSides'
  | 'mouthRegion'
  | 'mouthLayer'
  | 'mouthWindow'
  | 'eyeFields'
  | 'eyeLattice'
  | 'eyes'
  | 'eyeLid'
  | 'eyeLidTexture'
  | 'eyeWindow'
  | 'headAlpha'
  | 'torsoAlpha'
  | 'torsoColour'
  | 'plate'
> & {
  /** Number of coefficients K (the `coeffs` input is [1, K]). */
  readonly coefficientCount: number;
  /** Reference portrait, RGB interleaved [H, W, 3]. */
  readonly reference: Uint8Array;
  /** Mouth-interior layer over mouthCrop, planar RGB [3, h, w], 0..255 (head space: cavity, upper teeth). */
  readonly interior: Float32Array;
  /**
   * The jaw's interior layer (lower teeth, tongue), planar RGBA [4, H, W] in the reference's space, sampled with the
   * lower lip's grid so it rides with the jaw; none: the interior is the head-space layer alone.
   */
  readonly jawInterior?: Float32Array;
};

/** Builds the render graph for an enrolled avatar (its mouth interior is made here from the avatar's colours). */
export function buildAvatarRenderGraph(avatar: EnrolledAvatar, variant: RenderGraphVariant = 'full'): Uint8Array {
  const colours = sampleColours(avatar.reference, avatar.masks);
  const interior = buildMouthInterior(avatar.landmarks, avatar.basis, colours);
  const jawInterior = buildJawInterior(avatar.landmarks, avatar.basis, colours);
  return buildRenderGraph({ ...avatar.basis, coefficientCount: avatar.basis.coefficientNames.length, reference: avatar.reference, interior, jawInterior }, variant);
}

/** Serialised ONNX ModelProto of the render graph. */
export function buildRenderGraph(spec: RenderGraphSpec, variant: RenderGraphVariant = 'full'): Uint8Array {
  const { width: W, height: H, coefficientCount: K } = spec;
  validate(spec);
  const plane = W * H;
  const box = spec.renderBox;
  const { width: bw, height: bh } = box;
  const Fp = spec.poseFields.length;
  const Ff = spec.faceFields.length;
  const g = new OnnxGraphBuilder();
  const gx = (x: number): number => (2 * x + 1) / W - 1;
  const gy = (y: number): number => (2 * y + 1) / H - 1;
  const one = g.scalar('one', 1);
  // Grid points stay on the image's outer pixel centres, so that zero padding never darkens an edge.
  const edge = 1 / Math.min(W, H);
  const gridLo = g.scalar('grid_lo', -1 + edge);
  const gridHi = g.scalar('grid_hi', 1 - edge);

  // Field weights.
  const weights = (fields: readonly BasisField[], name: string): string => {
    const e = new Float32Array(2 * K * fields.length);
    fields.forEach((f, j) => {
      if (f.side !== 'negative') e[f.coefficient * fields.length + j] = 1;
      if (f.side === 'negative') e[(K + f.coefficient) * fields.length + j] = 1;
      if (f.side === 'both') e[(K + f.coefficient) * fields.length + j] = -1;
    });
    return g.float(name, e, [2 * K, fields.length]);
  };
  const r = g.op('Relu', [g.op('Concat', [RENDER_INPUT, g.op('Neg', [RENDER_INPUT])], { axis: { int: 1 } })]);
  const wPose = g.op('MatMul', [r, weights(spec.poseFields, 'pose_select')]);
  const wFace = g.op('MatMul', [r, weights(spec.faceFields, 'face_select')]);

  const fl = spec.faceLattice;
  const faceImage = g.op('Reshape', [
    g.op('MatMul', [wFace, g.float('face_basis', spec.face, [Ff, 2 * fl.rows * fl.cols])]),
    g.int64('face_shape', [1, 2, fl.rows, fl.cols]),
  ]);
  const layers = premultipliedLayers(spec);
  const rgbOf = (x: string, name: string): string => slice(g, x, `${name}_rgb`, [0], [3], [1]);
  const alphaOf = (x: string, name: string): string => slice(g, x, `${name}_a`, [3], [4], [1]);
  const whole = variant !== 'windows';
  const base = whole ? renderBase(variant === 'half' ? 0.5 : 1) : { under: RENDER_BASE_UNDER, composite: RENDER_BASE_COMPOSITE };
  const { under, composite } = base;

  /** Steps 1 and 2: the head and torso layers over the plate, [1, 3, bh, bw] each (under the head, and all). */
  function renderBase(scale: number): { under: string; composite: string } {
    // 1. Grids, per layer: q in image units and, for sampling the face fields there, in face-lattice units (one
    // MatMul). The face fields move both layers: they fade out below the jaw, so the neck follows a moving jaw line.
    const toFace = latticeMap(fl, W, H);
    const layerGrid = (l: Lattice, pose: Float32Array, name: string): string => {
      const plane = l.cols * l.rows;
      const basis = new Float32Array(Fp * 4 * plane);
      for (let f = 0; f < Fp; f++) {
        for (let c = 0; c < 2; c++) {
          const src = pose.subarray((2 * f + c) * plane, (2 * f + c + 1) * plane);
          basis.set(src, (4 * f + c) * plane);
          const scaled = basis.subarray((4 * f + 2 + c) * plane, (4 * f + 3 + c) * plane);
          for (let n = 0; n < plane; n++) scaled[n] = src[n]! * toFace[c]!.a;
        }
      }
      const id = latticeIdentity(l, gx, gy);
      const idFace = new Float32Array(2 * plane);
      for (let c = 0; c < 2; c++) for (let n = 0; n < plane; n++) idFace[c * plane + n] = id[c * plane + n]! * toFace[c]!.a + toFace[c]!.b;
      const qs = g.op('Add', [
        g.float(`${name}_identity`, concat(id, idFace), [2, 2, l.rows, l.cols]),
        g.op('Reshape', [g.op('MatMul', [wPose, g.float(`${name}_pose`, basis, [Fp, 4 * plane])]), g.int64(`${name}_q_shape`, [2, 2, l.rows, l.cols])]),
      ]);
      const q = slice(g, qs, `${name}_q`, [0], [1], [0]); // [1, 2, rows, cols]
      const qFace = g.op('Transpose', [slice(g, qs, `${name}_q_face`, [1], [2], [0])], { perm: { ints: [0, 2, 3, 1] } });
      return g.op('Clip', [g.op('Add', [q, sample(g, faceImage, qFace)]), gridLo, gridHi]);
    };
    const hl = spec.headLattice;
    const tl = spec.torsoLattice;
    const headGrid = layerGrid(hl, spec.headPose, 'head');
    const torsoGrid = layerGrid(tl, spec.torsoPose, 'torso');
    // The sampling resolution (full, or `scale` of it): Resize in planar layout (cheaper), then to GridSample's
    // [1, h, w, 2].
    const at = (l: Lattice): [number, number] => [Math.max(2, Math.ceil(l.box.height * scale)), Math.max(2, Math.ceil(l.box.width * scale))];
    const upsample = (grid: string, l: Lattice, name: string): string =>
      g.op('Transpose', [g.op('Resize', [grid, '', '', g.int64(`${name}_size`, [1, 2, ...at(l)])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' })], {
        perm: { ints: [0, 2, 3, 1] },
      });
    // Sampled below full resolution: scaled up to the layer's box (pixel centres kept: half_pixel).
    const toBox = (x: string, l: Lattice, name: string): string =>
      scale === 1 ? x : g.op('Resize', [x, '', '', g.int64(`${name}_box_size`, [1, 4, l.box.height, l.box.width])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });

    // 2. Layers: the head over the torso over the plate.
    const headLayer = g.float('head_layer', layers.head, [1, 4, H, W]);
    const headS = toBox(sample(g, headLayer, upsample(headGrid, hl, 'head_grid')), hl, 'head');
    const torsoS = toBox(sample(g, g.float('torso_layer', layers.torso, [1, 4, H, W]), upsample(torsoGrid, tl, 'torso_grid')), tl, 'torso');
    const tb = tl.box;
    const underTorso = g.op('Add', [rgbOf(torsoS, 'torso'), g.op('Mul', [g.op('Sub', [one, alphaOf(torsoS, 'torso')]), g.float('torso_plate', planarBox(spec.plate, W, tb), [1, 3, tb.height, tb.width])])]);
    const under = g.op('Add', [
      g.float('under_static', planarBox(layers.under, W, box, true), [1, 3, bh, bw]),
      padTo(g, g.op('Sub', [underTorso, g.float('under_static_torso', planarBox(layers.under, W, tb, true), [1, 3, tb.height, tb.width])]), tb, box, 'torso'),
    ]);
    const head = padTo(g, headS, hl.box, box, 'head');
    const composite = g.op('Add', [rgbOf(head, 'head'), g.op('Mul', [g.op('Sub', [one, alphaOf(head, 'head')]), under])]);
    return { under, composite };
  }

  // 3. Feature windows, at full resolution, placed where the head carries the feature (offsets input).
  const crop = spec.mouthCrop;
  const cropLattice: Lattice = { box: crop, cols: crop.width, rows: crop.height };
  const win = (w: FeatureWindow, lattices: readonly Lattice[], index: number, name: string): Window => featureWindow(g, spec, w, lattices, wPose, box, index, name);

  // Eyes: the head layer with the face fields (half resolution), twice: as it is (the eye) and with the upper lids
  // slid down (the blinks, full resolution); the lid shows where its sample lies above the lash line.
  const eyeWin = win(spec.eyeWindow, [fl, spec.eyeLattice], 2, 'eye');
  const el = spec.eyeLattice;
  const { width: ew, height: eh } = spec.eyeWindow;
  const lidImage = g.op('Reshape', [
    g.op('MatMul', [g.op('MatMul', [r, weights(spec.eyeFields, 'eye_select')]), g.float('eye_basis', spec.eyes, [spec.eyeFields.length, 2 * el.rows * el.cols])]),
    g.int64('eye_shape', [1, 2, el.rows, el.cols]),
  ]);
  const toNhwc = (x: string): string => g.op('Transpose', [x], { perm: { ints: [0, 2, 3, 1] } });
  const eyeGrid = g.op('Add', [eyeWin.q, toNhwc(sample(g, faceImage, eyeWin.qs[0]!))]);
  // One source for both: [head layer (4), lid texture (3), lid cover (1)].
  const eyeSource = new Float32Array(8 * plane);
  eyeSource.set(layers.head);
  eyeSource.set(layers.head.subarray(0, 3 * plane), 4 * plane);
  eyeSource.fill(1, 7 * plane);
  for (let i = 0; i < el.rows; i++) {
    for (let j = 0; j < el.cols; j++) {
      const p = (el.box.y + i) * W + el.box.x + j;
      const n = i * el.cols + j;
      for (let c = 0; c < 3; c++) eyeSource[(4 + c) * plane + p] = spec.eyeLidTexture[3 * n + c]! - (1 - layers.head[3 * plane + p]!) * layers.under[c * plane + p]!;
      eyeSource[7 * plane + p] = spec.eyeLid[n]!;
    }
  }
  const lidAt = sample(g, lidImage, eyeWin.qs[1]!);
  const lidGrid = g.op('Add', [eyeGrid, toNhwc(lidAt)]);
  const both = sample(g, g.float('eye_source', eyeSource, [1, 8, H, W]), g.op('Clip', [g.op('Concat', [lidGrid, eyeGrid], { axis: { int: 1 } }), gridLo, gridHi]));
  const lidS = slice(g, both, 'lid_rows', [0], [eh], [2]);
  const eyeS = slice(g, both, 'eye_rows', [eh], [2 * eh], [2]);
  // The lid shows where its sample is on the lid, as the lid texture once it has moved a pixel or more.
  const moved = g.op('Clip', [g.op('Mul', [g.op('Abs', [slice(g, lidAt, 'lid_dy', [1], [2], [1])]), g.scalar('lid_px', H / 2 / 4)]), g.scalar('zero_m', 0), one]);
  const lidRgb = g.op('Add', [slice(g, lidS, 'lid_ref', [0], [3], [1]), g.op('Mul', [moved, g.op('Sub', [slice(g, lidS, 'lid_tex', [4], [7], [1]), slice(g, lidS, 'lid_ref2', [0], [3], [1])])])]);
  const lidRgba = g.op('Concat', [lidRgb, slice(g, lidS, 'lid_alpha', [3], [4], [1])], { axis: { int: 1 } });
  const cover = slice(g, lidS, 'lid_cover', [7], [8], [1]);
  const eyeRgba = slice(g, eyeS, 'eye_rgba', [0], [4], [1]);
  const lidOrEye = g.op('Add', [eyeRgba, g.op('Mul', [cover, g.op('Sub', [lidRgba, eyeRgba])])]);
  const eyeOver = g.op('Add', [rgbOf(lidOrEye, 'eye_head'), g.op('Mul', [g.op('Sub', [one, alphaOf(lidOrEye, 'eye_head')]), eyeWin.cut(under)])]);
  const withEyes = g.op('Add', [composite, eyeWin.paste(g.op('Mul', [g.float('eye_weight', borderFade(spec.eyeWindow), [1, 1, eh, ew]), g.op('Sub', [eyeOver, eyeWin.cut(composite)])]))]);

  // Mouth: the upper side (skull: upper lip, upper teeth) and the lower side (jaw: lower lip, chin) each warp the
  // reference and the seam selector with their own grid, and layer; the interior shows where they part.
  const mouthWin = win(spec.mouthWindow, [cropLattice], 0, 'mouth');
  const { width: vw, height: vh } = spec.mouthWindow;
  const q = mouthWin.q;
  const qCrop = mouthWin.qs[0]!;
  const cPlane = crop.width * crop.height;
  const sidesImage = g.op('Reshape', [
    g.op('MatMul', [wFace, g.float('mouth_sides', spec.mouthSides, [Ff, 4 * cPlane])]),
    g.int64('sides_shape', [1, 4, crop.height, crop.width]),
  ]);
  const sidesT = toNhwc(sample(g, sidesImage, qCrop)); // [1, vh, vw, 4]
  const gridU = g.op('Add', [q, slice(g, sidesT, 'upper_d', [0], [2], [3])]);
  const gridL = g.op('Add', [q, slice(g, sidesT, 'lower_d', [2], [4], [3])]);
  const sideGrid = g.op('Clip', [g.op('Concat', [gridU, gridL], { axis: { int: 1 } }), gridLo, gridHi]);
  const refSeam = new Float32Array(4 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) refSeam[c * plane + i] = spec.reference[3 * i + c]!;
    refSeam[3 * plane + i] = spec.mouthSeam[i]!;
  }
  const sides = sample(g, g.float('reference_seam', refSeam, [1, 4, H, W]), sideGrid); // [1, 4, 2vh, vw]
  const aux = new Float32Array(5 * cPlane);
  aux.set(spec.interior.subarray(0, 3 * cPlane));
  for (let i = 0; i < cPlane; i++) {
    aux[3 * cPlane + i] = spec.mouthRegion[i]! / (1 - GAP_THRESHOLD);
    aux[4 * cPlane + i] = spec.mouthLayer[i]!;
  }
  const auxAt = sample(g, g.float('mouth_aux', aux, [1, 5, crop.height, crop.width]), qCrop); // [1, 5, vh, vw]
  const upperRgb = slice(g, sides, 'upper_rgb', [0, 0], [3, vh], [1, 2]);
  const upperSeam = slice(g, sides, 'upper_seam', [3, 0], [4, vh], [1, 2]);
  const lowerRgb = slice(g, sides, 'lower_rgb', [0, vh], [3, 2 * vh], [1, 2]);
  const lowerSeam = slice(g, sides, 'lower_seam', [3, vh], [4, 2 * vh], [1, 2]);
  const zero = g.scalar('zero', 0);
  const aU = g.op('Sub', [one, upperSeam]);
  const aL = lowerSeam;
  const coverage = g.op('Add', [aU, aL]);
  const lips = g.op('Div', [g.op('Add', [g.op('Mul', [aU, upperRgb]), g.op('Mul', [aL, lowerRgb])]), g.op('Max', [coverage, g.scalar('eps', 1e-3)])]);
  const gap = g.op('Sub', [one, coverage]);
  const gain = slice(g, auxAt, 'gain', [3], [4], [1]);
  const alpha = g.op('Clip', [g.op('Mul', [g.op('Sub', [gap, g.scalar('gap_threshold', GAP_THRESHOLD)]), gain]), zero, one], {}, 'mouth_alpha');
  const skull = slice(g, auxAt, 'interior', [0], [3], [1]);
  // The jaw's layer (lower teeth, tongue) over the skull's, sampled where the lower lip's grid carries it.
  const jawAt = spec.jawInterior && sample(g, g.float('jaw_interior', spec.jawInterior, [1, 4, H, W]), g.op('Clip', [gridL, gridLo, gridHi]));
  // Only where the lips are well apart: a slit between nearly closed lips stays the dark cavity (as in a photo; and
  // bright teeth in a slit read as an open mouth).
  const jawGate = g.op('Clip', [g.op('Mul', [g.op('Sub', [gap, g.scalar('jaw_gap', JAW_GAP)]), g.scalar('jaw_gain', 1 / JAW_GAP_RAMP)]), zero, one]);
  const interior = jawAt ? g.op('Add', [skull, g.op('Mul', [g.op('Mul', [jawGate, slice(g, jawAt, 'jaw_a', [3], [4], [1])]), g.op('Sub', [slice(g, jawAt, 'jaw_rgb', [0], [3], [1]), skull])])]) : skull;
  const mouth = g.op('Add', [lips, g.op('Mul', [alpha, g.op('Sub', [interior, lips])])]);
  const delta = g.op('Mul', [slice(g, auxAt, 'layer', [4], [5], [1]), g.op('Sub', [mouth, mouthWin.cut(withEyes)])]);
  const out = g.op('Add', [withEyes, mouthWin.paste(delta)]);
  const clipped = g.op('Clip', [out, g.scalar('lo', 0), g.scalar('hi', 255)]);

  toRgbAndI420(g, clipped, bw, bh);

  const baseShape = [1, 3, bh, bw];
  const baseIo = [
    { name: RENDER_BASE_UNDER, elemType: ElemType.FLOAT, dims: baseShape },
    { name: RENDER_BASE_COMPOSITE, elemType: ElemType.FLOAT, dims: baseShape },
  ];
  if (whole) {
    g.op('Identity', [under], {}, RENDER_BASE_UNDER);
    g.op('Identity', [composite], {}, RENDER_BASE_COMPOSITE);
  }
  return g.build(
    { full: 'facecast_default_render', half: 'facecast_default_render_half', windows: 'facecast_default_render_windows' }[variant],
    [
      { name: RENDER_INPUT, elemType: ElemType.FLOAT, dims: [1, K] },
      { name: RENDER_INPUT_OFFSETS, elemType: ElemType.INT64, dims: [4] },
      ...(variant === 'windows' ? baseIo : []),
    ],
    [
      { name: RENDER_OUTPUT_RGB, elemType: ElemType.UINT8, dims: [bh, bw, 3] },
      { name: RENDER_OUTPUT_I420, elemType: ElemType.UINT8, dims: [(bw * bh * 3) / 2] },
      ...(whole ? baseIo : []),
    ],
    {
      opset: RENDER_OPSET,
      docString: {
        full: 'facecast default pack: layered GridSample of the render box (head pose x face motions) + mouth interior',
        half: 'facecast default pack: the render box with the head and torso layers sampled at half resolution',
        windows: 'facecast default pack: the eye and mouth windows over a given base (head layer at half rate)',
      }[variant],
    },
  );
}

/** A graph converting an RGB image (float [1, 3, H, W], 0..255) to the render graph's outputs, for the frame around
 * the render box. */
export function buildConvertGraph(width: number, height: number): Uint8Array {
  const g = new OnnxGraphBuilder();
  toRgbAndI420(g, g.op('Clip', ['image', g.scalar('lo', 0), g.scalar('hi', 255)]), width, height);
  return g.build(
    'facecast_default_convert',
    [{ name: 'image', elemType: ElemType.FLOAT, dims: [1, 3, height, width] }],
    [
      { name: RENDER_OUTPUT_RGB, elemType: ElemType.UINT8, dims: [height, width, 3] },
      { name: RENDER_OUTPUT_I420, elemType: ElemType.UINT8, dims: [(width * height * 3) / 2] },
    ],
    { opset: RENDER_OPSET },
  );
}

/** rgb uint8 [h, w, 3] and i420 uint8 [h*w*3/2] (BT.601 limited range) outputs from a clipped [1, 3, h, w] image. */
function toRgbAndI420(g: OnnxGraphBuilder, clipped: string, w: number, h: number): void {
  const rgb8 = g.op('Cast', [g.op('Add', [clipped, g.scalar('half', 0.5)])], { to: { int: ElemType.UINT8 } });
  g.op('Transpose', [g.op('Reshape', [rgb8, g.int64('chw_shape', [3, h, w])])], { perm: { ints: [1, 2, 0] } }, RENDER_OUTPUT_RGB);
  // Y at full resolution, U and V from 2x2 averages (linear, so averaging RGB first equals averaging U and V).
  // 1x1 "convolutions" as MatMuls over [3, pixels]: faster than Conv here.
  const yW = g.float('y_weights', Float32Array.of(65.481 / 255, 128.553 / 255, 24.966 / 255), [1, 3]);
  const luma = g.op('Add', [g.op('MatMul', [yW, g.op('Reshape', [clipped, g.int64('rgb_rows', [3, w * h])])]), g.scalar('y_bias', 16 + 0.5)]);
  const y8 = g.op('Cast', [luma], { to: { int: ElemType.UINT8 } });
  const pooled = g.op('AveragePool', [clipped], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
  const uvW = g.float(
    'uv_weights',
    Float32Array.of(-37.797 / 255, -74.203 / 255, 112.0 / 255, 112.0 / 255, -93.786 / 255, -18.214 / 255),
    [2, 3],
  );
  const uvB = g.float('uv_bias', Float32Array.of(128 + 0.5, 128 + 0.5), [2, 1]);
  const chroma = g.op('Add', [g.op('MatMul', [uvW, g.op('Reshape', [pooled, g.int64('pooled_rows', [3, (w * h) / 4])])]), uvB]);
  const uv8 = g.op('Cast', [chroma], { to: { int: ElemType.UINT8 } });
  const flat = g.int64('flat_shape', [-1]);
  g.op('Concat', [g.op('Reshape', [y8, flat]), g.op('Reshape', [uv8, flat])], { axis: { int: 0 } }, RENDER_OUTPUT_I420);
}

/**
 * The windows' offsets for a (normalized) coefficient vector: int64 [mouth dx, mouth dy, eyes dx, eyes dy], each
 * the rounded pose motion of the feature's centre, kept so that the window stays inside its view.
 */
export function windowOffsets(basis: Pick<MotionBasis, 'poseFields' | 'mouthWindow' | 'eyeWindow'>, coeffs: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(4);
  const weights = basis.poseFields.map((f) => {
    const c = coeffs[f.coefficient]!;
    return f.side === 'both' ? c : f.side === 'positive' ? Math.max(c, 0) : Math.max(-c, 0);
  });
  [basis.mouthWindow, basis.eyeWindow].forEach((w, k) => {
    let dx = 0;
    let dy = 0;
    weights.forEach((wf, f) => {
      dx += wf * w.motion[2 * f]!;
      dy += wf * w.motion[2 * f + 1]!;
    });
    const clamp = (d: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(d)));
    out[2 * k] = BigInt(clamp(dx, w.view.x - w.home.x, w.view.x + w.view.width - w.width - w.home.x));
    out[2 * k + 1] = BigInt(clamp(dy, w.view.y - w.home.y, w.view.y + w.view.height - w.height - w.home.y));
  });
  return out;
}

/**
 * Premultiplied layers, planar [4, H, W] each: head (C_h, A_h), torso (C_t, A_t), and what shows under the head at
 * rest, U = C_t + (1 - A_t) P [3, H, W]. With C_h = ref - (1 - A_h) U, head over torso over plate is the reference
 * exactly at rest.
 */
function premultipliedLayers(spec: RenderGraphSpec): { head: Float32Array; torso: Float32Array; under: Float32Array } {
  const plane = spec.width * spec.height;
  const head = new Float32Array(4 * plane);
  const torso = new Float32Array(4 * plane);
  const under = new Float32Array(3 * plane);
  const { reference: ref, headAlpha: ah, torsoAlpha: at, torsoColour: tc, plate: p } = spec;
  for (let i = 0; i < plane; i++) {
    const a = ah[i]!;
    const t = at[i]!;
    for (let c = 0; c < 3; c++) {
      const visible = ref[3 * i + c]! - (1 - t) * p[3 * i + c]!;
      const ct = (1 - a) * visible + a * t * tc[3 * i + c]!;
      const u = ct + (1 - t) * p[3 * i + c]!;
      head[c * plane + i] = ref[3 * i + c]! - (1 - a) * u;
      torso[c * plane + i] = ct;
      under[c * plane + i] = u;
    }
    head[3 * plane + i] = a;
    torso[3 * plane + i] = t;
  }
  return { head, torso, under };
}

interface Window {
  /** The window's grid in image units [1, h, w, 2], and in each extra lattice's units. */
  readonly q: string;
  readonly qs: readonly string[];
  /** [1, C, boxH, boxW] over the render box -> [1, C, h, w] under the window. */
  cut(x: string): string;
  /** [1, C, h, w] -> [1, C, boxH, boxW], zeros outside the window. */
  paste(x: string): string;
}

/**
 * A feature window placed at home + offset (offsets[index], offsets[index + 1]: dx, dy; the renderer keeps the
 * window inside its view): the head pose grid at full resolution over it, sliced from fields precomputed over the
 * whole view, in image units and in the units of each of `lattices` (one MatMul for all).
 */
function featureWindow(
  g: OnnxGraphBuilder,
  spec: RenderGraphSpec,
  w: FeatureWindow,
  lattices: readonly Lattice[],
  wPose: string,
  box: Box,
  index: number,
  name: string,
): Window {
  const { width: W, height: H } = spec;
  const v = w.view;
  const vPlane = v.width * v.height;
  const Fp = spec.poseFields.length;
  const C = 1 + lattices.length;
  const maps = lattices.map((l) => latticeMap(l, W, H));
  const ids = new Float32Array(vPlane * 2 * C);
  const basis = new Float32Array(Fp * vPlane * 2 * C);
  for (let y = 0; y < v.height; y++) {
    for (let x = 0; x < v.width; x++) {
      const n = y * v.width + x;
      const id = [(2 * (v.x + x) + 1) / W - 1, (2 * (v.y + y) + 1) / H - 1] as const;
      for (let a = 0; a < 2; a++) {
        ids[n * 2 * C + a] = id[a];
        maps.forEach((m, j) => (ids[n * 2 * C + 2 * (j + 1) + a] = id[a] * m[a]!.a + m[a]!.b));
        for (let f = 0; f < Fp; f++) {
          const d = w.pose[2 * (f * vPlane + n) + a]!;
          basis[(f * vPlane + n) * 2 * C + a] = d;
          maps.forEach((m, j) => (basis[(f * vPlane + n) * 2 * C + 2 * (j + 1) + a] = d * m[a]!.a));
        }
      }
    }
  }
  // Offsets -> the window's top-left inside the view, and inside the render box.
  const off = g.op('Gather', [RENDER_INPUT_OFFSETS, g.int64(`${name}_offset_index`, [index + 1, index])], { axis: { int: 0 } }); // (dy, dx)
  const inView = g.op('Add', [off, g.int64(`${name}_home_in_view`, [w.home.y - v.y, w.home.x - v.x])]);
  const inBox = g.op('Add', [off, g.int64(`${name}_home_in_box`, [w.home.y - box.y, w.home.x - box.x])]);
  const size = g.int64(`${name}_size`, [w.height, w.width]);
  const cutAt = (x: string, starts: string, axes: number[]): string =>
    g.op('Slice', [x, starts, g.op('Add', [starts, size]), g.int64(`${name}_axes_${axes.join('')}_${g.fresh('a')}`, axes)]);
  const posed = g.op('Reshape', [cutAt(g.float(`${name}_pose`, basis, [Fp, v.height, v.width, 2 * C]), inView, [1, 2]), g.int64(`${name}_pose_rows`, [Fp, w.height * w.width * 2 * C])]);
  const qAll = g.op('Add', [
    cutAt(g.float(`${name}_identity`, ids, [1, v.height, v.width, 2 * C]), inView, [1, 2]),
    g.op('Reshape', [g.op('MatMul', [wPose, posed]), g.int64(`${name}_q_shape`, [1, w.height, w.width, 2 * C])]),
  ]);
  const part = (j: number): string => slice(g, qAll, `${name}_q${j}`, [2 * j], [2 * j + 2], [3]);
  const zero2 = g.int64(`${name}_zero2`, [0, 0]);
  const far = g.op('Sub', [g.int64(`${name}_box_far`, [box.height - w.height, box.width - w.width]), inBox]);
  const pads = g.op('Concat', [zero2, inBox, zero2, far], { axis: { int: 0 } });
  return {
    q: part(0),
    qs: lattices.map((_, j) => part(j + 1)),
    cut: (x) => cutAt(x, inBox, [2, 3]),
    paste: (x) => g.op('Pad', [x, pads], { mode: 'constant' }),
  };
}

/** 1 inside a window, fading to 0 over its outer 3 pixels. */
function borderFade(w: FeatureWindow): Float32Array {
  const out = new Float32Array(w.width * w.height);
  for (let y = 0; y < w.height; y++) {
    for (let x = 0; x < w.width; x++) {
      const d = Math.min(x, y, w.width - 1 - x, w.height - 1 - y);
      out[y * w.width + x] = Math.min(1, d / 3);
    }
  }
  return out;
}

/** A box of an image as planar [3, h, w]: from interleaved RGB bytes, or (planar = true) from planar floats. */
function planarBox(src: Uint8Array | Float32Array, W: number, b: Box, planar = false): Float32Array {
  const out = new Float32Array(3 * b.width * b.height);
  const plane = src.length / 3;
  for (let y = 0; y < b.height; y++) {
    for (let x = 0; x < b.width; x++) {
      const i = (b.y + y) * W + b.x + x;
      for (let c = 0; c < 3; c++) out[c * b.width * b.height + y * b.width + x] = planar ? src[c * plane + i]! : src[3 * i + c]!;
    }
  }
  return out;
}

/** Pads [1, C, h, w] over `inner` with zeros to [1, C, H, W] over `outer` (a no-op when they are the same box). */
function padTo(g: OnnxGraphBuilder, x: string, inner: Box, outer: Box, name: string): string {
  const top = inner.y - outer.y;
  const left = inner.x - outer.x;
  const bottom = outer.y + outer.height - inner.y - inner.height;
  const right = outer.x + outer.width - inner.x - inner.width;
  if (top === 0 && left === 0 && bottom === 0 && right === 0) return x;
  return g.op('Pad', [x, g.int64(`${name}_pads`, [0, 0, top, left, 0, 0, bottom, right])], { mode: 'constant' });
}

/** Identity grid at a lattice's nodes, planar [2, rows, cols]. */
function latticeIdentity(l: Lattice, gx: (x: number) => number, gy: (y: number) => number): Float32Array {
  const plane = l.cols * l.rows;
  const out = new Float32Array(2 * plane);
  for (let i = 0; i < l.rows; i++) {
    for (let j = 0; j < l.cols; j++) {
      out[i * l.cols + j] = gx(l.box.x + (j * (l.box.width - 1)) / (l.cols - 1));
      out[plane + i * l.cols + j] = gy(l.box.y + (i * (l.box.height - 1)) / (l.rows - 1));
    }
  }
  return out;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function slice(g: OnnxGraphBuilder, input: string, name: string, starts: number[], ends: number[], axes: number[]): string {
  return g.op('Slice', [input, g.int64(`${name}_start`, starts), g.int64(`${name}_end`, ends), g.int64(`${name}_axes`, axes)]);
}

/** Bilinear GridSample with zero padding and align_corners = 0: onnxruntime's fast path (a per-pixel plan). */
function sample(g: OnnxGraphBuilder, input: string, grid: string): string {
  return g.op('GridSample', [input, grid], { mode: 'bilinear', padding_mode: 'zeros', align_corners: { int: 0 } });
}

/**
 * The affine map per axis (u = a g + b) from image-normalized coordinates (align_corners = 0 over W x H) to the
 * normalized coordinates of an image whose pixels are the nodes of lattice `l`.
 */
function latticeMap(l: Lattice, W: number, H: number): [{ a: number; b: number }, { a: number; b: number }] {
  const axis = (size: number, start: number, span: number, nodes: number): { a: number; b: number } => {
    const step = (span - 1) / (nodes - 1);
    const a = size / (step * nodes);
    return { a, b: a - (1 + 2 * start) / (step * nodes) + 1 / nodes - 1 };
  };
  return [axis(W, l.box.x, l.box.width, l.cols), axis(H, l.box.y, l.box.height, l.rows)];
}

function validate(spec: RenderGraphSpec): void {
  const { width: W, height: H, coefficientCount: K } = spec;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 2 || H < 2 || W % 2 !== 0 || H % 2 !== 0) {
    throw new RangeError(`render size must be even positive integers (I420), got ${W}x${H}`);
  }
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`coefficientCount must be a positive integer, got ${K}`);
  const inside = (name: string, b: Box, even: boolean): void => {
    const ok =
      [b.x, b.y, b.width, b.height].every(Number.isInteger) && b.x >= 0 && b.y >= 0 && b.width >= 1 && b.height >= 1 && b.x + b.width <= W && b.y + b.height <= H;
    if (!ok || (even && [b.x, b.y, b.width, b.height].some((v) => v % 2 !== 0))) {
      throw new RangeError(`${name} ${JSON.stringify(b)} is not an ${even ? 'even ' : ''}integer box inside ${W}x${H}`);
    }
  };
  inside('renderBox', spec.renderBox, true);
  inside('mouthCrop', spec.mouthCrop, false);
  const rb = spec.renderBox;
  for (const [name, w] of [
    ['mouthWindow', spec.mouthWindow],
    ['eyeWindow', spec.eyeWindow],
  ] as const) {
    const v = w.view;
    inside(`${name}.view`, v, false);
    if (v.x < rb.x || v.y < rb.y || v.x + v.width > rb.x + rb.width || v.y + v.height > rb.y + rb.height) {
      throw new RangeError(`${name}.view ${JSON.stringify(v)} is not inside renderBox ${JSON.stringify(rb)}`);
    }
    const h = w.home;
    if (!Number.isInteger(h.x) || !Number.isInteger(h.y) || h.x < v.x || h.y < v.y || h.x + w.width > v.x + v.width || h.y + w.height > v.y + v.height) {
      throw new RangeError(`${name} (${w.width}x${w.height} at ${JSON.stringify(h)}) does not fit its view at rest`);
    }
    expectLength(`${name}.motion`, w.motion.length, spec.poseFields.length * 2);
    expectLength(`${name}.pose`, w.pose.length, spec.poseFields.length * v.width * v.height * 2);
  }
  for (const f of [...spec.poseFields, ...spec.faceFields, ...spec.eyeFields]) {
    if (!Number.isInteger(f.coefficient) || f.coefficient < 0 || f.coefficient >= K) throw new RangeError(`field coefficient ${f.coefficient} out of range`);
  }
  for (const l of [spec.headLattice, spec.torsoLattice, spec.faceLattice, spec.eyeLattice]) {
    if (!Number.isInteger(l.cols) || !Number.isInteger(l.rows) || l.cols < 2 || l.rows < 2 || l.box.width < 2 || l.box.height < 2) {
      throw new RangeError(`lattice ${JSON.stringify(l)} needs at least 2 x 2 nodes over at least 2 x 2 pixels`);
    }
  }
  for (const [name, l] of [
    ['headLattice', spec.headLattice],
    ['torsoLattice', spec.torsoLattice],
  ] as const) {
    const b = l.box;
    inside(`${name}.box`, b, false);
    if (b.x < rb.x || b.y < rb.y || b.x + b.width > rb.x + rb.width || b.y + b.height > rb.y + rb.height) throw new RangeError(`${name} must lie inside renderBox`);
  }
  const plane = W * H;
  const c = spec.mouthCrop.width * spec.mouthCrop.height;
  expectLength('reference', spec.reference.length, plane * 3);
  expectLength('headPose', spec.headPose.length, spec.poseFields.length * spec.headLattice.cols * spec.headLattice.rows * 2);
  expectLength('torsoPose', spec.torsoPose.length, spec.poseFields.length * spec.torsoLattice.cols * spec.torsoLattice.rows * 2);
  expectLength('face', spec.face.length, spec.faceFields.length * 2 * spec.faceLattice.cols * spec.faceLattice.rows);
  expectLength('mouthSeam', spec.mouthSeam.length, plane);
  expectLength('mouthSides', spec.mouthSides.length, spec.faceFields.length * 4 * c);
  expectLength('mouthRegion', spec.mouthRegion.length, c);
  expectLength('mouthLayer', spec.mouthLayer.length, c);
  expectLength('eyes', spec.eyes.length, spec.eyeFields.length * 2 * spec.eyeLattice.cols * spec.eyeLattice.rows);
  expectLength('eyeLid', spec.eyeLid.length, spec.eyeLattice.cols * spec.eyeLattice.rows);
  expectLength('eyeLidTexture', spec.eyeLidTexture.length, spec.eyeLattice.cols * spec.eyeLattice.rows * 3);
  inside('eyeLattice.box', spec.eyeLattice.box, false);
  expectLength('interior', spec.interior.length, c * 3);
  if (spec.jawInterior) expectLength('jawInterior', spec.jawInterior.length, 4 * spec.width * spec.height);
  for (const [name, a, n] of [
    ['headAlpha', spec.headAlpha, plane],
    ['torsoAlpha', spec.torsoAlpha, plane],
    ['torsoColour', spec.torsoColour, plane * 3],
    ['plate', spec.plate, plane * 3],
  ] as const) {
    expectLength(name, a.length, n);
  }
}

function expectLength(name: string, actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`${name}: expected ${expected} values, got ${actual}`);
}
