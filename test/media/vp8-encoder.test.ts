// Vp8Encoder against the real ffmpeg. The latency test feeds frames at 25 fps, like the pacer
// does, and logs what it measured (frame handed to encode() -> encoded frame available).
import { describe, expect, it } from 'vitest';
import { MediaClosedError, MediaInputError, MediaOptionsError, Vp8EncoderError } from '../../src/media/errors.ts';
import { FRAME_US } from '../../src/media/types.ts';
import type { EncodedVideoFrame } from '../../src/media/vp8-encoder-types.ts';
import { Vp8Encoder, ffmpegVp8Args, normalizeVp8EncoderOptions } from '../../src/media/vp8-encoder.ts';
import { gradientFrame, sleep } from './helpers.ts';

async function collect(encoder: Vp8Encoder, arrivals?: Map<number, number>): Promise<EncodedVideoFrame[]> {
  const out: EncodedVideoFrame[] = [];
  for await (const f of encoder.frames()) {
    arrivals?.set(f.ptsUs, performance.now());
    out.push(f);
  }
  return out;
}

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

describe('Vp8Encoder', () => {
  it('keeps pts order, places keyframes every keyframeIntervalFrames, and reports its latency', async () => {
    const encoder = new Vp8Encoder({ keyframeIntervalFrames: 25 });
    expect(encoder.keyframeIntervalFrames).toBe(25);
    // A session starts its encoder before it goes live; let the process load.
    await sleep(300);
    const sent = new Map<number, number>();
    const arrived = new Map<number, number>();
    const collected = collect(encoder, arrived);
    const frames = 60;
    const start = performance.now();
    for (let i = 0; i < frames; i++) {
      const frame = gradientFrame(i);
      sent.set(frame.ptsUs, performance.now());
      encoder.encode(frame);
      // Pace on an absolute schedule, as the pacer would.
      await sleep(Math.max(0, start + (i + 1) * 40 - performance.now()));
    }
    await encoder.end();
    const out = await collected;
    expect(out.map((f) => f.ptsUs)).toEqual(Array.from({ length: frames }, (_, i) => i * FRAME_US));
    expect(out.flatMap((f, i) => (f.keyframe ? [i] : []))).toEqual([0, 25, 50]);
    const s = encoder.stats;
    expect(s).toMatchObject({ framesIn: frames, framesOut: frames, keyframes: 3, droppedFrames: 0, lostInEncoder: 0 });
    expect(encoder.closed).toBe(true);
    // Latency as the consumer sees it: encode() call -> frame yielded by frames().
    const lat = out.map((f) => (arrived.get(f.ptsUs) ?? NaN) - (sent.get(f.ptsUs) ?? NaN));
    const steady = lat.slice(1);
    console.info(
      `[vp8-encoder] 512x512@25fps ${encoder.options.bitrateKbps} kbit/s, latency encode() -> frame out: ` +
        `first frame ${lat[0].toFixed(1)} ms (libvpx init), then p50 ${percentile(steady, 0.5).toFixed(1)} ms, ` +
        `p95 ${percentile(steady, 0.95).toFixed(1)} ms, max ${Math.max(...steady).toFixed(1)} ms; ` +
        `encoder stats mean ${s.latencyMs.mean.toFixed(1)} ms; keyframe ${out[0].data.length} B, delta ~${out[10].data.length} B`,
    );
  }, 20_000);

  it('drops the oldest queued input when ffmpeg is busy and counts it', async () => {
    const encoder = new Vp8Encoder({ maxQueuedFrames: 2 });
    const collected = collect(encoder);
    // The first frame goes straight to ffmpeg; the pipe then needs draining, so the other 29
    // go through the 2-deep queue and all but the last two are dropped.
    for (let i = 0; i < 30; i++) encoder.encode(gradientFrame(i));
    expect(encoder.stats.droppedFrames).toBe(27);
    await encoder.end();
    const out = await collected;
    expect(out.map((f) => f.ptsUs / FRAME_US)).toEqual([0, 28, 29]);
    expect(out[0].keyframe).toBe(true);
  }, 20_000);

  it('validates input frames and options at the boundary', async () => {
    expect(() => new Vp8Encoder({ width: 511 })).toThrow(MediaOptionsError);
    expect(() => new Vp8Encoder({ bogus: 1 } as never)).toThrow(/Unrecognized key/);
    const o = normalizeVp8EncoderOptions({ bitrateKbps: 500, keyframeIntervalFrames: 50 });
    expect(Object.isFrozen(o)).toBe(true);
    expect(ffmpegVp8Args(o).join(' ')).toContain('-b:v 500k -g 50 -keyint_min 50');
    const encoder = new Vp8Encoder();
    try {
      expect(() => encoder.encode({ ...gradientFrame(0), width: 256 })).toThrow(MediaInputError);
      expect(() => encoder.encode({ ...gradientFrame(0), i420: new Uint8Array(10) })).toThrow(MediaInputError);
      encoder.encode(gradientFrame(1));
      expect(() => encoder.encode(gradientFrame(1))).toThrow(/does not follow/);
    } finally {
      await encoder.close();
    }
    expect(() => encoder.encode(gradientFrame(2))).toThrow(MediaClosedError);
  });

  it('close() is idempotent, kills ffmpeg and emits close once', async () => {
    const encoder = new Vp8Encoder();
    let closes = 0;
    encoder.on('close', () => closes++);
    const collected = collect(encoder);
    encoder.encode(gradientFrame(0));
    const a = encoder.close();
    const b = encoder.close();
    expect(a).toBe(b);
    await a;
    await encoder.close();
    expect(closes).toBe(1);
    expect(await collected).toEqual([]); // close() discards undelivered frames
  });

  it('reports a missing ffmpeg as an error event and through frames()', async () => {
    const encoder = new Vp8Encoder({ ffmpegPath: '/nonexistent/ffmpeg' });
    const error = new Promise<Vp8EncoderError>((resolve) => encoder.on('error', resolve));
    encoder.encode(gradientFrame(0)); // before the spawn error arrives: must not crash
    const err = await error;
    expect(err).toBeInstanceOf(Vp8EncoderError);
    expect(err.code).toBe('ffmpeg-missing');
    await expect(collect(encoder)).rejects.toThrow(/not found/);
    expect(() => encoder.encode(gradientFrame(1))).toThrow(MediaClosedError);
    await encoder.close();
  });

  it('reports an unexpected exit with its code', async () => {
    const encoder = new Vp8Encoder({ ffmpegPath: '/bin/false' });
    const err = await new Promise<Vp8EncoderError>((resolve) => encoder.on('error', resolve));
    expect(err.code).toBe('ffmpeg-exited');
    expect(err.message).toMatch(/code 1/);
    await encoder.close();
  });
});
