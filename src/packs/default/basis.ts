// The motion basis of a portrait (MotionBasis in types.ts): every coefficient's backward-warp field, the layers they
// move, and the boxes the render graph works in. The motions themselves live beside this file:
//   lower-face.ts  jawOpen, lipSpread, lipPress, smile: seamed thin-plate splines around the lips;
//   eyes.ts        blinkLeft, blinkRight, browRaise, browFrown;
//   pose.ts        headYaw, headPitch, headRoll, neckSway, breathe (head layer and torso layer);
//   layers.ts      the head / torso / background split of the reference (segment.ts finds the person).
// Face fields are sampled in reference space (the head's own frame), pose fields in output space; the render graph
// composes them (graph.ts), so a mouth that opens on a turned head opens where the turned head shows it.
import { moduleLogger } from '../../log.ts';
import { COEFFICIENT_NAMES, coefficientIndex, type CoefficientName } from './coefficients.ts';
import { UPPER_FACE_FIELDS, UpperFace } from './eyes.ts';
import { buildLayers } from './layers.ts';
import { LIP_MOTIONS, LowerFace, type LipCoefficient } from './lower-face.ts';
import { POSE_FIELDS, PoseModel, distanceTransform } from './pose.ts';
import { segmentPerson } from './segment.ts';
import type { BasisField, Box, FeatureWindow, Lattice, MotionBasis } from './types.ts';

export type { LipMotion, LipMotionDefinition } from './lower-face.ts';

const log = moduleLogger('packs/default/basis');

/** Bump when the basis construction changes: cached avatars built with another version are rebuilt. */
export const BASIS_VERSION = 2;

export interface MotionDefinition {
  /** 'face': a reference-space field applied in the head's frame; 'pose': an output-space field per layer. */
  readonly group: 'face' | 'pose';
  /** Which model builds it. */
  readonly kind: 'lips' | 'eyes' | 'brows' | 'head' | 'body';
  /** 'split': one field per side of zero (rotations: exact inverses); 'linear': one field, scaled by the value. */
  readonly sides: 'linear' | 'split';
}

/** One motion per coefficient (COEFFICIENT_NAMES order). */
export const MOTIONS: Readonly<Record<CoefficientName, MotionDefinition>> = Object.freeze({
  jawOpen: { group: 'face', kind: 'lips', sides: 'linear' },
  lipSpread: { group: 'face', kind: 'lips', sides: 'linear' },
  lipPress: { group: 'face', kind: 'lips', sides: 'linear' },
  smile: { group: 'face', kind: 'lips', sides: 'linear' },
  blinkLeft: { group: 'face', kind: 'eyes', sides: 'linear' },
  blinkRight: { group: 'face', kind: 'eyes', sides: 'linear' },
  browRaise: { group: 'face', kind: 'brows', sides: 'linear' },
  browFrown: { group: 'face', kind: 'brows', sides: 'linear' },
  headYaw: { group: 'pose', kind: 'head', sides: 'split' },
  headPitch: { group: 'pose', kind: 'head', sides: 'split' },
  headRoll: { group: 'pose', kind: 'head', sides: 'split' },
  neckSway: { group: 'pose', kind: 'head', sides: 'linear' },
  breathe: { group: 'pose', kind: 'body', sides: 'linear' },
});

const FACE_NAMES = COEFFICIENT_NAMES.filter((n) => MOTIONS[n].group === 'face');
const BLINKS: readonly CoefficientName[] = COEFFICIENT_NAMES.filter((n) => MOTIONS[n].kind === 'eyes');
/** Feature windows reach this far (pixels) beyond the feature, for the pose's variation across the feature. */
const WINDOW_MARGIN = 12;
const LIP_NAMES = Object.keys(LIP_MOTIONS) as LipCoefficient[];

