// Enrollment with real face detection (face-api on tfjs-wasm) on the built-in public-domain portrait.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twoPeople } from '../support/images.ts';
import {
  COEFFICIENT_NAMES,
  ImageDecodeError,
  MultipleFacesError,
  NoFaceError,
  builtinPortraitPath,
  detectFaces,
  enrollPortrait,
  type EnrolledAvatar,
} from '../../src/packs/default/index.ts';

let cacheDir: string;
let portrait: Buffer;
let avatar: EnrolledAvatar;
let firstMs: number;

beforeAll(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'facecast-avatars-'));
  portrait = await fs.readFile(builtinPortraitPath());
  const t0 = performance.now();
  avatar = await enrollPortrait(portrait, { cacheDir });
  firstMs = performance.now() - t0;
});

afterAll(async () => {
  if (cacheDir) await fs.rm(cacheDir, { recursive: true, force: true });
});

function inside(landmarks: Float32Array, width: number, height: number): boolean {
  for (let i = 0; i < landmarks.length; i += 2) {
    const x = landmarks[i]!;
    const y = landmarks[i + 1]!;
    if (!(x >= 0 && x < width && y >= 0 && y < height)) return false;
  }
  return true;
}

describe('detectFaces', () => {
  it('finds exactly one face with 68 landmarks and a 128-d descriptor in the astronaut portrait', async () => {
    const { data, info } = await sharp(portrait).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const faces = await detectFaces(new Uint8Array(data), info.width, info.height);
    expect(faces).toHaveLength(1);
    const face = faces[0]!;
    expect(face.score).toBeGreaterThan(0.8);
    expect(face.landmarks).toHaveLength(136);
    expect(face.descriptor).toHaveLength(128);
    expect(inside(face.landmarks, info.width, info.height)).toBe(true);
    // iBUG order: the chin (8) is below the nose tip (33), which is below the eyes (36-47).
    expect(face.landmarks[2 * 8 + 1]!).toBeGreaterThan(face.landmarks[2 * 33 + 1]!);
    expect(face.landmarks[2 * 33 + 1]!).toBeGreaterThan(face.landmarks[2 * 36 + 1]!);
    // Landmarks lie in and around the face box.
    const { x, y, width, height } = face.box;
    expect(face.landmarks[2 * 30]!).toBeGreaterThan(x);
    expect(face.landmarks[2 * 30]!).toBeLessThan(x + width);
    expect(face.landmarks[2 * 30 + 1]!).toBeGreaterThan(y);
    expect(face.landmarks[2 * 30 + 1]!).toBeLessThan(y + height);
  });

  it('is safe to call concurrently (models load once)', async () => {
    const { data, info } = await sharp(portrait).resize(256, 256).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const rgb = new Uint8Array(data);
    const results = await Promise.all([1, 2, 3].map(() => detectFaces(rgb, info.width, info.height, { detector: 'tiny' })));
    for (const faces of results) expect(faces).toHaveLength(1);
    expect(Array.from(results[1]![0]!.landmarks)).toEqual(Array.from(results[0]![0]!.landmarks));
  });

  it('validates its input', async () => {
    await expect(detectFaces(new Uint8Array(10), 4, 4)).rejects.toThrow(RangeError);
    await expect(detectFaces(new Uint8Array(48), 4, 4, { minScore: 2 })).rejects.toThrow(RangeError);
  });
});

