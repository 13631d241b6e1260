// Without Debian's CMU dictionary (pocketsphinx-en-us not installed) the server and `facecast render` start with a
// clear warning and the visemes fall back to letter-to-sound: never a crash. Its own file: the shared dictionary is
// loaded once per module graph, and this one must be the missing one.
import { describe, expect, it } from 'vitest';
import { sharedDictionary } from '../../src/audio/visemes/index.ts';
import type { MouthDrive } from '../../src/audio/mouth-features.ts';
import { renderOffline } from '../../src/cascade/offline.ts';
import type { Keyframe, PackStages, RenderOutput } from '../../src/cascade/types.ts';
import { loadVisemeDictionary } from '../../src/cli/dictionary.ts';

/** Stages that render nothing and record the mouth drive of every frame. */
function recordingStages(drives: Map<number, MouthDrive>): PackStages {
  const frame: RenderOutput = { width: 2, height: 2, i420: new Uint8Array(6) };
  return {
    blueprint: { name: 'blueprint', latencyUs: 0, spacingFrames: 5, keyframeAt: (ptsUs): Keyframe => ({ ptsUs, coeffs: new Float32Array(1) }) },
    refine: { name: 'refine', latencyUs: 0, refine: async (keyframe) => ({ keyframe, frame: async () => frame }) },
    fill: {
      name: 'fill',
      latencyUs: 0,
      fill: async (req) => {
        drives.set(Math.round(req.ptsUs / 40_000), req.mouth);
        return frame;
      },
    },
    sr: { name: 'sr', latencyUs: 0, enabled: false, upscale: async (f) => f },
    width: 2,
    height: 2,
  };
}

/** "mama papa": four 160 ms syllables (a 600 Hz vowel-like tone) 250 ms apart, from 0.3 s, then silence. */
function syllables(): Int16Array {
  const out = new Int16Array(48_000 * 2);
  for (let i = 0; i < out.length; i++) {
    const ms = i / 48 - 300;
    const on = ms >= 0 && ms < 1000 && ms % 250 < 160;
    out[i] = on ? Math.round(9000 * Math.sin((2 * Math.PI * 600 * i) / 48_000)) : 0;
  }
  return out;
}

async function maxPress(text: string | undefined): Promise<number> {
  const drives = new Map<number, MouthDrive>();
  const { frames } = await renderOffline({ stages: recordingStages(drives), audio: syllables(), text, onFrame: () => undefined });
  expect(frames).toBe(50);
  return Math.max(...[...drives.values()].map((d) => d.lipPress));
}

describe('a missing CMU dictionary', () => {
  it('is a warning naming the package, and text still shapes the mouth by letter-to-sound', async () => {
    const warning = await loadVisemeDictionary('/nonexistent/cmudict-en-us.dict');
    expect(warning).toMatch(/\/nonexistent\/cmudict-en-us\.dict.*pocketsphinx-en-us/);
    expect(sharedDictionary()?.size).toBe(0);
    const audioOnly = await maxPress(undefined);
    const withText = await maxPress('mama papa');
    expect(withText).toBeGreaterThan(0.5);
    expect(withText).toBeGreaterThan(audioOnly + 0.2);
  });
});