/** Builds the basis: with the reference, the lips are looked at and the person is segmented by colour. */
export function buildMotionBasis(landmarks: Float32Array, width: number, height: number, reference?: Uint8Array): MotionBasis {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width % 2 || height % 2) {
    throw new RangeError(`basis size must be even positive integers, got ${width}x${height}`);
  }
  if (reference && reference.length !== width * height * 3) {
    throw new RangeError(`reference must be ${width}x${height} RGB (${width * height * 3} bytes), got ${reference.length}`);
  }
  const t0 = performance.now();
  const lower = new LowerFace(landmarks, width, height, reference);
  const upper = new UpperFace(landmarks);
  const seg = segmentPerson(reference, width, height, landmarks);
  const layers = buildLayers(reference ?? new Uint8Array(width * height * 3), width, height, landmarks, seg.alpha, seg.head);
  const pose = new PoseModel({ landmarks, width, height, head: seg.head, neck: layers.neck, separation: layers.separation, headAlpha: layers.headAlpha });
  const sx = 2 / width; // pixels -> normalized grid units
  const sy = 2 / height;

  // Face fields on a lattice every second pixel over the union of the lower and upper face.
  const faceFields: BasisField[] = FACE_NAMES.map((n) => ({ coefficient: coefficientIndex(n), side: 'both' }));
  const faceBox = union(lower.box, clampBox(upper.box, width, height));
  const faceLattice = lattice(grow(faceBox, 2), 2);
  const Ff = faceFields.length;
  const fPlane = faceLattice.cols * faceLattice.rows;
  const face = new Float32Array(Ff * 2 * fPlane);
  const lipMain = new Float64Array(2 * LIP_NAMES.length);
  const eyeOut = new Float64Array(2 * UPPER_FACE_FIELDS.length);
  forNodes(faceLattice, (x, y, n) => {
    lower.evaluate(x, y, lipMain);
    upper.evaluate(x, y, eyeOut);
    FACE_NAMES.forEach((name, k) => {
      if (BLINKS.includes(name)) return; // the eye window renders blinks, at full resolution
      const [dx, dy] = faceValue(name, lipMain, eyeOut);
      face[(2 * k) * fPlane + n] = dx * sx;
      face[(2 * k + 1) * fPlane + n] = dy * sy;
    });
  });

  // Blinks at full resolution over the eyes (where any blink field is non-zero, grown a little).
  const eyeBounds = new Bounds();
  const ub = clampBox(upper.box, width, height);
  for (let y = ub.y; y < ub.y + ub.height; y++) {
    for (let x = ub.x; x < ub.x + ub.width; x++) {
      upper.evaluate(x, y, eyeOut);
      if (Math.abs(eyeOut[0]!) + Math.abs(eyeOut[1]!) + Math.abs(eyeOut[2]!) + Math.abs(eyeOut[3]!) > 1e-4) eyeBounds.add(x, y, 2);
    }
  }
  if (eyeBounds.empty) eyeBounds.add(ub.x + ub.width / 2, ub.y + ub.height / 2, 2);
  const eyeBox = clampBox(eyeBounds.box(), width, height);
  const eyeLattice = lattice(eyeBox, 1);
  const eyeFields: BasisField[] = BLINKS.map((n) => ({ coefficient: coefficientIndex(n), side: 'both' }));
  const ePlane = eyeLattice.cols * eyeLattice.rows;
  const eyes = new Float32Array(eyeFields.length * 2 * ePlane);
  const eyeLid = new Float32Array(ePlane);
  forNodes(eyeLattice, (x, y, n) => {
    upper.evaluate(x, y, eyeOut);
    eyeLid[n] = upper.lidSelector(x, y);
    BLINKS.forEach((name, k) => {
      const [dx, dy] = faceValue(name, lipMain, eyeOut);
      eyes[(2 * k) * ePlane + n] = dx * sx;
      eyes[(2 * k + 1) * ePlane + n] = dy * sy;
    });
  });

  // The mouth: per-side fields at full resolution over the mouth crop, and the seam selector everywhere.
  const crop = lower.mouthCrop;
  const cPlane = crop.width * crop.height;
  const mouthSides = new Float32Array(Ff * 4 * cPlane);
  const mouthRegion = new Float32Array(cPlane);
  const mouthLayer = new Float32Array(cPlane);
  const su = new Float64Array(2 * LIP_NAMES.length);
  const sl = new Float64Array(2 * LIP_NAMES.length);
  for (let cy = 0; cy < crop.height; cy++) {
    for (let cx = 0; cx < crop.width; cx++) {
      const x = crop.x + cx;
      const y = crop.y + cy;
      const j = cy * crop.width + cx;
      lower.evaluate(x, y, lipMain, su, sl);
      upper.evaluate(x, y, eyeOut);
      const w = lower.mouthWeights(x, y);
      mouthRegion[j] = w.region;
      // Only over the head: below the jaw line the layers (chin over neck) decide.
      mouthLayer[j] = w.layer * layers.headAlpha[y * width + x]!;
      FACE_NAMES.forEach((name, k) => {
        // Motions without a seam (eyes, brows) move both sides alike.
        const [ux, uy] = faceValue(name, su, eyeOut);
        const [lx, ly] = faceValue(name, sl, eyeOut);
        mouthSides[(4 * k) * cPlane + j] = ux * sx;
        mouthSides[(4 * k + 1) * cPlane + j] = uy * sy;
        mouthSides[(4 * k + 2) * cPlane + j] = lx * sx;
        mouthSides[(4 * k + 3) * cPlane + j] = ly * sy;
      });
    }
  }
  const mouthSeam = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) mouthSeam[y * width + x] = lower.seamAt(x, y);

  // Pose: where can each layer be seen? Every moving layer pixel and every place the pose can carry it to (for a
  // given point the forward motion is linear in the weights, so its extremes are at the corners of the weight box);
  // the head's points also carry the face motions' reach around them.
  const poseFields: BasisField[] = POSE_FIELDS.map((f) => ({ coefficient: coefficientIndex(f.coefficient), side: f.side }));
  const Fp = poseFields.length;
  const combos = weightCorners();
  const headBounds = new Bounds();
  const torsoBounds = new Bounds();
  const STEP = 3;
  for (let y = 0; y < height; y += STEP) {
    for (let x = 0; x < width; x += STEP) {
      const i = y * width + x;
      const head = layers.headAlpha[i]! > 0.004;
      const torso = layers.torsoAlpha[i]! > 0.004;
      if (!head && !torso) continue;
      const faceHere = head && inside(faceLattice.box, x, y) ? faceAt(face, faceLattice, Ff, x, y, width / 2, height / 2) : 0;
      for (const [layer, on, bounds] of [
        ['head', head, headBounds],
        ['torso', torso, torsoBounds],
      ] as const) {
        if (!on) continue;
        const r = STEP + 2 + (layer === 'head' ? faceHere : 0);
        let moves = layer === 'head' && faceHere > 0.05;
        for (const w of combos) {
          const [fx, fy] = pose.forward(x, y, w, layer);
          if (Math.abs(fx - x) + Math.abs(fy - y) < 0.05) continue;
          moves = true;
          bounds.add(fx, fy, r);
        }
        if (moves) bounds.add(x, y, r);
      }
    }
  }
  if (headBounds.empty) headBounds.add(crop.x + crop.width / 2, crop.y + crop.height / 2, Math.max(crop.width, crop.height));
  if (torsoBounds.empty) torsoBounds.add(crop.x + crop.width / 2, crop.y + crop.height / 2, 2);
  const headBox = clampBox(headBounds.box(), width, height);
  const torsoBox = clampBox(torsoBounds.box(), width, height);
  // The mouth and the eyes get small full-resolution windows that follow the head.
  const mouthWindow = featureWindow(pose, poseFields, combos, crop, { x: lower.frame.origin.x, y: lower.frame.origin.y }, WINDOW_MARGIN, width, height, sx, sy);
  const eyeWindow = featureWindow(pose, poseFields, combos, eyeBox, upper.eyeCentre, WINDOW_MARGIN, width, height, sx, sy);
  const renderBox = evenBox(union(union(union(headBox, torsoBox), crop), union(mouthWindow.view, eyeWindow.view)), width, height);

  // Pose fields on lattices every second pixel over where each layer can be seen.
  const hv = new Float64Array(2 * Fp);
  const tv = new Float64Array(2 * Fp);
  const headLattice = lattice(headBox, 2);
  const torsoLattice = lattice(torsoBox, 2);
  const headPose = new Float32Array(Fp * 2 * headLattice.cols * headLattice.rows);
  const torsoPose = new Float32Array(Fp * 2 * torsoLattice.cols * torsoLattice.rows);
  for (const [l, out, which] of [
    [headLattice, headPose, hv],
    [torsoLattice, torsoPose, tv],
  ] as const) {
    const plane = l.cols * l.rows;
    forNodes(l, (x, y, n) => {
      pose.evaluate(x, y, hv, tv);
      for (let f = 0; f < Fp; f++) {
        out[(2 * f) * plane + n] = which[2 * f]! * sx;
        out[(2 * f + 1) * plane + n] = which[2 * f + 1]! * sy;
      }
    });
  }

  log.debug(
    { width, height, ms: Math.round(performance.now() - t0), renderBox, headBox, torsoBox, faceBox: faceLattice.box, mouthCrop: crop, mouthView: mouthWindow.view, eyeView: eyeWindow.view, segmented: seg.fromColour },
    'motion basis built',
  );
  return Object.freeze({
    version: BASIS_VERSION,
    coefficientNames: COEFFICIENT_NAMES,
    width,
    height,
    renderBox,
    poseFields: Object.freeze(poseFields.map((f) => Object.freeze(f))),
    headLattice,
    headPose,
    torsoLattice,
    torsoPose,
    faceFields: Object.freeze(faceFields.map((f) => Object.freeze(f))),
    faceLattice,
    face,
    eyeFields: Object.freeze(eyeFields.map((f) => Object.freeze(f))),
    eyeLattice,
    eyes,
    eyeLid,
    eyeLidTexture: upper.lidTexture(reference ?? new Uint8Array(width * height * 3), width, eyeLattice.box),
    eyeWindow,
    mouthSeam,
    mouthCrop: Object.freeze(crop),
    mouthSides,
    mouthRegion,
    mouthLayer,
    mouthWindow,
    lipSeam: lower.lips.lipSeam,
    teethVisible: lower.lips.teethVisible,
    lipGap: lower.lips.lipGap,
    headAlpha: layers.headAlpha,
    torsoAlpha: layers.torsoAlpha,
    torsoColour: layers.torsoColour,
    plate: layers.plate,
    segmented: seg.fromColour,
  });
}

