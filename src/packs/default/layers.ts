// The reference split into layers, so that a moving head never drags anything else along:
//   head layer   person above the jaw line (face, hair): moves rigidly with the head pose and carries the face
//                motions (mouth, eyes, brows);
//   torso layer  the rest of the person (neck, collar, shoulders): still, except the neck, which follows the head at
//                the jaw line and fades to still at its base, and breathing. It continues a little way up under the
//                head (filled from the torso around it), so that a chin that moves away reveals collar, not wall;
//   plate        the background with the person filled in from around it, shown wherever the person moves away.
// The render graph composites head over torso over plate with premultiplied colours chosen so that neutral
// coefficients give back the reference exactly (graph.ts).
import { moduleLogger } from '../../log.ts';
import { pt } from './geometry.ts';
import { faceMeasures, type FaceMeasures, type HeadEllipse } from './segment.ts';

const log = moduleLogger('packs/default/layers');

export interface AvatarLayers {
  /** [H, W] 0..1. */
  readonly headAlpha: Float32Array;
  /** [H, W] 0..1, including the part hidden under the head. */
  readonly torsoAlpha: Float32Array;
  /** [H, W, 3]: the torso's colour, the reference where it shows, filled in under the head. */
  readonly torsoColour: Uint8Array;
  /** [H, W, 3]: the background, filled in behind the person. */
  readonly plate: Uint8Array;
  /** [H, W] 0..1: how much the torso layer follows the head (the neck), reference space. */
  readonly neck: Float32Array;
  /** Per image column, the y of the head/torso separation (the jaw line, level beyond it). */
  readonly separation: Float32Array;
}

/** How far the torso continues up under the head, in face heights (brow line to chin). */
const HIDDEN_TORSO_FH = 0.22;
/** Least half width of the neck column (the part of the torso that follows the head), face widths. */
const NECK_HALF_FW = 0.3;

/** The curve separating head from torso: a smooth curve along the jaw line (landmarks 3 to 13, a little below
 * them: the landmarks sit on the outline), level beyond them; y per image column. */
export function separationCurve(landmarks: Float32Array, m: FaceMeasures, width: number): Float32Array {
  const pts = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((i) => pt(landmarks, i)).sort((a, b) => a.x - b.x);
  const drop = 0.012 * m.fh;
  // Dense samples along a Catmull-Rom spline through the points.
  const dense: Array<{ x: number; y: number }> = [];
  for (let i = 0; i < pts.length - 1; i++) {
    const p0 = pts[Math.max(0, i - 1)]!;
    const p1 = pts[i]!;
    const p2 = pts[i + 1]!;
    const p3 = pts[Math.min(pts.length - 1, i + 2)]!;
    for (let k = 0; k < 16; k++) {
      const t = k / 16;
      const t2 = t * t;
      const t3 = t2 * t;
      const c = (a: number, b: number, cc: number, d: number): number => 0.5 * (2 * b + (-a + cc) * t + (2 * a - 5 * b + 4 * cc - d) * t2 + (-a + 3 * b - 3 * cc + d) * t3);
      dense.push({ x: c(p0.x, p1.x, p2.x, p3.x), y: c(p0.y, p1.y, p2.y, p3.y) + drop });
    }
  }
  dense.push({ x: pts[pts.length - 1]!.x, y: pts[pts.length - 1]!.y + drop });
  const first = dense[0]!;
  const last = dense[dense.length - 1]!;
  const levelLeft = first.y + 0.1 * m.fh;
  const levelRight = last.y + 0.1 * m.fh;
  const out = new Float32Array(width);
  let j = 1;
  for (let x = 0; x < width; x++) {
    if (x <= first.x) {
      out[x] = levelLeft;
      continue;
    }
    if (x >= last.x) {
      out[x] = levelRight;
      continue;
    }
    while (j < dense.length - 1 && dense[j]!.x < x) j++;
    const a = dense[j - 1]!;
    const b = dense[j]!;
    const yEdge = a.y + ((x - a.x) / Math.max(1e-6, b.x - a.x)) * (b.y - a.y);
    // Near the ends, blend towards the level extension so that the curve is continuous there.
    const t = Math.min(1, Math.min(x - first.x, last.x - x) / (0.1 * m.fw));
    const level = x < (first.x + last.x) / 2 ? levelLeft : levelRight;
    out[x] = t * yEdge + (1 - t) * Math.max(yEdge, level);
  }
  return out;
}

