// The lower face's seamed motions (jawOpen, lipSpread, lipPress, smile) as backward-warp fields in REFERENCE space.
//
// How a field is built:
//  1. A motion definition gives each of the 68 landmarks a forward displacement at full strength, in the face
//     frame (u right, v down, units of mouth width), see the definitions below.
//  2. The lips part along a seam, so the face is split into an upper side (everything above the lip line) and a
//     lower side. Each side gets its own thin-plate spline through its landmarks at their DESTINATIONS with the
//     negated displacement as value (a backward warp: "the pixel that lands here came from there"), plus fixed
//     anchors on a ring outside the jaw line.
//  3. The two sides are joined by the seam selector S: a sharp step across the lips (so the lower lip moves
//     rigidly instead of stretching), a smooth blend beyond the mouth corners (so the cheeks stretch gently).
//  4. A falloff mask keeps the field exactly zero above the nose and outside the lower face.
// Around the lips the render graph uses the two sides separately (the mouth layer, graph.ts); elsewhere their blend.
import {
  FaceFrame,
  INNER_LOWER,
  INNER_UPPER,
  LM,
  LipSeam,
  SEAM_COLUMNS,
  innerLipPoint,
  seamKnots,
  signedDistanceToPolygon,
  smoothstep,
} from './geometry.ts';
import { ThinPlateSpline } from './tps.ts';
import type { Box, Point } from './types.ts';

/** Ring anchors sit this far (frame units) outside the jaw line; the field fades to zero there. */
const RING_DISTANCE = 1.5;
/** Width of the seam step across the lips, pixels. */
const SEAM_SHARPNESS_PX = 0.7;

export interface LipMotion {
  /**
   * Forward displacement of every landmark at full strength, frame units, u0, v0, u1, v1, ... (136 values).
   * Each side of the seam also moves the seam itself with its own inner lip, rigidly from the seam to where its
   * inner lip lands, so a parting lip translates (the gap is covered by the mouth interior) instead of stretching.
   */
  readonly displacement: Float64Array;
}

/** frame: the face frame; lm: all landmarks in frame units (u0, v0, ...). */
export type LipMotionDefinition = (frame: FaceFrame, lm: Float64Array) => LipMotion;

class Displacement {
  readonly d = new Float64Array(136);
  constructor(private readonly lm: Float64Array) {}
  /** du along +u (image right for an upright face), dv down. */
  set(i: number, du: number, dv: number): this {
    this.d[2 * i] = du;
    this.d[2 * i + 1] = dv;
    return this;
  }
  /** du towards the mouth's vertical axis (positive = inwards), dv down. */
  inward(i: number, du: number, dv: number): this {
    const u = this.lm[2 * i]!;
    return this.set(i, u > 0 ? -du : du, dv);
  }
  u(i: number): number {
    return this.lm[2 * i]!;
  }
  v(i: number): number {
    return this.lm[2 * i + 1]!;
  }
}

/** Profile across the mouth: 1 at the centre line, 0 at the corners (|u| = half the mouth width = 0.5). */
function across(u: number): number {
  const t = 1 - (u / 0.5) ** 2;
  return t > 0 ? t ** 0.7 : 0;
}

const jawOpen: LipMotionDefinition = (_frame, lm) => {
  const m = new Displacement(lm);
  // Jaw line: the jaw rotates about the ears, so the drop grows from the cheek towards the chin.
  const vTop = (m.v(2) + m.v(14)) / 2;
  const vChin = m.v(LM.chin);
  const chinDrop = 0.5;
  for (let i = 2; i <= 14; i++) {
    const s = Math.min(1, Math.max(0, (m.v(i) - vTop) / (vChin - vTop)));
    m.inward(i, i === LM.chin ? 0 : 0.04 * s, chinDrop * s ** 1.3);
  }
  // Lower lip rides on the jaw: full drop at the centre, less towards the corners; the mouth narrows a little.
  for (const i of LM.lowerLipOnly) m.inward(i, 0.03 * Math.min(1, Math.abs(m.u(i)) / 0.25), 0.1 + 0.35 * across(m.u(i)));
  for (const i of LM.mouthCorners) m.inward(i, 0.045, 0.1);
  // The upper lip lifts slightly.
  for (const i of LM.upperLipOnly) m.inward(i, 0.015 * Math.min(1, Math.abs(m.u(i)) / 0.25), -0.04 * across(m.u(i)));
  return { displacement: m.d };
};

