// The mouth interior: what shows between the lips when they part, in two layers tinted from the portrait's own lip
// and skin colours. The skull's (buildMouthInterior, head space): a cavity shaded from the lips inwards, and the
// upper teeth hanging just below the upper lip where the portrait shows none. The jaw's (buildJawInterior, in the
// reference's own space, warped with the lower lip and chin): the lower teeth just behind the lower lip and the
// tongue behind them, so both ride down with the jaw and only an open mouth reveals them. The render graph
// composites the jaw's over the skull's where the warped lip seam says the lips have parted.
import { FaceFrame, LipSeam, smoothstep } from './geometry.ts';
import type { AvatarMasks, MotionBasis } from './types.ts';

export interface InteriorColours {
  readonly lip: readonly [number, number, number];
  /** Mean face luminance, 0..255. */
  readonly skinLuma: number;
}

/** Mean lip colour (mouth mask) and face luminance (face mask) of the reference. */
export function sampleColours(reference: Uint8Array, masks: AvatarMasks): InteriorColours {
  let r = 0;
  let g = 0;
  let b = 0;
  let w = 0;
  let luma = 0;
  let wf = 0;
  for (let i = 0; i < masks.mouth.length; i++) {
    const m = masks.mouth[i]!;
    const f = masks.face[i]!;
    if (m === 0 && f === 0) continue;
    const R = reference[3 * i]!;
    const G = reference[3 * i + 1]!;
    const B = reference[3 * i + 2]!;
    if (m > 0) {
      r += m * R;
      g += m * G;
      b += m * B;
      w += m;
    }
    if (f > 0) {
      luma += f * (0.299 * R + 0.587 * G + 0.114 * B);
      wf += f;
    }
  }
  const lip: [number, number, number] = w > 0 ? [r / w, g / w, b / w] : [150, 80, 80];
  return { lip, skinLuma: wf > 0 ? luma / wf : 140 };
}

/**
 * Builds the interior layer over the basis' mouth crop: planar float RGB [3, h, w] in 0..255. When the reference
 * already shows teeth (or an open mouth), its own teeth stay above the seam and none are painted.
 */
export function buildMouthInterior(landmarks: Float32Array, basis: MotionBasis, colours: InteriorColours): Float32Array {
  const crop = basis.mouthCrop;
  const plane = crop.width * crop.height;
  const out = new Float32Array(3 * plane);
  const frame = new FaceFrame(landmarks);
  const seam = new LipSeam(frame, basis.lipSeam);
  const px = 1 / frame.scale; // one pixel in frame units
  const light = Math.min(1.15, Math.max(0.55, colours.skinLuma / 150));
  const [lr, lg, lb] = colours.lip;
  const paintTeeth = !basis.teethVisible && basis.lipGap < 0.06;
  const teeth = [214 * light, 205 * light, 190 * light];
  const halfInner = Math.max(0.2, (seam.innerRight - seam.innerLeft) / 2);
  const gaps = [0, 0.34, -0.34, 0.62, -0.62];

  for (let cy = 0; cy < crop.height; cy++) {
    for (let cx = 0; cx < crop.width; cx++) {
      const i = cy * crop.width + cx;
      if (basis.mouthRegion[i]! <= 0) continue;
      const p = frame.toFrame(crop.x + cx, crop.y + cy);
      const dv = p.y - seam.at(p.x); // below the lip line, frame units
      const s = p.x / halfInner; // -1..1 between the inner corners
      const s2 = Math.min(1.5, s * s);

      // Cavity: dark and lip-tinted; deepest right under the upper teeth, a little warmer further down, darker
      // towards the corners (the cheeks shade them).
      const depth = 0.1 + 0.12 * smoothstep(0.02, 0.3, dv);
      const cav = depth * (1 - 0.45 * Math.min(1, s2));
      let r = 4 + lr * cav;
      let g = 2 + lg * cav * 0.85;
      let b = 2 + lb * cav * 0.85;

      // Upper teeth: from under the upper lip down to a gently curved edge, shaded towards the corners and right
      // under the lip; faint gaps between the incisors.
      if (paintTeeth) {
        const edge = 0.085 - 0.035 * s2;
        const cover = (1 - smoothstep(edge - 0.7 * px, edge + 0.7 * px, dv)) * (1 - smoothstep(0.55, 0.85, Math.abs(s)));
        if (cover > 0) {
          let shade = (1 - 0.5 * s2) * (0.72 + 0.28 * smoothstep(-0.03, 0.03, dv));
          for (const gx of gaps) {
            const d = ((s - gx) * halfInner) / px; // pixels from the gap
            shade *= 1 - 0.16 * Math.exp(-d * d * 1.5) * smoothstep(-0.02, 0.04, dv);
          }
          r += cover * (teeth[0]! * shade - r);
          g += cover * (teeth[1]! * shade - g);
          b += cover * (teeth[2]! * shade - b);
        }
      }
      out[i] = r;
      out[plane + i] = g;
      out[2 * plane + i] = b;
    }
  }
  return out;
}

