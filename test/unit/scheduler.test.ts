// The cascade scheduler's queue: renders ahead within its bound, drops queued frames on an interrupt so the next
// frame follows the new audio, tells a waiter when a frame is ready, and renders an extra frame between slots.
// The pack here is a stand-in that records what it was asked (the scheduler only knows the stage contracts).
import { describe, expect, it } from 'vitest';
import { MouthFeatureTrack } from '../../src/audio/mouth-features.ts';
import { Chunker } from '../../src/audio/chunker.ts';
import { CascadeScheduler } from '../../src/cascade/scheduler.ts';
import type { FillRequest, Keyframe, PackStages, RenderOutput } from '../../src/cascade/types.ts';
import { FRAME_US } from '../../src/media/types.ts';

interface Made {
  ptsUs: number;
  jaw: number;
}

function recordingPack(made: Made[]): PackStages {
  const frame = (): RenderOutput => ({ width: 2, height: 2, i420: new Uint8Array(6) });
  return {
    width: 2,
    height: 2,
    blueprint: { name: 'blueprint', latencyUs: 0, spacingFrames: 5, keyframeAt: (ptsUs: number): Keyframe => ({ ptsUs, coeffs: new Float32Array(1) }) },
    refine: { name: 'refine', latencyUs: 0, refine: async (k: Keyframe) => ({ keyframe: k, frame: async () => frame() }) },
    fill: {
      name: 'fill',
      latencyUs: 0,
      fill: async (req: FillRequest) => {
        await new Promise((r) => setTimeout(r, 1));
        made.push({ ptsUs: req.ptsUs, jaw: req.mouth.jawOpen });
        return frame();
      },
    },
    sr: { name: 'sr', latencyUs: 0, enabled: false, upscale: async (f: RenderOutput) => f },
  };
}

/** A loud 140 Hz buzz: the mouth opens for it. */
function buzz(ms: number): Int16Array {
  const n = (48_000 * ms) / 1000;
  return Int16Array.from({ length: n }, (_, i) => Math.round(12_000 * Math.sin((2 * Math.PI * 140 * i) / 48_000)));
}

function setup(ms: number) {
  const made: Made[] = [];
  const mouth = new MouthFeatureTrack({ rightContextUs: 40_000 });
  const chunker = new Chunker(0, 0);
  for (const c of [...chunker.push(buzz(ms)), ...chunker.flush()]) mouth.push(c);
  const scheduler = new CascadeScheduler(recordingPack(made), mouth, { aheadFrames: 4, nowUs: () => 0 });
  return { made, mouth, scheduler };
}

const settle = () => new Promise((r) => setTimeout(r, 30));

describe('CascadeScheduler', () => {
  it('renders at most aheadFrames ahead of the pacer, in order', async () => {
    const { made, scheduler } = setup(2_000);
    scheduler.start(0);
    await settle();
    expect(made.map((m) => m.ptsUs)).toEqual([0, 1, 2, 3].map((n) => n * FRAME_US));
    expect(scheduler.take(0)?.ptsUs).toBe(0);
    await settle();
    expect(made).toHaveLength(5);
    expect(scheduler.take(1)?.index).toBe(1);
    await scheduler.close();
  });

  it('drops queued frames on an interrupt; the next frames use the mouth as it is now', async () => {
    const { made, mouth, scheduler } = setup(2_000);
    scheduler.start(0);
    await settle();
    expect(made.at(-1)!.jaw).toBeGreaterThan(0.2); // talking
    scheduler.take(0);
    // Barge-in at frame 1: the audio from there on is gone.
    mouth.truncate(FRAME_US);
    mouth.coverSilenceUntil(20 * FRAME_US);
    const before = made.length;
    scheduler.interrupt();
    expect(scheduler.has(1)).toBe(false);
    await scheduler.rendered(1);
    const again = made.slice(before).filter((m) => m.ptsUs === FRAME_US);
    // Nearly closed at once (the jaw's window reaches 5 ms before the frame, into the audio that did play).
    expect(again.at(-1)!.jaw).toBeLessThan(0.1);
    // One frame later it is shut.
    await scheduler.rendered(2);
    expect(made.filter((m) => m.ptsUs === 2 * FRAME_US).at(-1)!.jaw).toBe(0);
    expect(scheduler.take(1)?.epoch).toBe(scheduler.epoch);
    await scheduler.close();
  });

  it('renders an extra frame at a media time between two slots', async () => {
    const { made, scheduler } = setup(2_000);
    scheduler.start(0);
    const out = await scheduler.renderAt(FRAME_US / 2);
    expect(out.width).toBe(2);
    expect(made.some((m) => m.ptsUs === FRAME_US / 2)).toBe(true);
    await scheduler.close();
    await expect(scheduler.renderAt(FRAME_US)).rejects.toThrow(/closed/);
  });

  it('releases a rendered() waiter on close', async () => {
    const { scheduler } = setup(100);
    scheduler.start(0);
    const waiting = scheduler.rendered(500);
    await scheduler.close();
    await expect(waiting).resolves.toBeUndefined();
  });
});