const lipSpread: LipMotionDefinition = (_frame, lm) => {
  const m = new Displacement(lm);
  // +1: corners out, lips thinned and flattened ("ee"); -1 (the same field negated): corners in, lips fuller ("oo").
  for (const i of [48, 54]) m.inward(i, -0.12, -0.015);
  for (const i of [60, 64]) m.inward(i, -0.11, -0.015);
  for (const i of [49, 53]) m.inward(i, -0.075, 0.015);
  for (const i of [55, 59]) m.inward(i, -0.075, -0.015);
  for (const i of [50, 52]) m.inward(i, -0.035, 0.025);
  for (const i of [56, 58]) m.inward(i, -0.035, -0.03);
  for (const i of [61, 63, 65, 67]) m.inward(i, -0.035, 0);
  m.set(51, 0, 0.025);
  m.set(57, 0, -0.03);
  return { displacement: m.d };
};

const lipPress: LipMotionDefinition = (_frame, lm) => {
  const m = new Displacement(lm);
  // The red of both lips rolls in towards the (fixed) lip line; the chin pushes up a little.
  for (const i of [50, 51, 52]) m.set(i, 0, 0.06);
  for (const i of [49, 53]) m.set(i, 0, 0.03);
  for (const i of [56, 57, 58]) m.set(i, 0, -0.065);
  for (const i of [55, 59]) m.set(i, 0, -0.03);
  for (const i of [48, 54]) m.inward(i, 0.015, 0);
  m.set(LM.chin, 0, -0.025);
  for (const i of [7, 9]) m.set(i, 0, -0.02);
  for (const i of [6, 10]) m.set(i, 0, -0.01);
  return { displacement: m.d };
};

const smile: LipMotionDefinition = (_frame, lm) => {
  const m = new Displacement(lm);
  // Corners up and out, the lips stretched with them; the cheeks beside the mouth rise a little.
  for (const i of [48, 54]) m.inward(i, -0.07, -0.1);
  for (const i of [60, 64]) m.inward(i, -0.06, -0.09);
  for (const i of [49, 53]) m.inward(i, -0.04, -0.06);
  for (const i of [59, 55]) m.inward(i, -0.045, -0.065);
  for (const i of [50, 52]) m.inward(i, -0.02, -0.03);
  for (const i of [58, 56]) m.inward(i, -0.02, -0.035);
  for (const i of [61, 63]) m.inward(i, -0.03, -0.05);
  for (const i of [67, 65]) m.inward(i, -0.03, -0.05);
  m.set(51, 0, -0.015);
  m.set(62, 0, -0.01);
  m.set(57, 0, -0.01);
  m.set(66, 0, -0.01);
  for (const i of [4, 12]) m.inward(i, -0.015, -0.045);
  for (const i of [3, 13]) m.inward(i, -0.01, -0.035);
  for (const i of [5, 11]) m.inward(i, -0.01, -0.035);
  for (const i of [6, 10]) m.set(i, 0, -0.015);
  return { displacement: m.d };
};

/** The seamed lower-face motions, by coefficient name. */
export const LIP_MOTIONS = Object.freeze({ jawOpen, lipSpread, lipPress, smile });
export type LipCoefficient = keyof typeof LIP_MOTIONS;

/** Jaw-line landmarks that ride with the jaw (the rest of the jaw line, 0, 1, 15, 16, stays still). */
const JAW_MOVING = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

/** Fixed control points with zero motion: brows, eyes, nose, the top of the jaw line. */
const STILL = [0, 1, 15, 16, 17, 19, 21, 22, 24, 26, 27, 29, 30, 31, 32, 33, 34, 35, 36, 37, 39, 40, 42, 43, 45, 46];

interface Region {
  /** Jaw line polygon (frame units), closed across the cheeks. */
  readonly polygon: readonly Point[];
  /** v where the motion starts (nose bottom) and where it reaches full strength. */
  readonly vStart: number;
  readonly vFull: number;
  readonly ring: Float64Array;
}

