// The microphone path from RTP to chunks: timestamps follow the sender's RTP clock, loss
// becomes silence at the right place, garbage is counted, never thrown.
import { describe, expect, it } from 'vitest';
import opus from '@discordjs/opus';
import { MicIngest } from '../../src/ingest/mic.ts';
import { writeRtpPacket } from '../../src/media/rtp.ts';
import type { AudioChunk } from '../../src/media/types.ts';

function makePackets(n: number, startSeq: number, startTs: number) {
  const enc = new opus.OpusEncoder(48_000, 2);
  const out: Buffer[] = [];
  for (let k = 0; k < n; k++) {
    const pcm = new Int16Array(1920);
    for (let i = 0; i < 960; i++) pcm[2 * i] = pcm[2 * i + 1] = Math.round(6000 * Math.sin((2 * Math.PI * 300 * (k * 960 + i)) / 48_000));
    out.push(
      writeRtpPacket(
        { marker: k === 0, payloadType: 100, sequenceNumber: (startSeq + k) & 0xffff, timestamp: (startTs + k * 960) >>> 0, ssrc: 1234 },
        enc.encode(Buffer.from(pcm.buffer)),
      ),
    );
  }
  return out;
}

function ingest(nowSeq: () => number) {
  const chunks: AudioChunk[] = [];
  const mic = new MicIngest({ nowUs: nowSeq, epoch: () => 0, onChunk: (c) => chunks.push(c) });
  return { mic, chunks };
}

describe('MicIngest', () => {
  it('stamps chunks from RTP timestamps (across sequence and timestamp wrap), not arrival jitter', () => {
    let now = 1_000_000;
    const { mic, chunks } = ingest(() => now);
    const packets = makePackets(50, 65_530, 2 ** 32 - 960 * 3);
    packets.forEach((p, k) => {
      now = 1_000_000 + k * 20_000 + (k % 3) * 7_000; // jittery arrival
      mic.push(p);
    });
    expect(chunks).toHaveLength(50);
    const first = chunks[0].ptsUs;
    expect(first % 20_000).toBe(0);
    chunks.forEach((c, k) => expect(c.ptsUs).toBe(first + k * 20_000));
    expect(mic.stats.lost).toBe(0);
    expect(mic.stats.reanchors).toBe(0);
  });

  it('fills lost packets with silence so later audio keeps its place', () => {
    let now = 0;
    const { mic, chunks } = ingest(() => now);
    const packets = makePackets(10, 100, 5_000);
    packets.forEach((p, k) => {
      now = 20_000 + k * 20_000;
      if (k !== 4 && k !== 5) mic.push(p);
    });
    expect(mic.stats.lost).toBe(2);
    expect(chunks).toHaveLength(10);
    const first = chunks[0].ptsUs;
    chunks.forEach((c, k) => expect(c.ptsUs).toBe(first + k * 20_000));
    expect(chunks[4].samples.every((s) => s === 0)).toBe(true);
    expect(chunks[6].samples.some((s) => s !== 0)).toBe(true);
  });

  it('counts malformed and late packets and keeps going', () => {
    let now = 0;
    const { mic, chunks } = ingest(() => now);
    const packets = makePackets(4, 10, 0);
    mic.push(packets[0]);
    mic.push(Buffer.from([1, 2, 3]));
    now += 20_000;
    mic.push(packets[1]);
    mic.push(packets[0]); // duplicate / late
    now += 20_000;
    mic.push(packets[2]);
    expect(mic.stats.malformed).toBe(1);
    expect(mic.stats.reordered).toBe(1);
    expect(chunks).toHaveLength(3);
  });

  it('moves the timeline forward when audio keeps arriving late (a stall, or a slow sender clock)', () => {
    let now = 0;
    const arrivals: number[] = [];
    const { mic, chunks } = ingest(() => now);
    const packets = makePackets(40, 0, 0);
    packets.forEach((p, k) => {
      // From packet 10 on, everything arrives 500 ms later than the RTP clock says.
      now = 20_000 + k * 20_000 + (k >= 10 ? 500_000 : 0);
      arrivals.push(now);
      mic.push(p);
    });
    expect(mic.stats.reanchors).toBe(1);
    const gaps = chunks.slice(1).map((c, i) => c.ptsUs - chunks[i].ptsUs);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(480_000);
    // After the move, audio is stamped close to when it arrives again.
    const last = chunks[chunks.length - 1];
    expect(arrivals[arrivals.length - 1] - last.ptsUs).toBeLessThan(60_000);
  });

  it('rides out a short delivery stall without moving the timeline', () => {
    let now = 0;
    const { mic, chunks } = ingest(() => now);
    const packets = makePackets(60, 0, 0);
    packets.forEach((p, k) => {
      // An 80 ms event-loop stall: packets 20-23 are delivered together at the end of it.
      now = 20_000 + k * 20_000;
      if (k >= 20 && k <= 23) now = 20_000 + 24 * 20_000;
      mic.push(p);
    });
    expect(mic.stats.reanchors).toBe(0);
    chunks.forEach((c, k) => expect(c.ptsUs).toBe(chunks[0].ptsUs + k * 20_000));
  });
});
