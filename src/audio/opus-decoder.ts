// Opus -> PCM16 mono @ 48 kHz with @discordjs/opus (libopus). The decoder keeps state
// across packets, so one instance per incoming stream.
import opus from '@discordjs/opus';
import { PIPELINE_SAMPLE_RATE } from '../media/types.ts';

export class OpusDecodeError extends Error {
  override name = 'OpusDecodeError';
}

/** Largest payload libopus accepts for one packet (RFC 6716 caps a frame at 1275 bytes; 120 ms = 6 frames). */
const MAX_OPUS_PACKET_BYTES = 1275 * 6;

export class OpusDecoder {
  // Decoding to mono: libopus downmixes stereo packets itself.
  readonly #codec = new opus.OpusEncoder(PIPELINE_SAMPLE_RATE, 1);

  decode(packet: Uint8Array): Int16Array {
    if (packet.byteLength === 0) throw new OpusDecodeError('empty Opus packet');
    if (packet.byteLength > MAX_OPUS_PACKET_BYTES) throw new OpusDecodeError(`Opus packet too large (${packet.byteLength} bytes)`);
    let pcm: Buffer;
    try {
      pcm = this.#codec.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    } catch (err) {
      throw new OpusDecodeError(`corrupt Opus packet: ${(err as Error).message}`);
    }
    const out = new Int16Array(pcm.byteLength / 2);
    for (let i = 0; i < out.length; i++) out[i] = pcm.readInt16LE(2 * i);
    return out;
  }
}
