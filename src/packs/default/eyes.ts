// Blinks and brows as backward-warp fields in REFERENCE space (the render graph applies them in the head's frame).
//
// Blink: in each eye's own frame (u along the corners, v down), the upper lid line v_up(u) and the lower lid line
// v_low(u) come from the landmarks (a curve through the corners and the two lid points). The upper lid is a layer
// over the eye: closing translates it down by the opening D(u) (the skin between v_up - T and the lash line
// stretches), and the render graph shows the lid wherever its sample lies above the lash line (lidSelector), the
// still eye elsewhere. A translation is linear in the coefficient, so half-way the lid is half-way down and the iris
// under it is simply covered, not squeezed.
// Brows: a smooth lift (browRaise) or a pull down and inwards (browFrown) that is full on the brow line, fades to
// zero before the upper lid below it and over the forehead above it.
import { LM, pt } from './geometry.ts';
import type { Box, Point } from './types.ts';

/** Field order of UpperFace.evaluate. */
export const UPPER_FACE_FIELDS = ['blinkLeft', 'blinkRight', 'browRaise', 'browFrown'] as const;

/** Brow lift at 1, in brow-to-eye distances; frown: down and inwards. */
const RAISE = 0.4;
const FROWN_DOWN = 0.2;
const FROWN_IN = 0.16;
/**
 * The landmarks hug the eye: the corners sit a little inside the white's ends and the lower lid point above the
 * lower lash line. The lid closes a slightly larger eye, so that no white is left showing.
 */
const CORNER_GROWTH = 1.15;
const LOWER_LID_DROP = 0.14;

interface Eye {
  readonly origin: Point;
  readonly ex: Point;
  readonly ey: Point;
  /** Half the corner-to-corner distance, pixels. */
  readonly half: number;
  /** Lid curves v(s) = (a0 + a1 s)(1 - s^2), s = u / half. */
  readonly up: readonly [number, number];
  readonly low: readonly [number, number];
  /** Height of the lid skin that unfolds over the eye, pixels. */
  readonly skin: number;
  /** From the brow down to the upper lid, pixels: the lid skin can stretch from no higher than that. */
  readonly browToLid: number;
}

interface Brow {
  /** Brow points sorted by x. */
  readonly pts: readonly Point[];
  /** +1 when the brow's inner end is on its right (the subject's right brow), -1 otherwise. */
  readonly inwardX: number;
  /** Brow to upper lid, pixels. */
  readonly toLid: number;
}

function lidCurve(eye: Omit<Eye, 'up' | 'low' | 'skin' | 'browToLid'>, a: Point, b: Point): [number, number] {
  const proj = (p: Point): [number, number] => {
    const dx = p.x - eye.origin.x;
    const dy = p.y - eye.origin.y;
    return [(dx * eye.ex.x + dy * eye.ex.y) / eye.half, dx * eye.ey.x + dy * eye.ey.y];
  };
  const [s1, v1] = proj(a);
  const [s2, v2] = proj(b);
  const q1 = v1 / Math.max(0.05, 1 - s1 * s1);
  const q2 = v2 / Math.max(0.05, 1 - s2 * s2);
  if (Math.abs(s2 - s1) < 1e-3) return [(q1 + q2) / 2, 0];
  const a1 = (q2 - q1) / (s2 - s1);
  return [q1 - a1 * s1, a1];
}

function makeEye(landmarks: Float32Array, left: number, right: number, upper: [number, number], lower: [number, number], browToLid: number): Eye {
  const a = pt(landmarks, left);
  const b = pt(landmarks, right);
  const len = Math.max(2, Math.hypot(b.x - a.x, b.y - a.y));
  const ex = { x: (b.x - a.x) / len, y: (b.y - a.y) / len };
  const base = { origin: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }, ex, ey: { x: -ex.y, y: ex.x }, half: (CORNER_GROWTH * len) / 2 };
  const up = lidCurve(base, pt(landmarks, upper[0]), pt(landmarks, upper[1]));
  const low = lidCurve(base, pt(landmarks, lower[0]), pt(landmarks, lower[1]));
  return { ...base, up, low, skin: Math.max(2, Math.min(0.9 * base.half, 0.7 * browToLid)), browToLid };
}

export class UpperFace {
  readonly #eyes: readonly [Eye, Eye];
  readonly #brows: readonly [Brow, Brow];
  /** Brow-to-eye distance, pixels. */
  readonly browToEye: number;
  /** Where the fields can be non-zero (pixels, reference space, not clamped to the image). */
  readonly box: Box;

