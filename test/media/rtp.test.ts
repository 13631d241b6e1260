import { describe, expect, it } from 'vitest';
import { RtpParseError } from '../../src/media/errors.ts';
import {
  audioLevelDbov,
  mediaTimeToRtpTimestamp,
  nextSequenceNumber,
  parseRtpPacket,
  randomUint32,
  sequenceDelta,
  writeRtpPacket,
} from '../../src/media/rtp.ts';
import { rms } from '../../src/audio/pcm.ts';
const levelDbov = (samples: Int16Array): number => audioLevelDbov(rms(samples));

const base = { marker: true, payloadType: 101, sequenceNumber: 4242, timestamp: 0xdeadbeef, ssrc: 0x12345678 };

describe('RTP header', () => {
  it('round-trips every field', () => {
    const payload = Buffer.from([1, 2, 3, 4, 5]);
    const buf = writeRtpPacket(base, payload);
    expect(buf.length).toBe(17);
    expect(buf[0]).toBe(0x80);
    const p = parseRtpPacket(buf);
    expect(p).toMatchObject({ ...base, csrcs: [], extension: undefined, paddingLength: 0 });
    expect([...p.payload]).toEqual([1, 2, 3, 4, 5]);
    const p2 = parseRtpPacket(writeRtpPacket({ ...base, marker: false, payloadType: 0 }, Buffer.alloc(0)));
    expect(p2.marker).toBe(false);
    expect(p2.payloadType).toBe(0);
    expect(p2.payload.length).toBe(0);
  });

  it('writes RFC 8285 one-byte header extensions (the audio level) that a parser reads back', () => {
    const payload = Buffer.from([1, 2, 3]);
    const pkt = writeRtpPacket(base, payload, [{ id: 1, data: Uint8Array.of(0x80 | 30) }]);
    expect(pkt.length).toBe(12 + 8 + 3); // header, extension header + one word, payload
    const p = parseRtpPacket(pkt);
    expect(p.extension?.profile).toBe(0xbede);
    expect([...p.extension!.data]).toEqual([0x10, 0x80 | 30, 0, 0]); // id 1, length 1 - 1; V + 30 -dBov; padding
    expect([...p.payload]).toEqual([1, 2, 3]);
    expect(() => writeRtpPacket(base, payload, [{ id: 15, data: Uint8Array.of(1) }])).toThrow(RangeError);
    expect(() => writeRtpPacket(base, payload, [{ id: 2, data: new Uint8Array(17) }])).toThrow(RangeError);
  });

  it('gives the RFC 6464 level of a chunk in -dBov', () => {
    expect(levelDbov(new Int16Array(960))).toBe(127);
    expect(levelDbov(new Int16Array(960).fill(32767))).toBe(0);
    expect(levelDbov(new Int16Array(960).fill(3277))).toBe(20); // a tenth of full scale
  });

  it('wraps the sequence number at 65535', () => {
    expect(nextSequenceNumber(65534)).toBe(65535);
    expect(nextSequenceNumber(65535)).toBe(0);
    let seq = 65533;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(parseRtpPacket(writeRtpPacket({ ...base, sequenceNumber: seq }, Buffer.alloc(1))).sequenceNumber);
      seq = nextSequenceNumber(seq);
    }
    expect(seen).toEqual([65533, 65534, 65535, 0, 1]);
    expect(sequenceDelta(65535, 0)).toBe(1);
    expect(sequenceDelta(0, 65535)).toBe(-1);
    expect(sequenceDelta(100, 100)).toBe(0);
  });

  it('writes and reads timestamps and SSRCs up to 2^32-1', () => {
    const p = parseRtpPacket(writeRtpPacket({ ...base, timestamp: 2 ** 32 - 1, ssrc: 2 ** 32 - 1 }, Buffer.alloc(1)));
    expect(p.timestamp).toBe(2 ** 32 - 1);
    expect(p.ssrc).toBe(2 ** 32 - 1);
  });

  it('rejects out-of-range fields on write', () => {
    expect(() => writeRtpPacket({ ...base, payloadType: 128 }, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => writeRtpPacket({ ...base, sequenceNumber: 65536 }, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => writeRtpPacket({ ...base, timestamp: 2 ** 32 }, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => writeRtpPacket({ ...base, ssrc: -1 }, Buffer.alloc(0))).toThrow(RangeError);
  });

  it('parses CSRCs, a header extension and padding', () => {
    const b = Buffer.from([
      0xb2, 0xe4, 0x00, 0x07, // V=2 P=1 X=1 CC=2, M=1 PT=100, seq 7
      0, 0, 0, 9, // ts
      0, 0, 0, 1, // ssrc
      0, 0, 0, 0xa, 0, 0, 0, 0xb, // CSRCs
      0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00, // one-byte extension, 1 word
      0xca, 0xfe, // payload
      0, 0, 3, // padding, count 3
    ]);
    const p = parseRtpPacket(b);
    expect(p.csrcs).toEqual([10, 11]);
    expect(p.extension?.profile).toBe(0xbede);
    expect([...(p.extension?.data ?? [])]).toEqual([0x10, 0xff, 0, 0]);
    expect(p.paddingLength).toBe(3);
    expect([...p.payload]).toEqual([0xca, 0xfe]);
    expect(p).toMatchObject({ marker: true, payloadType: 100, sequenceNumber: 7, timestamp: 9, ssrc: 1 });
  });

  it('rejects malformed packets with RtpParseError', () => {
    const good = writeRtpPacket(base, Buffer.from([1, 2, 3, 4]));
    const cases: [string, Buffer, RegExp][] = [
      ['short', good.subarray(0, 11), /too short/],
      ['version 1', Buffer.concat([Buffer.from([0x40]), good.subarray(1)]), /version must be 2/],
      ['CSRC overrun', Buffer.concat([Buffer.from([0x83]), good.subarray(1)]), /CSRC/],
      ['extension header missing', Buffer.concat([Buffer.from([0x90]), good.subarray(1, 12)]), /extension/],
      ['extension overrun', Buffer.concat([Buffer.from([0x90]), good.subarray(1, 12), Buffer.from([0xbe, 0xde, 0, 5])]), /overruns/],
      ['padding zero', Buffer.concat([Buffer.from([0xa0]), good.subarray(1, 15), Buffer.from([0])]), /padding length is 0/],
      ['padding overrun', Buffer.concat([Buffer.from([0xa0]), good.subarray(1, 15), Buffer.from([9])]), /overruns/],
    ];
    for (const [name, buf, msg] of cases) {
      let caught: unknown;
      try {
        parseRtpPacket(buf);
      } catch (err) {
        caught = err;
      }
      expect(caught, name).toBeInstanceOf(RtpParseError);
      expect((caught as Error).message, name).toMatch(msg);
    }
  });

  it('never throws anything but RtpParseError on random input', () => {
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(Array.from({ length: (i % 40) + 1 }, () => Math.floor(Math.random() * 256)));
      try {
        parseRtpPacket(b);
      } catch (err) {
        expect(err).toBeInstanceOf(RtpParseError);
      }
    }
  });
});

describe('mediaTimeToRtpTimestamp', () => {
  it('scales media time by the clock rate and adds the offset', () => {
    expect(mediaTimeToRtpTimestamp(0, 90_000, 1000)).toBe(1000);
    expect(mediaTimeToRtpTimestamp(40_000, 90_000, 1000)).toBe(1000 + 3600);
    expect(mediaTimeToRtpTimestamp(20_000, 48_000, 0)).toBe(960);
    expect(mediaTimeToRtpTimestamp(1_500_000, 48_000, 7)).toBe(72_007);
  });

  it('wraps modulo 2^32', () => {
    const offset = 2 ** 32 - 1800;
    expect(mediaTimeToRtpTimestamp(0, 90_000, offset)).toBe(2 ** 32 - 1800);
    expect(mediaTimeToRtpTimestamp(20_000, 90_000, offset)).toBe(0);
    expect(mediaTimeToRtpTimestamp(40_000, 90_000, offset)).toBe(1800);
    // A 90 kHz clock wraps on its own after ~13.25 h even from offset 0.
    const wrapUs = Math.ceil((2 ** 32 / 90_000) * 1e6);
    expect(mediaTimeToRtpTimestamp(wrapUs, 90_000, 0)).toBeLessThan(100);
  });

  it('keeps exact 40 ms steps deep into a long session', () => {
    const offset = randomUint32();
    for (const start of [0, 3_600_000_000, 86_400_000_000 * 30]) {
      for (let k = 0; k < 50; k++) {
        const a = mediaTimeToRtpTimestamp(start + k * 40_000, 90_000, offset);
        const b = mediaTimeToRtpTimestamp(start + (k + 1) * 40_000, 90_000, offset);
        expect((b - a + 2 ** 32) % 2 ** 32).toBe(3600);
      }
    }
  });

  it('draws random 32-bit values in range', () => {
    for (let i = 0; i < 100; i++) {
      const v = randomUint32();
      expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
    }
  });
});
