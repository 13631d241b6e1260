// What the director is fed: transcript pieces (TTS text, with or without word timings, or ASR words),
// user instructions, and what enrollment knows of the portrait. Audio arrives as AudioChunk (src/media/types.ts).
import { z } from 'zod';

export interface TimedWord {
  readonly word: string;
  /** Media time, us. */
  readonly startUs: number;
  readonly endUs: number;
  readonly confidence?: number;
}

export const timedWordSchema = z
  .object({
    word: z.string().min(1).max(100),
    startUs: z.number().int().nonnegative(),
    endUs: z.number().int().nonnegative(),
    confidence: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((w) => w.endUs >= w.startUs, { message: 'word must not end before it starts' });

/**
 * A piece of transcript. TTS: text for a turn (segmentId), whole or incremental, optionally with word timings.
 * Live: words from a recogniser, always timed.
 */
export const transcriptPieceSchema = z
  .object({
    text: z.string().max(20_000).default(''),
    /** The TTS turn this text belongs to (the same id the audio chunks carry). */
    segmentId: z.number().int().nonnegative().optional(),
    words: z.array(timedWordSchema).max(5_000).optional(),
    /** The recogniser's utterance is complete (ASR); sentence-final for the text expert. */
    final: z.boolean().default(true),
  })
  .strict()
  .refine((p) => p.text.trim().length > 0 || (p.words?.length ?? 0) > 0, { message: 'a transcript piece needs text or words' });
export type TranscriptPiece = z.input<typeof transcriptPieceSchema>;
export type NormalizedTranscriptPiece = z.output<typeof transcriptPieceSchema>;

/** Where the audio of a chunk belongs: a TTS turn (segmentId, and whether it is its last chunk) or live audio. */
export interface AudioMeta {
  readonly segmentId?: number | null;
  readonly last?: boolean;
}

/**
 * What enrollment knows of the picture, for the visual expert. The lead fills it from the EnrolledAvatar
 * (`portraitInputFromAvatar`); all coordinates in the pixels of the (framed) portrait.
 */
export const portraitInputSchema = z
  .object({
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    faceBox: z.object({ x: z.number(), y: z.number(), width: z.number().positive(), height: z.number().positive() }).strict(),
    /** 68 points, x0, y0, x1, y1, ... (iBUG-300W order), when known. */
    landmarks: z
      .array(z.number())
      .length(136)
      .optional(),
    /** People in the picture (1 for a portrait). */
    people: z.number().int().min(1).max(16).default(1),
  })
  .strict();
export type PortraitInput = z.input<typeof portraitInputSchema>;

/** Fills a PortraitInput from an enrolled avatar of the default pack (structural: no import of the pack). */
/** What the visual expert reads of an enrolled avatar (any pack's enrollment that has a face box and landmarks). */
export interface PortraitSource {
  readonly width: number;
  readonly height: number;
  readonly faceBox: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly landmarks: ArrayLike<number>;
}

export function portraitInputFromAvatar(avatar: PortraitSource, people = 1): PortraitInput {
  const { x, y, width, height } = avatar.faceBox;
  return {
    width: avatar.width,
    height: avatar.height,
    faceBox: { x, y, width, height },
    landmarks: avatar.landmarks.length === 136 ? Array.from(avatar.landmarks) : undefined,
    people,
  };
}
