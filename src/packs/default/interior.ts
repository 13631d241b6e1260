// The mouth-interior layer: what shows between the lips when they part. A static image in output space, tinted
// from the portrait's own lip and skin colours: a dark cavity, the upper teeth hanging just below the upper lip
// (they move with the skull, not the jaw), and a hint of tongue deep down that only a wide-open mouth reveals.
// The render graph composites it where the warped lip seam says the lips have parted.
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

      // Tongue: a rounded mound deep down, so only a wide-open mouth shows it.
      const tr = Math.hypot(p.x / 0.34, (dv - 0.52) / 0.22);
      const tongue = 0.85 * (1 - smoothstep(0.6, 1, tr));
      if (tongue > 0) {
        const shade = 0.3 + 0.22 * smoothstep(0.3, 0.5, dv) * (1 - 0.5 * Math.min(1, s2));
        r += tongue * (lr * shade - r);
        g += tongue * (lg * shade * 0.62 - g);
        b += tongue * (lb * shade * 0.66 - b);
      }

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
