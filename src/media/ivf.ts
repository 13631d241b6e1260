// IVF container (libvpx's trivial framing): a 32-byte file header, then per frame a 12-byte
// header (u32le size, u64le pts) and the frame bytes. The parser is incremental because
// ffmpeg's stdout arrives in arbitrary chunks.
import { IvfParseError } from './errors.ts';

export const IVF_FILE_HEADER_SIZE = 32;
export const IVF_FRAME_HEADER_SIZE = 12;
/** Far above any 512x512 frame; a bigger size field means the stream is out of step. */
export const IVF_MAX_FRAME_SIZE = 8 * 1024 * 1024;

export interface IvfHeader {
  readonly fourcc: string;
  readonly width: number;
  readonly height: number;
  /** Timebase = timebaseNum / timebaseDen seconds. */
  readonly timebaseDen: number;
  readonly timebaseNum: number;
  readonly frameCount: number;
}

export interface IvfFrame {
  /** In the IVF timebase; facecast ignores it and maps frames to input pts in order. */
  readonly pts: bigint;
  readonly data: Buffer;
}

/** Push bytes in, get whole frames out. Throws IvfParseError once the stream is corrupt. */
export class IvfParser {
  #buf: Buffer = Buffer.alloc(0);
  #header: IvfHeader | undefined;
  #headerSize = IVF_FILE_HEADER_SIZE;

  get header(): IvfHeader | undefined {
    return this.#header;
  }

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#buf.length;
  }

  push(chunk: Uint8Array): IvfFrame[] {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const frames: IvfFrame[] = [];
    if (!this.#header && !this.#readHeader()) return frames;
    let offset = 0;
    while (this.#buf.length - offset >= IVF_FRAME_HEADER_SIZE) {
      const size = this.#buf.readUInt32LE(offset);
      if (size > IVF_MAX_FRAME_SIZE) throw new IvfParseError(`IVF frame size ${size} exceeds ${IVF_MAX_FRAME_SIZE}`);
      const end = offset + IVF_FRAME_HEADER_SIZE + size;
      if (this.#buf.length < end) break;
      const pts = this.#buf.readBigUInt64LE(offset + 4);
      // Copy out so the frame does not pin the parser's (possibly much larger) buffer.
      frames.push({ pts, data: Buffer.from(this.#buf.subarray(offset + IVF_FRAME_HEADER_SIZE, end)) });
      offset = end;
    }
    if (offset > 0) this.#buf = this.#buf.subarray(offset);
    return frames;
  }

  #readHeader(): boolean {
    if (this.#buf.length < IVF_FILE_HEADER_SIZE) return false;
    const b = this.#buf;
    if (b.toString('latin1', 0, 4) !== 'DKIF') {
      throw new IvfParseError(`not an IVF stream: signature ${JSON.stringify(b.toString('latin1', 0, 4))}`);
    }
    this.#headerSize = b.readUInt16LE(6);
    if (this.#headerSize < IVF_FILE_HEADER_SIZE) throw new IvfParseError(`IVF header length ${this.#headerSize} < 32`);
    if (b.length < this.#headerSize) return false;
    this.#header = Object.freeze({
      fourcc: b.toString('latin1', 8, 12),
      width: b.readUInt16LE(12),
      height: b.readUInt16LE(14),
      timebaseDen: b.readUInt32LE(16),
      timebaseNum: b.readUInt32LE(20),
      frameCount: b.readUInt32LE(24),
    });
    this.#buf = b.subarray(this.#headerSize);
    return true;
  }
}

/** Builds a whole IVF file in memory, e.g. to hand reassembled frames to ffmpeg for decoding. */
export function writeIvf(
  header: Omit<IvfHeader, 'frameCount'>,
  frames: readonly { readonly pts: bigint | number; readonly data: Uint8Array }[],
): Buffer {
  const head = Buffer.alloc(IVF_FILE_HEADER_SIZE);
  head.write('DKIF', 0, 'latin1');
  head.writeUInt16LE(0, 4);
  head.writeUInt16LE(IVF_FILE_HEADER_SIZE, 6);
  head.write(header.fourcc.padEnd(4, ' ').slice(0, 4), 8, 'latin1');
  head.writeUInt16LE(header.width, 12);
  head.writeUInt16LE(header.height, 14);
  head.writeUInt32LE(header.timebaseDen, 16);
  head.writeUInt32LE(header.timebaseNum, 20);
  head.writeUInt32LE(frames.length, 24);
  const parts: Buffer[] = [head];
  for (const f of frames) {
    const fh = Buffer.alloc(IVF_FRAME_HEADER_SIZE);
    fh.writeUInt32LE(f.data.length, 0);
    fh.writeBigUInt64LE(BigInt(f.pts), 4);
    parts.push(fh, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength));
  }
  return Buffer.concat(parts);
}
