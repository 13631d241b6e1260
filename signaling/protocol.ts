// The signaling protocol between a browser (mediasoup-client) and facecast, JSON over
// WebSocket at /signal?session=<id>&token=<signed token>. Requests carry an id and are
// answered exactly once; notifications carry no id. Validated with zod at the boundary.
import { z } from 'zod';

export const ROLES = ['publisher', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const json = z.record(z.string(), z.unknown());

export const requestSchema = z.discriminatedUnion('method', [
  /** First message. Answers the router's RTP capabilities and the session's state. */
  z.object({ id: z.number().int().nonnegative(), method: z.literal('join'), data: z.object({}).strict().optional() }),
  z.object({
    id: z.number().int().nonnegative(),
    method: z.literal('createTransport'),
    data: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  }),
  z.object({
    id: z.number().int().nonnegative(),
    method: z.literal('connectTransport'),
    data: z.object({ transportId: z.string().min(1).max(64), dtlsParameters: json }).strict(),
  }),
  /** Publisher only: the microphone. One audio producer per session. */
  z.object({
    id: z.number().int().nonnegative(),
    method: z.literal('produce'),
    data: z.object({ transportId: z.string().min(1).max(64), kind: z.literal('audio'), rtpParameters: json }).strict(),
  }),
  /** Consume the avatar's video and audio on a recv transport. Consumers start paused. */
  z.object({
    id: z.number().int().nonnegative(),
    method: z.literal('consume'),
    data: z.object({ transportId: z.string().min(1).max(64), rtpCapabilities: json }).strict(),
  }),
  z.object({ id: z.number().int().nonnegative(), method: z.literal('resumeConsumers'), data: z.object({}).strict().optional() }),
  /** Server-side figures for the overlay: fps produced, bitrate, pipeline latency. */
  z.object({ id: z.number().int().nonnegative(), method: z.literal('getStats'), data: z.object({}).strict().optional() }),
]);

export type SignalRequest = z.infer<typeof requestSchema>;
export type SignalMethod = SignalRequest['method'];

export interface JoinResponse {
  sessionId: string;
  role: Role;
  routerRtpCapabilities: Record<string, unknown>;
  /** True when a microphone producer already exists for the session. */
  hasPublisher: boolean;
}

export interface TransportResponse {
  id: string;
  iceParameters: Record<string, unknown>;
  iceCandidates: Record<string, unknown>[];
  dtlsParameters: Record<string, unknown>;
}

export interface ProduceResponse {
  producerId: string;
}

export interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: Record<string, unknown>;
}

export interface ConsumeResponse {
  consumers: ConsumerInfo[];
}

export interface ServerStats {
  /** Frames per second leaving the pacer, over the last second. */
  fps: number;
  /** Encoded video bitrate, kbit/s, over the last second. */
  videoKbps: number;
  /** Audio in -> frame out inside the server (right context + compute), ms, last value. */
  pipelineLatencyMs: number;
  /** Frames the pacer had to degrade or repeat since start. */
  lateFrames: number;
  /** First frames after an interrupt sent fresh but up to 20 ms after their tick (they waited for their render). */
  graceFrames: number;
  /** Extra frames sent at an interrupt's cut, between two frame slots (the mouth closes with the audio). */
  cutFrames: number;
  viewers: number;
  /** Media time of the last frame sent, ms. */
  mediaTimeMs: number;
}

export type SignalResponse =
  | { id: number; ok: true; data: unknown }
  | { id: number; ok: false; error: { code: SignalErrorCode; message: string } };

export type SignalErrorCode =
  | 'bad-request'
  | 'not-joined'
  | 'forbidden'
  | 'unknown-transport'
  | 'producer-exists'
  | 'unsupported'
  | 'limit'
  | 'too-large'
  | 'internal';

export type SignalNotification =
  | { notification: 'stats'; data: ServerStats }
  | { notification: 'sessionClosed'; data: { reason: string } }
  /**
   * The session goes on, but its media connections were lost (the mediasoup worker it ran on died and was replaced):
   * the server closes this socket (1012); join the same session again, as at the start.
   */
  | { notification: 'reconnect'; data: { reason: string } };

/** Largest signaling message accepted, in bytes; a larger one is answered `too-large` and the socket closes (1009). */
export const MAX_SIGNAL_MESSAGE_BYTES = 64 * 1024;
/** What the WebSocket layer reads of one message before it drops the connection without a word (1006). */
export const SIGNAL_WIRE_LIMIT_BYTES = 4 * MAX_SIGNAL_MESSAGE_BYTES;
