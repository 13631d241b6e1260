// The director's output: a shot-level storyline and, per shot, a negative storyline
// (KlingAvatar 2.0's co-reasoning director and negative director, made to stream).
// Plans cover a look-ahead window on the media timeline; the cascade's blueprint stage
// turns the shot in force at a keyframe's time into pack coefficients and limits.
import { z } from 'zod';

export const EMOTIONS = ['neutral', 'happy', 'sad', 'angry', 'surprised', 'serious', 'calm', 'excited'] as const;
export const GAZES = ['camera', 'away-left', 'away-right', 'up', 'down', 'around'] as const;
export const HEAD_MOTIONS = ['still', 'subtle', 'lively', 'nodding', 'shaking'] as const;
export const GESTURES = ['nod', 'shake', 'tilt', 'brow-raise', 'smile'] as const;
export const FRAMINGS = ['close-up', 'medium', 'wide'] as const;

/** Things a negative storyline can forbid; each maps to a limit in the default pack. */
export const NEGATIVES = ['look-away', 'exaggerated-mouth', 'frozen-face', 'smile', 'frown', 'head-shake', 'fast-head-motion', 'closed-eyes'] as const;

export const gestureSchema = z
  .object({
    kind: z.enum(GESTURES),
    /** Media time of the gesture's peak, us. */
    atUs: z.number().int().nonnegative(),
    /** 0..1. */
    strength: z.number().min(0).max(1),
  })
  .strict();

export const shotSchema = z
  .object({
    startUs: z.number().int().nonnegative(),
    endUs: z.number().int().positive(),
    emotion: z.enum(EMOTIONS),
    /** 0..1: how strongly the emotion shows. */
    intensity: z.number().min(0).max(1),
    gaze: z.enum(GAZES),
    headMotion: z.enum(HEAD_MOTIONS),
    /** 0..1: scales all slow motion (pose, sway, gestures). */
    motionAmplitude: z.number().min(0).max(1),
    gestures: z.array(gestureSchema).max(32),
    camera: z.enum(FRAMINGS),
    /** What the shot is about, for traces and neural packs' prompts. */
    description: z.string().max(500),
    /** The negative storyline: what must not happen in this shot. */
    negative: z
      .object({
        avoid: z.array(z.enum(NEGATIVES)).max(NEGATIVES.length),
        description: z.string().max(500),
      })
      .strict(),
  })
  .strict()
  .refine((s) => s.endUs > s.startUs, { message: 'shot must end after it starts' });

export const planSchema = z
  .object({
    /** Monotonic per session; a newer plan replaces older ones from its startUs on. */
    version: z.number().int().nonnegative(),
    startUs: z.number().int().nonnegative(),
    endUs: z.number().int().positive(),
    shots: z.array(shotSchema).min(1).max(256),
    /** Which backend made it: 'rules', 'llm', or a fallback marker. */
    source: z.string().max(64),
  })
  .strict();

export type Gesture = z.infer<typeof gestureSchema>;
export type Shot = z.infer<typeof shotSchema>;
export type Plan = z.infer<typeof planSchema>;
export type Emotion = (typeof EMOTIONS)[number];
export type Negative = (typeof NEGATIVES)[number];

/** What the blueprint stage reads: the shot in force at a media time (or none yet). */
export interface PlanSource {
  shotAt(ptsUs: number): Shot | undefined;
}
