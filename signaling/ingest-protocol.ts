// The TTS ingest protocol, WebSocket at /ingest?session=<id>&token=<ingest token>
// [&encoding=pcm16|opus&sampleRate=16000|24000|48000].
// Binary messages are audio: PCM16 little-endian mono at the declared rate, or one Opus
// packet per message (48 kHz). Text messages are JSON events. Audio may be sent faster
// than real time: it is queued on the media clock and played at its time.
import { z } from 'zod';

export const INGEST_ENCODINGS = ['pcm16', 'opus'] as const;
export const INGEST_SAMPLE_RATES = [16_000, 24_000, 48_000] as const;

export const audioFormatSchema = z
  .object({
    encoding: z.enum(INGEST_ENCODINGS),
    sampleRate: z.union([z.literal(16_000), z.literal(24_000), z.literal(48_000)]),
  })
  .strict();
export type AudioFormat = z.infer<typeof audioFormatSchema>;

export const ingestEventSchema = z.discriminatedUnion('type', [
  /** Declares the audio format; must come before audio unless given in the URL. */
  z.object({ type: z.literal('config') }).merge(audioFormatSchema).strict(),
  /** Text of the audio of the current turn (whole or in pieces). */
  z.object({ type: z.literal('text'), text: z.string().max(20_000) }).strict(),
  /** A direction for the avatar ("smile more"), for the director. */
  z.object({ type: z.literal('instruction'), text: z.string().max(2_000) }).strict(),
  /** Drop everything queued; the mouth and the audio stop within a frame. */
  z.object({ type: z.literal('interrupt') }).strict(),
  /** The current turn's audio is complete. */
  z.object({ type: z.literal('end_of_turn') }).strict(),
]);
export type IngestEvent = z.infer<typeof ingestEventSchema>;

export type IngestReply =
  | { type: 'ready'; sessionId: string; format: AudioFormat | null }
  /** A turn's first audio was queued: it starts playing at media time startMs (after the turns queued before it). */
  | { type: 'turn_queued'; segmentId: number; startMs: number }
  | { type: 'playback_started'; segmentId: number; mediaTimeMs: number; wallTimeMs: number }
  | { type: 'playback_finished'; segmentId: number; positionMs: number; interrupted: boolean; wallTimeMs: number }
  | { type: 'interrupted'; wallTimeMs: number; droppedMs: number }
  | { type: 'error'; code: IngestErrorCode; message: string };

/**
 * bad-event: not JSON or not a valid event; no-format: audio before its format; bad-audio: undecodable audio;
 * buffer-full: the playout buffer (or the queue of messages waiting) is full, this message was not taken;
 * too-large: a message over MAX_INGEST_MESSAGE_BYTES (the socket then closes, 1009); ingest-busy: the session has an
 * ingest socket open already (close 4409); closed: the session ended.
 */
export type IngestErrorCode = 'bad-event' | 'no-format' | 'bad-audio' | 'buffer-full' | 'too-large' | 'ingest-busy' | 'closed';

/** Largest single message accepted (1 MiB: 10 s of 48 kHz PCM16 mono); a larger one gets `too-large`, then close 1009. */
export const MAX_INGEST_MESSAGE_BYTES = 1 << 20;
/**
 * What the WebSocket layer reads of one message before it drops the connection without a word (1006): a message
 * between MAX_INGEST_MESSAGE_BYTES and this gets its `too-large` answer first. Bounds the memory a socket can hold.
 */
export const INGEST_WIRE_LIMIT_BYTES = 4 * MAX_INGEST_MESSAGE_BYTES;