function lowerFaceRegion(lm: Float64Array): Region {
  const polygon: Point[] = [];
  for (let i = 1; i <= 15; i++) polygon.push({ x: lm[2 * i]!, y: lm[2 * i + 1]! });
  let cx = 0;
  let cy = 0;
  const centreIdx = [...LM.jaw, ...LM.noseBridge, ...LM.noseBottom];
  for (const i of centreIdx) {
    cx += lm[2 * i]!;
    cy += lm[2 * i + 1]!;
  }
  cx /= centreIdx.length;
  cy /= centreIdx.length;
  const ring: number[] = [];
  for (let i = 1; i <= 15; i++) {
    for (const t of i < 15 ? [0, 0.5] : [0]) {
      const x = lm[2 * i]! * (1 - t) + lm[2 * (i + 1)]! * t;
      const y = lm[2 * i + 1]! * (1 - t) + lm[2 * (i + 1) + 1]! * t;
      const n = Math.hypot(x - cx, y - cy) || 1;
      ring.push(x + ((x - cx) / n) * RING_DISTANCE, y + ((y - cy) / n) * RING_DISTANCE);
    }
  }
  const vNose = lm[2 * LM.noseTip + 1]!;
  const vLip = lm[2 * LM.upperLipTop + 1]!;
  return { polygon, vStart: vNose, vFull: vNose + 0.7 * (vLip - vNose), ring: Float64Array.from(ring) };
}

/** Displacement of an inner-lip contour at parameter t, interpolated between its landmarks like innerLipPoint. */
function contourDisplacement(motion: LipMotion, contour: readonly number[], t: number): [number, number] {
  const segs = contour.length - 1;
  const f = Math.min(segs - 1e-9, Math.max(0, t * segs));
  const i = Math.floor(f);
  const w = f - i;
  const a = contour[i]!;
  const b = contour[i + 1]!;
  const d = motion.displacement;
  return [d[2 * a]! + w * (d[2 * b]! - d[2 * a]!), d[2 * a + 1]! + w * (d[2 * b + 1]! - d[2 * a + 1]!)];
}

/**
 * One side's backward field as a thin-plate spline through: the side's landmarks at their destinations, the seam
 * knots (seamInner: frame units, one per SEAM_COLUMNS entry) at their source and destination with the side's inner
 * lip displacement, the still landmarks, and the ring of zero anchors.
 */
function fitSide(lm: Float64Array, motion: LipMotion, side: 'upper' | 'lower', ring: Float64Array, seamInner: Float64Array): ThinPlateSpline {
  // The upper side is the skull's (upper lip, upper teeth): it ignores the jaw line and the lower lip. The lower side
  // is the jaw's: it ignores the upper lip.
  const exclude = new Set<number>(side === 'upper' ? [...LM.lowerLipOnly, ...JAW_MOVING] : LM.upperLipOnly);
  const moving = new Set<number>();
  for (let i = 0; i < 68; i++) {
    if (motion.displacement[2 * i] !== 0 || motion.displacement[2 * i + 1] !== 0) moving.add(i);
  }
  const pts: number[] = [];
  const vals: number[] = [];
  const include = new Set<number>([...STILL, ...moving, ...LM.outerLip, ...LM.innerLip]);
  for (const i of include) {
    if (exclude.has(i)) continue;
    const du = motion.displacement[2 * i]!;
    const dv = motion.displacement[2 * i + 1]!;
    pts.push(lm[2 * i]! + du, lm[2 * i + 1]! + dv);
    vals.push(-du, -dv);
  }
  SEAM_COLUMNS.forEach((t, j) => {
    const [du, dv] = contourDisplacement(motion, side === 'upper' ? INNER_UPPER : INNER_LOWER, t);
    const u = seamInner[2 * j]!;
    const v = seamInner[2 * j + 1]!;
    pts.push(u, v);
    vals.push(-du, -dv);
    if (Math.hypot(du, dv) > 0.02) {
      pts.push(u + du, v + dv);
      vals.push(-du, -dv);
    }
  });
  for (let j = 0; j < ring.length; j++) {
    pts.push(ring[j]!);
    vals.push(0);
  }
  return new ThinPlateSpline(pts, vals, 1e-4);
}

