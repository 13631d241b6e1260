import { describe, expect, it } from 'vitest';
import { MediaClosedError, MediaInputError, MediaOptionsError } from '../../src/media/errors.ts';
import { NTP_UNIX_OFFSET_S, parseRtcp } from '../../src/media/rtcp.ts';
import type { RtcpSenderReport } from '../../src/media/rtcp.ts';
import { parseRtpPacket, playoutDelayExtensionData } from '../../src/media/rtp.ts';
import { RtpStreamSender } from '../../src/media/rtp-sender.ts';
import type { RtpStreamSenderOptions } from '../../src/media/rtp-sender-types.ts';
import { Vp8Depacketizer } from '../../src/media/vp8-packetizer.ts';

const anchor = { mediaUs: 0, unixMs: 1_700_000_000_000 };

function harness(options: Partial<RtpStreamSenderOptions> & Pick<RtpStreamSenderOptions, 'codec'>) {
  const rtp: Buffer[] = [];
  const rtcp: Buffer[] = [];
  const sender = new RtpStreamSender({
    ssrc: 1111,
    payloadType: options.codec === 'vp8' ? 101 : 100,
    anchor,
    send: (b) => rtp.push(b),
    sendRtcp: (b) => rtcp.push(b),
    ...options,
  });
  return { sender, rtp, rtcp, srs: () => rtcp.flatMap((b) => parseRtcp(b)) as RtcpSenderReport[] };
}

function vp8Frame(size: number, keyframe: boolean): Buffer {
  const b = Buffer.alloc(size, 0x42);
  b[0] = keyframe ? 0x10 : 0x11;
  return b;
}

/** The media time an (NTP, RTP) pair claims, as a receiver would recover it. */
function srMediaUs(sr: RtcpSenderReport): number {
  return (sr.ntp.seconds - NTP_UNIX_OFFSET_S) * 1e6 + (sr.ntp.fraction / 2 ** 32) * 1e6 - anchor.unixMs * 1000;
}

