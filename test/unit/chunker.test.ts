import { describe, expect, it } from 'vitest';
import { Chunker } from '../../src/audio/chunker.ts';
import { CHUNK_SAMPLES } from '../../src/media/types.ts';

describe('Chunker', () => {
  it('cuts odd-sized input into exact 20 ms chunks stamped from the sample count', () => {
    const c = new Chunker(1_000_000, 3);
    const input = Int16Array.from({ length: 2500 }, (_, i) => i);
    const first = c.push(input.subarray(0, 700));
    expect(first).toHaveLength(0);
    const rest = c.push(input.subarray(700));
    expect(rest).toHaveLength(2);
    expect(rest[0].ptsUs).toBe(1_000_000);
    expect(rest[1].ptsUs).toBe(1_020_000);
    expect(rest[0].samples).toHaveLength(CHUNK_SAMPLES);
    expect(rest[1].samples[0]).toBe(960);
    expect(rest[0].epoch).toBe(3);
    expect(c.pendingSamples).toBe(2500 - 2 * CHUNK_SAMPLES);
  });

  it('flush pads the tail with silence instead of dropping it', () => {
    const c = new Chunker(0, 0);
    c.push(new Int16Array(100).fill(7));
    const [tail] = c.flush();
    expect(tail.ptsUs).toBe(0);
    expect(tail.samples[99]).toBe(7);
    expect(tail.samples[100]).toBe(0);
    expect(c.flush()).toHaveLength(0);
  });

  it('rebase moves the timeline forward, never back', () => {
    const c = new Chunker(0, 0);
    c.rebase(100_000);
    c.rebase(50_000);
    const [chunk] = c.push(new Int16Array(CHUNK_SAMPLES));
    expect(chunk.ptsUs).toBe(100_000);
  });
});
