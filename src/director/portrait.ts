// What the visual expert reads from the portrait: framing (face size in the frame), head pose in the photo
// estimated from 68 landmarks (eye/nose/jaw geometry: rough, a few degrees), the expression at rest (mouth
// corners, brows, lips apart) and how many people there are.
import type { Framing } from './experts/types.ts';
import { portraitInputSchema, type PortraitInput } from './inputs.ts';

export interface PortraitAnalysis {
  readonly framing: Framing;
  /** Face box height / image height. */
  readonly faceHeightRatio: number;
  /** Face box centre, 0..1 of the image. */
  readonly faceCenter: { readonly x: number; readonly y: number };
  /** Head pose in the photo in coefficient units (+-1 = +-15 deg); null without landmarks. +yaw: turned to the image's right. */
  readonly pose: { readonly yaw: number; readonly pitch: number; readonly roll: number } | null;
  /** Expression at rest; null without landmarks. smile: mouth corners above the lip centre (+) or below (-), in mouth widths. */
  readonly rest: { readonly smile: number; readonly browHeight: number; readonly lipsApart: number } | null;
  readonly people: number;
}

const DEG_PER_UNIT = 15;

export function analyzePortrait(input: PortraitInput): PortraitAnalysis {
  const p = portraitInputSchema.parse(input);
  const faceHeightRatio = p.faceBox.height / p.height;
  const framing: Framing = faceHeightRatio >= 0.4 ? 'close-up' : faceHeightRatio >= 0.18 ? 'medium' : 'wide';
  const faceCenter = { x: (p.faceBox.x + p.faceBox.width / 2) / p.width, y: (p.faceBox.y + p.faceBox.height / 2) / p.height };
  let pose: PortraitAnalysis['pose'] = null;
  let rest: PortraitAnalysis['rest'] = null;
  if (p.landmarks) {
    const L = p.landmarks;
    const pt = (i: number) => ({ x: L[2 * i]!, y: L[2 * i + 1]! });
    const mean = (from: number, to: number) => {
      let x = 0;
      let y = 0;
      for (let i = from; i <= to; i++) {
        x += L[2 * i]!;
        y += L[2 * i + 1]!;
      }
      const n = to - from + 1;
      return { x: x / n, y: y / n };
    };
    const eyeL = mean(36, 41);
    const eyeR = mean(42, 47);
    const eyeMid = { x: (eyeL.x + eyeR.x) / 2, y: (eyeL.y + eyeR.y) / 2 };
    const iod = Math.hypot(eyeR.x - eyeL.x, eyeR.y - eyeL.y) || 1;
    const nose = pt(30);
    const mouthMid = mean(48, 67);
    // Yaw: the nose tip's offset from the eyes' midpoint, and the jaw's asymmetry about the nose.
    const noseOffset = (nose.x - eyeMid.x) / iod;
    const dL = Math.abs(nose.x - pt(0).x);
    const dR = Math.abs(pt(16).x - nose.x);
    const asym = (dL - dR) / Math.max(1, dL + dR);
    const yawDeg = 0.5 * (noseOffset * 60) + 0.5 * (asym * 90);
    const rollDeg = (Math.atan2(eyeR.y - eyeL.y, eyeR.x - eyeL.x) * 180) / Math.PI;
    // Pitch: where the nose tip sits between the eyes and the mouth (about 0.6 when level; lower when the head tilts back).
    const ratio = (nose.y - eyeMid.y) / Math.max(1, mouthMid.y - eyeMid.y);
    const pitchDeg = (0.6 - ratio) * 80;
    pose = { yaw: clamp(yawDeg / DEG_PER_UNIT), pitch: clamp(pitchDeg / DEG_PER_UNIT), roll: clamp(rollDeg / DEG_PER_UNIT) };
    const cornerL = pt(48);
    const cornerR = pt(54);
    const mouthWidth = Math.hypot(cornerR.x - cornerL.x, cornerR.y - cornerL.y) || 1;
    const lipCentreY = (pt(51).y + pt(57).y) / 2;
    const smile = (lipCentreY - (cornerL.y + cornerR.y) / 2) / mouthWidth;
    const brows = mean(17, 26);
    const browHeight = (eyeMid.y - brows.y) / iod;
    const lipsApart = Math.max(0, pt(66).y - pt(62).y) / mouthWidth;
    rest = { smile, browHeight, lipsApart };
  }
  return Object.freeze({ framing, faceHeightRatio, faceCenter: Object.freeze(faceCenter), pose: pose && Object.freeze(pose), rest: rest && Object.freeze(rest), people: p.people });
}

function clamp(v: number): number {
  return Math.max(-1, Math.min(1, v));
}