describe('RtpStreamSender', () => {
  it('sends VP8 frames as numbered, timestamped RTP with the marker on each frame end', () => {
    const { sender, rtp } = harness({ codec: 'vp8', initialSequenceNumber: 65534, timestampOffset: 2 ** 32 - 3600 });
    sender.sendFrame({ ptsUs: 0, data: vp8Frame(3000, true) });
    sender.sendFrame({ ptsUs: 40_000, data: vp8Frame(500, false) });
    sender.sendFrame({ ptsUs: 80_000, data: vp8Frame(500, false) });
    const pkts = rtp.map((b) => parseRtpPacket(b));
    expect(pkts.map((p) => p.sequenceNumber)).toEqual([65534, 65535, 0, 1, 2]);
    expect(pkts.map((p) => p.timestamp)).toEqual([2 ** 32 - 3600, 2 ** 32 - 3600, 2 ** 32 - 3600, 0, 3600]);
    expect(pkts.map((p) => p.marker)).toEqual([false, false, true, true, true]);
    expect(pkts.every((p) => p.ssrc === 1111 && p.payloadType === 101 && p.payload.length <= 1200)).toBe(true);
    const d = new Vp8Depacketizer();
    const frames = pkts.map((p) => d.push(p)).filter((f) => f !== undefined);
    expect(frames.map((f) => [f.keyframe, f.data.length, f.pictureId])).toEqual([[true, 3000, 0], [false, 500, 1], [false, 500, 2]]);
  });

  it('puts the playout-delay limits on every VP8 packet when asked (12 bits each, 10 ms units), and none otherwise', () => {
    const { sender, rtp } = harness({ codec: 'vp8', playoutDelay: { extensionId: 2, minMs: 0, maxMs: 100 } });
    sender.sendFrame({ ptsUs: 0, data: vp8Frame(3000, true) });
    sender.sendFrame({ ptsUs: 40_000, data: vp8Frame(500, false) });
    const pkts = rtp.map((b) => parseRtpPacket(b));
    expect(pkts.length).toBe(4);
    // One-byte header: id 2, length 3 - 1; min 0, max 10 (x 10 ms): one word, no padding.
    for (const p of pkts) expect([...p.extension!.data]).toEqual([0x22, 0x00, 0x00, 0x0a]);
    const plain = harness({ codec: 'vp8' });
    plain.sender.sendFrame({ ptsUs: 0, data: vp8Frame(500, true) });
    expect(parseRtpPacket(plain.rtp[0]).extension).toBeUndefined();
    expect(() => playoutDelayExtensionData(500, 100)).toThrow(RangeError);
    expect([...playoutDelayExtensionData(1230, 40950)]).toEqual([0x07, 0xbf, 0xff]); // 123 = 0x07b, 4095 = 0xfff
  });

  it('emits a Sender Report at the start and every second of media time, with matching counts', () => {
    const { sender, rtp, rtcp, srs } = harness({ codec: 'vp8', timestampOffset: 5000 });
    const sentBefore: { packets: number; octets: number }[] = [];
    for (let i = 0; i < 75; i++) {
      const before = rtcp.length;
      sender.sendFrame({ ptsUs: 10_000_000 + i * 40_000, data: vp8Frame(i % 25 === 0 ? 4000 : 800, i % 25 === 0) });
      if (rtcp.length > before) {
        const pkts = rtp.map((b) => parseRtpPacket(b));
        sentBefore.push({ packets: pkts.length, octets: pkts.reduce((s, p) => s + p.payload.length, 0) });
      }
    }
    const reports = srs();
    expect(reports.map((r) => r.type)).toEqual(['sr', 'sr', 'sr']); // media time 10 s, 11 s, 12 s
    reports.forEach((sr, k) => {
      const ptsUs = 10_000_000 + k * 1_000_000;
      expect(sr.ssrc).toBe(1111);
      expect(sr.rtpTimestamp).toBe(5000 + (ptsUs / 1e6) * 90_000);
      expect(sr.ntp.seconds).toBe(1_700_000_000 + 10 + k + NTP_UNIX_OFFSET_S);
      expect(sr.ntp.fraction).toBe(0);
      expect(sr.packetCount).toBe(sentBefore[k].packets);
      expect(sr.octetCount).toBe(sentBefore[k].octets);
    });
    expect(sender.stats.senderReports).toBe(3);
  });

  it('gives audio and video Sender Reports that agree on the media timeline', () => {
    const video = harness({ codec: 'vp8', ssrc: 1, timestampOffset: 123_456 });
    const audio = harness({ codec: 'opus', ssrc: 2, timestampOffset: 4_000_000_000 });
    for (let t = 0; t <= 2_000_000; t += 20_000) {
      if (t % 40_000 === 0) video.sender.sendFrame({ ptsUs: t, data: vp8Frame(700, t === 0) });
      audio.sender.sendFrame({ ptsUs: t, data: Buffer.from([0xf8, 1, 2, 3]) });
    }
    for (const [h, clock, offset] of [[video, 90_000, 123_456], [audio, 48_000, 4_000_000_000]] as const) {
      const reports = h.srs();
      expect(reports.length).toBe(3);
      for (const sr of reports) {
        // Media time from the RTP side and from the NTP side must be the same instant.
        const fromRtp = ((((sr.rtpTimestamp - offset) % 2 ** 32) + 2 ** 32) % 2 ** 32) / clock * 1e6;
        expect(Math.abs(fromRtp - srMediaUs(sr))).toBeLessThan(1);
      }
    }
  });

  it('sends Opus one packet per chunk, 960 ticks apart, marker only on the first', () => {
    const { sender, rtp } = harness({ codec: 'opus', timestampOffset: 0, initialSequenceNumber: 10 });
    for (let i = 0; i < 4; i++) sender.sendFrame({ ptsUs: i * 20_000, data: Buffer.from([0xf8, i]) });
    const pkts = rtp.map((b) => parseRtpPacket(b));
    expect(pkts.map((p) => [p.sequenceNumber, p.timestamp, p.marker, p.payload[1]])).toEqual([
      [10, 0, true, 0],
      [11, 960, false, 1],
      [12, 1920, false, 2],
      [13, 2880, false, 3],
    ]);
  });

  it('reports bitrate over the last second of media time', () => {
    const { sender } = harness({ codec: 'vp8' });
    for (let i = 0; i < 100; i++) sender.sendFrame({ ptsUs: i * 40_000, data: vp8Frame(1000, i === 0) });
    // Each frame: one packet of 12 (RTP) + 4 (descriptor) + 1000 bytes; 25 frames in the window.
    expect(sender.stats.bitrateBps).toBe(25 * 1016 * 8);
    expect(sender.stats).toMatchObject({ frames: 100, packets: 100, octets: 100 * 1004, bytes: 100 * 1016 });
  });

  it('survives a throwing send callback and counts it', () => {
    let calls = 0;
    const sender = new RtpStreamSender({
      codec: 'opus', ssrc: 5, payloadType: 100, anchor,
      send: () => {
        calls++;
        if (calls === 2) throw new Error('producer closed');
      },
      sendRtcp: () => undefined,
      initialSequenceNumber: 0,
    });
    for (let i = 0; i < 3; i++) sender.sendFrame({ ptsUs: i * 20_000, data: Buffer.from([0xf8]) });
    expect(sender.stats).toMatchObject({ packets: 3, sendErrors: 1 });
  });

  it('validates options and input, and closes idempotently', () => {
    const base = { codec: 'vp8' as const, ssrc: 1, payloadType: 96, anchor, send: () => undefined, sendRtcp: () => undefined };
    expect(() => new RtpStreamSender({ ...base, ssrc: 2 ** 32 })).toThrow(MediaOptionsError);
    expect(() => new RtpStreamSender({ ...base, payloadType: 128 })).toThrow(/payloadType/);
    expect(() => new RtpStreamSender({ ...base, send: 'nope' } as never)).toThrow(/must be a function/);
    const sender = new RtpStreamSender(base);
    expect(Object.isFrozen(sender.options)).toBe(true);
    sender.sendFrame({ ptsUs: 40_000, data: vp8Frame(10, true) });
    expect(() => sender.sendFrame({ ptsUs: 40_000, data: vp8Frame(10, false) })).toThrow(MediaInputError);
    expect(() => sender.sendFrame({ ptsUs: 80_000, data: Buffer.alloc(0) })).toThrow(MediaInputError);
    sender.close();
    sender.close();
    expect(sender.closed).toBe(true);
    expect(() => sender.sendFrame({ ptsUs: 120_000, data: vp8Frame(10, false) })).toThrow(MediaClosedError);
  });
});
