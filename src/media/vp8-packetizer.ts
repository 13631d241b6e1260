// RFC 7741 VP8 RTP payloads. We always write the 4-byte descriptor X=1, I=1, M=1 (15-bit
// PictureID) because mediasoup's VP8 handling keys frame continuity and layer switching on it.
// We never set L/T/K: there are no temporal layers. The depacketizer accepts every variant.
import { MediaInputError, Vp8PayloadError } from './errors.ts';
import type { RtpPacket } from './rtp.ts';
import { sequenceDelta } from './rtp.ts';

export const VP8_CLOCK_RATE = 90_000;
export const DEFAULT_MAX_PAYLOAD_SIZE = 1200;
/** Size of the descriptor this packetizer writes. */
export const VP8_DESCRIPTOR_SIZE = 4;
const PICTURE_ID_MOD = 0x8000;

/** Bit 0 of the first byte of the VP8 frame tag (RFC 6386 §9.1) is 0 on a keyframe. */
export function isVp8Keyframe(frame: Uint8Array): boolean {
  return frame.length > 0 && (frame[0] & 0x01) === 0;
}

/**
 * Splits one encoded VP8 frame into RTP payloads of at most `maxPayloadSize` bytes each,
 * descriptor included. Sizes are balanced (differ by at most one byte) so no runt packet
 * trails a big frame. The RTP marker bit belongs on the last payload returned.
 */
export function packetizeVp8(frame: Uint8Array, pictureId: number, maxPayloadSize = DEFAULT_MAX_PAYLOAD_SIZE): Buffer[] {
  if (frame.length === 0) throw new MediaInputError('cannot packetize an empty VP8 frame');
  if (!Number.isInteger(pictureId) || pictureId < 0 || pictureId >= PICTURE_ID_MOD) {
    throw new RangeError(`VP8 pictureId must be an integer in [0, 32767], got ${pictureId}`);
  }
  if (!Number.isInteger(maxPayloadSize) || maxPayloadSize <= VP8_DESCRIPTOR_SIZE) {
    throw new RangeError(`maxPayloadSize must be an integer > ${VP8_DESCRIPTOR_SIZE}, got ${maxPayloadSize}`);
  }
  const maxData = maxPayloadSize - VP8_DESCRIPTOR_SIZE;
  const count = Math.ceil(frame.length / maxData);
  const base = Math.floor(frame.length / count);
  const extra = frame.length % count;
  const payloads: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const size = base + (i < extra ? 1 : 0);
    const p = Buffer.allocUnsafe(VP8_DESCRIPTOR_SIZE + size);
    p[0] = 0x80 | (i === 0 ? 0x10 : 0); // X=1, S on the first packet, PID=0 (one partition stream)
    p[1] = 0x80; // I=1
    p[2] = 0x80 | (pictureId >> 8); // M=1: 15-bit PictureID
    p[3] = pictureId & 0xff;
    p.set(frame.subarray(offset, offset + size), VP8_DESCRIPTOR_SIZE);
    payloads.push(p);
    offset += size;
  }
  return payloads;
}

/** Packetizes successive frames, advancing the 15-bit PictureID once per frame. */
export class Vp8Packetizer {
  readonly maxPayloadSize: number;
  #pictureId: number;

  constructor(options: { maxPayloadSize?: number; initialPictureId?: number } = {}) {
    this.maxPayloadSize = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    this.#pictureId = (options.initialPictureId ?? 0) % PICTURE_ID_MOD;
  }

  /** The PictureID the next frame will carry. */
  get pictureId(): number {
    return this.#pictureId;
  }

