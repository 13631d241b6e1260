// The text of the audio reaches the rendered mouth: the same espeak-ng clip rendered offline through the real
// cascade (renderOffline + the default pack), once from the audio alone and once with its text. Measured on the
// frames with face-api (inner lip aperture, never the renderer's coefficients) at the p/b/m phones that an
// independent aligner (pocketsphinx) finds in the audio: the lips press shut more often with the text, while the
// vowels still open the mouth.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aperture } from '../../bench/quality/measure.ts';
import type { MouthDrive } from '../../src/audio/mouth-features.ts';
import { CMUDICT_PATH, forcedAlign, loadSharedDictionary, type TimedPhone } from '../../src/audio/visemes/index.ts';
import { renderOffline } from '../../src/cascade/offline.ts';
import type { FillRequest, PackStages } from '../../src/cascade/types.ts';
import { FRAME_US } from '../../src/media/types.ts';
import type { DefaultKeyframe } from '../../src/packs/default/blueprint.ts';
import { createDefaultStages } from '../../src/packs/default/cascade-stages.ts';
import { coefficientVector } from '../../src/packs/default/coefficients.ts';
import { DefaultRenderer, builtinPortraitPath, detectFaces, enrollPortrait } from '../../src/packs/default/index.ts';

const hasTools = existsSync(CMUDICT_PATH) && ['espeak-ng', 'sox', 'pocketsphinx_continuous'].every((b) => {
  try {
    execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

// Nine bilabials (maybe, move, meeting, Monday, morning, before, busy, begins) in about 5 s.
const TEXT = 'Maybe we should move the meeting to Monday morning, before the busy week begins.';
const BILABIAL = new Set(['P', 'B', 'M']);
const VOWEL = new Set(['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW']);
/** A bilabial's frames: those within this of the phone (frames are 40 ms apart; a closure can be 30 ms). */
const PAD_US = 20_000;

const dir = mkdtempSync(path.join(tmpdir(), 'facecast-visemes-render-'));
let renderer: DefaultRenderer;
let audio: Int16Array;
let bilabials: TimedPhone[];
let vowels: TimedPhone[];
/** Inner lip aperture of the renderer at rest and with the lips pressed (lipPress = 1). */
let neutral: number;
let pressed: number;

const framesOf = (p: TimedPhone, padUs: number): number[] => {
  const out: number[] = [];
  for (let n = Math.max(0, Math.ceil((p.startUs - padUs) / FRAME_US)); n * FRAME_US < p.endUs + padUs; n++) out.push(n);
  return out;
};
const mean = (x: readonly number[]) => x.reduce((a, b) => a + b, 0) / x.length;

async function apertureOf(rgb: Uint8Array): Promise<number | undefined> {
  const [face] = await detectFaces(rgb, renderer.width, renderer.height);
  return face ? aperture(face.landmarks) : undefined;
}

interface Rendered {
  /** Per bilabial: the smallest aperture on its frames; the largest lipPress the fill was asked for. */
  readonly bilabialAperture: number[];
  readonly bilabialPress: number[];
  readonly vowelAperture: number;
}

/** Renders the clip (with or without its text); face-api measures only the frames the measures read. */
async function render(text: string | undefined): Promise<Rendered> {
  // No idle life: the two renders differ only in the mouth, and head motion does not blur the landmarks.
  const stages = createDefaultStages(renderer, { seed: 3, life: false });
  const drives = new Map<number, MouthDrive>();
  const fill = stages.fill;
  const recording: PackStages<DefaultKeyframe> = {
    ...stages,
    fill: {
      name: fill.name,
      latencyUs: fill.latencyUs,
      fill: (req: FillRequest<DefaultKeyframe>) => {
        drives.set(Math.round(req.ptsUs / FRAME_US), req.mouth);
        return fill.fill(req);
      },
    },
  };
  const wanted = new Set([...bilabials.flatMap((p) => framesOf(p, PAD_US)), ...vowels.flatMap((p) => framesOf(p, 0))]);
  const rgbs = new Map<number, Uint8Array>();
  await renderOffline({
    stages: recording,
    audio,
    text,
    onFrame: (f, n) => {
      if (wanted.has(n) && f.rgb) rgbs.set(n, Uint8Array.from(f.rgb));
    },
  });
  const apertures = new Map<number, number>();
  for (const [n, rgb] of rgbs) {
    const a = await apertureOf(rgb);
    if (a !== undefined) apertures.set(n, a);
  }
  const measured = (ns: number[]) => ns.filter((n) => apertures.has(n)).map((n) => apertures.get(n)!);
  expect(apertures.size).toBeGreaterThanOrEqual(0.9 * wanted.size); // the face is found on the frames
  return {
    bilabialAperture: bilabials.map((p) => Math.min(...measured(framesOf(p, PAD_US)))),
    bilabialPress: bilabials.map((p) => Math.max(...framesOf(p, PAD_US).map((n) => drives.get(n)?.lipPress ?? 0))),
    vowelAperture: mean(measured(vowels.flatMap((p) => framesOf(p, 0)))),
  };
}

beforeAll(async () => {
  if (!hasTools) return;
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', path.join(dir, 'a.wav'), TEXT]);
  execFileSync('sox', [path.join(dir, 'a.wav'), '-t', 'raw', '-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer', path.join(dir, 'a.raw'), 'pad', '0.4', '0.4']);
  const buf = readFileSync(path.join(dir, 'a.raw'));
  audio = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const ref = await forcedAlign(audio, (await loadSharedDictionary()).pronounce(TEXT));
  bilabials = ref.filter((p) => BILABIAL.has(p.phone));
  vowels = ref.filter((p) => VOWEL.has(p.phone));
  const avatar = await enrollPortrait(new Uint8Array(readFileSync(builtinPortraitPath())), { cacheDir: path.join(dir, 'avatars') });
  renderer = await DefaultRenderer.create(avatar);
  const still = async (values: Parameters<typeof coefficientVector>[0]) => (await apertureOf(Uint8Array.from((await renderer.render(coefficientVector(values))).rgb)))!;
  neutral = await still({});
  pressed = await still({ lipPress: 1 });
});

afterAll(async () => {
  await renderer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasTools)('visemes from the text, measured on the rendered frames (astronaut, espeak-ng)', () => {
  it('closes the lips on more p/b/m phones with the text than from the audio alone; vowels still open', async () => {
    expect(bilabials.length).toBeGreaterThanOrEqual(8);
    expect(neutral - pressed).toBeGreaterThan(0.02); // the renderer can press the lips at all
    const audioOnly = await render(undefined);
    const withText = await render(TEXT);
    // Closed: at least halfway from the rest aperture to the pressed one, on some frame of the phone.
    const closedAt = (neutral + pressed) / 2;
    const closed = (r: Rendered) => r.bilabialAperture.filter((a) => a <= closedAt).length / bilabials.length;
    const fmt = (x: readonly number[]) => x.map((v) => v.toFixed(3)).join(' ');
    console.info(
      `rest ${neutral.toFixed(3)}, pressed ${pressed.toFixed(3)}; bilabial apertures audio [${fmt(audioOnly.bilabialAperture)}] text [${fmt(withText.bilabialAperture)}]; ` +
        `closed ${closed(audioOnly).toFixed(2)} -> ${closed(withText).toFixed(2)}; press asked ${mean(audioOnly.bilabialPress).toFixed(2)} -> ${mean(withText.bilabialPress).toFixed(2)}; ` +
        `vowel aperture ${audioOnly.vowelAperture.toFixed(3)} -> ${withText.vowelAperture.toFixed(3)}`,
    );
    // The wiring: the text changed what the fill was asked for (more lip press at the bilabials)...
    expect(mean(withText.bilabialPress)).toBeGreaterThan(mean(audioOnly.bilabialPress) + 0.05);
    // ...and the rendered lips show it: closed on most bilabials, clearly more often than without the text.
    expect(closed(withText)).toBeGreaterThanOrEqual(0.5);
    expect(closed(withText)).toBeGreaterThanOrEqual(closed(audioOnly) + 0.3);
    expect(mean(withText.bilabialAperture)).toBeLessThan(mean(audioOnly.bilabialAperture) - 0.01);
    // Not a mouth held shut: the vowels open it nearly as wide as the audio alone does, well past the rest.
    expect(withText.vowelAperture).toBeGreaterThan(0.8 * audioOnly.vowelAperture);
    expect(withText.vowelAperture).toBeGreaterThan(neutral + 0.03);
  }, 240_000);
});
