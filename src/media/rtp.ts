// RTP fixed header (RFC 3550 §5.1): write for our senders, parse for tests and tools.
// Sequence numbers wrap at 2^16 and timestamps at 2^32; both are kept as unsigned numbers.
import { randomInt } from 'node:crypto';
import { RtpParseError } from './errors.ts';

export const RTP_VERSION = 2;
export const RTP_HEADER_SIZE = 12;
const TWO_32 = 2 ** 32;

/** What a sender sets; CSRCs and padding are never written by facecast (one-byte header extensions may be). */
export interface RtpHeaderFields {
  readonly marker: boolean;
  /** 0..127 */
  readonly payloadType: number;
  /** 0..65535 */
  readonly sequenceNumber: number;
  /** 0..2^32-1 */
  readonly timestamp: number;
  /** 0..2^32-1 */
  readonly ssrc: number;
}

export interface RtpHeaderExtension {
  /** The 16-bit "defined by profile" field (0xBEDE for RFC 8285 one-byte headers). */
  readonly profile: number;
  readonly data: Buffer;
}

export interface RtpPacket extends RtpHeaderFields {
  readonly csrcs: readonly number[];
  readonly extension: RtpHeaderExtension | undefined;
  /** Padding bytes removed from the end (0 when the P bit is clear). */
  readonly paddingLength: number;
  /** A view into the parsed buffer, without header, extension or padding. */
  readonly payload: Buffer;
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`RTP ${name} must be an integer in [0, ${max}], got ${value}`);
  }
}

/** An RMS level in [0, 1] (1 = full scale) as RFC 6464 carries it: 0 (loudest) .. 127 (silence) -dBov. */
export function audioLevelDbov(rms: number): number {
  return rms <= 0 ? 127 : Math.min(127, Math.max(0, Math.round(-20 * Math.log10(rms))));
}

/** The ssrc-audio-level extension's byte (RFC 6464): V (voice activity) in the top bit, then the level in -dBov (127 = silence). */
export function audioLevelExtensionData(levelDbov: number): Uint8Array {
  return Uint8Array.of((levelDbov < 127 ? 0x80 : 0) | Math.max(0, Math.min(127, Math.round(levelDbov))));
}

/**
 * The playout-delay extension's 3 bytes (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay): the least and
 * most delay the receiver may add to smooth video, 12 bits each in 10 ms units. 0/0 asks for each frame to be shown
 * as soon as it is decoded.
 */
export function playoutDelayExtensionData(minMs: number, maxMs: number): Uint8Array {
  const min = Math.round(minMs / 10);
  const max = Math.round(maxMs / 10);
  if (!(min >= 0 && max >= min && max <= 0xfff)) throw new RangeError(`playout delay ${minMs}..${maxMs} ms is not 0 <= min <= max <= 40950`);
  return Uint8Array.of(min >> 4, ((min & 0xf) << 4) | (max >> 8), max & 0xff);
}

/** One RFC 8285 one-byte header extension element: id 1..14, 1..16 bytes of data. */
export interface RtpOneByteExtension {
  readonly id: number;
  readonly data: Uint8Array;
}

/** Writes a 12-byte RTP header, the one-byte header extensions if any (RFC 8285), then `payload`, into a new buffer. */
export function writeRtpPacket(header: RtpHeaderFields, payload: Uint8Array, extensions: readonly RtpOneByteExtension[] = []): Buffer {
  checkUint('payloadType', header.payloadType, 127);
  checkUint('sequenceNumber', header.sequenceNumber, 0xffff);
  checkUint('timestamp', header.timestamp, TWO_32 - 1);
  checkUint('ssrc', header.ssrc, TWO_32 - 1);
  for (const e of extensions) {
    checkUint('extension id', e.id, 14);
    if (e.id < 1 || e.data.length < 1 || e.data.length > 16) throw new RangeError(`RTP one-byte extension ${e.id} with ${e.data.length} bytes is not valid`);
  }
  const elements = extensions.reduce((n, e) => n + 1 + e.data.length, 0);
  const extWords = Math.ceil(elements / 4);
  const extBytes = extensions.length ? 4 + 4 * extWords : 0;
  const buf = Buffer.alloc(RTP_HEADER_SIZE + extBytes + payload.length);
  buf[0] = (RTP_VERSION << 6) | (extensions.length ? 0x10 : 0); // P=0, X, CC=0
  buf[1] = (header.marker ? 0x80 : 0) | header.payloadType;
  buf.writeUInt16BE(header.sequenceNumber, 2);
  buf.writeUInt32BE(header.timestamp, 4);
  buf.writeUInt32BE(header.ssrc, 8);
  if (extensions.length) {
    buf.writeUInt16BE(0xbede, RTP_HEADER_SIZE);
    buf.writeUInt16BE(extWords, RTP_HEADER_SIZE + 2);
    let at = RTP_HEADER_SIZE + 4;
    for (const e of extensions) {
      buf[at++] = (e.id << 4) | (e.data.length - 1);
      buf.set(e.data, at);
      at += e.data.length;
    }
    // The rest of the last word stays zero: padding (RFC 8285 §4.2).
  }
  buf.set(payload, RTP_HEADER_SIZE + extBytes);
  return buf;
}

