// The new motions of the default pack, each measured on the rendered frames by an independent judge: face-api's own
// landmarks and descriptor on the output, and the output's pixels, never the coefficients that made them.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DefaultRenderer,
  builtinPortraitPath,
  coefficientVector,
  detectFaces,
  enrollPortrait,
  type CoefficientName,
  type DetectedFace,
  type EnrolledAvatar,
} from '../../src/packs/default/index.ts';
import { openEyeFraction } from '../support/face-measures.ts';

let cacheDir: string;
let avatar: EnrolledAvatar;
let renderer: DefaultRenderer;
let rest: { rgb: Uint8Array; face: DetectedFace };

type Values = Partial<Record<CoefficientName, number>>;

async function look(values: Values): Promise<{ rgb: Uint8Array; face: DetectedFace }> {
  const { rgb } = await renderer.render(coefficientVector(values));
  const faces = await detectFaces(rgb, 512, 512);
  expect(faces).toHaveLength(1);
  return { rgb, face: faces[0]! };
}

beforeAll(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'facecast-avatars-'));
  avatar = await enrollPortrait(await fs.readFile(builtinPortraitPath()), { cacheDir });
  renderer = await DefaultRenderer.create(avatar);
  rest = await look({});
});

afterAll(async () => {
  await renderer?.close();
  if (cacheDir) await fs.rm(cacheDir, { recursive: true, force: true });
});

const P = (l: Float32Array, i: number): { x: number; y: number } => ({ x: l[2 * i]!, y: l[2 * i + 1]! });
const dist = (a: { x: number; y: number }, b: { x: number; y: number }): number => Math.hypot(a.x - b.x, a.y - b.y);
/** Eye aspect ratio of the eye starting at landmark o (36: the subject's right eye, 42: the left). */
const ear = (l: Float32Array, o: number): number => (dist(P(l, o + 1), P(l, o + 5)) + dist(P(l, o + 2), P(l, o + 4))) / (2 * dist(P(l, o), P(l, o + 3)));
const mean = (l: Float32Array, idx: number[], axis: 'x' | 'y'): number => idx.reduce((s, i) => s + P(l, i)[axis], 0) / idx.length;

/**
 * Inside the eye polygon face-api finds on the frame: the share of pixels that look like an open eye, the white
 * (bright, unsaturated) or the iris and pupil (dark). A closed lid is skin and a thin lash line.
 */
function meanAbsDiff(a: Uint8Array, b: Uint8Array, r: { x0: number; y0: number; x1: number; y1: number }): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.max(0, Math.round(r.y0)); y < Math.min(512, Math.round(r.y1)); y++) {
    for (let x = Math.max(0, Math.round(r.x0)); x < Math.min(512, Math.round(r.x1)); x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(a[3 * (y * 512 + x) + c]! - b[3 * (y * 512 + x) + c]!);
      n += 3;
    }
  }
  return sum / n;
}

function descriptorDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