/** The seam selector at frame point (u, v): 0 above the lip line, 1 below. */
export function seamValue(seam: LipSeam, scale: number, u: number, v: number): number {
  const sharp = SEAM_SHARPNESS_PX / scale;
  const beyond = Math.max(0, seam.outerLeft - u, u - seam.outerRight);
  const tau = sharp + beyond * 0.8;
  const z = (v - seam.at(u)) / tau;
  return 1 / (1 + Math.exp(-Math.max(-40, Math.min(40, z))));
}

export interface LipAnalysis {
  /** Seam knots in image pixels (see seamKnots). */
  readonly lipSeam: Float32Array;
  readonly teethVisible: boolean;
  readonly lipGap: number;
}

/** Fraction of the way from the upper to the lower inner lip probed for teeth. */
const PROBE_FROM = -0.1;
const PROBE_TO = 1.3;
const PROBE_STEP = 0.025;

/**
 * Looks between the inner lips of the reference to place the seam, column by column: a closed mouth or a dark
 * opening is cut in the middle; where teeth show, right below the upper row (or in the dark line between the two
 * rows), so that the upper teeth stay with the skull and only the lower lip (and lower teeth) ride down with the jaw.
 */
export function analyseLips(reference: Uint8Array | undefined, width: number, height: number, frame: FaceFrame): LipAnalysis {
  const L = frame.landmarks;
  let gap = 0;
  for (const t of SEAM_COLUMNS) {
    const u = innerLipPoint(L, INNER_UPPER, t);
    const l = innerLipPoint(L, INNER_LOWER, t);
    gap += Math.hypot(l.x - u.x, l.y - u.y);
  }
  const lipGap = gap / SEAM_COLUMNS.length / frame.scale;
  const middle = SEAM_COLUMNS.map(() => 0.5);
  if (!reference || lipGap < 0.03) return { lipSeam: seamKnots(L, middle), teethVisible: false, lipGap };

  const sample = (x: number, y: number): [number, number, number] => {
    const xi = Math.min(width - 1, Math.max(0, Math.round(x)));
    const yi = Math.min(height - 1, Math.max(0, Math.round(y)));
    const i = 3 * (yi * width + xi);
    return [reference[i]!, reference[i + 1]!, reference[i + 2]!];
  };
  // Lip luminance: inside the outer lip contour, towards the inner lips.
  let lipLuma = 0;
  for (const i of [50, 51, 52, 56, 57, 58]) {
    const inner = i < 55 ? 62 : 66;
    const [r, g, b] = sample(0.7 * L[2 * i]! + 0.3 * L[2 * inner]!, 0.7 * L[2 * i + 1]! + 0.3 * L[2 * inner + 1]!);
    lipLuma += (0.299 * r + 0.587 * g + 0.114 * b) / 6;
  }
  const isTooth = (x: number, y: number): boolean => {
    const [r, g, b] = sample(x, y);
    const max = Math.max(r, g, b);
    const sat = max > 0 ? (max - Math.min(r, g, b)) / max : 0;
    return sat < 0.18 && 0.299 * r + 0.587 * g + 0.114 * b >= lipLuma;
  };
  const steps = Math.round((PROBE_TO - PROBE_FROM) / PROBE_STEP);
  const fractions: Array<number | undefined> = SEAM_COLUMNS.map((t) => {
    const u = innerLipPoint(L, INNER_UPPER, t);
    const l = innerLipPoint(L, INNER_LOWER, t);
    const runs: Array<[number, number]> = [];
    for (let k = 0; k <= steps; k++) {
      const f = PROBE_FROM + k * PROBE_STEP;
      if (!isTooth(u.x + f * (l.x - u.x), u.y + f * (l.y - u.y))) continue;
      const last = runs[runs.length - 1];
      if (last && last[1] === k - 1) last[1] = k;
      else runs.push([k, k]);
    }
    const real = runs.filter(([a, b]) => b - a >= 2); // at least 3 probes: not a glint
    if (real.length === 0) return undefined;
    const f = (k: number): number => PROBE_FROM + k * PROBE_STEP;
    // One row: cut right below it. Two rows: cut in the dark line between them.
    return real.length >= 2 ? (f(real[0]![1]) + f(real[1]![0])) / 2 : f(real[0]![1]) + PROBE_STEP;
  });
  const found = fractions.filter((f): f is number => f !== undefined);
  if (found.length < 2) return { lipSeam: seamKnots(L, middle), teethVisible: false, lipGap };
  const median = [...found].sort((a, b) => a - b)[Math.floor(found.length / 2)]!;
  const filled = fractions.map((f) => Math.min(1.2, Math.max(0, f ?? median)));
  // Median of three along the lips, to drop outliers.
  const smooth = filled.map((f, i) => {
    const w = [filled[Math.max(0, i - 1)]!, f, filled[Math.min(filled.length - 1, i + 1)]!].sort((a, b) => a - b);
    return w[1]!;
  });
  return { lipSeam: seamKnots(L, smooth), teethVisible: true, lipGap };
}