function faceValue(name: CoefficientName, lips: Float64Array, eyes: Float64Array): [number, number] {
  const li = LIP_NAMES.indexOf(name as LipCoefficient);
  if (li >= 0) return [lips[2 * li]!, lips[2 * li + 1]!];
  const ei = (UPPER_FACE_FIELDS as readonly string[]).indexOf(name);
  if (ei >= 0) return [eyes[2 * ei]!, eyes[2 * ei + 1]!];
  throw new Error(`no face model for coefficient '${name}'`);
}

/** The corners of the pose weight box: yaw, pitch and roll at -1, 0, +1 (their split fields), sway at -1, 0, +1,
 * breathing at 0 and 1. */
function weightCorners(): Float64Array[] {
  const out: Float64Array[] = [];
  for (const yaw of [-1, 0, 1])
    for (const pitch of [-1, 0, 1])
      for (const roll of [-1, 0, 1])
        for (const sway of [-1, 0, 1])
          for (const breathe of [0, 1]) {
            out.push(Float64Array.of(Math.max(yaw, 0), Math.max(-yaw, 0), Math.max(pitch, 0), Math.max(-pitch, 0), Math.max(roll, 0), Math.max(-roll, 0), sway, breathe));
          }
  return out;
}

/** Sum of the face fields' magnitudes at (x, y), pixels, from the face lattice (nearest node); px per unit per axis. */
function faceAt(face: Float32Array, l: Lattice, count: number, x: number, y: number, pxX: number, pxY: number): number {
  const j = Math.round(((x - l.box.x) * (l.cols - 1)) / (l.box.width - 1));
  const i = Math.round(((y - l.box.y) * (l.rows - 1)) / (l.box.height - 1));
  if (j < 0 || i < 0 || j >= l.cols || i >= l.rows) return 0;
  const plane = l.cols * l.rows;
  const n = i * l.cols + j;
  let s = 0;
  for (let k = 0; k < count; k++) s += Math.hypot(face[2 * k * plane + n]! * pxX, face[(2 * k + 1) * plane + n]! * pxY);
  return s;
}

