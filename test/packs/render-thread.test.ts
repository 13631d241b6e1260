// The renderer's worker thread: the same frames as on the caller's thread, byte for byte; I420-only renders; a
// graph that cannot load fails with a named error; closing lets renders in flight finish.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DefaultRenderer, builtinPortraitPath, coefficientVector, enrollPortrait, type EnrolledAvatar } from '../../src/packs/default/index.ts';
import { RenderThread, RenderThreadError } from '../../src/packs/default/render-thread.ts';

let cacheDir: string;
let avatar: EnrolledAvatar;

beforeAll(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'facecast-avatars-'));
  avatar = await enrollPortrait(await fs.readFile(builtinPortraitPath()), { cacheDir });
});

afterAll(async () => {
  if (cacheDir) await fs.rm(cacheDir, { recursive: true, force: true });
});

describe('render thread', () => {
  it('renders the same bytes in the worker as on the calling thread', async () => {
    const worker = await DefaultRenderer.create(avatar);
    const main = await DefaultRenderer.create(avatar, { thread: 'main' });
    try {
      expect(worker.thread).toBe('worker');
      const mixes = [coefficientVector({ jawOpen: 0.6, smile: 0.3, headYaw: 0.4, blinkLeft: 0.5 }), coefficientVector({ lipPress: 0.7, headPitch: -0.5, breathe: 0.8 })];
      for (const c of mixes) {
        const [a, b] = await Promise.all([worker.render(c), main.render(c)]);
        expect(Buffer.compare(a.rgb, b.rgb)).toBe(0);
        expect(Buffer.compare(a.i420, b.i420)).toBe(0);
        const i420Only = await worker.render(c, { rgb: false });
        expect('rgb' in i420Only).toBe(false);
        expect(Buffer.compare(i420Only.i420, a.i420)).toBe(0);
      }
      // The coefficients handed in are not detached by the move to the worker (the renderer sends a copy).
      const c = coefficientVector({ jawOpen: 0.2 });
      await worker.render(c);
      expect(c.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([worker.close(), main.close()]);
    }
  });

  it('answers renders in order while they queue, and lets them finish on close', async () => {
    const r = await DefaultRenderer.create(avatar);
    const jaws = [0.1, 0.5, 0.9];
    const pending = jaws.map((j) => r.render(coefficientVector({ jawOpen: j }), { rgb: false }));
    await r.close();
    const frames = await Promise.all(pending);
    const main = await DefaultRenderer.create(avatar, { thread: 'main' });
    try {
      for (let i = 0; i < jaws.length; i++) {
        const ref = await main.render(coefficientVector({ jawOpen: jaws[i]! }), { rgb: false });
        expect(Buffer.compare(frames[i]!.i420, ref.i420)).toBe(0);
      }
    } finally {
      await main.close();
    }
  });

  it('fails with RenderThreadError when the graph cannot be built, and the worker ends', async () => {
    // An odd render box cannot hold I420: the graph builder refuses it, in the worker.
    const init = { avatar: { ...avatar, basis: { ...avatar.basis, renderBox: { x: 1, y: 1, width: 3, height: 3 } } }, threads: 1 };
    const err = await RenderThread.start(init).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderThreadError);
    expect(String((err as Error).message)).toMatch(/could not start/);
  });

  it('windows-only frames: the whole frame back when nothing moved, the mouth following the jaw over a held head', async () => {
    const r = await DefaultRenderer.create(avatar);
    try {
      await r.growTo(2);
      expect(r.threads).toBe(2);
      const stream = r.newStream();
      const a = coefficientVector({ jawOpen: 0.2, headYaw: 0.3, breathe: 0.5 });
      const b = coefficientVector({ jawOpen: 0.8, headYaw: 0.3, breathe: 0.5 });
      // No base yet: a whole frame.
      const first = await r.render(a, { rgb: true, stream, windowsOnly: true });
      expect(Buffer.compare(first.i420, (await r.render(a, { rgb: true })).i420)).toBe(0);
      // Nothing moved: the windows over the kept base are the whole frame, byte for byte.
      const same = await r.render(a, { rgb: true, stream, windowsOnly: true });
      expect(Buffer.compare(same.rgb, first.rgb)).toBe(0);
      // The jaw opens: the mouth opens as much as in the whole frame (dark interior pixels between the lips), though
      // the chin around it is held from the base.
      const held = await r.render(b, { rgb: true, stream, windowsOnly: true });
      const whole = await r.render(b, { rgb: true });
      const w = avatar.basis.mouthWindow;
      const dark = (rgb: Uint8Array): number => {
        let n = 0;
        // The window's upper part: the lips and the mouth between them (below, the suit's dark neck).
        for (let y = w.home.y; y < w.home.y + Math.round(0.55 * w.height); y++) {
          for (let x = w.home.x; x < w.home.x + w.width; x++) {
            const i = 3 * (y * r.width + x);
            if (0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]! < 60) n++;
          }
        }
        return n;
      };
      const opened = dark(whole.rgb) - dark(first.rgb);
      console.info(`dark mouth pixels: jaw 0.2 ${dark(first.rgb)}, jaw 0.8 whole ${dark(whole.rgb)}, windows-only ${dark(held.rgb)}`);
      expect(opened).toBeGreaterThan(100);
      expect(Math.abs(dark(held.rgb) - dark(whole.rgb))).toBeLessThan(0.2 * opened);
      r.endStream(stream);
    } finally {
      await r.close();
    }
  });

  it('rejects a thread option it does not know', async () => {
    await expect(DefaultRenderer.create(avatar, { thread: 'gpu' as 'main' })).rejects.toThrow(RangeError);
  });
});
