// Instruction following, measured on the rendered output: the director's plan drives the
// default pack, and face-api landmarks on the frames show the effect (never the plan's own
// numbers). Each clip: espeak-ng speech of a transcript, rendered offline through the same
// cascade and director as a live session.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderClip } from '../../src/cli/clip.ts';
import { DefaultRenderer, detectFaces, enrollPortrait, type EnrolledAvatar } from '../../src/packs/default/index.ts';
import { coefficientVector } from '../../src/packs/default/coefficients.ts';
import { faceMeasures, fastMotion, type FaceMeasures } from '../support/face-measures.ts';

const dir = mkdtempSync(join(tmpdir(), 'facecast-director-'));
let avatar: EnrolledAvatar;
let renderer: DefaultRenderer;

function speech(name: string, text: string): Int16Array {
  const wav = join(dir, `${name}.wav`);
  const raw = join(dir, `${name}.raw`);
  execFileSync('espeak-ng', ['-s', '150', '-w', wav, text]);
  execFileSync('sox', [wav, '-t', 'raw', '-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer', raw]);
  const b = readFileSync(raw);
  return new Int16Array(b.buffer, b.byteOffset, b.byteLength >> 1);
}

/** Renders a clip and measures every `every`-th frame with face-api. */
async function measureClip(text: string, instructions: string[], every = 2): Promise<FaceMeasures[]> {
  const audio = speech(text.slice(0, 24).replace(/\W+/g, '_'), text);
  const frames: Uint8Array[] = [];
  await renderClip({
    avatar,
    renderer,
    audio,
    text,
    instructions,
    seed: 5,
    onFrame: (f, i) => {
      if (i % every === 0 && f.rgb) frames.push(Uint8Array.from(f.rgb));
    },
  });
  const out: FaceMeasures[] = [];
  for (const rgb of frames) {
    const [face] = await detectFaces(rgb, renderer.width, renderer.height);
    if (face) out.push(faceMeasures(face.landmarks));
  }
  expect(out.length).toBeGreaterThan(frames.length * 0.9); // the face is found in the frames
  return out;
}

async function measureStill(values: Parameters<typeof coefficientVector>[0]): Promise<FaceMeasures> {
  const { rgb } = await renderer.render(coefficientVector(values));
  const [face] = await detectFaces(Uint8Array.from(rgb), renderer.width, renderer.height);
  return faceMeasures(face!.landmarks);
}

const avg = (m: FaceMeasures[], k: keyof FaceMeasures) => m.reduce((a, b) => a + b[k], 0) / m.length;

beforeAll(async () => {
  avatar = await enrollPortrait(readFileSync('models/build/astronaut.png'));
  renderer = await DefaultRenderer.create(avatar);
}, 120_000);

describe('the director drives the rendered avatar', () => {
  const agreeing = 'Yes, I agree with you. Absolutely, that is exactly right. Yes, I think so too, and I am sure we can do it.';

  it('"nod when you agree, keep a serious face" gives more head-pitch motion and less smile than no instruction', async () => {
    const plain = await measureClip(agreeing, []);
    const directed = await measureClip(agreeing, ['Nod when you agree, and keep a serious face.']);
    // Nods are ~2 Hz: motion of the eye line after removing its 1 s moving average (idle sway is slower).
    const pitchPlain = fastMotion(plain.map((m) => m.eyesY), 13);
    const pitchDirected = fastMotion(directed.map((m) => m.eyesY), 13);
    console.info(`nod motion (px) ${pitchPlain.toFixed(2)} -> ${pitchDirected.toFixed(2)}; smile ${avg(plain, 'smile').toFixed(3)} -> ${avg(directed, 'smile').toFixed(3)}`);
    expect(pitchDirected).toBeGreaterThan(pitchPlain * 1.3);
    expect(avg(directed, 'smile')).toBeLessThan(avg(plain, 'smile') - 0.01);
  }, 240_000);

  it('"do not look away" keeps the measured yaw inside its bound; "look around" does not', async () => {
    const text = 'Let me tell you about the weather today. It will be sunny in the morning, with clouds later in the afternoon, and some rain tonight.';
    const neutral = await measureStill({});
    // The bound the negative storyline sets (|headYaw| <= 0.15), in measured units, plus detector noise.
    const atBound = await measureStill({ headYaw: 0.15 });
    const bound = Math.abs(atBound.yaw - neutral.yaw) + 0.01;
    const steady = await measureClip(text, ['Do not look away from the camera.']);
    const roaming = await measureClip(text, ['Look around the room while you talk.']);
    const maxDev = (m: FaceMeasures[]) => Math.max(...m.map((x) => Math.abs(x.yaw - neutral.yaw)));
    console.info(`yaw bound ${bound.toFixed(3)}; max yaw: "do not look away" ${maxDev(steady).toFixed(3)}, "look around" ${maxDev(roaming).toFixed(3)}`);
    expect(maxDev(steady)).toBeLessThanOrEqual(bound);
    expect(maxDev(roaming)).toBeGreaterThan(bound * 1.5);
  }, 240_000);

  it('a sad transcript and a happy one give different measured expressions', async () => {
    const happy = await measureClip('This is wonderful news! I am so happy and excited, what a great and lovely day, I love it!', []);
    const sad = await measureClip('I am so sorry. This is terrible, sad news. I feel lonely and miserable, and I miss them so much.', []);
    console.info(`smile: happy ${avg(happy, 'smile').toFixed(3)} sad ${avg(sad, 'smile').toFixed(3)}; brow: happy ${avg(happy, 'brow').toFixed(3)} sad ${avg(sad, 'brow').toFixed(3)}`);
    expect(avg(happy, 'smile')).toBeGreaterThan(avg(sad, 'smile') + 0.02);
  }, 240_000);
});
