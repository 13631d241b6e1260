// Types for RtpStreamSender: options, input frames and stats.
import type { MediaClockAnchor } from './rtcp.ts';

export type RtpCodec = 'vp8' | 'opus';

export interface RtpStreamSenderOptions {
  readonly codec: RtpCodec;
  /** 0..2^32-1; must match the producer's rtpParameters.encodings[0].ssrc. */
  readonly ssrc: number;
  /** 0..127; must match the producer's codec payloadType. */
  readonly payloadType: number;
  /** Default 90 000 for VP8, 48 000 for Opus. */
  readonly clockRate?: number;
  /** Maps media time to wall clock for Sender Reports; audio and video must share it. */
  readonly anchor: MediaClockAnchor;
  /** Hands one RTP packet on, e.g. `(b) => producer.send(b)` on a DirectTransport producer. */
  readonly send: (packet: Buffer) => void;
  /** Hands one RTCP packet on, e.g. `(b) => directTransport.sendRtcp(b)`. */
  readonly sendRtcp: (packet: Buffer) => void;
  /** VP8 only: largest RTP payload, descriptor included. Default 1200. */
  readonly maxPayloadSize?: number;
  /** Default random (RFC 3550 §5.1). */
  readonly initialSequenceNumber?: number;
  /** Added to every RTP timestamp; default random (RFC 3550 §5.1). */
  readonly timestampOffset?: number;
  /** Media time between Sender Reports. Default 1 s. */
  readonly senderReportIntervalUs?: number;
  /**
   * Opus only: the header extension id negotiated for urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464);
   * frames that carry `audioLevelDbov` then carry it in their packet (receivers show it per source).
   */
  readonly audioLevelExtensionId?: number;
  /**
   * VP8 only: every packet carries the playout-delay extension with this id and these limits, so that viewers'
   * browsers add no more than maxMs of smoothing delay to the video (0 = show each frame once decoded).
   */
  readonly playoutDelay?: { readonly extensionId: number; readonly minMs: number; readonly maxMs: number };
}

/** What the sender takes: a Vp8Encoder output frame or an Opus payload fits. */
export interface EncodedMediaFrame {
  readonly ptsUs: number;
  readonly data: Buffer;
  /** Audio: the level, 0 (loudest) .. 127 (silence) -dBov, as RFC 6464 writes it. */
  readonly audioLevelDbov?: number;
}

export interface RtpStreamSenderStats {
  readonly frames: number;
  readonly packets: number;
  /** RTP payload octets, as RTCP counts them. */
  readonly octets: number;
  /** Whole RTP packets, headers included. */
  readonly bytes: number;
  readonly senderReports: number;
  /** send/sendRtcp callbacks that threw (each logged). */
  readonly sendErrors: number;
  /** RTP bytes sent over the last second of media time, in bit/s. */
  readonly bitrateBps: number;
}
