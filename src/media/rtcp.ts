// RTCP: Sender Reports out (RFC 3550 §6.4.1) and the feedback we act on in (RFC 4585 PLI and
// generic NACK, RFC 5104 FIR). An SR pairs an NTP wall-clock time with an RTP timestamp for
// the same instant; the browser lines audio and video up through those pairs, so both streams
// must derive NTP from the same media-time anchor. The caller owns that anchor: nothing here
// reads a clock.
import { RtcpParseError } from './errors.ts';

export const RTCP_PT_SR = 200;
export const RTCP_PT_RR = 201;
export const RTCP_PT_RTPFB = 205;
export const RTCP_PT_PSFB = 206;
const FMT_NACK = 1;
const FMT_PLI = 1;
const FMT_FIR = 4;
/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 2 ** 32;

/** Media time `mediaUs` on the session timeline happened at wall-clock `unixMs` (ms since 1970, fractions allowed). */
export interface MediaClockAnchor {
  readonly mediaUs: number;
  readonly unixMs: number;
}

export interface NtpTimestamp {
  /** Seconds since 1900, mod 2^32. */
  readonly seconds: number;
  /** Fraction of a second in units of 2^-32 s. */
  readonly fraction: number;
}

export function unixMsToNtp(unixMs: number): NtpTimestamp {
  if (!Number.isFinite(unixMs)) throw new RangeError(`unixMs must be finite, got ${unixMs}`);
  let seconds = Math.floor(unixMs / 1000);
  let fraction = Math.round(((unixMs - seconds * 1000) / 1000) * TWO_32);
  if (fraction >= TWO_32) {
    seconds += 1;
    fraction -= TWO_32;
  }
  return { seconds: (seconds + NTP_UNIX_OFFSET_S) % TWO_32, fraction };
}

/** The NTP time of media time `ptsUs` under `anchor`. */
export function mediaTimeToNtp(ptsUs: number, anchor: MediaClockAnchor): NtpTimestamp {
  return unixMsToNtp(anchor.unixMs + (ptsUs - anchor.mediaUs) / 1000);
}

export interface SenderReportFields {
  readonly ssrc: number;
  readonly ntp: NtpTimestamp;
  readonly rtpTimestamp: number;
  /** Packets sent since the stream started, mod 2^32. */
  readonly packetCount: number;
  /** Payload octets (no RTP headers) sent since the stream started, mod 2^32. */
  readonly octetCount: number;
}

/** A 28-byte SR with no report blocks: we receive nothing on this SSRC to report on. */
export function buildSenderReport(sr: SenderReportFields): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80; // V=2, P=0, RC=0
  b[1] = RTCP_PT_SR;
  b.writeUInt16BE(28 / 4 - 1, 2);
  b.writeUInt32BE(sr.ssrc >>> 0, 4);
  b.writeUInt32BE(sr.ntp.seconds >>> 0, 8);
  b.writeUInt32BE(sr.ntp.fraction >>> 0, 12);
  b.writeUInt32BE(sr.rtpTimestamp >>> 0, 16);
  b.writeUInt32BE(sr.packetCount % TWO_32, 20);
  b.writeUInt32BE(sr.octetCount % TWO_32, 24);
  return b;
}

export interface RtcpSenderReport {
  readonly type: 'sr';
  readonly ssrc: number;
  readonly ntp: NtpTimestamp;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}
export interface RtcpPli {
  readonly type: 'pli';
  readonly senderSsrc: number;
  readonly mediaSsrc: number;
}
export interface RtcpFir {
  readonly type: 'fir';
  readonly senderSsrc: number;
  readonly entries: readonly { readonly ssrc: number; readonly seqNr: number }[];
}
export interface RtcpNack {
  readonly type: 'nack';
  readonly senderSsrc: number;
  readonly mediaSsrc: number;
  /** Every sequence number the receiver reported lost, PID and BLP expanded. */
  readonly lost: readonly number[];
}
/** Any other well-formed RTCP packet (RR, SDES, BYE, REMB, transport-cc...), left unparsed. */
export interface RtcpOther {
  readonly type: 'other';
  readonly packetType: number;
  /** The 5-bit count/FMT field. */
  readonly fmt: number;
  readonly length: number;
}
export type RtcpRecord = RtcpSenderReport | RtcpPli | RtcpFir | RtcpNack | RtcpOther;

