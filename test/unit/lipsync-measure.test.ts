// The end-to-end lip-sync measure must fail a frozen, a random and a misaligned avatar and
// pass a correct one: checked here on synthetic recordings where the truth is known.
import { describe, expect, it } from 'vitest';
import { measureLipSync } from '../support/lipsync.ts';
import type { Recording } from '../support/page-api.ts';

/** Speech-like envelope: syllables (~5 Hz) in two phrases, with a 3 s silence between. */
function speechEnvelope(ms: number): (t: number) => number {
  return (t) => {
    const inPhrase = (t > 1_000 && t < 5_000) || (t > 8_000 && t < 12_000);
    if (!inPhrase) return 0.0005;
    const syl = 0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 210) * Math.sin((2 * Math.PI * t) / 1300 + 1);
    return 0.02 + 0.2 * Math.max(0, syl);
  };
  void ms;
}

function recording(mouth: (t: number, env: (t: number) => number) => number): Recording {
  const env = speechEnvelope(13_000);
  const bins = 1300;
  const times = Array.from({ length: bins }, (_, i) => i * 10);
  const frameT = Array.from({ length: 325 }, (_, i) => i * 40);
  // A 4x4 "mouth region" whose lower half darkens as the mouth opens.
  const gray = frameT.map((t) => {
    const open = mouth(t, env);
    return Array.from({ length: 16 }, (_, p) => (p >= 8 ? 180 - 150 * open : 180));
  });
  return {
    frames: { t: frameT, rtp: [], shownAt: [], gray, w: 4, h: 4 },
    audio: { t0: 0, sampleRate: 48_000, envelope: times.map(env), times },
    levels: { t: [], level: [], rtp: [], playedAt: [] },
    decodedFrames: 325,
    durationMs: 13_000,
    timeOrigin: 0,
  };
}

let seed = 7;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);

describe('lip-sync measure (used by the end-to-end tests)', () => {
  const passes = (m: ReturnType<typeof measureLipSync>) => m.r >= 0.5 && m.r - m.shuffledR > 0.2 && Math.abs(m.lagMs) <= 120 && m.silenceRatio < 0.3;

  it('passes an avatar whose mouth follows the audio', () => {
    const m = measureLipSync(recording((t, env) => Math.min(1, env(t - 20) * 4)));
    expect(passes(m)).toBe(true);
  });

  it('fails a frozen avatar', () => {
    const m = measureLipSync(recording(() => 0.3));
    expect(passes(m)).toBe(false);
  });

  it('fails a random avatar', () => {
    const m = measureLipSync(recording(() => rand()));
    expect(passes(m)).toBe(false);
  });

  it('fails an avatar 400 ms out of sync', () => {
    const m = measureLipSync(recording((t, env) => Math.min(1, env(t - 400) * 4)));
    expect(passes(m)).toBe(false);
  });

  it('fails an avatar that moves its mouth in silence', () => {
    const m = measureLipSync(recording((t, env) => (env(t) < 0.001 ? 0.5 + 0.5 * Math.sin(t / 50) : Math.min(1, env(t) * 4))));
    expect(passes(m)).toBe(false);
  });
});
