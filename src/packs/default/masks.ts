// Soft region masks over the enrolled portrait (face, mouth, eyes) from the 68 landmarks.
import { FaceFrame, LM, mean, pt, signedDistanceToPolygon } from './geometry.ts';
import type { AvatarMasks, Point } from './types.ts';

/** Rasterises a polygon into `out` (max-combined), with an edge `feather` pixels wide, grown by `dilate` pixels. */
export function rasterizePolygon(out: Uint8Array, width: number, height: number, poly: readonly Point[], dilate = 0, feather = 1.5): void {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of poly) {
    minX = Math.min(minX, p.x);
    minY = Math.min(minY, p.y);
    maxX = Math.max(maxX, p.x);
    maxY = Math.max(maxY, p.y);
  }
  const pad = dilate + feather + 1;
  const xa = Math.max(0, Math.floor(minX - pad));
  const xb = Math.min(width - 1, Math.ceil(maxX + pad));
  const ya = Math.max(0, Math.floor(minY - pad));
  const yb = Math.min(height - 1, Math.ceil(maxY + pad));
  for (let y = ya; y <= yb; y++) {
    for (let x = xa; x <= xb; x++) {
      const sd = signedDistanceToPolygon(x, y, poly) - dilate;
      const c = Math.min(1, Math.max(0, 0.5 - sd / feather));
      const v = Math.round(c * 255);
      const i = y * width + x;
      if (v > out[i]!) out[i] = v;
    }
  }
}

function polygonOf(landmarks: Float32Array, indices: readonly number[]): Point[] {
  return indices.map((i) => pt(landmarks, i));
}

/** Face (jaw line up to a forehead line above the brows), mouth (outer lips) and eyes. */
export function buildMasks(landmarks: Float32Array, width: number, height: number): AvatarMasks {
  const frame = new FaceFrame(landmarks);
  const plane = width * height;
  const face = new Uint8Array(plane);
  const mouth = new Uint8Array(plane);
  const eyes = new Uint8Array(plane);

  // Forehead: the brows raised by 60% of the brow-to-nose-tip distance, along the face's up direction.
  const brows = mean(landmarks, [...LM.browRight, ...LM.browLeft]);
  const nose = pt(landmarks, LM.noseTip);
  const lift = 0.6 * Math.hypot(nose.x - brows.x, nose.y - brows.y);
  const facePoly: Point[] = polygonOf(landmarks, LM.jaw);
  for (let i = 26; i >= 17; i--) {
    const p = pt(landmarks, i);
    facePoly.push({ x: p.x - frame.ey.x * lift, y: p.y - frame.ey.y * lift });
  }
  rasterizePolygon(face, width, height, facePoly, 0, 2);

  const px = frame.scale; // mouth width in pixels
  rasterizePolygon(mouth, width, height, polygonOf(landmarks, LM.outerLip), 0.06 * px, 1.5);
  rasterizePolygon(eyes, width, height, polygonOf(landmarks, LM.eyeRight), 0.04 * px, 1.5);
  rasterizePolygon(eyes, width, height, polygonOf(landmarks, LM.eyeLeft), 0.04 * px, 1.5);
  return Object.freeze({ face, mouth, eyes });
}
