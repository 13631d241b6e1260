// Types for the mediasoup side of a session: the worker pool, and one room per session.
import type { types as ms } from 'mediasoup';

export interface WorkerPoolOptions {
  /** Number of mediasoup workers (processes); sessions are spread over them. */
  workers: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  logLevel: ms.WorkerLogLevel;
}

export interface RoomOptions {
  /** IP the WebRTC transports listen on (127.0.0.1 by default). */
  listenIp: string;
  /** IP announced in ICE candidates when listening on 0.0.0.0 behind NAT. */
  announcedIp?: string;
  /** Start bitrate hint for viewers' transports, bit/s. */
  initialAvailableOutgoingBitrate: number;
  /**
   * Most WebRTC transports open in this session at once, all peers together. Each holds a port of the server's RTC
   * range, which every session shares: the bound keeps one session's clients from taking the ports of all others.
   */
  maxTransports: number;
}

/** Most transports one peer may hold per direction (one is all a client needs; one more for a retry). */
export const MAX_TRANSPORTS_PER_PEER_DIRECTION = 2;

export type Direction = 'send' | 'recv';

export interface PeerInfo {
  readonly id: string;
  readonly role: 'publisher' | 'viewer';
}

export type RoomEvents = {
  /** RTP of the publisher's microphone, as consumed in-process. */
  micRtp: [packet: Buffer];
  micProducerClosed: [];
  /** RTCP arriving for the avatar's video producer (PLI/FIR from viewers, via mediasoup). */
  egressRtcp: [packet: Buffer];
  viewersChanged: [count: number];
};

export const VIDEO_PAYLOAD_TYPE = 101;
export const AUDIO_PAYLOAD_TYPE = 100;
/** Header extension id of the egress audio's level (RFC 6464), so viewers see it per source (getSynchronizationSources). */
export const AUDIO_LEVEL_EXTENSION_ID = 1;
export const AUDIO_LEVEL_EXTENSION_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/**
 * Header extension id of the egress video's playout-delay limits (how much smoothing delay viewers' browsers may
 * add). mediasoup 3.12 forwards it with facecast's backport (scripts/mediasoup-patches/playout-delay.patch).
 */
export const PLAYOUT_DELAY_EXTENSION_ID = 2;
export const PLAYOUT_DELAY_EXTENSION_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

export const MEDIA_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48_000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90_000, parameters: {} },
];