  constructor(landmarks: Float32Array) {
    const browY = (idx: readonly number[]): number => idx.reduce((s, i) => s + landmarks[2 * i + 1]!, 0) / idx.length;
    const lidR = browY([37, 38]);
    const lidL = browY([43, 44]);
    const toLidR = Math.max(3, lidR - browY(LM.browRight));
    const toLidL = Math.max(3, lidL - browY(LM.browLeft));
    this.browToEye = (toLidR + toLidL) / 2;
    // The subject's left eye is on the image's right (42-47): blinkLeft first, as in UPPER_FACE_FIELDS.
    this.#eyes = [makeEye(landmarks, 42, 45, [43, 44], [47, 46], toLidL), makeEye(landmarks, 36, 39, [37, 38], [41, 40], toLidR)];
    const brow = (idx: readonly number[], inwardX: number, toLid: number): Brow => ({
      pts: idx.map((i) => pt(landmarks, i)).sort((p, q) => p.x - q.x),
      inwardX,
      toLid,
    });
    this.#brows = [brow(LM.browRight, 1, toLidR), brow(LM.browLeft, -1, toLidL)];
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const b of this.#brows) {
      for (const p of b.pts) {
        x0 = Math.min(x0, p.x - 0.7 * b.toLid);
        x1 = Math.max(x1, p.x + 0.7 * b.toLid);
        y0 = Math.min(y0, p.y - 2.6 * b.toLid);
      }
    }
    for (const e of this.#eyes) {
      for (const i of [-1, 1]) {
        x0 = Math.min(x0, e.origin.x + i * e.half * e.ex.x - 2);
        x1 = Math.max(x1, e.origin.x + i * e.half * e.ex.x + 2);
      }
      y1 = Math.max(y1, e.origin.y + e.half);
    }
    this.box = { x: Math.floor(x0), y: Math.floor(y0), width: Math.ceil(x1 - x0) + 1, height: Math.ceil(y1 - y0) + 1 };
  }

  /**
   * The lid texture a closing lid shows, over `box` (RGB [h, w, 3]): the reference, with the upper lids blurred
   * along the lid between the lash line and the brow, because a closed lid is unfolded: it shows no crease.
   */
  lidTexture(reference: Uint8Array, width: number, box: Box): Uint8Array {
    const rows = reference.length / 3 / width;
    const out = new Uint8Array(box.width * box.height * 3);
    for (let y = 0; y < box.height; y++) {
      for (let x = 0; x < box.width; x++) {
        const i = 3 * ((box.y + y) * width + box.x + x);
        out.set(reference.subarray(i, i + 3), 3 * (y * box.width + x));
      }
    }
    const at = (px: number, py: number): number => 3 * (Math.min(rows - 1, Math.max(0, Math.round(py))) * width + Math.min(width - 1, Math.max(0, Math.round(px))));
    for (const e of this.#eyes) {
      // The lid band blurred along the lid (a few pixels up and down): the crease dissolves into soft shading, the
      // colours stay the lid's own.
      const r = Math.max(2, Math.round(0.2 * e.browToLid));
      for (let y = 0; y < box.height; y++) {
        for (let x = 0; x < box.width; x++) {
          const X = box.x + x;
          const Y = box.y + y;
          const { s, v } = eyeCoords(e, X, Y);
          if (s <= -1 || s >= 1) continue;
          const { up } = lid(e, s);
          const above = up - v; // pixels above the lash line
          if (above < 0 || above > e.browToLid) continue;
          const lash = 1 - smooth(1.5, 1.5 + r, above); // keep the lash line
          const into = smooth(0.7 * e.browToLid, 0.95 * e.browToLid, above); // back into the real skin up top
          const w = (1 - lash) * (1 - into);
          if (w <= 0) continue;
          const rgb = [0, 0, 0];
          for (let d = -r; d <= r; d++) {
            const j = at(X + d * e.ey.x, Y + d * e.ey.y);
            for (let c = 0; c < 3; c++) rgb[c]! += reference[j + c]!;
          }
          const o = 3 * (y * box.width + x);
          for (let c = 0; c < 3; c++) out[o + c] = Math.round(out[o + c]! + w * (rgb[c]! / (2 * r + 1) - out[o + c]!));
        }
      }
    }
    return out;
  }

  /** Between the two eyes' centres (pixels). */
  get eyeCentre(): Point {
    const [a, b] = this.#eyes;
    return { x: (a.origin.x + b.origin.x) / 2, y: (a.origin.y + b.origin.y) / 2 };
  }

  /** The lid selector at (x, y): 1 on the upper lids and away from the eyes, 0 over the eyes and below them. */
  lidSelector(x: number, y: number): number {
    return Math.min(lidCover(this.#eyes[0]!, x, y), lidCover(this.#eyes[1]!, x, y));
  }

  /** Backward displacement (pixels) of each field in UPPER_FACE_FIELDS order at (x, y): (dx, dy) pairs. */
  evaluate(x: number, y: number, out: Float64Array): void {
    for (let k = 0; k < 2; k++) {
      const [dx, dy] = blink(this.#eyes[k]!, x, y);
      out[2 * k] = dx;
      out[2 * k + 1] = dy;
    }
    let rx = 0;
    let ry = 0;
    let fx = 0;
    let fy = 0;
    for (const b of this.#brows) {
      const w = browWeight(b, x, y);
      if (w.w <= 0) continue;
      ry += RAISE * b.toLid * w.w; // sample from below: the brow moves up
      fy -= FROWN_DOWN * b.toLid * w.w * (0.5 + 0.5 * w.inner); // sample from above: the brow moves down
      fx -= FROWN_IN * b.toLid * w.w * w.inner * b.inwardX; // inwards
    }
    out[4] = rx;
    out[5] = ry;
    out[6] = fx;
    out[7] = fy;
  }
}

/** The eye's frame coordinates of (x, y): s (-1..1 between the corners) and v (pixels, down). */
function eyeCoords(e: Eye, x: number, y: number): { s: number; v: number } {
  const dx = x - e.origin.x;
  const dy = y - e.origin.y;
  return { s: (dx * e.ex.x + dy * e.ex.y) / e.half, v: dx * e.ey.x + dy * e.ey.y };
}

/** Upper lash line and how far the lid travels to close, at s. */
function lid(e: Eye, s: number): { up: number; travel: number } {
  const q = Math.max(0, 1 - s * s);
  const up = (e.up[0] + e.up[1] * s) * q;
  const low = (e.low[0] + e.low[1] * s) * q;
  // The landmark curves can cross near a corner; never close less than a rounded opening would.
  const centre = Math.max(0, e.low[0] - e.up[0]);
  return { up, travel: Math.max(low - up, 0.85 * centre * Math.sqrt(q)) + LOWER_LID_DROP * e.half * q };
}

/** The closing lid's backward field: the lid skin slides down by `travel`, fading out above the skin band. */
function blink(e: Eye, x: number, y: number): [number, number] {
  const { s, v } = eyeCoords(e, x, y);
  if (s <= -1 || s >= 1) return [0, 0];
  const { up, travel } = lid(e, s);
  if (travel <= 0) return [0, 0];
  // The skin band that stretches: at least twice the travel (so it never folds), at most up to the brow.
  const band = Math.min(0.95 * e.browToLid, Math.max(e.skin * Math.sqrt(1 - s * s), 1.8 * travel));
  const top = up - band;
  // Full below the lash line (where the moved lid lands), rising linearly over the band (the gentlest stretch),
  // and gone again once even the moved lash line could not reach (a compact support).
  const ramp = Math.min(1, Math.max(0, (v - top) / band)) * (1 - smooth(up + travel + 1, up + travel + 3, v));
  const dv = -travel * ramp;
  return [dv * e.ey.x, dv * e.ey.y];
}

/** 1 on the lid (above the upper lash line) and away from the eye, 0 on the eye and below it (1 px soft edge). */
function lidCover(e: Eye, x: number, y: number): number {
  const { s, v } = eyeCoords(e, x, y);
  if (s <= -1 || s >= 1) return 1;
  const { up } = lid(e, s);
  return 1 - smooth(up - 0.5, up + 0.5, v);
}

/** Brow weight at (x, y): w (0..1) and how far towards the inner end the point lies (0 outer .. 1 inner). */
function browWeight(b: Brow, x: number, y: number): { w: number; inner: number } {
  const p = b.pts;
  const first = p[0]!;
  const last = p[p.length - 1]!;
  const reach = 0.6 * b.toLid;
  const along = x < first.x ? 1 - smooth(0, reach, first.x - x) : x > last.x ? 1 - smooth(0, reach, x - last.x) : 1;
  if (along <= 0) return { w: 0, inner: 0 };
  const cx = Math.min(last.x, Math.max(first.x, x));
  let i = 1;
  while (i < p.length - 1 && p[i]!.x < cx) i++;
  const t = (cx - p[i - 1]!.x) / Math.max(1e-6, p[i]!.x - p[i - 1]!.x);
  const yb = p[i - 1]!.y + t * (p[i]!.y - p[i - 1]!.y);
  const rel = y - yb; // > 0 below the brow line
  const vertical = rel >= 0 ? 1 - smooth(0.1 * b.toLid, 0.75 * b.toLid, rel) : 1 - smooth(0.3 * b.toLid, 2.5 * b.toLid, -rel) * 0.85 - 0.15 * smooth(1.5 * b.toLid, 2.5 * b.toLid, -rel);
  const frac = (cx - first.x) / Math.max(1e-6, last.x - first.x);
  const inner = b.inwardX > 0 ? frac : 1 - frac;
  return { w: Math.max(0, along * vertical), inner };
}

function smooth(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}
