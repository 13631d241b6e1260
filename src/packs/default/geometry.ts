// Face geometry from the 68 iBUG landmarks: index groups, a face-aligned frame (u right, v down, in units of the
// mouth width) so that motions are defined the same way whatever the head roll, and the lip seam line.
import type { Point } from './types.ts';

export const LM = {
  jaw: range(0, 16),
  chin: 8,
  browRight: range(17, 21),
  browLeft: range(22, 26),
  noseBridge: range(27, 30),
  noseBottom: range(31, 35),
  noseTip: 33,
  eyeRight: range(36, 41),
  eyeLeft: range(42, 47),
  outerLip: range(48, 59),
  innerLip: range(60, 67),
  /** Outer corners (image-left, image-right), inner corners. */
  mouthCorners: [48, 54, 60, 64],
  upperLipTop: 51,
  lowerLipBottom: 57,
  /** Landmarks that belong to the upper lip only (above the seam). */
  upperLipOnly: [49, 50, 51, 52, 53, 61, 62, 63],
  /** Landmarks that belong to the lower lip only (below the seam). */
  lowerLipOnly: [55, 56, 57, 58, 59, 65, 66, 67],
} as const;

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A similarity frame: origin at the centre of the lip seam, ex along the eye line, ey perpendicular (down). */
export class FaceFrame {
  readonly origin: Point;
  readonly ex: Point;
  readonly ey: Point;
  /** Pixels per frame unit: the mouth width (corner 48 to corner 54). */
  readonly scale: number;

  constructor(readonly landmarks: Float32Array) {
    if (landmarks.length !== 136) throw new RangeError(`expected 136 landmark coordinates, got ${landmarks.length}`);
    const eR = mean(landmarks, LM.eyeRight);
    const eL = mean(landmarks, LM.eyeLeft);
    const dx = eL.x - eR.x;
    const dy = eL.y - eR.y;
    const n = Math.hypot(dx, dy) || 1;
    this.ex = { x: dx / n, y: dy / n };
    this.ey = { x: -this.ex.y, y: this.ex.x };
    const top = pt(landmarks, 62);
    const bottom = pt(landmarks, 66);
    this.origin = { x: (top.x + bottom.x) / 2, y: (top.y + bottom.y) / 2 };
    const c0 = pt(landmarks, 48);
    const c1 = pt(landmarks, 54);
    this.scale = Math.max(4, Math.hypot(c1.x - c0.x, c1.y - c0.y));
  }

  /** Image pixel -> frame (u, v). */
  toFrame(x: number, y: number): Point {
    const dx = x - this.origin.x;
    const dy = y - this.origin.y;
    return { x: (dx * this.ex.x + dy * this.ex.y) / this.scale, y: (dx * this.ey.x + dy * this.ey.y) / this.scale };
  }

  /** Frame (u, v) -> image pixel. */
  toImage(u: number, v: number): Point {
    const s = this.scale;
    return {
      x: this.origin.x + (u * this.ex.x + v * this.ey.x) * s,
      y: this.origin.y + (u * this.ex.y + v * this.ey.y) * s,
    };
  }

  /** A frame-unit vector -> image pixels (no translation). */
  vectorToImage(du: number, dv: number): Point {
    const s = this.scale;
    return { x: (du * this.ex.x + dv * this.ey.x) * s, y: (du * this.ex.y + dv * this.ey.y) * s };
  }

  /** Landmark i in frame units. */
  landmark(i: number): Point {
    return this.toFrame(this.landmarks[2 * i]!, this.landmarks[2 * i + 1]!);
  }

  /** All 68 landmarks in frame units, as u0, v0, u1, v1, ... */
  allLandmarks(): Float64Array {
    const out = new Float64Array(136);
    for (let i = 0; i < 68; i++) {
      const p = this.landmark(i);
      out[2 * i] = p.x;
      out[2 * i + 1] = p.y;
    }
    return out;
  }
}

/** Inner-lip contours from corner to corner: upper (60-64) and lower (60, 67, 66, 65, 64). */
export const INNER_UPPER = [60, 61, 62, 63, 64] as const;
export const INNER_LOWER = [60, 67, 66, 65, 64] as const;
/** Where along the inner lips (0 = corner 60, 1 = corner 64) the seam gets a knot. */
export const SEAM_COLUMNS = [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875] as const;

/** The point at parameter t (0..1) along an inner-lip contour, piecewise linear between its landmarks. */
export function innerLipPoint(landmarks: Float32Array, contour: readonly number[], t: number): Point {
  const segs = contour.length - 1;
  const f = Math.min(segs - 1e-9, Math.max(0, t * segs));
  const i = Math.floor(f);
  const w = f - i;
  const a = pt(landmarks, contour[i]!);
  const b = pt(landmarks, contour[i + 1]!);
  return { x: a.x + w * (b.x - a.x), y: a.y + w * (b.y - a.y) };
}

