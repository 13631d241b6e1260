// Person segmentation at enrollment, without a segmentation model: the landmarks seed a foreground (face, hair band,
// neck, torso under the face) and a background (beside and above the head), a colour model of each labels every
// pixel, a few rounds of smoothing and the connected component holding the face clean it up. It gives:
//  - alpha: the person (head, hair, neck, shoulders) as a soft mask; layers.ts splits it into a head layer and a
//    torso layer over a background plate, so that head motion never drags the wall along;
//  - head: an ellipse around head and hair, the shape the head-pose model rotates.
// When the picture gives too few background pixels (a tight crop) or the result is implausible, the masks fall
// back to a shape drawn from the landmarks alone.
import { moduleLogger } from '../../log.ts';
import { LM, mean, pt } from './geometry.ts';
import { rasterizePolygon } from './masks.ts';
import type { Point } from './types.ts';

const log = moduleLogger('packs/default/segment');

/** Downsampling factor of the labelling grid. */
const STEP = 4;
const CLUSTERS = 6;
/** The mask grows by this much before feathering (hair edges are fuzzier than the colour model says), pixels. */
const GROW_PX = 4;
/** Alpha feather at full resolution, pixels. */
const FEATHER_PX = 2;

export interface HeadEllipse {
  readonly cx: number;
  readonly cy: number;
  /** Semi-axes in pixels (image-aligned). */
  readonly rx: number;
  readonly ry: number;
}

export interface PersonSegmentation {
  /** [H, W] 0..1: the person. */
  readonly alpha: Float32Array;
  readonly head: HeadEllipse;
  /** Whether the colour segmentation was used (false: the landmark-only fallback shape). */
  readonly fromColour: boolean;
}

/** Face measures in pixels used by segmentation and the pose model. */
export interface FaceMeasures {
  readonly cx: number;
  /** Jaw width (landmark 0 to 16). */
  readonly fw: number;
  /** Brow line to chin. */
  readonly fh: number;
  readonly browY: number;
  readonly chin: Point;
  readonly eyeY: number;
}

export function faceMeasures(landmarks: Float32Array): FaceMeasures {
  const l0 = pt(landmarks, 0);
  const l16 = pt(landmarks, 16);
  const chin = pt(landmarks, LM.chin);
  const brows = mean(landmarks, [...LM.browRight, ...LM.browLeft]);
  const eyes = mean(landmarks, [...LM.eyeRight, ...LM.eyeLeft]);
  const fw = Math.max(8, Math.hypot(l16.x - l0.x, l16.y - l0.y));
  return { cx: (l0.x + l16.x + 2 * chin.x) / 4, fw, fh: Math.max(8, chin.y - brows.y), browY: brows.y, chin, eyeY: eyes.y };
}

/** Segments the person in an RGB reference [H, W, 3]; without one, the landmark-only shape. */
export function segmentPerson(reference: Uint8Array | undefined, width: number, height: number, landmarks: Float32Array): PersonSegmentation {
  const t0 = performance.now();
  const m = faceMeasures(landmarks);
  const prior = priorMask(width, height, landmarks, m);
  let mask = reference ? colourMask(reference, width, height, landmarks, m) : undefined;
  let fromColour = mask !== undefined;
  let head = mask ? fitHead(mask, width, height, m) : undefined;
  if (!mask || !head) {
    mask = prior;
    fromColour = false;
    head = fitHead(prior, width, height, m) ?? fallbackHead(m);
  }
  const alpha = feather(grow(mask, width, height, GROW_PX), width, height, FEATHER_PX);
  log.debug({ ms: Math.round(performance.now() - t0), fromColour, head }, 'person segmented');
  return Object.freeze({ alpha, head: Object.freeze(head), fromColour });
}

function fallbackHead(m: FaceMeasures): HeadEllipse {
  const top = m.browY - 0.6 * m.fh;
  return { cx: m.cx, cy: (top + m.chin.y) / 2, rx: 0.62 * m.fw, ry: (m.chin.y - top) / 2 };
}

