// The quality measure of bench/quality on one portrait and one voice, short: the real avatar (offline cascade,
// audio-driven mouth) passes; a frozen, a random and a misaligned avatar fail the same measure. Everything is
// measured on the rendered frames with face-api, never on the coefficients.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eyesOpenFraction } from '../support/face-measures.ts';
import { failures, measureClip, measureIdentity, type Calibration, type ClipMeasure, type IdentityMeasure } from '../../bench/quality/measure.ts';
import { calibrate, renderClip, type Drive } from '../../bench/quality/render-clip.ts';
import { speechClip, type SpeechClip } from '../../bench/quality/speech.ts';
import { DefaultRenderer, builtinPortraitPath, enrollPortrait, type EnrolledAvatar } from '../../src/packs/default/index.ts';
import { readFile } from 'node:fs/promises';

const dir = mkdtempSync(path.join(tmpdir(), 'facecast-quality-'));
let renderer: DefaultRenderer;
let avatar: EnrolledAvatar;
let calib: Calibration;
let clip: SpeechClip;
const results = new Map<Drive, { m: ClipMeasure; id: IdentityMeasure; fails: string[] }>();

async function measure(drive: Drive) {
  const out = await renderClip({ renderer, audio: clip.samples, drive, every: 1, identityAt: (n) => n % 40 === 20, restLandmarks: avatar.landmarks, restEyesOpen: eyesOpenFraction(avatar.reference, avatar.width, avatar.landmarks) });
  const m = measureClip(out.faces, clip.samples, calib);
  const id = measureIdentity(out.identity, avatar.descriptor);
  const fails = failures(m, id);
  results.set(drive, { m, id, fails });
  return { m, id, fails };
}

beforeAll(async () => {
  avatar = await enrollPortrait(new Uint8Array(await readFile(builtinPortraitPath())), { cacheDir: path.join(dir, 'avatars') });
  renderer = await DefaultRenderer.create(avatar);
  calib = await calibrate(renderer);
  // About 5.7 s: 0.8 s of silence, a sentence (flite), 1 s of silence.
  clip = speechClip('flite', dir, { oneSentence: true, leadS: 0.8, tailS: 1 });
});

afterAll(async () => {
  await renderer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('avatar quality measured on the rendered frames (astronaut, flite)', () => {
  it('the real avatar: lip aperture follows the audio (r >= 0.7, lag <= 40 ms), closed and still in silence, same identity', async () => {
    const { m, id, fails } = await measure('real');
    expect(m.detected).toBe(m.frames);
    expect(m.silentFrames).toBeGreaterThanOrEqual(30);
    expect(m.speechFrames).toBeGreaterThanOrEqual(30);
    expect(id.samples).toBeGreaterThanOrEqual(3);
    expect(fails).toEqual([]);
  });

  it('a frozen avatar fails (no lip motion)', async () => {
    const { m, fails } = await measure('frozen');
    expect(fails.length).toBeGreaterThan(0);
    expect(m.lip.r).toBeLessThan(0.7);
  });

  it('a random avatar fails (uncorrelated, moves in silence, jitters)', async () => {
    const { m, fails } = await measure('random');
    expect(fails.length).toBeGreaterThan(0);
    expect(m.lip.r).toBeLessThan(0.7);
    expect(m.closedFraction).toBeLessThan(0.95);
    expect(m.jitterPx).toBeGreaterThan(1);
  });

  it('an avatar 300 ms out of sync fails', async () => {
    const { m, fails } = await measure('misaligned');
    expect(fails.length).toBeGreaterThan(0);
    expect(m.lip.r < 0.7 || Math.abs(m.lip.lagMs) > 40).toBe(true);
    // The real one, measured the same way, is far better aligned.
    expect(results.get('real')!.m.lip.r).toBeGreaterThan(m.lip.r + 0.2);
  });
});
