// Test helpers: synthetic I420 images and an ffmpeg IVF -> raw I420 decoder.
import { spawn } from 'node:child_process';
import type { VideoFrame } from '../../src/media/types.ts';
import { FRAME_US } from '../../src/media/types.ts';

/** A smooth diagonal luma gradient that drifts with `t`, and gently varying chroma. */
export function gradientFrame(index: number, width = 512, height = 512): VideoFrame {
  const i420 = new Uint8Array((width * height * 3) / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) i420[y * width + x] = 16 + Math.round(((x + y) / (width + height)) * 180 + (index % 40));
  }
  const cw = width / 2;
  const ch = height / 2;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      i420[width * height + y * cw + x] = 100 + Math.round((x / cw) * 50);
      i420[width * height + cw * ch + y * cw + x] = 110 + Math.round((y / ch) * 40);
    }
  }
  return { ptsUs: index * FRAME_US, width, height, i420 };
}

/** Decodes an IVF (VP8) file with ffmpeg into concatenated raw I420 frames. */
export function decodeIvf(ivf: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'ivf', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1']);
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin.on('error', () => undefined);
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg decode failed (${code}): ${err}`))));
    p.stdin.end(ivf);
  });
}

export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