/** A person shape from the landmarks alone: head ellipse, neck, and shoulders widening below. */
function priorMask(width: number, height: number, landmarks: Float32Array, m: FaceMeasures): Uint8Array {
  const mask = new Uint8Array(width * height);
  const head = fallbackHead(m);
  const neckTop = m.chin.y - 0.1 * m.fh;
  const shoulder = m.chin.y + 0.45 * m.fh;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (x - head.cx) / head.rx;
      const v = (y - head.cy) / head.ry;
      let inside = u * u + v * v <= 1;
      if (!inside && y >= neckTop) {
        const half = y < shoulder ? 0.3 * m.fw : 0.3 * m.fw + (y - shoulder) * 1.6;
        inside = Math.abs(x - m.cx) <= half;
      }
      if (inside) mask[y * width + x] = 1;
    }
  }
  const face = new Uint8Array(width * height);
  rasterizePolygon(face, width, height, facePolygon(landmarks, m), 0, 1);
  for (let i = 0; i < mask.length; i++) if (face[i]! > 127) mask[i] = 1;
  return mask;
}

function facePolygon(landmarks: Float32Array, m: FaceMeasures): Point[] {
  const poly: Point[] = LM.jaw.map((i) => pt(landmarks, i));
  for (let i = 26; i >= 17; i--) {
    const p = pt(landmarks, i);
    poly.push({ x: p.x, y: p.y - 0.25 * m.fh });
  }
  return poly;
}

