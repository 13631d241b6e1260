// One outgoing RTP stream (one SSRC): packetizes encoded frames, numbers and timestamps the
// packets, and sends an RTCP Sender Report about once per second of media time. It is driven
// only by the frames it is given (no timers), and RTP timestamps come from the frames' ptsUs,
// so audio and video stay on the one session clock.
import { z } from 'zod';
import { moduleLogger } from '../log.ts';
import { MediaClosedError, MediaInputError, MediaOptionsError } from './errors.ts';
import { OPUS_CLOCK_RATE } from './opus-rtp.ts';
import { buildSenderReport, mediaTimeToNtp } from './rtcp.ts';
import { audioLevelExtensionData, mediaTimeToRtpTimestamp, nextSequenceNumber, playoutDelayExtensionData, randomSequenceNumber, randomUint32, writeRtpPacket, type RtpOneByteExtension } from './rtp.ts';
import type { EncodedMediaFrame, RtpStreamSenderOptions, RtpStreamSenderStats } from './rtp-sender-types.ts';
import { DEFAULT_MAX_PAYLOAD_SIZE, VP8_CLOCK_RATE, Vp8Packetizer } from './vp8-packetizer.ts';

const log = moduleLogger('media/rtp-sender');
const BITRATE_WINDOW_US = 1_000_000;

const uint32 = z.number().int().min(0).max(2 ** 32 - 1);
const callback = z.custom<(packet: Buffer) => void>((v) => typeof v === 'function', 'must be a function');
const optionsSchema = z
  .object({
    codec: z.enum(['vp8', 'opus']),
    ssrc: uint32,
    payloadType: z.number().int().min(0).max(127),
    clockRate: z.number().int().min(1000).max(1_000_000).optional(),
    anchor: z.object({ mediaUs: z.number().finite(), unixMs: z.number().finite() }).readonly(),
    send: callback,
    sendRtcp: callback,
    maxPayloadSize: z.number().int().min(100).max(65_000).default(DEFAULT_MAX_PAYLOAD_SIZE),
    initialSequenceNumber: z.number().int().min(0).max(0xffff).optional(),
    timestampOffset: uint32.optional(),
    senderReportIntervalUs: z.number().int().min(100_000).max(60_000_000).default(1_000_000),
    audioLevelExtensionId: z.number().int().min(1).max(14).optional(),
    playoutDelay: z
      .object({ extensionId: z.number().int().min(1).max(14), minMs: z.number().int().min(0).max(40_950), maxMs: z.number().int().min(0).max(40_950) })
      .refine((p) => p.maxMs >= p.minMs, 'playoutDelay.maxMs must be >= minMs')
      .readonly()
      .optional(),
  })
  .strict();

export class RtpStreamSender {
  readonly options: Readonly<Required<Omit<RtpStreamSenderOptions, 'playoutDelay'>>>;
  readonly #packetizer: Vp8Packetizer | undefined;
  /** The playout-delay element every video packet carries, if asked for. */
  readonly #playoutDelay: RtpOneByteExtension | null;
  #seq: number;
  #closed = false;
  #lastPtsUs = -Infinity;
  #lastSrPtsUs: number | undefined;
  #counts = { frames: 0, packets: 0, octets: 0, bytes: 0, senderReports: 0, sendErrors: 0 };
  /** (ptsUs, bytes) per frame over the last BITRATE_WINDOW_US; bounded by the frame rate. */
  #window: { ptsUs: number; bytes: number }[] = [];

  constructor(options: RtpStreamSenderOptions) {
    const r = optionsSchema.safeParse(options);
    if (!r.success) throw new MediaOptionsError(`invalid RtpStreamSender options: ${z.prettifyError(r.error)}`);
    const o = r.data;
    const { playoutDelay, ...rest } = o;
    this.options = Object.freeze({
      ...rest,
      anchor: Object.freeze({ ...o.anchor }),
      clockRate: o.clockRate ?? (o.codec === 'vp8' ? VP8_CLOCK_RATE : OPUS_CLOCK_RATE),
      initialSequenceNumber: o.initialSequenceNumber ?? randomSequenceNumber(),
      timestampOffset: o.timestampOffset ?? randomUint32(),
      audioLevelExtensionId: o.audioLevelExtensionId ?? 0, // 0: none
    });
    this.#playoutDelay = playoutDelay && o.codec === 'vp8' ? { id: playoutDelay.extensionId, data: playoutDelayExtensionData(playoutDelay.minMs, playoutDelay.maxMs) } : null;
    this.#seq = this.options.initialSequenceNumber;
    this.#packetizer = o.codec === 'vp8' ? new Vp8Packetizer({ maxPayloadSize: o.maxPayloadSize }) : undefined;
    log.debug({ ssrc: o.ssrc, codec: o.codec, pt: o.payloadType }, 'rtp stream sender created');
  }

