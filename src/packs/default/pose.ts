// Head pose, neck sway and breathing as backward-warp fields in OUTPUT space, one set per layer (layers.ts):
//  - the head layer (face, hair, everything above the jaw line) moves rigidly;
//  - the torso layer stays, except the neck, which follows the head at the jaw line and fades to still at its base,
//    and breathing, which lifts the neck and upper chest.
// The head is a depth map over the reference: a rounded surface inside the head ellipse (flat-ish across the face,
// curving back towards the hair's outline and the top of the head), a nose ridge on it, a thinner neck below the
// chin. Yaw and pitch move each point by sin(angle) x its depth (first-order rotation about an axis in the head's
// centre plane: the face slides within a still outline, the nose more than the cheeks, the far side compresses);
// roll is an in-plane rotation about a pivot at the neck; sway is a shift.
//
// The render graph needs the inverse ("the pixel shown here comes from there"), so every field is the exact
// inverse of its forward motion, found by fixed-point iteration; rotations get one field per sign (the inverse of
// +15 degrees is not the negated inverse of -15 degrees) and the graph picks by the sign of the coefficient.
// Breathing is a small upward shift and is its own inverse to well under a pixel.
import type { HeadEllipse } from './segment.ts';
import { faceMeasures, type FaceMeasures } from './segment.ts';
import { LM, pt } from './geometry.ts';

/** One pose field: which coefficient drives it and on which side of zero. */
export interface PoseFieldSpec {
  readonly coefficient: 'headYaw' | 'headPitch' | 'headRoll' | 'neckSway' | 'breathe';
  /** 'both': weight = c; 'positive': max(c, 0); 'negative': max(-c, 0). */
  readonly side: 'both' | 'positive' | 'negative';
}

export const POSE_FIELDS: readonly PoseFieldSpec[] = Object.freeze([
  { coefficient: 'headYaw', side: 'positive' },
  { coefficient: 'headYaw', side: 'negative' },
  { coefficient: 'headPitch', side: 'positive' },
  { coefficient: 'headPitch', side: 'negative' },
  { coefficient: 'headRoll', side: 'positive' },
  { coefficient: 'headRoll', side: 'negative' },
  { coefficient: 'neckSway', side: 'both' },
  { coefficient: 'breathe', side: 'both' },
]);
export const POSE_FIELD_COUNT = POSE_FIELDS.length;

/** +-1 of a rotation coefficient. */
export const POSE_ANGLE_DEG = 15;
/** Sway at +-1 and breathing at 1, in face widths (landmark 0 to 16); the head rises by HEAD_BREATHE of it. */
const SWAY_FW = 0.04;
const BREATHE_FW = 0.025;
const HEAD_BREATHE = 0.4;
/** Depth of the face plane in front of the rotation axis, face widths; the nose ridge on top of it. */
const FACE_DEPTH_FW = 0.62;
const NOSE_DEPTH_FW = 0.15;
/** Depth of the neck relative to the face plane. */
const NECK_DEPTH = 0.45;
const ITERATIONS = 24;

export interface PoseInput {
  readonly landmarks: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly head: HeadEllipse;
  /** Neck weight over the reference [H, W]: 1 where the torso layer follows the head fully (see layers.ts). */
  readonly neck: Float32Array;
  /** Per column, the y of the head/torso separation (layers.ts). */
  readonly separation: Float32Array;
  /** Head-layer alpha [H, W] (layers.ts): its outline per row shapes the turn. */
  readonly headAlpha: Float32Array;
}

/** A raster sampled bilinearly with clamping. */
class Raster {
  constructor(
    readonly data: Float32Array,
    readonly width: number,
    readonly height: number,
  ) {}
  at(x: number, y: number): number {
    const w = this.width;
    const fx = Math.min(w - 1, Math.max(0, x));
    const fy = Math.min(this.height - 1, Math.max(0, y));
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const x1 = Math.min(w - 1, x0 + 1);
    const y1 = Math.min(this.height - 1, y0 + 1);
    const tx = fx - x0;
    const ty = fy - y0;
    const d = this.data;
    const a = d[y0 * w + x0]! + tx * (d[y0 * w + x1]! - d[y0 * w + x0]!);
    const b = d[y1 * w + x0]! + tx * (d[y1 * w + x1]! - d[y1 * w + x0]!);
    return a + ty * (b - a);
  }
}

