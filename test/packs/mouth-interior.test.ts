// The open mouth, measured on rendered frames with face-api's own landmarks (not the renderer's): inside the inner
// lips (points 60-67) of a half-open mouth, how much is near-black and how much looks like tongue (lip-red, darker);
// and between the inner and the outer lower lip (66 to 57: face-api draws the inner lip edge above the lower teeth),
// how much looks like teeth (bright, unsaturated), where only the jaw's layer can put them.
// The negative control is the same avatar rendered without the jaw's layer: the dark hole the issue showed.
import fs from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinPortraitPath, coefficientVector, detectFaces, enrollPortrait, type EnrolledAvatar } from '../../src/packs/default/index.ts';
import { RENDER_INPUT, RENDER_INPUT_OFFSETS, RENDER_OUTPUT_RGB, buildRenderGraph, windowOffsets } from '../../src/packs/default/graph.ts';
import { buildJawInterior, buildMouthInterior, sampleColours } from '../../src/packs/default/interior.ts';
import { normalizeCoefficients } from '../../src/packs/default/coefficients.ts';

let avatar: EnrolledAvatar;
const sessions: ort.InferenceSession[] = [];

beforeAll(async () => {
  avatar = await enrollPortrait(await fs.readFile(builtinPortraitPath()));
});
afterAll(async () => {
  for (const s of sessions) await s.release();
});

/** The whole 512x512 frame at these coefficients, with or without the jaw's interior layer. */
async function render(jawOpen: number, withJaw: boolean): Promise<Uint8Array> {
  const colours = sampleColours(avatar.reference, avatar.masks);
  const spec = {
    ...avatar.basis,
    coefficientCount: avatar.basis.coefficientNames.length,
    reference: avatar.reference,
    interior: buildMouthInterior(avatar.landmarks, avatar.basis, colours),
    jawInterior: withJaw ? buildJawInterior(avatar.landmarks, avatar.basis, colours) : undefined,
  };
  const session = await ort.InferenceSession.create(buildRenderGraph(spec), { intraOpNumThreads: 1 });
  sessions.push(session);
  const c = normalizeCoefficients(coefficientVector({ jawOpen }));
  const out = await session.run({ [RENDER_INPUT]: new ort.Tensor('float32', c, [1, c.length]), [RENDER_INPUT_OFFSETS]: new ort.Tensor('int64', windowOffsets(avatar.basis, c), [4]) }, [RENDER_OUTPUT_RGB]);
  const box = avatar.basis.renderBox;
  const frame = Uint8Array.from(avatar.reference);
  const rgb = out[RENDER_OUTPUT_RGB]!.data as Uint8Array;
  for (let y = 0; y < box.height; y++) frame.set(rgb.subarray(y * box.width * 3, (y + 1) * box.width * 3), ((box.y + y) * 512 + box.x) * 3);
  return frame;
}

function inside(poly: readonly [number, number][], x: number, y: number): boolean {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

/** Shares of the inner-lip area that are near-black, teeth-like in its lower half, and tongue-like. */
async function openMouth(frame: Uint8Array) {
  const [face] = await detectFaces(frame, 512, 512);
  expect(face).toBeDefined();
  const L = face!.landmarks;
  const poly = [60, 61, 62, 63, 64, 65, 66, 67].map((i) => [L[2 * i]!, L[2 * i + 1]!] as [number, number]);
  let n = 0;
  let black = 0;
  let tongue = 0;
  const xs = poly.map((p) => p[0]);
  const ys = poly.map((p) => p[1]);
  const look = (x: number, y: number) => {
    const i = 3 * (y * 512 + x);
    const [r, g, b] = [frame[i]!, frame[i + 1]!, frame[i + 2]!];
    return { r, g, luma: 0.299 * r + 0.587 * g + 0.114 * b, sat: (Math.max(r, g, b) - Math.min(r, g, b)) / Math.max(1, Math.max(r, g, b)) };
  };
  for (let y = Math.floor(Math.min(...ys)); y <= Math.ceil(Math.max(...ys)); y++) {
    for (let x = Math.floor(Math.min(...xs)); x <= Math.ceil(Math.max(...xs)); x++) {
      if (!inside(poly, x + 0.5, y + 0.5)) continue;
      const p = look(x, y);
      n++;
      if (p.luma < 35) black++;
      if (p.r > 1.3 * p.g && p.luma > 40 && p.luma < 150) tongue++;
    }
  }
  let band = 0;
  let teeth = 0;
  for (let y = Math.round(L[2 * 66 + 1]!); y < Math.round(L[2 * 57 + 1]!); y++) {
    for (let x = Math.round(L[2 * 67]!); x <= Math.round(L[2 * 65]!); x++) {
      const p = look(x, y);
      band++;
      if (p.luma > 120 && p.sat < 0.3) teeth++;
    }
  }
  return { pixels: n, black: black / n, lowerTeeth: teeth / Math.max(1, band), tongue: tongue / n, gapPx: Math.hypot(L[2 * 66]! - L[2 * 62]!, L[2 * 66 + 1]! - L[2 * 62 + 1]!) };
}

describe('the open mouth (default pack)', () => {
  it('shows lower teeth and a tongue, not a dark hole; without the jaw layer it is the dark hole', async () => {
    const withJaw = await openMouth(await render(0.6, true));
    const without = await openMouth(await render(0.6, false));
    expect(withJaw.gapPx).toBeGreaterThan(8); // face-api sees an open mouth
    expect(withJaw.pixels).toBeGreaterThan(200);
    // The control first: the old interior is a dark hole (measured 0.46 of it near-black, 0.08 tongue-coloured).
    expect(without.black).toBeGreaterThan(0.35);
    // With the jaw's layer (measured: 0.06 near-black, 0.48 tongue, 0.68 of the band teeth against 0.31).
    expect(withJaw.black).toBeLessThan(Math.min(0.2, without.black / 2));
    expect(withJaw.tongue).toBeGreaterThan(Math.max(0.3, 3 * without.tongue));
    expect(withJaw.lowerTeeth).toBeGreaterThan(without.lowerTeeth + 0.2);
  });
});
