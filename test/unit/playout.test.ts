import { describe, expect, it } from 'vitest';
import { PlayoutBuffer } from '../../src/audio/playout.ts';
import { CHUNK_SAMPLES } from '../../src/media/types.ts';

const entry = (ptsUs: number) => ({ chunk: { ptsUs, samples: new Int16Array(CHUNK_SAMPLES), epoch: 0 }, segmentId: 1, last: false });

describe('PlayoutBuffer', () => {
  it('hands chunks out at their slot and counts the ones that came too late', () => {
    const b = new PlayoutBuffer(10);
    b.push(entry(0));
    b.push(entry(20_000));
    b.push(entry(40_000));
    expect(b.take(20_000)?.chunk.ptsUs).toBe(20_000);
    expect(b.lateDrops).toBe(1);
    expect(b.take(60_000)).toBeUndefined();
    expect(b.lateDrops).toBe(2);
  });

  it('refuses past its bound (reject policy) and flushes on interruption', () => {
    const b = new PlayoutBuffer(2);
    expect(b.push(entry(0))).toBe(true);
    expect(b.push(entry(20_000))).toBe(true);
    expect(b.push(entry(40_000))).toBe(false);
    expect(b.flush()).toHaveLength(2);
    expect(b.size).toBe(0);
  });
});
