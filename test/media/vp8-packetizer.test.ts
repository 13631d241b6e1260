import { describe, expect, it } from 'vitest';
import { MediaInputError, Vp8PayloadError } from '../../src/media/errors.ts';
import { writeIvf } from '../../src/media/ivf.ts';
import { nextSequenceNumber, parseRtpPacket, writeRtpPacket } from '../../src/media/rtp.ts';
import type { RtpPacket } from '../../src/media/rtp.ts';
import type { EncodedVideoFrame } from '../../src/media/vp8-encoder-types.ts';
import { Vp8Encoder } from '../../src/media/vp8-encoder.ts';
import {
  Vp8Depacketizer,
  Vp8Packetizer,
  isVp8Keyframe,
  packetizeVp8,
  parseVp8PayloadDescriptor,
} from '../../src/media/vp8-packetizer.ts';
import { decodeIvf, gradientFrame, meanAbsDiff } from './helpers.ts';

function fakeFrame(size: number, keyframe: boolean): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + 3) & 0xff;
  b[0] = keyframe ? 0x10 : 0x11;
  return b;
}

/** Wraps payloads in RTP packets as a sender would and parses them back. */
function toRtp(payloads: Buffer[], firstSeq: number, timestamp: number): RtpPacket[] {
  let seq = firstSeq;
  return payloads.map((payload, i) => {
    const pkt = writeRtpPacket({ marker: i === payloads.length - 1, payloadType: 96, sequenceNumber: seq, timestamp, ssrc: 1 }, payload);
    seq = nextSequenceNumber(seq);
    return parseRtpPacket(pkt);
  });
}