const ONE: Raster = new Raster(Float32Array.of(1), 1, 1);

export class PoseModel {
  readonly fields = POSE_FIELDS;
  readonly measures: FaceMeasures;
  /** Roll pivot (pixels). */
  readonly pivot: { readonly x: number; readonly y: number };
  /** Depth for yaw and for pitch, head layer and torso layer (see depthMaps). */
  readonly #yaw: Raster;
  readonly #pitch: Raster;
  readonly #neckYaw: Raster;
  readonly #neckPitch: Raster;
  readonly #neck: Raster;
  /** Inverse yaw / pitch displacement tables (head, torso) x (+, -) [H, W]: see inverseTable. */
  readonly #inverse: { readonly head: readonly Raster[]; readonly torso: readonly Raster[] };
  readonly #sin: number;
  readonly #cos: number;
  readonly #sway: number;
  readonly #breathe: number;

  constructor(input: PoseInput) {
    const { width, height } = input;
    const m = faceMeasures(input.landmarks);
    this.measures = m;
    this.pivot = { x: m.chin.x, y: m.chin.y + 0.12 * m.fh };
    const rad = (POSE_ANGLE_DEG * Math.PI) / 180;
    this.#sin = Math.sin(rad);
    this.#cos = Math.cos(rad);
    this.#sway = SWAY_FW * m.fw;
    this.#breathe = BREATHE_FW * m.fw;
    const d = depthMaps(input, m);
    this.#yaw = new Raster(d.yaw, width, height);
    this.#pitch = new Raster(d.pitch, width, height);
    this.#neckYaw = new Raster(d.neckYaw, width, height);
    this.#neckPitch = new Raster(d.neckPitch, width, height);
    this.#neck = new Raster(input.neck, width, height);
    const tables = (yaw: Raster, pitch: Raster): Raster[] =>
      [1, -1, 1, -1].map((sign, k) => new Raster(inverseTable(k < 2 ? yaw : pitch, k < 2 ? 'x' : 'y', (k < 2 ? sign : -sign) * this.#sin), width, height));
    this.#inverse = { head: tables(this.#yaw, this.#pitch), torso: tables(this.#neckYaw, this.#neckPitch) };
  }

  /** An upper bound of any single field's displacement, pixels (for crop margins). */
  get reach(): number {
    const m = this.measures;
    const far = Math.hypot(Math.max(this.pivot.x, this.#yaw.width - this.pivot.x), this.pivot.y);
    return Math.max(far * this.#sin, (FACE_DEPTH_FW + NOSE_DEPTH_FW) * m.fw * this.#sin) + this.#sway + this.#breathe;
  }

  /**
   * Backward displacements (pixels) at output point (x, y), POSE_FIELDS order, (dx, dy) pairs: `head` for the head
   * layer, `torso` for the torso layer. Adding one to (x, y) gives the reference point that layer shows there.
   */
  evaluate(x: number, y: number, head: Float64Array, torso: Float64Array): void {
    this.#layer(x, y, head, this.#inverse.head, ONE, HEAD_BREATHE * this.#breathe * breatheProfile(this.measures, x, y));
    this.#layer(x, y, torso, this.#inverse.torso, this.#neck, this.#breathe * breatheProfile(this.measures, x, y));
  }

  /**
   * Where a layer's point at reference (x, y) is shown for field weights `w` (POSE_FIELDS order, each 0..1; the
   * 'both' fields may be negative): the forward motions, summed. Used to find where the output can change.
   */
  forward(x: number, y: number, w: Float64Array, layer: 'head' | 'torso'): [number, number] {
    const head = layer === 'head';
    const zy = (head ? this.#yaw : this.#neckYaw).at(x, y);
    const zp = (head ? this.#pitch : this.#neckPitch).at(x, y);
    const k = head ? 1 : this.#neck.at(x, y);
    const s = this.#sin;
    let dx = s * zy * (w[0]! - w[1]!) + this.#sway * k * w[6]!;
    let dy = -s * zp * (w[2]! - w[3]!) - (head ? HEAD_BREATHE : 1) * this.#breathe * breatheProfile(this.measures, x, y) * w[7]!;
    const ux = x - this.pivot.x;
    const uy = y - this.pivot.y;
    for (const [f, sign] of [
      [4, 1],
      [5, -1],
    ] as const) {
      const sn = sign * s;
      dx += k * w[f]! * (this.#cos * ux - sn * uy - ux);
      dy += k * w[f]! * (sn * ux + this.#cos * uy - uy);
    }
    return [x + dx, y + dy];
  }

  #layer(x: number, y: number, out: Float64Array, inverse: readonly Raster[], weight: Raster, lift: number): void {
    const uniform = weight === ONE;
    const w = (rx: number, ry: number): number => (uniform ? 1 : weight.at(rx, ry));
    // Yaw (fields 0, 1) and pitch (2, 3) from the inverse tables.
    out[0] = inverse[0]!.at(x, y);
    out[1] = 0;
    out[2] = inverse[1]!.at(x, y);
    out[3] = 0;
    out[4] = 0;
    out[5] = inverse[2]!.at(x, y);
    out[6] = 0;
    out[7] = inverse[3]!.at(x, y);
    // Roll: +1 clockwise on screen about the pivot.
    for (const [f, sign] of [
      [4, 1],
      [5, -1],
    ] as const) {
      const r = this.#solveRoll(x, y, sign, w);
      out[2 * f] = r[0] - x;
      out[2 * f + 1] = r[1] - y;
    }
    // Sway: forward dx = w * sway.
    out[12] = solve1d(x, (r) => this.#sway * w(r, y)) - x;
    out[13] = 0;
    out[14] = 0;
    out[15] = lift;
  }

  #solveRoll(x: number, y: number, sign: number, weight: (x: number, y: number) => number): [number, number] {
    const { x: px, y: py } = this.pivot;
    const c = this.#cos;
    const s = sign * this.#sin;
    const d = (rx: number, ry: number): [number, number] => {
      const w = weight(rx, ry);
      const ux = rx - px;
      const uy = ry - py;
      return [w * (c * ux - s * uy - ux), w * (s * ux + c * uy - uy)];
    };
    let [dx, dy] = d(x, y);
    let rx = x - dx;
    let ry = y - dy;
    for (let i = 0; i < ITERATIONS; i++) {
      [dx, dy] = d(rx, ry);
      const nx = x - dx;
      const ny = y - dy;
      if (Math.abs(nx - rx) + Math.abs(ny - ry) < 1e-3) return [nx, ny];
      rx = i < 8 ? nx : 0.5 * (rx + nx);
      ry = i < 8 ? ny : 0.5 * (ry + ny);
    }
    return [rx, ry];
  }
}

/**
 * The inverse of a motion along one axis, r -> r + k * depth(r), per row (axis 'x') or per column (axis 'y'), as a
 * table of backward displacements at integer output pixels [H, W]. Where the motion folds (the far side of a turned
 * face compresses past zero width), the nearest surface wins: of all the points landing on a pixel, the one with the
 * largest depth, as the eye would see it.
 */
function inverseTable(depth: Raster, axis: 'x' | 'y', k: number): Float32Array {
  const { width, height } = depth;
  const out = new Float32Array(width * height);
  const n = axis === 'x' ? width : height;
  const lines = axis === 'x' ? height : width;
  const best = new Float32Array(n);
  const pos = new Float32Array(n);
  const z = new Float32Array(n);
  for (let line = 0; line < lines; line++) {
    const at = (i: number): number => (axis === 'x' ? line * width + i : i * width + line);
    for (let i = 0; i < n; i++) {
      z[i] = depth.data[at(i)]!;
      best[i] = -Infinity;
      pos[i] = i;
    }
    for (let i = 0; i < n - 1; i++) {
      const f0 = i + k * z[i]!;
      const f1 = i + 1 + k * z[i + 1]!;
      const lo = Math.ceil(Math.min(f0, f1) - 1e-6);
      const hi = Math.floor(Math.max(f0, f1) + 1e-6);
      for (let p = Math.max(0, lo); p <= Math.min(n - 1, hi); p++) {
        const t = f1 === f0 ? 0 : Math.min(1, Math.max(0, (p - f0) / (f1 - f0)));
        const zz = z[i]! + t * (z[i + 1]! - z[i]!);
        if (zz > best[p]!) {
          best[p] = zz;
          pos[p] = i + t;
        }
      }
    }
    for (let p = 0; p < n; p++) out[at(p)] = pos[p]! - p;
  }
  return out;
}

/** Solves r + d(r) = p along one axis (damped once it has not settled). */
function solve1d(p: number, d: (r: number) => number): number {
  let r = p - d(p);
  for (let i = 0; i < ITERATIONS; i++) {
    const next = p - d(r);
    if (Math.abs(next - r) < 1e-3) return next;
    r = i < 8 ? next : 0.5 * (r + next);
  }
  return r;
}

/** Where breathing lifts, 0..1: neck and upper chest fully, the head 40%, fading sideways and down the chest. */
export function breatheProfile(m: FaceMeasures, x: number, y: number): number {
  const dx = Math.abs(x - m.chin.x) / m.fw;
  const side = 1 - smooth(0.75, 1.15, dx);
  if (side <= 0) return 0;
  const t = (y - m.chin.y) / m.fh;
  const vertical = t < 0.15 ? 0.4 + 0.6 * smooth(-0.1, 0.15, t) : 1 - smooth(0.45, 0.95, t);
  return side * vertical;
}

function smooth(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/**
 * Depth in front of the rotation axis, pixels, over the reference:
 *  - for yaw, the horizontal profile falls to zero at the head layer's own outline in each row (smoothed over
 *    rows), so that a turn never opens a gap at the sides: the outline stays, the face slides and foreshortens;
 *  - for pitch, it falls to zero at the sides of the head ellipse and at the top of the head;
 *  both with the nose ridge on top; pitch's is held constant below the jaw line (so the chin never folds over
 *  itself), yaw's simply continues below it;
 *  - for the torso layer (the neck): equal to the head's at the jaw line, so the outline stays joined there, easing
 *    to a thinner neck further down, times the neck weight.
 */
function depthMaps(input: PoseInput, m: FaceMeasures): { yaw: Float32Array; pitch: Float32Array; neckYaw: Float32Array; neckPitch: Float32Array } {
  const { width, height, head, landmarks, separation } = input;
  const hc = FACE_DEPTH_FW * m.fw;
  const top = head.cy - head.ry;
  const foreheadY = m.browY - 0.1 * m.fh;
  const noseAmp = NOSE_DEPTH_FW * m.fw;
  const sigma = 0.07 * m.fw;
  const nose = [
    { p: pt(landmarks, 28), a: 0.35 },
    { p: pt(landmarks, 29), a: 0.6 },
    { p: pt(landmarks, 30), a: 0.95 },
    { p: pt(landmarks, LM.noseTip), a: 0.75 },
  ];
  const noseAt = (x: number, y: number): number => {
    let d = 0;
    for (const k of nose) {
      const r2 = (x - k.p.x) ** 2 + (y - k.p.y) ** 2;
      if (r2 < 9 * sigma * sigma) d += noseAmp * k.a * Math.exp(-r2 / (2 * sigma * sigma));
    }
    return d;
  };
  const profile = (u: number): number => (Math.abs(u) < 1 ? (1 - u * u) * (1 + 0.5 * u * u) : 0);
  const vertical = (y: number): number => {
    const t = Math.min(1, Math.max(0, (y - top) / Math.max(1, foreheadY - top)));
    return 1 - (1 - t) ** 2;
  };
  const { left, right, cx } = rowOutline(input, m);
  const yawAt = (x: number, y: number): number => {
    const yi = Math.min(height - 1, Math.max(0, Math.round(y)));
    const u = x < cx ? (x - cx) / Math.max(1, cx - left[yi]!) : (x - cx) / Math.max(1, right[yi]! - cx);
    return hc * profile(u) * vertical(y) + noseAt(x, y);
  };
  const pitchAt = (x: number, y: number): number => {
    const frac = Math.min(1, Math.max(0, (y - m.eyeY) / Math.max(1, m.chin.y - m.eyeY)));
    return hc * profile((x - head.cx) / (head.rx * (1 - 0.28 * frac))) * vertical(y) + noseAt(x, y);
  };
  const neckHalf = 0.4 * m.fw;
  const n = width * height;
  const out = { yaw: new Float32Array(n), pitch: new Float32Array(n), neckYaw: new Float32Array(n), neckPitch: new Float32Array(n) };
  for (let x = 0; x < width; x++) {
    const sep = separation[x]!;
    const yawSep = yawAt(x, sep);
    const pitchSep = pitchAt(x, sep);
    const un = (x - m.chin.x) / neckHalf;
    const neckZ = Math.abs(un) < 1 ? NECK_DEPTH * hc * (1 - un * un) : 0;
    for (let y = 0; y < height; y++) {
      const i = y * width + x;
      const above = y < sep;
      // Yaw moves sideways only, so a depth that changes downwards cannot fold: no hold, the chin's profile simply
      // continues below it (a dropped jaw then turns with the chin it carries).
      out.yaw[i] = yawAt(x, y);
      out.pitch[i] = above ? pitchAt(x, y) : pitchSep;
      const t = smooth(sep, sep + 0.15 * m.fh, y);
      const k = input.neck[i]!;
      out.neckYaw[i] = ((1 - t) * yawSep + t * neckZ) * k;
      out.neckPitch[i] = ((1 - t) * pitchSep + t * neckZ) * k;
    }
  }
  return out;
}

/**
 * The head layer's left and right outline per row, through the nose's column, smoothed over rows (so that the hair
 * ending above the jaw does not make a step); rows without head hold the nearest row's outline.
 */
function rowOutline(input: PoseInput, m: FaceMeasures): { left: Float32Array; right: Float32Array; cx: number } {
  const { width, height, headAlpha, landmarks } = input;
  const cx = (landmarks[2 * 27]! + landmarks[2 * 28]! + landmarks[2 * 29]! + landmarks[2 * 30]!) / 4;
  const c = Math.min(width - 1, Math.max(0, Math.round(cx)));
  const left = new Float32Array(height).fill(Number.NaN);
  const right = new Float32Array(height).fill(Number.NaN);
  for (let y = 0; y < height; y++) {
    if (headAlpha[y * width + c]! < 0.5) continue;
    let a = c;
    while (a > 0 && headAlpha[y * width + a - 1]! >= 0.5) a--;
    let b = c;
    while (b < width - 1 && headAlpha[y * width + b + 1]! >= 0.5) b++;
    left[y] = a;
    right[y] = b;
  }
  // The chin is narrow but sits far in front of the neck: no row is narrower than the jaw at the mouth (landmarks 4
  // to 12), so that the chin turns with the mouth instead of folding at its own edges.
  const minHalf = Math.abs(landmarks[2 * 12]! - landmarks[2 * 4]!) / 2;
  for (let y = 0; y < height; y++) {
    if (Number.isNaN(left[y]!)) continue;
    left[y] = Math.min(left[y]!, cx - minHalf);
    right[y] = Math.max(right[y]!, cx + minHalf);
  }
  for (const arr of [left, right]) {
    let last = Number.NaN;
    for (let y = 0; y < height; y++) (Number.isNaN(arr[y]!) ? (arr[y] = last) : (last = arr[y]!));
    last = Number.NaN;
    for (let y = height - 1; y >= 0; y--) (Number.isNaN(arr[y]!) ? (arr[y] = last) : (last = arr[y]!));
    for (let y = 0; y < height; y++) if (Number.isNaN(arr[y]!)) arr[y] = arr === left ? cx - 0.6 * m.fw : cx + 0.6 * m.fw;
    const r = Math.max(2, Math.round(0.12 * m.fh));
    for (let pass = 0; pass < 2; pass++) {
      const src = Float32Array.from(arr);
      for (let y = 0; y < height; y++) {
        let s = 0;
        for (let d = -r; d <= r; d++) s += src[Math.min(height - 1, Math.max(0, y + d))]!;
        arr[y] = s / (2 * r + 1);
      }
    }
  }
  return { left, right, cx };
}

/** Euclidean-ish distance (chamfer 3-4) to the set, pixels. */
export function distanceTransform(set: Uint8Array, width: number, height: number): Float32Array {
  const INF = 1e9;
  const d = new Float32Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = set[i] ? 0 : INF;
  const a = 1;
  const b = Math.SQRT2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let v = d[i]!;
      if (x > 0) v = Math.min(v, d[i - 1]! + a);
      if (y > 0) {
        v = Math.min(v, d[i - width]! + a);
        if (x > 0) v = Math.min(v, d[i - width - 1]! + b);
        if (x < width - 1) v = Math.min(v, d[i - width + 1]! + b);
      }
      d[i] = v;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      let v = d[i]!;
      if (x < width - 1) v = Math.min(v, d[i + 1]! + a);
      if (y < height - 1) {
        v = Math.min(v, d[i + width]! + a);
        if (x < width - 1) v = Math.min(v, d[i + width + 1]! + b);
        if (x > 0) v = Math.min(v, d[i + width - 1]! + b);
      }
      d[i] = v;
    }
  }
  return d;
}
