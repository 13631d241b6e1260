// Writes a contact sheet PNG of the default pack on the built-in portrait, for a person to look at:
//   node --import tsx src/packs/default/demo-render.ts out.png [portrait.png]
// Row 1: whole frames; row 2: the mouth region enlarged. Columns: neutral, jawOpen 0.5, jawOpen 1,
// lipSpread -1, lipSpread +1, lipPress 1, jawOpen 0.6 + lipSpread -0.6. Also prints the median render time.
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { DefaultRenderer, builtinPortraitPath, coefficientVector, enrollPortrait, type CoefficientName } from './index.ts';

const POSES: ReadonlyArray<{ label: string; values: Partial<Record<CoefficientName, number>> }> = [
  { label: 'neutral', values: {} },
  { label: 'jawOpen 0.5', values: { jawOpen: 0.5 } },
  { label: 'jawOpen 1', values: { jawOpen: 1 } },
  { label: 'lipSpread -1', values: { lipSpread: -1 } },
  { label: 'lipSpread +1', values: { lipSpread: 1 } },
  { label: 'lipPress 1', values: { lipPress: 1 } },
  { label: 'jaw .6 spread -.6', values: { jawOpen: 0.6, lipSpread: -0.6 } },
];

const TILE = 256;
const ZOOM = 256;

async function main(): Promise<void> {
  const out = process.argv[2] ?? 'var/contact-sheet.png';
  const portrait = process.argv[3] ?? builtinPortraitPath();
  const avatar = await enrollPortrait(await fs.readFile(portrait));
  const renderer = await DefaultRenderer.create(avatar);
  try {
    const { width: W, height: H } = renderer;
    // Mouth crop: a square around the mouth, 2.6 mouth widths wide, clamped to the frame.
    const side = Math.min(W, H, Math.round(avatar.mouth.width * 2.6));
    const left = Math.round(Math.min(Math.max(avatar.mouth.cx - side / 2, 0), W - side));
    const top = Math.round(Math.min(Math.max(avatar.mouth.cy + avatar.mouth.width * 0.35 - side / 2, 0), H - side));

    const composites: sharp.OverlayOptions[] = [];
    for (const [col, pose] of POSES.entries()) {
      const frame = await renderer.render(coefficientVector(pose.values));
      const raw = { raw: { width: W, height: H, channels: 3 as const } };
      const full = await sharp(frame.rgb, raw).resize(TILE, TILE).png().toBuffer();
      const zoom = await sharp(frame.rgb, raw).extract({ left, top, width: side, height: side }).resize(ZOOM, ZOOM, { kernel: 'lanczos3' }).png().toBuffer();
      composites.push({ input: full, left: col * TILE, top: 24 });
      composites.push({ input: zoom, left: col * TILE, top: 24 + TILE });
      const label = Buffer.from(
        `<svg width="${TILE}" height="24"><text x="6" y="17" font-family="sans-serif" font-size="15" fill="#fff">${pose.label}</text></svg>`,
      );
      composites.push({ input: label, left: col * TILE, top: 0 });
    }
    await sharp({ create: { width: TILE * POSES.length, height: 24 + TILE + ZOOM, channels: 3, background: '#202020' } })
      .composite(composites)
      .png()
      .toFile(out);

    const times: number[] = [];
    const c = coefficientVector({ jawOpen: 0.7, lipSpread: 0.2 });
    for (let i = 0; i < 55; i++) {
      c[0] = (i % 10) / 10;
      const t0 = performance.now();
      await renderer.render(c);
      if (i >= 5) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    process.stdout.write(`contact sheet: ${out}\nrender ${W}x${H}, 1 thread: median ${median.toFixed(1)} ms, p90 ${times[Math.floor(times.length * 0.9)]!.toFixed(1)} ms (n=${times.length})\n`);
  } finally {
    await renderer.close();
  }
}

await main();