/** Parses one RTP packet; throws RtpParseError on anything malformed. Payload is a view, not a copy. */
export function parseRtpPacket(buf: Uint8Array): RtpPacket {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < RTP_HEADER_SIZE) {
    throw new RtpParseError(`RTP packet too short: ${b.length} bytes, the fixed header needs ${RTP_HEADER_SIZE}`);
  }
  const version = b[0] >> 6;
  if (version !== RTP_VERSION) throw new RtpParseError(`RTP version must be 2, got ${version}`);
  const hasPadding = (b[0] & 0x20) !== 0;
  const hasExtension = (b[0] & 0x10) !== 0;
  const csrcCount = b[0] & 0x0f;
  let offset = RTP_HEADER_SIZE + 4 * csrcCount;
  if (b.length < offset) {
    throw new RtpParseError(`RTP packet too short for ${csrcCount} CSRCs: ${b.length} bytes, need ${offset}`);
  }
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(b.readUInt32BE(RTP_HEADER_SIZE + 4 * i));

  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    if (b.length < offset + 4) throw new RtpParseError('RTP packet too short for its header extension header');
    const profile = b.readUInt16BE(offset);
    const extBytes = 4 * b.readUInt16BE(offset + 2);
    if (b.length < offset + 4 + extBytes) {
      throw new RtpParseError(`RTP header extension of ${extBytes} bytes overruns the packet`);
    }
    extension = { profile, data: b.subarray(offset + 4, offset + 4 + extBytes) };
    offset += 4 + extBytes;
  }

  let end = b.length;
  let paddingLength = 0;
  if (hasPadding) {
    paddingLength = b[b.length - 1];
    if (paddingLength === 0) throw new RtpParseError('RTP padding bit set but padding length is 0');
    if (offset + paddingLength > b.length) {
      throw new RtpParseError(`RTP padding of ${paddingLength} bytes overruns the ${b.length - offset}-byte body`);
    }
    end -= paddingLength;
  }

  return {
    marker: (b[1] & 0x80) !== 0,
    payloadType: b[1] & 0x7f,
    sequenceNumber: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    csrcs,
    extension,
    paddingLength,
    payload: b.subarray(offset, end),
  };
}

/** The sequence number after `seq`, wrapping 65535 -> 0. */
export function nextSequenceNumber(seq: number): number {
  return (seq + 1) & 0xffff;
}

/** Signed distance from a to b in 16-bit sequence space (RFC 3550 style), in [-32768, 32767]. */
export function sequenceDelta(a: number, b: number): number {
  return ((((b - a) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/**
 * Maps media time (us on the session timeline) to an RTP timestamp:
 * (offset + round(ptsUs * clockRate / 1e6)) mod 2^32. Whole seconds and the remainder are
 * scaled apart so the product stays exact in a double for any session length.
 */
export function mediaTimeToRtpTimestamp(ptsUs: number, clockRate: number, offset: number): number {
  if (!Number.isFinite(ptsUs)) throw new RangeError(`ptsUs must be finite, got ${ptsUs}`);
  const seconds = Math.floor(ptsUs / 1_000_000);
  const remUs = ptsUs - seconds * 1_000_000;
  const ticks = seconds * clockRate + Math.round((remUs * clockRate) / 1_000_000);
  const ts = (offset + ticks) % TWO_32;
  return ts < 0 ? ts + TWO_32 : ts;
}

/** A random 32-bit value for an SSRC or an initial RTP timestamp offset (RFC 3550 §5.1). */
export function randomUint32(): number {
  // randomInt's range is limited to 2^48, so draw two 16-bit halves.
  return randomInt(0, 0x10000) * 0x10000 + randomInt(0, 0x10000);
}

/** A random initial sequence number. */
export function randomSequenceNumber(): number {
  return randomInt(0, 0x10000);
}