describe('VP8 packetizer', () => {
  it('detects keyframes from the frame tag', () => {
    expect(isVp8Keyframe(Buffer.from([0x10, 0, 0]))).toBe(true);
    expect(isVp8Keyframe(Buffer.from([0x11, 0, 0]))).toBe(false);
    expect(isVp8Keyframe(Buffer.alloc(0))).toBe(false);
  });

  it('splits a frame into balanced payloads under the limit with the RFC 7741 descriptor', () => {
    const frame = fakeFrame(3000, true);
    const payloads = packetizeVp8(frame, 0x1234, 1200);
    expect(payloads.length).toBe(3);
    expect(payloads.every((p) => p.length <= 1200)).toBe(true);
    expect(payloads.map((p) => p.length - 4)).toEqual([1000, 1000, 1000]);
    expect([...payloads[0].subarray(0, 4)]).toEqual([0x90, 0x80, 0x80 | 0x12, 0x34]); // X S | I | M PictureID
    expect([...payloads[1].subarray(0, 4)]).toEqual([0x80, 0x80, 0x92, 0x34]);
    expect(Buffer.concat(payloads.map((p) => p.subarray(4)))).toEqual(frame);
    const d = parseVp8PayloadDescriptor(payloads[0]);
    expect(d).toMatchObject({ start: true, partitionId: 0, pictureId: 0x1234, size: 4, nonReference: false });
    expect(packetizeVp8(fakeFrame(1196, false), 0).length).toBe(1);
    expect(packetizeVp8(fakeFrame(1197, false), 0).map((p) => p.length)).toEqual([603, 602]);
  });

  it('advances the 15-bit PictureID per frame and wraps it', () => {
    const p = new Vp8Packetizer({ initialPictureId: 32766 });
    const ids = [0, 1, 2].map(() => parseVp8PayloadDescriptor(p.packetize(fakeFrame(10, false))[0]).pictureId);
    expect(ids).toEqual([32766, 32767, 0]);
  });

  it('rejects bad arguments', () => {
    expect(() => packetizeVp8(Buffer.alloc(0), 0)).toThrow(MediaInputError);
    expect(() => packetizeVp8(fakeFrame(10, true), 40000)).toThrow(RangeError);
    expect(() => packetizeVp8(fakeFrame(10, true), 0, 4)).toThrow(RangeError);
  });

  it('parses every descriptor variant and rejects truncated ones', () => {
    expect(parseVp8PayloadDescriptor(Buffer.from([0x10, 0xaa]))).toMatchObject({ start: true, pictureId: undefined, size: 1 });
    expect(parseVp8PayloadDescriptor(Buffer.from([0x90, 0x80, 0x05, 0xaa]))).toMatchObject({ pictureId: 5, size: 3 });
    expect(parseVp8PayloadDescriptor(Buffer.from([0xb3, 0xf0, 0x81, 0x02, 0x09, 0xc7, 0xaa]))).toEqual({
      nonReference: true, start: true, partitionId: 3, pictureId: 0x102, tl0PicIdx: 9, temporalId: 3, keyIdx: 7, size: 6,
    });
    for (const bad of [[], [0x80], [0x80, 0x80], [0x80, 0x80, 0x80], [0x80, 0x40], [0x80, 0x20]]) {
      expect(() => parseVp8PayloadDescriptor(Buffer.from(bad))).toThrow(Vp8PayloadError);
    }
  });

  it('depacketizes across the sequence wrap and drops frames with a gap', () => {
    const packetizer = new Vp8Packetizer();
    const f1 = fakeFrame(5000, true);
    const f2 = fakeFrame(2500, false);
    const p1 = toRtp(packetizer.packetize(f1), 65533, 1000);
    const p2 = toRtp(packetizer.packetize(f2), nextSequenceNumber(p1[p1.length - 1].sequenceNumber), 4600);
    expect(p1.map((p) => p.sequenceNumber)).toEqual([65533, 65534, 65535, 0, 1]);
    const d = new Vp8Depacketizer();
    const out = [...p1, ...p2].map((p) => d.push(p)).filter((f) => f !== undefined);
    expect(out.map((f) => f.data)).toEqual([f1, f2]);
    expect(out.map((f) => [f.timestamp, f.pictureId, f.keyframe])).toEqual([[1000, 0, true], [4600, 1, false]]);

    const lossy = new Vp8Depacketizer();
    const p3 = toRtp(packetizer.packetize(f1), 10, 8200);
    const got = [p3[0], p3[1], p3[3], p3[4], ...toRtp(packetizer.packetize(f2), 20, 11800)].map((p) => lossy.push(p));
    expect(got.filter((f) => f !== undefined).map((f) => f.timestamp)).toEqual([11800]);
    expect(lossy.droppedFrames).toBe(1);
  });

  it('round-trips real ffmpeg VP8 frames: packetize -> RTP -> depacketize -> decode matches the input image', async () => {
    const encoder = new Vp8Encoder({ bitrateKbps: 1500 });
    const encoded: EncodedVideoFrame[] = [];
    const consumer = (async () => {
      for await (const f of encoder.frames()) encoded.push(f);
    })();
    const inputs = Array.from({ length: 8 }, (_, i) => gradientFrame(i));
    for (const f of inputs) {
      encoder.encode(f);
      await new Promise((r) => setTimeout(r, 20));
    }
    await encoder.end();
    await consumer;
    expect(encoded.length).toBe(inputs.length);

    const packetizer = new Vp8Packetizer({ maxPayloadSize: 500 }); // small, so frames span many packets
    const depacketizer = new Vp8Depacketizer();
    let seq = 65530;
    const reassembled: Buffer[] = [];
    let packets = 0;
    for (const f of encoded) {
      const rtp = toRtp(packetizer.packetize(f.data), seq, (f.ptsUs * 9) / 100);
      packets += rtp.length;
      seq = nextSequenceNumber(rtp[rtp.length - 1].sequenceNumber);
      for (const p of rtp) {
        expect(p.payload.length).toBeLessThanOrEqual(500);
        const frame = depacketizer.push(p);
        if (frame) {
          expect(frame.keyframe).toBe(f.keyframe);
          reassembled.push(frame.data);
        }
      }
    }
    expect(packets).toBeGreaterThan(encoded.length);
    expect(reassembled).toEqual(encoded.map((f) => f.data));

    const ivf = writeIvf(
      { fourcc: 'VP80', width: 512, height: 512, timebaseDen: 25, timebaseNum: 1 },
      reassembled.map((data, i) => ({ pts: i, data })),
    );
    const raw = await decodeIvf(ivf);
    const size = 512 * 512 * 1.5;
    expect(raw.length).toBe(size * inputs.length);
    for (const i of [0, inputs.length - 1]) {
      const diff = meanAbsDiff(raw.subarray(i * size, (i + 1) * size), inputs[i].i420);
      console.info(`[vp8 round-trip] frame ${i}: mean abs diff vs input ${diff.toFixed(2)} (all I420 planes)`);
      expect(diff, `frame ${i}`).toBeLessThan(10);
    }
  }, 20_000);
});