/**
 * Seam knots in image pixels (x0, y0, x1, y1, ...): outer corner 48, inner corner 60, one knot per SEAM_COLUMNS
 * entry placed at `fractions[i]` of the way from the upper to the lower inner lip, inner corner 64, outer corner 54.
 */
export function seamKnots(landmarks: Float32Array, fractions: readonly number[]): Float32Array {
  if (fractions.length !== SEAM_COLUMNS.length) throw new RangeError(`expected ${SEAM_COLUMNS.length} seam fractions`);
  const pts: Point[] = [pt(landmarks, 48), pt(landmarks, 60)];
  SEAM_COLUMNS.forEach((t, i) => {
    const u = innerLipPoint(landmarks, INNER_UPPER, t);
    const l = innerLipPoint(landmarks, INNER_LOWER, t);
    const f = fractions[i]!;
    pts.push({ x: u.x + f * (l.x - u.x), y: u.y + f * (l.y - u.y) });
  });
  pts.push(pt(landmarks, 64), pt(landmarks, 54));
  return Float32Array.from(pts.flatMap((p) => [p.x, p.y]));
}

/**
 * The line where the lips meet, in frame units, as a function v = seam(u): through the seam knots (see seamKnots),
 * flat beyond the outer corners.
 */
export class LipSeam {
  /** Knots sorted by u. */
  readonly us: number[];
  readonly vs: number[];
  /** u of the outer corners (left < right) and of the inner corners. */
  readonly outerLeft: number;
  readonly outerRight: number;
  readonly innerLeft: number;
  readonly innerRight: number;

  constructor(frame: FaceFrame, knotsPx: Float32Array) {
    if (knotsPx.length < 4 || knotsPx.length % 2 !== 0) throw new RangeError('a lip seam needs at least two knots');
    const knots: Point[] = [];
    for (let i = 0; i < knotsPx.length; i += 2) knots.push(frame.toFrame(knotsPx[i]!, knotsPx[i + 1]!));
    knots.sort((a, b) => a.x - b.x);
    // Enforce strictly increasing u (degenerate landmarks on tiny faces).
    for (let i = 1; i < knots.length; i++) {
      if (knots[i]!.x <= knots[i - 1]!.x) knots[i] = { x: knots[i - 1]!.x + 1e-3, y: knots[i]!.y };
    }
    this.us = knots.map((k) => k.x);
    this.vs = knots.map((k) => k.y);
    this.outerLeft = this.us[0]!;
    this.outerRight = this.us[this.us.length - 1]!;
    this.innerLeft = Math.min(frame.landmark(60).x, frame.landmark(64).x);
    this.innerRight = Math.max(frame.landmark(60).x, frame.landmark(64).x);
  }

  at(u: number): number {
    const us = this.us;
    const vs = this.vs;
    if (u <= us[0]!) return vs[0]!;
    const last = us.length - 1;
    if (u >= us[last]!) return vs[last]!;
    let i = 1;
    while (us[i]! < u) i++;
    const t = (u - us[i - 1]!) / (us[i]! - us[i - 1]!);
    return vs[i - 1]! + t * (vs[i]! - vs[i - 1]!);
  }
}

export function pt(landmarks: Float32Array, i: number): Point {
  return { x: landmarks[2 * i]!, y: landmarks[2 * i + 1]! };
}

export function mean(landmarks: Float32Array, indices: readonly number[]): Point {
  let x = 0;
  let y = 0;
  for (const i of indices) {
    x += landmarks[2 * i]!;
    y += landmarks[2 * i + 1]!;
  }
  return { x: x / indices.length, y: y / indices.length };
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/** Distance from p to the closed polygon's boundary, negative inside. */
export function signedDistanceToPolygon(px: number, py: number, poly: readonly Point[]): number {
  let inside = false;
  let best = Infinity;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[j]!;
    const b = poly[i]!;
    if (a.y > py !== b.y > py && px < ((b.x - a.x) * (py - a.y)) / (b.y - a.y) + a.x) inside = !inside;
    const ex = b.x - a.x;
    const ey = b.y - a.y;
    const len2 = ex * ex + ey * ey || 1e-12;
    const t = Math.min(1, Math.max(0, ((px - a.x) * ex + (py - a.y) * ey) / len2));
    const dx = px - (a.x + t * ex);
    const dy = py - (a.y + t * ey);
    best = Math.min(best, dx * dx + dy * dy);
  }
  const d = Math.sqrt(best);
  return inside ? -d : d;
}
