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
  | { type: 'turn_queued'; segmentId: number; startMs: number }
  | { type: 'playback_started'; segmentId: number; mediaTimeMs: number; wallTimeMs: number }
  | { type: 'playback_finished'; segmentId: number; positionMs: number; interrupted: boolean; wallTimeMs: number }
  | { type: 'interrupted'; wallTimeMs: number; droppedMs: number }
  | { type: 'error'; code: IngestErrorCode; message: string };

export type IngestErrorCode = 'bad-event' | 'no-format' | 'bad-audio' | 'buffer-full' | 'too-large' | 'closed';

/** Largest single message accepted (1 MiB: 10 s of 48 kHz PCM16 mono). */
export const MAX_INGEST_MESSAGE_BYTES = 1 << 20;