/** Seeds, a colour model per side, smoothing and the face's connected component; undefined when it cannot judge. */
function colourMask(reference: Uint8Array, width: number, height: number, landmarks: Float32Array, m: FaceMeasures): Uint8Array | undefined {
  const sw = Math.floor(width / STEP);
  const sh = Math.floor(height / STEP);
  const n = sw * sh;
  const small = new Float32Array(n * 3);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = 0; dy < STEP; dy++) for (let dx = 0; dx < STEP; dx++) s += reference[3 * ((y * STEP + dy) * width + x * STEP + dx) + c]!;
        small[3 * (y * sw + x) + c] = s / (STEP * STEP);
      }
    }
  }
  // Seeds, in small-grid pixels: +1 person, -1 background, 0 unknown.
  const seed = new Int8Array(n);
  const faceFull = new Uint8Array(width * height);
  rasterizePolygon(faceFull, width, height, facePolygon(landmarks, m), -0.04 * m.fw, 1);
  const headTop = m.browY - 1.0 * m.fh;
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const X = x * STEP + STEP / 2;
      const Y = y * STEP + STEP / 2;
      const i = y * sw + x;
      const dx = Math.abs(X - m.cx);
      if (faceFull[Math.floor(Y) * width + Math.floor(X)]! > 200) seed[i] = 1;
      else if (Y > m.chin.y && Y < m.chin.y + 0.2 * m.fh && dx < 0.15 * m.fw) seed[i] = 1; // neck
      else if (Y > m.chin.y + 0.8 * m.fh && dx < 0.5 * m.fw) seed[i] = 1; // torso under the face
      else if (Y < m.browY - 0.05 * m.fh && Y > m.browY - 0.3 * m.fh && dx < 0.3 * m.fw) seed[i] = 1; // forehead or hair
      else if (Y < m.chin.y - 0.15 * m.fh && dx > 1.05 * m.fw) seed[i] = -1; // beside the head
      else if (Y < headTop) seed[i] = -1; // above the head
    }
  }
  const fgIdx: number[] = [];
  const bgIdx: number[] = [];
  for (let i = 0; i < n; i++) {
    if (seed[i] === 1) fgIdx.push(i);
    else if (seed[i] === -1) bgIdx.push(i);
  }
  if (bgIdx.length < 0.04 * n || fgIdx.length < 0.02 * n) return undefined;
  const fg = kmeans(small, fgIdx, CLUSTERS);
  const bg = kmeans(small, bgIdx, CLUSTERS);
  // Data term: which model explains the colour better, squashed into -1..1.
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const df = nearest(small, i, fg);
    const db = nearest(small, i, bg);
    data[i] = seed[i] !== 0 ? seed[i]! : Math.tanh((db - df) / 25);
  }
  // Mean-field style smoothing: each round mixes the data term with the 3x3 neighbourhood.
  let s: Float32Array = Float32Array.from(data);
  const tmp = new Float32Array(n);
  for (let round = 0; round < 6; round++) {
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        let acc = 0;
        let cnt = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= sh) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= sw) continue;
            acc += s[yy * sw + xx]!;
            cnt++;
          }
        }
        const i = y * sw + x;
        tmp[i] = seed[i] !== 0 ? seed[i]! : 0.5 * data[i]! + 0.5 * (acc / cnt);
      }
    }
    s = Float32Array.from(tmp);
  }
  // Keep the component connected to the face, then fill holes (background not reachable from the border).
  const lab = new Uint8Array(n);
  for (let i = 0; i < n; i++) lab[i] = s[i]! > 0 ? 1 : 0;
  const start = fgIdx.find((i) => faceFull[Math.floor((Math.floor(i / sw) * STEP + 2) * width + (i % sw) * STEP + 2)]! > 200) ?? fgIdx[0]!;
  const keep = flood(lab, sw, sh, [start], 1);
  const outside = flood(keep, sw, sh, borderIndices(sw, sh).filter((i) => keep[i] === 0), 0);
  const smallMask = new Uint8Array(n);
  for (let i = 0; i < n; i++) smallMask[i] = outside[i] ? 0 : 1;
  // Plausibility: the person covers the face and is neither a sliver nor the whole picture.
  let area = 0;
  for (let i = 0; i < n; i++) area += smallMask[i]!;
  if (area < 0.08 * n || area > 0.92 * n) return undefined;
  // Full resolution: bilinear upsampling of the smoothed score, restricted to the kept component.
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = Math.min(sh - 1, Math.max(0, (y + 0.5) / STEP - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(sw - 1, Math.max(0, (x + 0.5) / STEP - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const wx = fx - x0;
      const at = (yy: number, xx: number): number => (smallMask[yy * sw + xx] ? Math.max(0.05, s[yy * sw + xx]!) : Math.min(-0.05, s[yy * sw + xx]!));
      const v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
      if (v > 0) mask[y * width + x] = 1;
    }
  }
  for (let i = 0; i < faceFull.length; i++) if (faceFull[i]! > 127) mask[i] = 1;
  return mask;
}

/** Flood fill from `starts` over cells equal to `value`; returns 1 where reached. */
function flood(lab: Uint8Array, w: number, h: number, starts: number[], value: number): Uint8Array {
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  for (const s of starts) {
    if (lab[s] === value && !seen[s]) {
      seen[s] = 1;
      stack.push(s);
    }
  }
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % w;
    const y = (i - x) / w;
    const next = [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1];
    for (const j of next) {
      if (j >= 0 && !seen[j] && lab[j] === value) {
        seen[j] = 1;
        stack.push(j);
      }
    }
  }
  return seen;
}

function borderIndices(w: number, h: number): number[] {
  const out: number[] = [];
  for (let x = 0; x < w; x++) out.push(x, (h - 1) * w + x);
  for (let y = 1; y < h - 1; y++) out.push(y * w, y * w + w - 1);
  return out;
}

/** k-means over the colours at `idx` (deterministic init: spread over the sorted luminance). */
function kmeans(rgb: Float32Array, idx: readonly number[], k: number): Float32Array {
  const sample = idx.length > 4000 ? idx.filter((_, j) => j % Math.ceil(idx.length / 4000) === 0) : [...idx];
  const luma = (i: number): number => 0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!;
  const sorted = [...sample].sort((a, b) => luma(a) - luma(b));
  const centres = new Float32Array(k * 3);
  for (let c = 0; c < k; c++) {
    const i = sorted[Math.min(sorted.length - 1, Math.floor(((c + 0.5) * sorted.length) / k))]!;
    centres.set(rgb.subarray(3 * i, 3 * i + 3), 3 * c);
  }
  const sums = new Float64Array(k * 4);
  for (let iter = 0; iter < 10; iter++) {
    sums.fill(0);
    for (const i of sample) {
      const c = nearestIndex(rgb, i, centres);
      sums[4 * c] += rgb[3 * i]!;
      sums[4 * c + 1] += rgb[3 * i + 1]!;
      sums[4 * c + 2] += rgb[3 * i + 2]!;
      sums[4 * c + 3] += 1;
    }
    for (let c = 0; c < k; c++) {
      const cnt = sums[4 * c + 3]!;
      if (cnt === 0) continue;
      for (let j = 0; j < 3; j++) centres[3 * c + j] = sums[4 * c + j]! / cnt;
    }
  }
  return centres;
}

