// Writes a contact sheet PNG of the default pack on the built-in portrait, for a person to look at:
//   node --import tsx src/packs/default/demo-render.ts out.png [portrait.png]
// One tile per pose: the whole frame, and under it the face enlarged. Poses: every coefficient at its extremes and
// a few mixes (a turned head with an open, smiling mouth; a nod with a tilt and a blink). Also prints the median
// render time of a busy mix.
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { DefaultRenderer, builtinPortraitPath, coefficientVector, enrollPortrait, type CoefficientName } from './index.ts';

type Pose = { readonly label: string; readonly values: Partial<Record<CoefficientName, number>> };

const POSES: readonly Pose[] = [
  { label: 'neutral', values: {} },
  { label: 'jawOpen .5', values: { jawOpen: 0.5 } },
  { label: 'jawOpen 1', values: { jawOpen: 1 } },
  { label: 'lipSpread -1', values: { lipSpread: -1 } },
  { label: 'lipSpread +1', values: { lipSpread: 1 } },
  { label: 'lipPress 1', values: { lipPress: 1 } },
  { label: 'smile 1', values: { smile: 1 } },
  { label: 'blinkLeft 1', values: { blinkLeft: 1 } },
  { label: 'blinkRight .5', values: { blinkRight: 0.5 } },
  { label: 'blink both 1', values: { blinkLeft: 1, blinkRight: 1 } },
  { label: 'browRaise 1', values: { browRaise: 1 } },
  { label: 'browFrown 1', values: { browFrown: 1 } },
  { label: 'headYaw -1', values: { headYaw: -1 } },
  { label: 'headYaw +1', values: { headYaw: 1 } },
  { label: 'headPitch -1 (down)', values: { headPitch: -1 } },
  { label: 'headPitch +1 (up)', values: { headPitch: 1 } },
  { label: 'headRoll -1', values: { headRoll: -1 } },
  { label: 'headRoll +1', values: { headRoll: 1 } },
  { label: 'neckSway -1', values: { neckSway: -1 } },
  { label: 'neckSway +1, breathe 1', values: { neckSway: 1, breathe: 1 } },
  { label: 'yaw 1 jaw 1 smile 1', values: { headYaw: 1, jawOpen: 1, smile: 1 } },
  { label: 'yaw -.6 pitch -.5 jaw .6', values: { headYaw: -0.6, headPitch: -0.5, jawOpen: 0.6, lipSpread: -0.5 } },
  { label: 'roll .7 pitch .5 blinkR 1', values: { headRoll: 0.7, headPitch: 0.5, blinkRight: 1, browRaise: 0.6 } },
  { label: 'frown, press, yaw .4', values: { browFrown: 1, lipPress: 1, headYaw: 0.4, breathe: 0.5 } },
];

const TILE = 256;
const ZOOM = 256;
const LABEL = 24;
const COLUMNS = 6;

async function main(): Promise<void> {
  const out = process.argv[2] ?? 'var/contact-sheet.png';
  const portrait = process.argv[3] ?? builtinPortraitPath();
  const avatar = await enrollPortrait(await fs.readFile(portrait));
  const renderer = await DefaultRenderer.create(avatar);
  try {
    const { width: W, height: H } = renderer;
    // The face: a square from above the brows to below the chin.
    const L = avatar.landmarks;
    const ys = Array.from({ length: 68 }, (_, i) => L[2 * i + 1]!);
    const xs = Array.from({ length: 68 }, (_, i) => L[2 * i]!);
    const faceH = Math.max(...ys) - Math.min(...ys);
    const side = Math.min(W, H, Math.round(faceH * 1.9));
    const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
    const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
    const left = Math.round(Math.min(Math.max(cx - side / 2, 0), W - side));
    const top = Math.round(Math.min(Math.max(cy - side / 2, 0), H - side));

    const composites: sharp.OverlayOptions[] = [];
    const raw = { raw: { width: W, height: H, channels: 3 as const } };
    for (const [i, pose] of POSES.entries()) {
      const frame = await renderer.render(coefficientVector(pose.values));
      const x = (i % COLUMNS) * TILE;
      const y = Math.floor(i / COLUMNS) * (LABEL + TILE + ZOOM);
      composites.push({ input: await sharp(frame.rgb, raw).resize(TILE, TILE).png().toBuffer(), left: x, top: y + LABEL });
      composites.push({
        input: await sharp(frame.rgb, raw).extract({ left, top, width: side, height: side }).resize(ZOOM, ZOOM, { kernel: 'lanczos3' }).png().toBuffer(),
        left: x,
        top: y + LABEL + TILE,
      });
      const label = Buffer.from(
        `<svg width="${TILE}" height="${LABEL}"><text x="6" y="17" font-family="sans-serif" font-size="15" fill="#fff">${pose.label}</text></svg>`,
      );
      composites.push({ input: label, left: x, top: y });
    }
    const rows = Math.ceil(POSES.length / COLUMNS);
    await sharp({ create: { width: TILE * COLUMNS, height: rows * (LABEL + TILE + ZOOM), channels: 3, background: '#202020' } })
      .composite(composites)
      .png()
      .toFile(out);

    const times: number[] = [];
    const c = coefficientVector({ jawOpen: 0.5, smile: 0.4, blinkLeft: 0.2, headYaw: 0.4, headPitch: -0.3, headRoll: 0.2, neckSway: 0.3, breathe: 0.5 });
    for (let i = 0; i < 65; i++) {
      c[0] = (i % 10) / 10;
      const t0 = performance.now();
      await renderer.render(c);
      if (i >= 5) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    process.stdout.write(
      `contact sheet: ${out}\nrender ${W}x${H} (box ${renderer.renderBox.width}x${renderer.renderBox.height}), 1 thread, busy mix: median ${median.toFixed(1)} ms, p90 ${times[Math.floor(times.length * 0.9)]!.toFixed(1)} ms (n=${times.length})\n`,
    );
  } finally {
    await renderer.close();
  }
}

await main();
