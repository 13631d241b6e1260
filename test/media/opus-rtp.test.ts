import opus from '@discordjs/opus';
import { describe, expect, it } from 'vitest';
import { MediaClosedError, MediaInputError, MediaOptionsError } from '../../src/media/errors.ts';
import { OpusChunkEncoder, parseOpusToc } from '../../src/media/opus-rtp.ts';
import type { AudioChunk } from '../../src/media/types.ts';
import { CHUNK_SAMPLES, CHUNK_MS, PIPELINE_SAMPLE_RATE } from '../../src/media/types.ts';

function toneChunks(freq: number, amplitude: number, count: number): AudioChunk[] {
  return Array.from({ length: count }, (_, c) => {
    const samples = new Int16Array(CHUNK_SAMPLES);
    for (let i = 0; i < CHUNK_SAMPLES; i++) {
      const n = c * CHUNK_SAMPLES + i;
      samples[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freq * n) / PIPELINE_SAMPLE_RATE));
    }
    return { ptsUs: c * CHUNK_MS * 1000, samples, epoch: 1 };
  });
}

const rms = (x: Int16Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

/** Strongest frequency between 50 Hz and 4 kHz, by a 1 Hz-step DFT scan (Goertzel power). */
function dominantFrequency(x: Int16Array): number {
  let best = 0;
  let bestPower = -1;
  for (let f = 50; f <= 4000; f += 1) {
    const w = (2 * Math.PI * f) / PIPELINE_SAMPLE_RATE;
    const coeff = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < x.length; i++) {
      const s0 = x[i] + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if (power > bestPower) {
      bestPower = power;
      best = f;
    }
  }
  return best;
}

describe('Opus RTP payloads', () => {
  it('encodes a 440 Hz tone that decodes back to a 440 Hz tone of similar level', () => {
    const encoder = new OpusChunkEncoder({ bitrate: 32_000 });
    const chunks = toneChunks(440, 0.3, 50); // 1 s
    const payloads = chunks.map((c) => encoder.encode(c));
    expect(payloads.map((p) => p.ptsUs)).toEqual(chunks.map((c) => c.ptsUs));
    for (const p of payloads) {
      const toc = parseOpusToc(p.data);
      expect(toc).toMatchObject({ stereo: false, frameDurationUs: 20_000, frameCount: 1 });
      expect(p.data.length).toBeLessThan(200); // ~80 B at 32 kbit/s
    }
    const decoder = new opus.OpusEncoder(PIPELINE_SAMPLE_RATE, 1);
    const pcm = Buffer.concat(payloads.map((p) => decoder.decode(p.data)));
    const decoded = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    expect(decoded.length).toBe(50 * CHUNK_SAMPLES);
    // Skip the first 100 ms: codec look-ahead and the encoder's ramp-up.
    const tail = decoded.subarray(5 * CHUNK_SAMPLES);
    const inRms = rms(Int16Array.from(chunks.flatMap((c) => [...c.samples])).subarray(5 * CHUNK_SAMPLES));
    const outRms = rms(tail);
    const freq = dominantFrequency(tail);
    console.info(`[opus] in RMS ${inRms.toFixed(0)}, decoded RMS ${outRms.toFixed(0)}, dominant ${freq} Hz, ${payloads[10].data.length} B/packet`);
    expect(outRms / inRms).toBeGreaterThan(0.8);
    expect(outRms / inRms).toBeLessThan(1.2);
    expect(Math.abs(freq - 440)).toBeLessThanOrEqual(3);
    encoder.close();
  });

  it('reads TOC bytes for every mode', () => {
    expect(parseOpusToc(Buffer.from([0xfc]))).toMatchObject({ mode: 'celt', stereo: true, frameDurationUs: 20_000, frameCount: 1 });
    expect(parseOpusToc(Buffer.from([(9 << 3) | 1]))).toMatchObject({ mode: 'silk', frameDurationUs: 20_000, frameCount: 2 });
    expect(parseOpusToc(Buffer.from([(15 << 3) | 3, 0x03]))).toMatchObject({ mode: 'hybrid', frameDurationUs: 20_000, frameCount: 3 });
    expect(() => parseOpusToc(Buffer.alloc(0))).toThrow(MediaInputError);
    expect(() => parseOpusToc(Buffer.from([3]))).toThrow(/frame count/);
  });

  it('validates chunks and options, and refuses work after close()', () => {
    expect(() => new OpusChunkEncoder({ bitrate: 100 })).toThrow(MediaOptionsError);
    expect(() => new OpusChunkEncoder({ expectedLossPercent: 101 })).toThrow(MediaOptionsError);
    const encoder = new OpusChunkEncoder({ expectedLossPercent: 5 });
    expect(() => encoder.encode({ ptsUs: 0, epoch: 0, samples: new Int16Array(480) })).toThrow(MediaInputError);
    encoder.close();
    encoder.close();
    expect(encoder.closed).toBe(true);
    expect(() => encoder.encode(toneChunks(440, 0.1, 1)[0])).toThrow(MediaClosedError);
  });
});
