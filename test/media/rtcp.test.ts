import { describe, expect, it } from 'vitest';
import { RtcpParseError } from '../../src/media/errors.ts';
import {
  NTP_UNIX_OFFSET_S,
  buildFir,
  buildNack,
  buildPli,
  buildSenderReport,
  mediaTimeToNtp,
  parseRtcp,
  unixMsToNtp,
} from '../../src/media/rtcp.ts';

describe('NTP mapping', () => {
  it('maps media time through the anchor to NTP seconds and fraction', () => {
    // Media time 10 s happened at 2023-11-14T22:13:20.500Z.
    const anchor = { mediaUs: 10_000_000, unixMs: 1_700_000_000_500 };
    expect(mediaTimeToNtp(10_000_000, anchor)).toEqual({ seconds: 1_700_000_000 + NTP_UNIX_OFFSET_S, fraction: 2 ** 31 });
    expect(mediaTimeToNtp(10_250_000, anchor)).toEqual({ seconds: 1_700_000_000 + NTP_UNIX_OFFSET_S, fraction: 3 * 2 ** 30 });
    expect(mediaTimeToNtp(10_500_000, anchor)).toEqual({ seconds: 1_700_000_001 + NTP_UNIX_OFFSET_S, fraction: 0 });
    expect(mediaTimeToNtp(9_000_000, anchor)).toEqual({ seconds: 1_699_999_999 + NTP_UNIX_OFFSET_S, fraction: 2 ** 31 });
  });

  it('is precise to well under a microsecond and carries a rounded-up fraction', () => {
    const ntp = unixMsToNtp(1_700_000_000_000.001); // +1 us
    expect(Math.abs(ntp.fraction - 2 ** 32 / 1e6)).toBeLessThan(2 ** 32 / 1e7);
    // A fraction that rounds up to 2^32 becomes the next whole second.
    expect(unixMsToNtp(999.9999999999)).toEqual({ seconds: NTP_UNIX_OFFSET_S + 1, fraction: 0 });
    expect(unixMsToNtp(0)).toEqual({ seconds: NTP_UNIX_OFFSET_S, fraction: 0 });
  });
});

describe('Sender Report', () => {
  it('writes the RFC 3550 layout', () => {
    const anchor = { mediaUs: 0, unixMs: 1_700_000_000_500 };
    const ntp = mediaTimeToNtp(250_000, anchor);
    const b = buildSenderReport({ ssrc: 0xcafebabe, ntp, rtpTimestamp: 0xfffffff0, packetCount: 1234, octetCount: 2 ** 32 + 5 });
    expect(b.length).toBe(28);
    expect(b[0]).toBe(0x80);
    expect(b[1]).toBe(200);
    expect(b.readUInt16BE(2)).toBe(6);
    expect(b.readUInt32BE(4)).toBe(0xcafebabe);
    expect(b.readUInt32BE(8)).toBe(3_908_988_800); // 1 700 000 000 + 2 208 988 800
    expect(b.readUInt32BE(12)).toBe(3_221_225_472); // .75 s
    expect(b.readUInt32BE(16)).toBe(0xfffffff0);
    expect(b.readUInt32BE(20)).toBe(1234);
    expect(b.readUInt32BE(24)).toBe(5); // octet count wraps mod 2^32
    expect(parseRtcp(b)).toEqual([
      { type: 'sr', ssrc: 0xcafebabe, ntp: { seconds: 3_908_988_800, fraction: 3_221_225_472 }, rtpTimestamp: 0xfffffff0, packetCount: 1234, octetCount: 5 },
    ]);
  });
});