  packetize(frame: Uint8Array): Buffer[] {
    const payloads = packetizeVp8(frame, this.#pictureId, this.maxPayloadSize);
    this.#pictureId = (this.#pictureId + 1) % PICTURE_ID_MOD;
    return payloads;
  }
}

export interface Vp8PayloadDescriptor {
  readonly nonReference: boolean;
  /** S bit: the packet starts a VP8 partition. */
  readonly start: boolean;
  readonly partitionId: number;
  readonly pictureId: number | undefined;
  readonly tl0PicIdx: number | undefined;
  readonly temporalId: number | undefined;
  readonly keyIdx: number | undefined;
  /** Descriptor length; the VP8 data starts here. */
  readonly size: number;
}

/** Parses the RFC 7741 §4.2 descriptor at the start of a payload; throws Vp8PayloadError. */
export function parseVp8PayloadDescriptor(payload: Uint8Array): Vp8PayloadDescriptor {
  const need = (n: number, what: string): void => {
    if (payload.length < n) throw new Vp8PayloadError(`VP8 payload too short for its ${what}: ${payload.length} bytes`);
  };
  need(1, 'descriptor');
  const b0 = payload[0];
  let size = 1;
  let pictureId: number | undefined;
  let tl0PicIdx: number | undefined;
  let temporalId: number | undefined;
  let keyIdx: number | undefined;
  if (b0 & 0x80) {
    need(2, 'extension byte');
    const x = payload[1];
    size = 2;
    if (x & 0x80) {
      need(size + 1, 'PictureID');
      if (payload[size] & 0x80) {
        need(size + 2, '15-bit PictureID');
        pictureId = ((payload[size] & 0x7f) << 8) | payload[size + 1];
        size += 2;
      } else {
        pictureId = payload[size];
        size += 1;
      }
    }
    if (x & 0x40) {
      need(size + 1, 'TL0PICIDX');
      tl0PicIdx = payload[size];
      size += 1;
    }
    if (x & 0x30) {
      need(size + 1, 'TID/KEYIDX byte');
      if (x & 0x20) temporalId = payload[size] >> 6;
      if (x & 0x10) keyIdx = payload[size] & 0x1f;
      size += 1;
    }
  }
  return {
    nonReference: (b0 & 0x20) !== 0,
    start: (b0 & 0x10) !== 0,
    partitionId: b0 & 0x07,
    pictureId,
    tl0PicIdx,
    temporalId,
    keyIdx,
    size,
  };
}

export interface Vp8DepacketizedFrame {
  readonly timestamp: number;
  readonly pictureId: number | undefined;
  readonly keyframe: boolean;
  readonly data: Buffer;
}

/**
 * Reassembles frames from RTP packets given in sequence order. A frame is kept only if it
 * starts with S=1/PID=0, has no sequence gap, one timestamp, and ends with the marker bit;
 * anything else is dropped and counted (no reordering: this serves tests and tools).
 */
export class Vp8Depacketizer {
  #parts: Buffer[] = [];
  #timestamp = 0;
  #pictureId: number | undefined;
  #nextSeq = -1;
  #droppedFrames = 0;

  get droppedFrames(): number {
    return this.#droppedFrames;
  }

  /** Feeds one packet; returns a frame when this packet completes one. Throws Vp8PayloadError. */
  push(packet: RtpPacket): Vp8DepacketizedFrame | undefined {
    const d = parseVp8PayloadDescriptor(packet.payload);
    const data = packet.payload.subarray(d.size);
    if (d.start && d.partitionId === 0) {
      if (this.#parts.length > 0) this.#droppedFrames++;
      this.#parts = [data];
      this.#timestamp = packet.timestamp;
      this.#pictureId = d.pictureId;
    } else if (
      this.#parts.length > 0 &&
      packet.timestamp === this.#timestamp &&
      sequenceDelta(this.#nextSeq, packet.sequenceNumber) === 0
    ) {
      this.#parts.push(data);
    } else {
      if (this.#parts.length > 0) this.#droppedFrames++;
      this.#parts = [];
      return undefined;
    }
    this.#nextSeq = (packet.sequenceNumber + 1) & 0xffff;
    if (!packet.marker) return undefined;
    const frame = Buffer.concat(this.#parts);
    this.#parts = [];
    return { timestamp: this.#timestamp, pictureId: this.#pictureId, keyframe: isVp8Keyframe(frame), data: frame };
  }
}