/**
 * A feature's window: the feature box grown by `margin`; its motion is the forward pose motion of the feature's
 * centre per field; its view spans every place the pose's weight corners can carry it.
 */
function featureWindow(
  pose: PoseModel,
  fields: readonly BasisField[],
  combos: readonly Float64Array[],
  feature: Box,
  centre: { x: number; y: number },
  margin: number,
  width: number,
  height: number,
  sx: number,
  sy: number,
): FeatureWindow {
  const home = clampBox(grow(feature, margin), width, height);
  const Fp = fields.length;
  const motion = new Float32Array(Fp * 2);
  for (let f = 0; f < Fp; f++) {
    const w = new Float64Array(Fp);
    w[f] = 1;
    const [x, y] = pose.forward(centre.x, centre.y, w, 'head');
    motion[2 * f] = x - centre.x;
    motion[2 * f + 1] = y - centre.y;
  }
  const reach = new Bounds();
  for (const w of combos) {
    let dx = 0;
    let dy = 0;
    for (let f = 0; f < Fp; f++) {
      dx += w[f]! * motion[2 * f]!;
      dy += w[f]! * motion[2 * f + 1]!;
    }
    reach.add(dx, dy, 1);
  }
  const r = reach.box();
  const view = clampBox({ x: home.x + Math.floor(r.x), y: home.y + Math.floor(r.y), width: home.width + Math.ceil(r.width) + 1, height: home.height + Math.ceil(r.height) + 1 }, width, height);
  const plane = view.width * view.height;
  const poseAt = new Float32Array(Fp * plane * 2);
  const hv = new Float64Array(2 * Fp);
  const tv = new Float64Array(2 * Fp);
  for (let vy = 0; vy < view.height; vy++) {
    for (let vx = 0; vx < view.width; vx++) {
      pose.evaluate(view.x + vx, view.y + vy, hv, tv);
      const n = vy * view.width + vx;
      for (let f = 0; f < Fp; f++) {
        poseAt[2 * (f * plane + n)] = hv[2 * f]! * sx;
        poseAt[2 * (f * plane + n) + 1] = hv[2 * f + 1]! * sy;
      }
    }
  }
  return Object.freeze({ width: home.width, height: home.height, home: Object.freeze({ x: home.x, y: home.y }), view: Object.freeze(view), motion, pose: poseAt });
}

