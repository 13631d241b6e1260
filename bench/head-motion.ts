// How much the head moves while the avatar talks, measured on rendered frames with face-api's landmarks (never the
// renderer's coefficients): a clip of espeak-ng speech with its text, rendered offline through the director and the
// default pack (src/cli/clip.ts, as a live session plans), every other frame measured. Roll from the outer eye
// corners' line, yaw from the nose across the face outline, pitch from the eye line's height; yaw and pitch are put
// in degrees by renders of the same avatar at known head coefficients (+-0.35 = +-5.25 degrees, the basis' scale),
// so the figures compare across portraits.
// Usage: node --import tsx bench/head-motion.ts [--portraits astronaut,sample5-left,sample3-right] [--out FILE]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderClip } from '../src/cli/clip.ts';
import { DefaultRenderer, coefficientVector, detectFaces, enrollPortrait, POSE_ANGLE_DEG } from '../src/packs/default/index.ts';
import { faceMeasures, std } from '../test/support/face-measures.ts';
import { loadPortrait } from './quality/portraits.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({ options: { portraits: { type: 'string', default: 'astronaut,sample5-left,sample3-right' }, out: { type: 'string', default: 'bench/results/head-motion.json' } } });
const TEXT =
  'So here is the plan for today. First, we look at the numbers from last week. Then, do you remember what we said about the budget? ' +
  'I think we can do better. Honestly, I am quite sure of it, and I will tell you why in a moment.';
const dir = mkdtempSync(join(tmpdir(), 'facecast-head-motion-'));
execFileSync('espeak-ng', ['-s', '160', '-w', join(dir, 'a.wav'), TEXT]);
execFileSync('sox', [join(dir, 'a.wav'), '-t', 'raw', '-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer', join(dir, 'a.raw')]);
const raw = readFileSync(join(dir, 'a.raw'));
const audio = new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);
const round = (x: number, d = 2) => Number(x.toFixed(d));

function pose(lm: Float32Array): { roll: number; yaw: number; eyesY: number } {
  const m = faceMeasures(lm);
  return { roll: (Math.atan2(lm[2 * 45 + 1]! - lm[2 * 36 + 1]!, lm[2 * 45]! - lm[2 * 36]!) * 180) / Math.PI, yaw: m.yaw, eyesY: m.eyesY };
}

const results = [];
for (const name of values.portraits!.split(',')) {
  const avatar = await enrollPortrait((await loadPortrait(name)).image);
  const renderer = await DefaultRenderer.create(avatar);
  // The scale: what +-0.35 of yaw and pitch measure on this avatar.
  const at = async (c: Parameters<typeof coefficientVector>[0]) => {
    const { rgb } = await renderer.render(coefficientVector(c));
    const [face] = await detectFaces(Uint8Array.from(rgb), renderer.width, renderer.height);
    return pose(face!.landmarks);
  };
  const deg = 0.7 * POSE_ANGLE_DEG; // from -0.35 to +0.35
  const yawPerDeg = ((await at({ headYaw: 0.35 })).yaw - (await at({ headYaw: -0.35 })).yaw) / deg;
  const pitchPxPerDeg = ((await at({ headPitch: -0.35 })).eyesY - (await at({ headPitch: 0.35 })).eyesY) / deg;
  const frames: Uint8Array[] = [];
  await renderClip({ avatar, renderer, audio, text: TEXT, seed: 3, onFrame: (f, i) => void (i % 2 === 0 && f.rgb && frames.push(Uint8Array.from(f.rgb))) });
  const poses = [];
  for (const rgb of frames) {
    const [face] = await detectFaces(rgb, renderer.width, renderer.height);
    if (face) poses.push(pose(face.landmarks));
  }
  await renderer.close();
  const r = {
    portrait: name,
    frames: frames.length,
    measured: poses.length,
    rollSdDeg: round(std(poses.map((p) => p.roll))),
    yawSdDeg: round(std(poses.map((p) => p.yaw)) / Math.abs(yawPerDeg)),
    pitchSdDeg: round(std(poses.map((p) => p.eyesY)) / Math.abs(pitchPxPerDeg)),
    pitchSdPx: round(std(poses.map((p) => p.eyesY))),
  };
  console.error(JSON.stringify(r));
  results.push(r);
}
const out = { command: `node --import tsx bench/head-motion.ts --portraits ${values.portraits}`, machine: machine(), date: new Date().toISOString(), seconds: round(audio.length / 48_000, 1), results };
writeFileSync(values.out!, JSON.stringify(out, null, 2) + '\n');
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