export function buildLayers(reference: Uint8Array, width: number, height: number, landmarks: Float32Array, alpha: Float32Array, head: HeadEllipse): AvatarLayers {
  const t0 = performance.now();
  const m = faceMeasures(landmarks);
  const n = width * height;
  const sep = separationCurve(landmarks, m, width);
  const headHalf = head.rx + 0.15 * m.fw;
  // The neck column spans at least the jaw between landmarks 3 and 13: everything hanging from the jaw line follows it.
  const jawSpan = Math.abs(landmarks[2 * 13]! - landmarks[2 * 3]!) / 2;
  const neckHalf = Math.max(NECK_HALF_FW * m.fw, jawSpan);
  const neckBase = m.chin.y + 0.45 * m.fh;

  const headAlpha = new Float32Array(n);
  const neck = new Float32Array(n);
  const solid = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const across = 1 - smooth(headHalf - 0.05 * m.fw, headHalf + 0.05 * m.fw, Math.abs(x - head.cx));
      const h = across * (1 - smooth(sep[x]! - 1, sep[x]! + 1, y));
      headAlpha[i] = alpha[i]! * h;
      if (alpha[i]! * (1 - h) > 0.5) solid[i] = 1;
      const col = 1 - smooth(neckHalf, neckHalf + 0.08 * m.fw, Math.abs(x - m.chin.x));
      // Above the jaw line only the hidden torso (see below) follows; higher up the torso layer is empty anyway.
      neck[i] = col * (1 - smooth(sep[x]!, neckBase, y)) * smooth(sep[x]! - 1.5 * HIDDEN_TORSO_FH * m.fh, sep[x]! - HIDDEN_TORSO_FH * m.fh, y);
    }
  }
  // The hidden torso: the torso continues straight up under the head, by `reach`, in the columns where it meets the
  // head (the neck under the chin); elsewhere what a moving head reveals is background.
  const reach = HIDDEN_TORSO_FH * m.fh;
  const meets = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const y = Math.min(height - 1, Math.round(sep[x]! + 3));
    meets[x] = solid[y * width + x] ? 1 : 0;
  }
  const meetsSoft = blur1d(meets, Math.max(1, Math.round(0.03 * m.fw)));
  const torsoAlpha = new Float32Array(n);
  const known = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const visible = alpha[i]! - headAlpha[i]!;
      const up = sep[x]! - y;
      const hidden = headAlpha[i]! > 0.02 && up > -2 ? meetsSoft[x]! * (1 - smooth(0.7 * reach, reach, up)) : 0;
      torsoAlpha[i] = Math.max(visible, hidden);
      if (visible > 0.9) known[i] = 1;
    }
  }
  const torsoColour = pullPush(reference, known, width, height);
  // The plate: the reference wherever no layer covers it (so that neutral coefficients give the reference back),
  // filled in under the person.
  const background = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (alpha[i]! <= 1e-6) background[i] = 1;
  const plate = pullPush(reference, background, width, height);
  log.debug({ ms: Math.round(performance.now() - t0) }, 'layers built');
  return Object.freeze({ headAlpha, torsoAlpha, torsoColour, plate, neck, separation: sep });
}

/** Box blur of a 1-D signal, radius r, edges clamped. */
function blur1d(v: Float32Array, r: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    let s = 0;
    for (let d = -r; d <= r; d++) s += v[Math.min(v.length - 1, Math.max(0, i + d))]!;
    out[i] = s / (2 * r + 1);
  }
  return out;
}

function smooth(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/**
 * Fills an RGB image [H, W, 3] where `known` is 0 by pull-push: each coarser level averages the known pixels below
 * it, then holes take the (bilinearly upsampled) colour of the level above. Known pixels are kept as they are.
 */
export function pullPush(rgb: Uint8Array, known: Uint8Array, width: number, height: number): Uint8Array {
  interface Level {
    w: number;
    h: number;
    c: Float32Array;
    k: Float32Array;
  }
  const base: Level = { w: width, h: height, c: new Float32Array(width * height * 3), k: new Float32Array(width * height) };
  for (let i = 0; i < width * height; i++) {
    if (!known[i]) continue;
    base.k[i] = 1;
    for (let c = 0; c < 3; c++) base.c[3 * i + c] = rgb[3 * i + c]!;
  }
  const levels: Level[] = [base];
  while (levels[levels.length - 1]!.w > 1 || levels[levels.length - 1]!.h > 1) {
    const f = levels[levels.length - 1]!;
    const w = Math.max(1, Math.ceil(f.w / 2));
    const h = Math.max(1, Math.ceil(f.h / 2));
    const c = new Float32Array(w * h * 3);
    const k = new Float32Array(w * h);
    for (let y = 0; y < f.h; y++) {
      for (let x = 0; x < f.w; x++) {
        const i = y * f.w + x;
        const j = (y >> 1) * w + (x >> 1);
        k[j] += f.k[i]!;
        for (let ch = 0; ch < 3; ch++) c[3 * j + ch] += f.c[3 * i + ch]!;
      }
    }
    // Clamp the weight at 1 so that coarse levels stay averages.
    for (let j = 0; j < w * h; j++) {
      if (k[j]! > 1) {
        const s = 1 / k[j]!;
        for (let ch = 0; ch < 3; ch++) c[3 * j + ch] *= s;
        k[j] = 1;
      }
    }
    levels.push({ w, h, c, k });
  }
  for (let l = levels.length - 2; l >= 0; l--) {
    const f = levels[l]!;
    const g = levels[l + 1]!;
    for (let y = 0; y < f.h; y++) {
      const gy = Math.min(g.h - 1, Math.max(0, (y + 0.5) / 2 - 0.5));
      const y0 = Math.floor(gy);
      const y1 = Math.min(g.h - 1, y0 + 1);
      const wy = gy - y0;
      for (let x = 0; x < f.w; x++) {
        const i = y * f.w + x;
        const miss = 1 - Math.min(1, f.k[i]!);
        if (miss <= 0) continue;
        const gx = Math.min(g.w - 1, Math.max(0, (x + 0.5) / 2 - 0.5));
        const x0 = Math.floor(gx);
        const x1 = Math.min(g.w - 1, x0 + 1);
        const wx = gx - x0;
        for (let ch = 0; ch < 3; ch++) {
          const at = (yy: number, xx: number): number => {
            const j = yy * g.w + xx;
            return g.k[j]! > 0 ? g.c[3 * j + ch]! / g.k[j]! : 0;
          };
          f.c[3 * i + ch] += miss * ((1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1)));
        }
        f.k[i] = 1;
      }
    }
  }
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = known[i] ? rgb[3 * i + ch]! : Math.round(Math.min(255, Math.max(0, base.c[3 * i + ch]!)));
  }
  return out;
}