/** A lattice over `box` with about `step` pixels between nodes (exactly `step` when the box allows). */
export function lattice(box: Box, step: number): Lattice {
  const cols = Math.max(2, Math.ceil((box.width - 1) / step) + 1);
  const rows = Math.max(2, Math.ceil((box.height - 1) / step) + 1);
  return Object.freeze({ box: Object.freeze({ ...box }), cols, rows });
}

/** Pixel position of lattice node (j, i). */
export function nodeX(l: Lattice, j: number): number {
  return l.box.x + (j * (l.box.width - 1)) / (l.cols - 1);
}
export function nodeY(l: Lattice, i: number): number {
  return l.box.y + (i * (l.box.height - 1)) / (l.rows - 1);
}

function forNodes(l: Lattice, f: (x: number, y: number, n: number) => void): void {
  for (let i = 0; i < l.rows; i++) for (let j = 0; j < l.cols; j++) f(nodeX(l, j), nodeY(l, i), i * l.cols + j);
}

/** A growing bounding box of points with radii. */
class Bounds {
  x0 = Infinity;
  y0 = Infinity;
  x1 = -Infinity;
  y1 = -Infinity;
  get empty(): boolean {
    return !(this.x1 >= this.x0);
  }
  add(x: number, y: number, r: number): void {
    this.x0 = Math.min(this.x0, x - r);
    this.y0 = Math.min(this.y0, y - r);
    this.x1 = Math.max(this.x1, x + r);
    this.y1 = Math.max(this.y1, y + r);
  }
  box(): Box {
    return { x: this.x0, y: this.y0, width: this.x1 - this.x0, height: this.y1 - this.y0 };
  }
}

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

function intersect(a: Box, b: Box): Box {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  return { x, y, width: Math.max(1, Math.min(a.x + a.width, b.x + b.width) - x), height: Math.max(1, Math.min(a.y + a.height, b.y + b.height) - y) };
}

function grow(b: Box, d: number): Box {
  return { x: b.x - d, y: b.y - d, width: b.width + 2 * d, height: b.height + 2 * d };
}

function inside(b: Box, x: number, y: number): boolean {
  return x >= b.x && x < b.x + b.width && y >= b.y && y < b.y + b.height;
}

function clampBox(b: Box, width: number, height: number): Box {
  const x = Math.max(0, Math.floor(b.x));
  const y = Math.max(0, Math.floor(b.y));
  return { x, y, width: Math.max(1, Math.min(width, Math.ceil(b.x + b.width)) - x), height: Math.max(1, Math.min(height, Math.ceil(b.y + b.height)) - y) };
}

/** Rounds a box outwards to even coordinates and sizes, inside the image. */
function evenBox(b: Box, width: number, height: number): Box {
  const x0 = Math.max(0, Math.floor(b.x / 2) * 2);
  const y0 = Math.max(0, Math.floor(b.y / 2) * 2);
  const x1 = Math.min(width, Math.ceil((b.x + b.width) / 2) * 2);
  const y1 = Math.min(height, Math.ceil((b.y + b.height) / 2) * 2);
  return Object.freeze({ x: x0, y: y0, width: Math.max(2, x1 - x0), height: Math.max(2, y1 - y0) });
}