describe('RTCP feedback parsing', () => {
  it('parses PLI, FIR and NACK in a compound packet and passes others through', () => {
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]); // RR with no report blocks
    const remb = Buffer.from([0x8f, 206, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0]);
    const compound = Buffer.concat([rr, buildPli(9, 1111), buildFir(9, 2222, 7), buildNack(9, 3333, [100, 101, 103, 200]), remb]);
    expect(parseRtcp(compound)).toEqual([
      { type: 'other', packetType: 201, fmt: 0, length: 8 },
      { type: 'pli', senderSsrc: 9, mediaSsrc: 1111 },
      { type: 'fir', senderSsrc: 9, entries: [{ ssrc: 2222, seqNr: 7 }] },
      { type: 'nack', senderSsrc: 9, mediaSsrc: 3333, lost: [100, 101, 103, 200] },
      { type: 'other', packetType: 206, fmt: 15, length: 12 },
    ]);
  });

  it('expands NACK PID+BLP by hand-written bytes, across the sequence wrap', () => {
    const b = Buffer.from([0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xfe, 0b1000_0000, 0b0000_0101]);
    // PID 65534, BLP bits 0, 2 and 15 -> 65535, 1 and 14 after the wrap.
    expect(parseRtcp(b)).toEqual([{ type: 'nack', senderSsrc: 1, mediaSsrc: 2, lost: [65534, 65535, 1, 14] }]);
  });

  it('honours the padding bit', () => {
    const pli = buildPli(1, 2);
    const padded = Buffer.concat([pli, Buffer.from([0, 0, 0, 4])]);
    padded[0] |= 0x20;
    padded.writeUInt16BE(3, 2);
    expect(parseRtcp(padded)).toEqual([{ type: 'pli', senderSsrc: 1, mediaSsrc: 2 }]);
  });

  it('rejects malformed input with RtcpParseError and a clear message', () => {
    const pli = buildPli(1, 2);
    const withHeader = (b0: number, pt: number, lenWords: number, body: number[] = []) =>
      Buffer.from([b0, pt, lenWords >> 8, lenWords & 0xff, ...body]);
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /too short/],
      ['version 1', withHeader(0x41, 206, 2, [0, 0, 0, 1, 0, 0, 0, 2]), /version must be 2/],
      ['RTP, not RTCP', withHeader(0x80, 96, 2, [0, 0, 0, 1, 0, 0, 0, 2]), /outside RTCP/],
      ['length overrun', withHeader(0x81, 206, 5, [0, 0, 0, 1, 0, 0, 0, 2]), /overruns/],
      ['trailing bytes', Buffer.concat([pli, Buffer.from([0x80, 201])]), /trailing bytes/],
      ['PLI too short', withHeader(0x81, 206, 1, [0, 0, 0, 1]), /PLI needs 12/],
      ['NACK too short', withHeader(0x81, 205, 1, [0, 0, 0, 1]), /NACK needs 12/],
      ['SR too short', withHeader(0x80, 200, 2, [0, 0, 0, 1, 0, 0, 0, 2]), /sender report needs 28/],
      ['zero padding', withHeader(0xa1, 206, 2, [0, 0, 0, 1, 0, 0, 0, 0]), /padding/],
      ['padding too long', withHeader(0xa1, 206, 2, [0, 0, 0, 1, 0, 0, 0, 99]), /padding/],
    ];
    for (const [name, buf, msg] of cases) {
      let caught: unknown;
      try {
        parseRtcp(buf);
      } catch (err) {
        caught = err;
      }
      expect(caught, name).toBeInstanceOf(RtcpParseError);
      expect((caught as Error).message, name).toMatch(msg);
    }
  });

  it('never throws anything but RtcpParseError on random or mutated input', () => {
    const valid = Buffer.concat([buildPli(1, 2), buildFir(1, 2, 3), buildNack(1, 2, [5, 9, 40])]);
    for (let i = 0; i < 5000; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        b = Buffer.from(valid);
        for (let k = 0; k < 3; k++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
        b = b.subarray(0, Math.floor(Math.random() * (b.length + 1)));
      } else {
        b = Buffer.from(Array.from({ length: i % 64 }, () => Math.floor(Math.random() * 256)));
        if (b.length > 1) b[0] = 0x80 | (b[0] & 0x3f);
      }
      try {
        parseRtcp(b);
      } catch (err) {
        expect(err).toBeInstanceOf(RtcpParseError);
      }
    }
  });
});