/** The pixel box around the lips where the mouth interior can show. */
function mouthCropBox(frame: FaceFrame, seam: LipSeam, width: number, height: number): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let k = 0; k <= 20; k++) {
    const u = seam.outerLeft - 0.15 + ((seam.outerRight - seam.outerLeft + 0.3) * k) / 20;
    for (const dv of [-0.32, 0.8]) {
      const p = frame.toImage(u, seam.at(u) + dv);
      x0 = Math.min(x0, p.x);
      x1 = Math.max(x1, p.x);
      y0 = Math.min(y0, p.y);
      y1 = Math.max(y1, p.y);
    }
  }
  const xa = Math.max(0, Math.floor(x0));
  const ya = Math.max(0, Math.floor(y0));
  const xb = Math.min(width, Math.ceil(x1) + 1);
  const yb = Math.min(height, Math.ceil(y1) + 1);
  return { x: xa, y: ya, width: Math.max(1, xb - xa), height: Math.max(1, yb - ya) };
}


/**
 * The lower face of one portrait: the seam, the per-motion splines, and the mouth crop, evaluated at any reference
 * point.
 */
export class LowerFace {
  readonly frame: FaceFrame;
  readonly lips: LipAnalysis;
  readonly seam: LipSeam;
  /** The region around the lips where the mouth interior may show (reference pixels, inside the image). */
  readonly mouthCrop: Box;
  /** Where the fields can be non-zero (reference pixels, inside the image). */
  readonly box: Box;
  readonly #region: Region;
  readonly #sides: ReadonlyArray<{ readonly upper: ThinPlateSpline; readonly lower: ThinPlateSpline }>;
  readonly #tu = new Float64Array(2);
  readonly #tl = new Float64Array(2);

