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

  it('fails with RenderThreadError when the graph cannot load, and the worker ends', async () => {
    const init = { model: Uint8Array.of(1, 2, 3, 4), width: 4, height: 4, renderBox: { x: 0, y: 0, width: 4, height: 4 }, reference: new Uint8Array(48), threads: 1 };
    const err = await RenderThread.start(init).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderThreadError);
    expect(String((err as Error).message)).toMatch(/could not start/);
  });

  it('rejects a thread option it does not know', async () => {
    await expect(DefaultRenderer.create(avatar, { thread: 'gpu' as 'main' })).rejects.toThrow(RangeError);
  });
});
