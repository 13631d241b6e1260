// The experts' common language: proposals (claims on spans of the window, gestures, things to avoid, cuts),
// the merged draft with the source of every value, and critiques (changes to the draft, each with a source).
import type { Emotion, Negative, Shot } from '../types.ts';
import type { Source } from '../priorities.ts';
import type { ProsodyReader } from '../prosody.ts';
import type { Sentence } from '../transcript.ts';
import type { PortraitAnalysis } from '../portrait.ts';
import type { InstructionRecord } from '../instructions.ts';

export type ExpertName = 'audio' | 'visual' | 'text';
export type Gaze = Shot['gaze'];
export type HeadMotion = Shot['headMotion'];
export type Framing = Shot['camera'];
export type GestureKind = Shot['gestures'][number]['kind'];

export interface FieldValues {
  emotion: Emotion;
  intensity: number;
  gaze: Gaze;
  headMotion: HeadMotion;
  motionAmplitude: number;
  camera: Framing;
}
export type Field = keyof FieldValues;
export const FIELDS: readonly Field[] = ['emotion', 'intensity', 'gaze', 'headMotion', 'motionAmplitude', 'camera'];

export interface Span {
  readonly startUs: number;
  readonly endUs: number;
}

export type Claim = {
  [F in Field]: Span & { readonly field: F; readonly value: FieldValues[F]; readonly source: Source; readonly confidence: number; readonly reason: string };
}[Field];

export interface GestureClaim {
  readonly kind: GestureKind;
  readonly atUs: number;
  readonly strength: number;
  readonly source: Source;
  readonly reason: string;
}

export interface AvoidClaim extends Span {
  readonly what: Negative;
  readonly source: Source;
  readonly reason: string;
}

export interface Cut {
  readonly atUs: number;
  /** Hard cuts (sentence edges, an instruction's time) survive merging; soft ones (clauses, pauses) may go. */
  readonly hard: boolean;
  readonly source: Source;
  readonly reason: string;
}

export interface Proposal {
  readonly expert: ExpertName;
  readonly cuts: readonly Cut[];
  readonly claims: readonly Claim[];
  readonly gestures: readonly GestureClaim[];
  readonly avoid: readonly AvoidClaim[];
  /** What the expert saw, in plain words (for traces and the chat backend). */
  readonly notes: readonly string[];
}

export interface Sourced<T> {
  value: T;
  source: Source;
  reason: string;
}

export interface DraftShot {
  startUs: number;
  endUs: number;
  emotion: Sourced<Emotion>;
  intensity: Sourced<number>;
  gaze: Sourced<Gaze>;
  headMotion: Sourced<HeadMotion>;
  motionAmplitude: Sourced<number>;
  camera: Sourced<Framing>;
  gestures: GestureClaim[];
  avoid: AvoidClaim[];
  description: string;
}

export interface DraftPlan {
  startUs: number;
  endUs: number;
  shots: DraftShot[];
}

export type Change =
  | { readonly kind: 'set'; readonly shot: number; readonly field: Field; readonly value: FieldValues[Field]; readonly source: Source; readonly reason: string }
  | { readonly kind: 'remove-gesture'; readonly shot: number; readonly gesture: GestureKind; readonly atUs: number; readonly source: Source; readonly reason: string }
  | { readonly kind: 'add-gesture'; readonly shot: number; readonly gesture: GestureClaim; readonly source: Source; readonly reason: string }
  | { readonly kind: 'move-gesture'; readonly shot: number; readonly gesture: GestureKind; readonly atUs: number; readonly toUs: number; readonly source: Source; readonly reason: string }
  | { readonly kind: 'avoid'; readonly shot: number; readonly avoid: AvoidClaim; readonly source: Source; readonly reason: string };

export interface Critique {
  readonly expert: ExpertName;
  readonly changes: readonly Change[];
  readonly notes: readonly string[];
}

/** Everything an expert may read for one round. Read-only. */
export interface PlanContext {
  readonly startUs: number;
  readonly endUs: number;
  /** Playback position when the round started. */
  readonly nowUs: number;
  /** Audio has been analysed up to here; beyond it (live mode) the future is unknown. */
  readonly audioKnownUntilUs: number;
  /** Sentences overlapping the window, with timed words. */
  readonly sentences: readonly Sentence[];
  /** Sentences that ended shortly before the window (live mode: what was just recognised). */
  readonly recent?: readonly Sentence[];
  readonly prosody: ProsodyReader;
  readonly portrait: PortraitAnalysis | null;
  /** Every instruction so far, oldest first (each knows when it was given). */
  readonly instructions: readonly InstructionRecord[];
}

export interface Expert {
  readonly name: ExpertName;
  propose(ctx: PlanContext): Proposal;
  critique(ctx: PlanContext, draft: Readonly<DraftPlan>): Critique;
}