  constructor(landmarks: Float32Array, width: number, height: number, reference?: Uint8Array) {
    this.frame = new FaceFrame(landmarks);
    const lm = this.frame.allLandmarks();
    this.lips = analyseLips(reference, width, height, this.frame);
    this.seam = new LipSeam(this.frame, this.lips.lipSeam);
    // The seam's knots between the inner corners (skipping 48, 60 at the start and 64, 54 at the end), frame units.
    const seamInner = new Float64Array(SEAM_COLUMNS.length * 2);
    for (let j = 0; j < SEAM_COLUMNS.length; j++) {
      const p = this.frame.toFrame(this.lips.lipSeam[2 * (j + 2)]!, this.lips.lipSeam[2 * (j + 2) + 1]!);
      seamInner[2 * j] = p.x;
      seamInner[2 * j + 1] = p.y;
    }
    this.#region = lowerFaceRegion(lm);
    this.#sides = Object.values(LIP_MOTIONS).map((def) => {
      const motion = def(this.frame, lm);
      return { upper: fitSide(lm, motion, 'upper', this.#region.ring, seamInner), lower: fitSide(lm, motion, 'lower', this.#region.ring, seamInner) };
    });
    this.mouthCrop = mouthCropBox(this.frame, this.seam, width, height);
    // The support: the ring polygon's bounding box (the mask is zero beyond RING_DISTANCE outside the jaw line).
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    const ring = this.#region.ring;
    for (let i = 0; i < ring.length; i += 2) {
      const p = this.frame.toImage(ring[i]!, ring[i + 1]!);
      x0 = Math.min(x0, p.x);
      x1 = Math.max(x1, p.x);
      y0 = Math.min(y0, p.y);
      y1 = Math.max(y1, p.y);
    }
    const nose = this.frame.toImage(0, this.#region.vStart);
    y0 = Math.max(y0, nose.y - 0.3 * this.frame.scale);
    const xa = Math.max(0, Math.floor(x0));
    const ya = Math.max(0, Math.floor(y0));
    this.box = { x: xa, y: ya, width: Math.max(1, Math.min(width, Math.ceil(x1) + 1) - xa), height: Math.max(1, Math.min(height, Math.ceil(y1) + 1) - ya) };
  }

  /** The seam selector at image pixel (x, y): 0 above the lip line, 1 below. */
  seamAt(x: number, y: number): number {
    const p = this.frame.toFrame(x, y);
    return seamValue(this.seam, this.frame.scale, p.x, p.y);
  }

  /** Falloff mask at image pixel (x, y), 0..1: zero above the nose and outside the lower face. */
  maskAt(x: number, y: number): number {
    const p = this.frame.toFrame(x, y);
    const r = this.#region;
    if (p.y <= r.vStart) return 0;
    const d = signedDistanceToPolygon(p.x, p.y, r.polygon);
    if (d >= RING_DISTANCE) return 0;
    const m = smoothstep(r.vStart, r.vFull, p.y) * (1 - smoothstep(0.55, RING_DISTANCE, d));
    return m < 1e-3 ? 0 : m; // exactly zero, not a denormal smear, outside the lower face
  }

  /**
   * Backward displacements (image pixels) of every lip motion at image pixel (x, y), LIP_MOTIONS order, (dx, dy)
   * pairs: `main` is the seam blend, `upper` / `lower` each side's own (all masked).
   */
  evaluate(x: number, y: number, main: Float64Array, upper?: Float64Array, lower?: Float64Array): void {
    const m = this.maskAt(x, y);
    const n = this.#sides.length;
    if (m <= 0) {
      main.fill(0, 0, 2 * n);
      upper?.fill(0, 0, 2 * n);
      lower?.fill(0, 0, 2 * n);
      return;
    }
    const p = this.frame.toFrame(x, y);
    const s = seamValue(this.seam, this.frame.scale, p.x, p.y);
    const tu = this.#tu;
    const tl = this.#tl;
    const both = upper !== undefined || lower !== undefined;
    this.#sides.forEach((side, k) => {
      tu[0] = tu[1] = tl[0] = tl[1] = 0;
      if (s < 0.9999 || both) side.upper.evaluate(p.x, p.y, tu);
      if (s > 0.0001 || both) side.lower.evaluate(p.x, p.y, tl);
      const d = this.frame.vectorToImage(((1 - s) * tu[0]! + s * tl[0]!) * m, ((1 - s) * tu[1]! + s * tl[1]!) * m);
      main[2 * k] = d.x;
      main[2 * k + 1] = d.y;
      if (upper) {
        const du = this.frame.vectorToImage(tu[0]! * m, tu[1]! * m);
        upper[2 * k] = du.x;
        upper[2 * k + 1] = du.y;
      }
      if (lower) {
        const dl = this.frame.vectorToImage(tl[0]! * m, tl[1]! * m);
        lower[2 * k] = dl.x;
        lower[2 * k + 1] = dl.y;
      }
    });
  }

  /** Inside mouthCrop: where the interior may show (region) and how much the two-layer lips take over (layer). */
  mouthWeights(x: number, y: number): { region: number; layer: number } {
    const p = this.frame.toFrame(x, y);
    const seam = this.seam;
    const beyond = Math.max(seam.outerLeft - p.x, p.x - seam.outerRight);
    const dv = p.y - seam.at(p.x);
    return {
      region: (1 - smoothstep(-0.04, 0.1, beyond)) * (1 - smoothstep(0.6, 0.75, dv)) * (1 - smoothstep(0.2, 0.3, -dv)),
      layer: 1 - smoothstep(0.02, 0.14, beyond),
    };
  }
}