/** The lower teeth's visible height at the middle, in mouth widths (shorter towards the corners). */
const LOWER_TEETH = 0.07;
/** The tongue: an oval behind the lower teeth (centre above the lip line, half-sizes), mouth widths. */
const TONGUE = { centre: -0.16, halfHeight: 0.13, halfWidth: 0.36 } as const;

/**
 * The jaw's interior layer, in the reference's own space: planar RGBA [4, H, W] (0..255, alpha 0..1), non-zero only
 * in the band just above the closed lips' seam. The render graph samples it with the lower lip's grid, so when the
 * jaw opens this band follows the lower lip down into the opening: the lower teeth first, the tongue behind them.
 */
export function buildJawInterior(landmarks: Float32Array, basis: MotionBasis, colours: InteriorColours): Float32Array {
  const { width: W, height: H, mouthCrop: crop } = basis;
  const plane = W * H;
  const out = new Float32Array(4 * plane);
  const frame = new FaceFrame(landmarks);
  const seam = new LipSeam(frame, basis.lipSeam);
  const px = 1 / frame.scale;
  const light = Math.min(1.15, Math.max(0.55, colours.skinLuma / 150));
  const [lr, lg, lb] = colours.lip;
  const teeth = [206 * light, 197 * light, 182 * light];
  const halfInner = Math.max(0.2, (seam.innerRight - seam.innerLeft) / 2);
  const gaps = [0, 0.24, -0.24, 0.46, -0.46];
  for (let y = crop.y; y < crop.y + crop.height; y++) {
    for (let x = crop.x; x < crop.x + crop.width; x++) {
      const p = frame.toFrame(x, y);
      const dv = p.y - seam.at(p.x); // negative above the lip line
      if (dv > px || dv < TONGUE.centre - TONGUE.halfHeight - px) continue;
      const s = p.x / halfInner;
      const s2 = Math.min(1.5, s * s);
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      // The tongue: lip-tinted and lighter on top, shaded at its sides and towards the back.
      const tr = Math.hypot(p.x / TONGUE.halfWidth, (dv - TONGUE.centre) / TONGUE.halfHeight);
      const tongue = 0.9 * (1 - smoothstep(0.75, 1, tr));
      if (tongue > 0) {
        const shade = (0.42 + 0.2 * smoothstep(TONGUE.centre - TONGUE.halfHeight, TONGUE.centre, dv)) * (1 - 0.35 * Math.min(1, s2));
        r = lr * shade;
        g = lg * shade * 0.66;
        b = lb * shade * 0.7;
        a = tongue;
      }
      // The lower teeth: from the lip line up to a gently curved edge, darker towards the corners and at the gum
      // line, faint gaps between the incisors.
      const edge = -(LOWER_TEETH - 0.03 * s2);
      const cover = smoothstep(edge - 0.7 * px, edge + 0.7 * px, dv) * (1 - smoothstep(0.5, 0.8, Math.abs(s)));
      if (cover > 0) {
        const up = Math.min(1, Math.max(0, dv / edge)); // 0 at the lip line, 1 at the teeth's edge
        let shade = (1 - 0.55 * s2) * (0.8 + 0.2 * up);
        for (const gx of gaps) {
          const d = ((s - gx) * halfInner) / px;
          shade *= 1 - 0.18 * Math.exp(-d * d * 1.5);
        }
        r += cover * (teeth[0]! * shade - r);
        g += cover * (teeth[1]! * shade - g);
        b += cover * (teeth[2]! * shade - b);
        a += cover * (1 - a);
      }
      if (a <= 0) continue;
      const i = y * W + x;
      out[i] = r;
      out[plane + i] = g;
      out[2 * plane + i] = b;
      out[3 * plane + i] = a;
    }
  }
  return out;
}