  get ssrc(): number {
    return this.options.ssrc;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The RTP timestamp this stream gives media time `ptsUs`. */
  rtpTimestamp(ptsUs: number): number {
    return mediaTimeToRtpTimestamp(ptsUs, this.options.clockRate, this.options.timestampOffset);
  }

  get stats(): RtpStreamSenderStats {
    const bytes = this.#window.reduce((sum, e) => sum + e.bytes, 0);
    return { ...this.#counts, bitrateBps: (bytes * 8 * 1_000_000) / BITRATE_WINDOW_US };
  }

  /** Sends one encoded frame (VP8 frame or Opus packet) as RTP, then an SR when one is due. */
  sendFrame(frame: EncodedMediaFrame): void {
    if (this.#closed) throw new MediaClosedError(`RtpStreamSender ${this.options.ssrc} is closed`);
    if (!Number.isFinite(frame.ptsUs) || frame.ptsUs <= this.#lastPtsUs) {
      throw new MediaInputError(`frame ptsUs ${frame.ptsUs} does not follow ${this.#lastPtsUs}`);
    }
    if (frame.data.length === 0) throw new MediaInputError('cannot send an empty frame');
    this.#lastPtsUs = frame.ptsUs;
    const timestamp = this.rtpTimestamp(frame.ptsUs);
    const payloads = this.#packetizer ? this.#packetizer.packetize(frame.data) : [frame.data];
    const levelId = this.options.audioLevelExtensionId;
    const level = frame.audioLevelDbov;
    const extensions: RtpOneByteExtension[] = levelId > 0 && level !== undefined ? [{ id: levelId, data: audioLevelExtensionData(level) }] : [];
    if (this.#playoutDelay) extensions.push(this.#playoutDelay);
    let frameBytes = 0;
    payloads.forEach((payload, i) => {
      // VP8: marker ends the frame. Opus: marker starts a talkspurt; our audio is continuous, so only the first packet.
      const marker = this.#packetizer ? i === payloads.length - 1 : this.#counts.packets === 0;
      const packet = writeRtpPacket(
        { marker, payloadType: this.options.payloadType, sequenceNumber: this.#seq, timestamp, ssrc: this.options.ssrc },
        payload,
        extensions,
      );
      this.#seq = nextSequenceNumber(this.#seq);
      this.#counts.packets++;
      this.#counts.octets += payload.length;
      this.#counts.bytes += packet.length;
      frameBytes += packet.length;
      this.#deliver(this.options.send, packet);
    });
    this.#counts.frames++;
    this.#window.push({ ptsUs: frame.ptsUs, bytes: frameBytes });
    while (this.#window.length > 0 && this.#window[0].ptsUs <= frame.ptsUs - BITRATE_WINDOW_US) this.#window.shift();

    if (this.#lastSrPtsUs === undefined || frame.ptsUs - this.#lastSrPtsUs >= this.options.senderReportIntervalUs) {
      this.#lastSrPtsUs = frame.ptsUs;
      this.#counts.senderReports++;
      // NTP and RTP time of the same instant: this frame's pts.
      const sr = buildSenderReport({
        ssrc: this.options.ssrc,
        ntp: mediaTimeToNtp(frame.ptsUs, this.options.anchor),
        rtpTimestamp: timestamp,
        packetCount: this.#counts.packets,
        octetCount: this.#counts.octets,
      });
      this.#deliver(this.options.sendRtcp, sr);
    }
  }

  /** Idempotent; later sendFrame() calls throw MediaClosedError. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    log.debug({ ssrc: this.options.ssrc, stats: this.stats }, 'rtp stream sender closed');
  }

  #deliver(fn: (packet: Buffer) => void, packet: Buffer): void {
    try {
      fn(packet);
    } catch (err) {
      // A closed producer or transport must not leave the stream half-updated; the owner
      // learns of it through its own close events and the sendErrors count.
      this.#counts.sendErrors++;
      if (this.#counts.sendErrors === 1 || this.#counts.sendErrors % 100 === 0) {
        log.warn({ err, ssrc: this.options.ssrc, sendErrors: this.#counts.sendErrors }, 'send callback threw');
      }
    }
  }
}