describe('enrollPortrait', () => {
  it('enrolls the astronaut: one face, 68 landmarks inside the framed 512x512 image', () => {
    expect(avatar.id).toBe(createHash('sha256').update(portrait).digest('hex').slice(0, 16));
    expect(avatar.width).toBe(512);
    expect(avatar.height).toBe(512);
    expect(avatar.reference).toHaveLength(512 * 512 * 3);
    expect(avatar.landmarks).toHaveLength(136);
    expect(inside(avatar.landmarks, 512, 512)).toBe(true);
    expect(avatar.descriptor).toHaveLength(128);
    // Framing: the face was small in the 512x512 picture, so a head-and-shoulders square was cropped around it.
    expect(avatar.crop.width).toBeLessThan(512);
    expect(avatar.faceBox.height / avatar.height).toBeGreaterThan(0.22);
    // Mouth geometry agrees with the lip landmarks.
    expect(avatar.mouth.cx).toBeGreaterThan(avatar.landmarks[2 * 48]!);
    expect(avatar.mouth.cx).toBeLessThan(avatar.landmarks[2 * 54]!);
    expect(avatar.mouth.width).toBeGreaterThan(20);
    // The astronaut smiles with her upper teeth showing.
    expect(avatar.basis.teethVisible).toBe(true);
  });

  it('builds masks, layers and a motion basis covering every coefficient', () => {
    const plane = 512 * 512;
    const { basis, masks } = avatar;
    expect(basis.coefficientNames).toEqual(COEFFICIENT_NAMES);
    const driven = new Set([...basis.poseFields, ...basis.faceFields, ...basis.eyeFields].map((f) => f.coefficient));
    expect([...driven].sort((a, b) => a - b)).toEqual(COEFFICIENT_NAMES.map((_, i) => i));
    const at = (m: ArrayLike<number>, i: number): number => m[Math.round(avatar.landmarks[2 * i + 1]!) * 512 + Math.round(avatar.landmarks[2 * i]!)]!;
    expect(at(masks.face, 30)).toBe(255); // nose tip inside the face
    expect(at(masks.mouth, 57)).toBeGreaterThan(100); // lower lip inside the mouth
    expect(at(masks.eyes, 37)).toBeGreaterThan(100);
    expect(masks.face[0]).toBe(0);
    expect(masks.mouth[Math.round(avatar.landmarks[2 * 30 + 1]!) * 512 + Math.round(avatar.landmarks[2 * 30]!)]).toBe(0);
    // Layers: the face is head, the chest torso, the top corners background (and the plate is the reference there).
    expect(basis.segmented).toBe(true);
    expect(at(basis.headAlpha, 30)).toBeGreaterThan(0.99);
    expect(basis.headAlpha[500 * 512 + 256]).toBe(0);
    expect(basis.torsoAlpha[500 * 512 + 256]).toBeGreaterThan(0.99);
    for (const i of [0, 511, 512 * 20 + 5]) {
      expect(basis.headAlpha[i]! + basis.torsoAlpha[i]!).toBe(0);
      expect(Array.from(basis.plate.subarray(3 * i, 3 * i + 3))).toEqual(Array.from(avatar.reference.subarray(3 * i, 3 * i + 3)));
    }
    expect(basis.headAlpha).toHaveLength(plane);
  });

  it('keeps the boxes even and inside the frame, and the lip fields at zero above the nose', () => {
    const { basis } = avatar;
    const rb = basis.renderBox;
    for (const v of [rb.x, rb.y, rb.width, rb.height]) expect(v % 2).toBe(0);
    expect(rb.x + rb.width).toBeLessThanOrEqual(512);
    expect(rb.y + rb.height).toBeLessThanOrEqual(512);
    // The render box is the head, the neck and the upper chest: well under the whole frame.
    expect(rb.width * rb.height).toBeLessThan(0.7 * 512 * 512);
    for (const w of [basis.mouthWindow, basis.eyeWindow]) {
      expect(w.view.x).toBeGreaterThanOrEqual(rb.x);
      expect(w.view.x + w.view.width).toBeLessThanOrEqual(rb.x + rb.width);
      expect(w.width * w.height).toBeLessThan(w.view.width * w.view.height);
    }
    // Lip fields (jawOpen, lipSpread, lipPress, smile) on the face lattice are exactly zero above the nose.
    const l = basis.faceLattice;
    const plane = l.cols * l.rows;
    const noseY = Math.floor(Math.min(...[31, 32, 33, 34, 35].map((i) => avatar.landmarks[2 * i + 1]!))) - 3;
    for (const name of ['jawOpen', 'lipSpread', 'lipPress', 'smile']) {
      const k = basis.faceFields.findIndex((f) => COEFFICIENT_NAMES[f.coefficient] === name);
      let maxAbove = 0;
      for (let i = 0; i < l.rows; i++) {
        if (l.box.y + (i * (l.box.height - 1)) / (l.rows - 1) >= noseY) break;
        for (let j = 0; j < l.cols; j++) maxAbove = Math.max(maxAbove, Math.abs(basis.face[2 * k * plane + i * l.cols + j]!), Math.abs(basis.face[(2 * k + 1) * plane + i * l.cols + j]!));
      }
      expect(maxAbove).toBeLessThan(1e-6); // GridSample units: 1e-6 is 1/4000 of a pixel
    }
    // jawOpen pulls the chin region from above (negative y offset) by several pixels.
    const jaw = basis.faceFields.findIndex((f) => COEFFICIENT_NAMES[f.coefficient] === 'jawOpen');
    const j = Math.round(((avatar.landmarks[2 * 8]! - l.box.x) * (l.cols - 1)) / (l.box.width - 1));
    const i = Math.round(((avatar.landmarks[2 * 8 + 1]! - l.box.y) * (l.rows - 1)) / (l.box.height - 1));
    expect(basis.face[(2 * jaw + 1) * plane + i * l.cols + j]! * 256).toBeLessThan(-5);
  });

  it('caches by image hash: a second enrollment is a fast read of the same avatar', async () => {
    const entries = await fs.readdir(cacheDir);
    expect(entries.some((e) => e.startsWith(avatar.id))).toBe(true);
    const t0 = performance.now();
    const again = await enrollPortrait(portrait, { cacheDir });
    const secondMs = performance.now() - t0;
    expect(secondMs).toBeLessThan(firstMs / 3);
    expect(again.id).toBe(avatar.id);
    expect(Buffer.from(again.reference).equals(Buffer.from(avatar.reference))).toBe(true);
    expect(Array.from(again.landmarks)).toEqual(Array.from(avatar.landmarks));
    for (const name of ['headPose', 'torsoPose', 'face', 'eyes', 'mouthSides', 'headAlpha', 'plate'] as const) {
      const a = again.basis[name];
      const b = avatar.basis[name];
      expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
    }
    expect(again.basis.mouthWindow.pose).toEqual(avatar.basis.mouthWindow.pose);
    expect(again.basis.renderBox).toEqual(avatar.basis.renderBox);
    expect(again.basis.mouthCrop).toEqual(avatar.basis.mouthCrop);
  });

  it('throws NoFaceError for a picture without a face', async () => {
    const w = 320;
    const h = 240;
    const raw = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = 3 * (y * w + x);
        raw[i] = (x * 255) / w;
        raw[i + 1] = (y * 255) / h;
        raw[i + 2] = 128;
      }
    }
    const png = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    await expect(enrollPortrait(png, { cacheDir: false })).rejects.toBeInstanceOf(NoFaceError);
  });

  it('throws ImageDecodeError for bytes that are not an image, or a corrupt one', async () => {
    await expect(enrollPortrait(Buffer.from('definitely not a portrait, just some bytes'), { cacheDir: false })).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(enrollPortrait(Buffer.alloc(0), { cacheDir: false })).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(enrollPortrait(portrait.subarray(0, 2000), { cacheDir: false })).rejects.toBeInstanceOf(ImageDecodeError);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    await expect(enrollPortrait(svg, { cacheDir: false })).rejects.toBeInstanceOf(ImageDecodeError);
  });

  it('throws MultipleFacesError with the boxes when two people are in the picture', async () => {
    const pair = await (await twoPeople(portrait)).jpeg({ quality: 92 }).toBuffer();
    const err = await enrollPortrait(pair, { cacheDir: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MultipleFacesError);
    const boxes = (err as MultipleFacesError).boxes;
    expect(boxes).toHaveLength(2);
    const xs = boxes.map((b) => b.x + b.width / 2).sort((a, b) => a - b);
    expect(xs[0]).toBeLessThan(512);
    expect(xs[1]).toBeGreaterThan(512);
  });

  it('validates options at the boundary', async () => {
    await expect(enrollPortrait(portrait, { size: 511 })).rejects.toThrow(RangeError);
    await expect(enrollPortrait(portrait, { framing: 'tight' as 'auto' })).rejects.toThrow(RangeError);
  });
});