describe('default pack motions, as face-api sees them', () => {
  it('blinkLeft and blinkRight close one eye each (the open-eye pixels inside the eye nearly vanish)', async () => {
    const restOpen = { left: openEyeFraction(rest.rgb, 512, rest.face.landmarks, 42), right: openEyeFraction(rest.rgb, 512, rest.face.landmarks, 36) };
    expect(restOpen.left).toBeGreaterThan(0.4);
    expect(restOpen.right).toBeGreaterThan(0.4);
    for (const [coefficient, closed, open] of [
      ['blinkLeft', 42, 36],
      ['blinkRight', 36, 42],
    ] as const) {
      const { rgb, face } = await look({ [coefficient]: 1 });
      const l = face.landmarks;
      const before = closed === 42 ? restOpen.left : restOpen.right;
      const after = openEyeFraction(rgb, 512, l, closed);
      expect(after).toBeLessThan(0.3 * before);
      // The other eye stays open.
      expect(openEyeFraction(rgb, 512, l, open)).toBeGreaterThan(0.75 * (open === 42 ? restOpen.left : restOpen.right));
      // face-api's own eye aspect ratio falls too, if far less: its landmark model keeps an open-eye shape even for
      // an eye painted out with skin (0.30 -> 0.25 on this portrait), so it cannot fall by half.
      expect(ear(l, closed)).toBeLessThan(0.97 * ear(rest.face.landmarks, closed));
    }
  });

  it('smile raises the mouth corners (48, 54) relative to the centre of the lips', async () => {
    const lift = (l: Float32Array): number => mean(l, [51, 57, 62, 66], 'y') - mean(l, [48, 54], 'y');
    const { face } = await look({ smile: 1 });
    expect(lift(face.landmarks)).toBeGreaterThan(lift(rest.face.landmarks) + 1.2);
  });

  it('browRaise raises the brows (17-26) relative to the eyes', async () => {
    const gap = (l: Float32Array): number => mean(l, [37, 38, 43, 44], 'y') - mean(l, [17, 18, 19, 20, 21, 22, 23, 24, 25, 26], 'y');
    const { face } = await look({ browRaise: 1 });
    expect(gap(face.landmarks)).toBeGreaterThan(gap(rest.face.landmarks) + 2);
  });

  it('headYaw +1 and -1 move the nose tip (30) sideways within the face outline, in opposite directions', async () => {
    const nose = (l: Float32Array): number => P(l, 30).x - (P(l, 0).x + P(l, 16).x) / 2;
    const base = nose(rest.face.landmarks);
    const right = nose((await look({ headYaw: 1 })).face.landmarks);
    const left = nose((await look({ headYaw: -1 })).face.landmarks);
    expect(right - base).toBeGreaterThan(5); // +1: towards the image's right
    expect(left - base).toBeLessThan(-5);
  });

  it('headPitch changes how far the nose tip sits below the eyes (up: closer, down: further)', async () => {
    const drop = (l: Float32Array): number => P(l, 30).y - mean(l, [36, 39, 42, 45], 'y');
    const base = drop(rest.face.landmarks);
    expect(drop((await look({ headPitch: 1 })).face.landmarks)).toBeLessThan(base - 3);
    expect(drop((await look({ headPitch: -1 })).face.landmarks)).toBeGreaterThan(base + 3);
  });

  it('keeps the background still beside and above a turning head (corners and bands left and right of the head)', async () => {
    const l = avatar.landmarks;
    const fw = P(l, 16).x - P(l, 0).x;
    const brow = mean(l, [17, 18, 19, 20, 21, 22, 23, 24, 25, 26], 'y');
    const chin = P(l, 8).y;
    const regions = [
      { x0: 0, y0: 0, x1: 48, y1: 48 },
      { x0: 464, y0: 0, x1: 512, y1: 48 },
      { x0: P(l, 0).x - 0.9 * fw, y0: brow - 0.5 * (chin - brow), x1: P(l, 0).x - 0.45 * fw, y1: chin - 0.3 * (chin - brow) },
      { x0: P(l, 16).x + 0.45 * fw, y0: brow - 0.5 * (chin - brow), x1: P(l, 16).x + 0.9 * fw, y1: chin - 0.3 * (chin - brow) },
    ];
    for (const headYaw of [1, -1]) {
      const { rgb } = await renderer.render(coefficientVector({ headYaw }));
      // The head itself did move.
      expect(meanAbsDiff(rgb, avatar.reference, { x0: P(l, 0).x, y0: brow, x1: P(l, 16).x, y1: chin })).toBeGreaterThan(8);
      for (const r of regions) expect(meanAbsDiff(rgb, avatar.reference, r)).toBeLessThan(2);
    }
  });

  it("keeps the identity: face-api's descriptor stays within 0.4 of the reference's", async () => {
    const mixes: Values[] = [
      { headYaw: 1 },
      { headYaw: -1 },
      { headPitch: 1 },
      { headPitch: -1 },
      { headRoll: 1 },
      { smile: 1 },
      { blinkLeft: 1, blinkRight: 1 },
      { jawOpen: 1 },
      { browRaise: 1 },
      { headYaw: 1, jawOpen: 1, smile: 1 },
      { headYaw: -0.5, headPitch: 0.4, headRoll: -0.3, jawOpen: 0.5, lipSpread: -0.5, blinkRight: 0.6, neckSway: 1, breathe: 1 },
      { headPitch: -0.6, headYaw: 0.4, smile: 0.7, browFrown: 1, lipPress: 1 },
    ];
    for (const values of mixes) {
      const { face } = await look(values);
      const d = descriptorDistance(face.descriptor, avatar.descriptor);
      expect(d, JSON.stringify(values)).toBeLessThan(0.4);
    }
  });
});