function nearestIndex(rgb: Float32Array, i: number, centres: Float32Array): number {
  let best = Infinity;
  let bi = 0;
  for (let c = 0; c < centres.length / 3; c++) {
    const d = (rgb[3 * i]! - centres[3 * c]!) ** 2 + (rgb[3 * i + 1]! - centres[3 * c + 1]!) ** 2 + (rgb[3 * i + 2]! - centres[3 * c + 2]!) ** 2;
    if (d < best) {
      best = d;
      bi = c;
    }
  }
  return bi;
}

function nearest(rgb: Float32Array, i: number, centres: Float32Array): number {
  const c = nearestIndex(rgb, i, centres);
  return Math.hypot(rgb[3 * i]! - centres[3 * c]!, rgb[3 * i + 1]! - centres[3 * c + 1]!, rgb[3 * i + 2]! - centres[3 * c + 2]!);
}

/**
 * The head ellipse from the mask: the run of person pixels through the face's centre column, row by row, from the
 * top of the head down to the eyes gives the top and the widest extent; the chin closes it. Undefined when the shape
 * is implausible for a head.
 */
function fitHead(mask: Uint8Array, width: number, height: number, m: FaceMeasures): HeadEllipse | undefined {
  const cx = Math.round(Math.min(width - 1, Math.max(0, m.cx)));
  let top = -1;
  for (let y = Math.max(0, Math.floor(m.browY)); y >= 0; y--) {
    if (!mask[y * width + cx]) {
      top = y + 1;
      break;
    }
    if (y === 0) top = 0;
  }
  if (top < 0) return undefined;
  let left = Infinity;
  let right = -Infinity;
  const lowest = Math.min(height - 1, Math.floor(m.eyeY + 0.15 * m.fh));
  for (let y = top; y <= lowest; y++) {
    let a = cx;
    while (a > 0 && mask[y * width + a - 1]) a--;
    let b = cx;
    while (b < width - 1 && mask[y * width + b + 1]) b++;
    if (!mask[y * width + cx]) continue;
    left = Math.min(left, a);
    right = Math.max(right, b);
  }
  const rx = (right - left) / 2;
  const above = m.browY - top;
  if (!(rx > 0.45 * m.fw && rx < 1.15 * m.fw) || !(above > 0.15 * m.fh && above < 1.2 * m.fh)) {
    log.debug({ rx, above, fw: m.fw, fh: m.fh }, 'head shape implausible; using the landmark ellipse');
    return undefined;
  }
  const bottom = m.chin.y;
  return { cx: (left + right) / 2, cy: (top + bottom) / 2, rx, ry: (bottom - top) / 2 };
}

/** Square dilation by r pixels. */
function grow(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let any = 0;
      for (let dy = -r; dy <= r && !any; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -r; dx <= r; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < width && mask[yy * width + xx]) {
            any = 1;
            break;
          }
        }
      }
      out[y * width + x] = any;
    }
  }
  return out;
}

/** Binary mask -> soft alpha: a separable box blur of radius ~feather, twice (close to a Gaussian). */
function feather(mask: Uint8Array, width: number, height: number, radius: number): Float32Array {
  let a: Float32Array = Float32Array.from(mask);
  const r = Math.max(1, Math.round(radius));
  for (let pass = 0; pass < 2; pass++) a = boxBlur(a, width, height, r);
  return a;
}

export function boxBlur(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += src[y * w + Math.min(w - 1, Math.max(0, x + d))]!;
      tmp[y * w + x] = s / (2 * r + 1);
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += tmp[Math.min(h - 1, Math.max(0, y + d)) * w + x]!;
      out[y * w + x] = s / (2 * r + 1);
    }
  }
  return out;
}
