// Opus over RTP (RFC 7587): one 20 ms Opus packet per RTP packet, 48 kHz RTP clock.
//
// Channels: RFC 7587 requires "opus/48000/2" in SDP (mediasoup's codec has channels: 2)
// whatever the sender actually codes; each packet's TOC byte says mono or stereo and every
// Opus decoder must accept both, upmixing mono. Our pipeline is mono, so we run a mono
// encoder: a stereo one would be fed duplicated samples and spend bits and CPU for nothing.
// The producer should advertise `sprop-stereo: 0` so receivers know to expect mono.
import opus from '@discordjs/opus';
import type { OpusEncoder } from '@discordjs/opus';
import { MediaClosedError, MediaInputError, MediaOptionsError } from './errors.ts';
import type { AudioChunk } from './types.ts';
import { CHUNK_SAMPLES, PIPELINE_SAMPLE_RATE } from './types.ts';

export const OPUS_CLOCK_RATE = 48_000;
/** The channel count of the Opus codec in SDP/mediasoup (RFC 7587 §7), not of the signal. */
export const OPUS_SDP_CHANNELS = 2;
/** RTP timestamp advance per packet: 20 ms at 48 kHz. */
export const OPUS_SAMPLES_PER_PACKET = CHUNK_SAMPLES;
/** The fmtp parameters that match what OpusChunkEncoder produces. */
export const OPUS_FMTP = Object.freeze({ minptime: 10, useinbandfec: 1, 'sprop-stereo': 0 });

// libopus CTL request numbers (opus_defines.h); @discordjs/opus only exposes the raw call.
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

export interface OpusPayload {
  readonly ptsUs: number;
  readonly epoch: number;
  /** One Opus packet: exactly what goes after the RTP header. */
  readonly data: Buffer;
}

export interface OpusChunkEncoderOptions {
  /** Target bitrate in bit/s (default 32 000, plenty for mono speech). */
  readonly bitrate?: number;
  /** Expected loss; above 0 turns on in-band FEC sized for it (default 0: off). */
  readonly expectedLossPercent?: number;
}

/** Encodes 20 ms mono PCM16 chunks into Opus packets, one per chunk. */
export class OpusChunkEncoder {
  readonly bitrate: number;
  #encoder: OpusEncoder | undefined;

  constructor(options: OpusChunkEncoderOptions = {}) {
    const bitrate = options.bitrate ?? 32_000;
    const loss = options.expectedLossPercent ?? 0;
    if (!Number.isInteger(bitrate) || bitrate < 6_000 || bitrate > 510_000) {
      throw new MediaOptionsError(`opus bitrate must be an integer in [6000, 510000], got ${bitrate}`);
    }
    if (!Number.isInteger(loss) || loss < 0 || loss > 100) {
      throw new MediaOptionsError(`opus expectedLossPercent must be an integer in [0, 100], got ${loss}`);
    }
    this.bitrate = bitrate;
    this.#encoder = new opus.OpusEncoder(PIPELINE_SAMPLE_RATE, 1);
    this.#encoder.setBitrate(bitrate);
    if (loss > 0) {
      this.#encoder.applyEncoderCTL(OPUS_SET_INBAND_FEC, 1);
      this.#encoder.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, loss);
    }
  }

  get closed(): boolean {
    return this.#encoder === undefined;
  }

  encode(chunk: AudioChunk): OpusPayload {
    if (!this.#encoder) throw new MediaClosedError('OpusChunkEncoder is closed');
    const s = chunk.samples;
    if (s.length !== CHUNK_SAMPLES) {
      throw new MediaInputError(`audio chunk must hold ${CHUNK_SAMPLES} samples, got ${s.length}`);
    }
    // A view, no copy: Int16Array is host-endian and every host we run on is little-endian.
    const pcm = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
    return { ptsUs: chunk.ptsUs, epoch: chunk.epoch, data: this.#encoder.encode(pcm) };
  }

  /** The native encoder has no destroy call; dropping the reference lets GC free it. */
  close(): void {
    this.#encoder = undefined;
  }
}

export interface OpusToc {
  readonly config: number;
  readonly mode: 'silk' | 'hybrid' | 'celt';
  readonly stereo: boolean;
  /** Duration of each frame in the packet. */
  readonly frameDurationUs: number;
  readonly frameCount: number;
}

const SILK_US = [10_000, 20_000, 40_000, 60_000];
const HYBRID_US = [10_000, 20_000];
const CELT_US = [2_500, 5_000, 10_000, 20_000];

/** Reads an Opus packet's TOC byte (RFC 6716 §3.1); throws MediaInputError when unreadable. */
export function parseOpusToc(packet: Uint8Array): OpusToc {
  if (packet.length < 1) throw new MediaInputError('empty Opus packet');
  const config = packet[0] >> 3;
  const code = packet[0] & 0x03;
  let frameCount = code === 0 ? 1 : 2;
  if (code === 3) {
    if (packet.length < 2) throw new MediaInputError('Opus code-3 packet lacks its frame count byte');
    frameCount = packet[1] & 0x3f;
  }
  const mode = config < 12 ? 'silk' : config < 16 ? 'hybrid' : 'celt';
  const frameDurationUs =
    mode === 'silk' ? SILK_US[config & 3] : mode === 'hybrid' ? HYBRID_US[config & 1] : CELT_US[config & 3];
  return { config, mode, stereo: (packet[0] & 0x04) !== 0, frameDurationUs, frameCount };
}