/** Parses a compound RTCP packet into records; throws RtcpParseError (only) on malformed input. */
export function parseRtcp(buf: Uint8Array): RtcpRecord[] {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 4) throw new RtcpParseError(`RTCP packet too short: ${b.length} bytes`);
  const records: RtcpRecord[] = [];
  let offset = 0;
  while (offset < b.length) {
    const at = `RTCP packet #${records.length} at byte ${offset}`;
    if (b.length - offset < 4) throw new RtcpParseError(`${at}: ${b.length - offset} trailing bytes, need a 4-byte header`);
    const version = b[offset] >> 6;
    if (version !== 2) throw new RtcpParseError(`${at}: version must be 2, got ${version}`);
    const fmt = b[offset] & 0x1f;
    const pt = b[offset + 1];
    if (pt < 192 || pt > 223) throw new RtcpParseError(`${at}: packet type ${pt} is outside RTCP's 192..223`);
    const size = 4 * (b.readUInt16BE(offset + 2) + 1);
    if (offset + size > b.length) throw new RtcpParseError(`${at}: length ${size} overruns the ${b.length - offset} bytes left`);
    let bodyEnd = offset + size;
    if (b[offset] & 0x20) {
      const pad = b[bodyEnd - 1];
      if (pad === 0 || pad > size - 4) throw new RtcpParseError(`${at}: invalid padding length ${pad}`);
      bodyEnd -= pad;
    }
    records.push(parseOne(b.subarray(offset, bodyEnd), pt, fmt, at));
    offset += size;
  }
  return records;
}

function parseOne(p: Buffer, pt: number, fmt: number, at: string): RtcpRecord {
  const need = (n: number, what: string): void => {
    if (p.length < n) throw new RtcpParseError(`${at}: ${what} needs ${n} bytes, got ${p.length}`);
  };
  if (pt === RTCP_PT_SR) {
    need(28, 'sender report');
    return {
      type: 'sr',
      ssrc: p.readUInt32BE(4),
      ntp: { seconds: p.readUInt32BE(8), fraction: p.readUInt32BE(12) },
      rtpTimestamp: p.readUInt32BE(16),
      packetCount: p.readUInt32BE(20),
      octetCount: p.readUInt32BE(24),
    };
  }
  if (pt === RTCP_PT_RTPFB && fmt === FMT_NACK) {
    need(12, 'NACK');
    if ((p.length - 12) % 4 !== 0) throw new RtcpParseError(`${at}: NACK FCI is not a whole number of 4-byte entries`);
    const lost: number[] = [];
    for (let i = 12; i < p.length; i += 4) {
      const pid = p.readUInt16BE(i);
      const blp = p.readUInt16BE(i + 2);
      lost.push(pid);
      for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) lost.push((pid + bit + 1) & 0xffff);
    }
    return { type: 'nack', senderSsrc: p.readUInt32BE(4), mediaSsrc: p.readUInt32BE(8), lost };
  }
  if (pt === RTCP_PT_PSFB && fmt === FMT_PLI) {
    need(12, 'PLI');
    return { type: 'pli', senderSsrc: p.readUInt32BE(4), mediaSsrc: p.readUInt32BE(8) };
  }
  if (pt === RTCP_PT_PSFB && fmt === FMT_FIR) {
    need(12, 'FIR');
    if ((p.length - 12) % 8 !== 0) throw new RtcpParseError(`${at}: FIR FCI is not a whole number of 8-byte entries`);
    const entries: { ssrc: number; seqNr: number }[] = [];
    for (let i = 12; i < p.length; i += 8) entries.push({ ssrc: p.readUInt32BE(i), seqNr: p[i + 4] });
    return { type: 'fir', senderSsrc: p.readUInt32BE(4), entries };
  }
  return { type: 'other', packetType: pt, fmt, length: p.length };
}

function feedbackHeader(pt: number, fmt: number, size: number, senderSsrc: number, mediaSsrc: number): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0x80 | fmt;
  b[1] = pt;
  b.writeUInt16BE(size / 4 - 1, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  return b;
}

/** A PLI, as a browser sends when it needs a keyframe (for tests and tools). */
export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  return feedbackHeader(RTCP_PT_PSFB, FMT_PLI, 12, senderSsrc, mediaSsrc);
}

/** A FIR with one entry (for tests and tools). */
export function buildFir(senderSsrc: number, mediaSsrc: number, seqNr: number): Buffer {
  const b = feedbackHeader(RTCP_PT_PSFB, FMT_FIR, 20, senderSsrc, 0);
  b.writeUInt32BE(mediaSsrc >>> 0, 12);
  b[16] = seqNr & 0xff;
  return b;
}

/** A generic NACK for `lost` sequence numbers, packed into PID+BLP entries (for tests and tools). */
export function buildNack(senderSsrc: number, mediaSsrc: number, lost: readonly number[]): Buffer {
  const entries: [number, number][] = [];
  for (const seq of lost) {
    const last = entries[entries.length - 1];
    const d = last ? (seq - last[0]) & 0xffff : 0;
    if (last && d >= 1 && d <= 16) last[1] |= 1 << (d - 1);
    else entries.push([seq & 0xffff, 0]);
  }
  const b = feedbackHeader(RTCP_PT_RTPFB, FMT_NACK, 12 + 4 * entries.length, senderSsrc, mediaSsrc);
  entries.forEach(([pid, blp], i) => {
    b.writeUInt16BE(pid, 12 + 4 * i);
    b.writeUInt16BE(blp, 14 + 4 * i);
  });
  return b;
}
