import { describe, expect, it } from 'vitest';
import { MouthFeatureTrack } from '../../src/audio/mouth-features.ts';
import { CHUNK_SAMPLES } from '../../src/media/types.ts';

function chunk(ptsUs: number, amp: number) {
  const samples = Int16Array.from({ length: CHUNK_SAMPLES }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 220 * i) / 48_000)));
  return { ptsUs, samples, epoch: 0 };
}

describe('MouthFeatureTrack', () => {
  it('opens the jaw with speech-level audio and keeps it shut in silence', () => {
    const track = new MouthFeatureTrack({ rightContextUs: 40_000 });
    for (let k = 0; k < 50; k++) track.push(chunk(k * 20_000, k >= 20 && k < 35 ? 8000 : 3));
    expect(track.mouthAt(200_000).jawOpen).toBeLessThan(0.05);
    expect(track.mouthAt(560_000).jawOpen).toBeGreaterThan(0.5);
    expect(track.mouthAt(900_000).jawOpen).toBeLessThan(0.05);
    expect(track.coveredUntilUs).toBe(1_000_000);
  });

  it('looks at most its right context ahead (declared latency)', () => {
    const track = new MouthFeatureTrack({ rightContextUs: 40_000 });
    for (let k = 0; k < 50; k++) track.push(chunk(k * 20_000, k >= 30 ? 8000 : 0));
    // Sound starts at 600 ms: a frame at 500 ms must not move, one at 580 ms may.
    expect(track.mouthAt(500_000).jawOpen).toBe(0);
    expect(track.mouthAt(580_000).jawOpen).toBeGreaterThan(0);
  });

  it('truncate forgets the future (interruption)', () => {
    const track = new MouthFeatureTrack();
    for (let k = 0; k < 50; k++) track.push(chunk(k * 20_000, 8000));
    track.truncate(400_000);
    expect(track.coveredUntilUs).toBe(400_000);
    expect(track.mouthAt(600_000).jawOpen).toBe(0);
    expect(track.mouthAt(200_000).jawOpen).toBeGreaterThan(0.3);
  });
});
