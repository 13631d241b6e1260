// The Director entity's options, events, metrics and trace (per-session, bounded, JSON-serialisable).
import { z } from 'zod';
import type { SpeechRecognizer, RecognitionResult } from '../asr/types.ts';
import { chatBackendConfigSchema } from './llm.ts';
import type { PortraitInput } from './inputs.ts';
import type { Plan } from './types.ts';
import type { Expert, ExpertName } from './experts/types.ts';

export const directorOptionsSchema = z
  .object({
    /** Plans cover [now + guard, now + guard + lookahead] of playback time. */
    lookaheadMs: z.number().int().min(500).max(60_000).default(4_000),
    guardMs: z.number().int().min(0).max(5_000).default(0),
    /** Rounds happen on new input at once, and at least this often otherwise. */
    replanIntervalMs: z.number().int().min(20).max(60_000).default(500),
    /** The background loop's wake-up period (audio analysis, due rounds). */
    tickMs: z.number().int().min(5).max(1_000).default(40),
    /** A chat plan arriving after playback passed its start by more than this is late (dropped, counted). */
    lateToleranceMs: z.number().int().min(0).max(10_000).default(200),
    /** Rounds kept for the trace API (drop-oldest). */
    maxTrace: z.number().int().min(1).max(1_000).default(50),
    /** Published plans kept for shotAt (drop-oldest). */
    maxPlans: z.number().int().min(2).max(1_000).default(32),
    /** Audio chunks waiting for analysis (policy: drop-oldest, counted). */
    maxPendingChunks: z.number().int().min(10).max(100_000).default(3_000),
    /** Instructions kept (drop-oldest; a reset instruction makes older ones moot anyway). */
    maxInstructions: z.number().int().min(1).max(1_000).default(64),
    /** Optional chat backend; without it the rule-based experts plan alone. */
    chat: chatBackendConfigSchema.optional(),
  })
  .strict();
export type DirectorOptions = z.input<typeof directorOptionsSchema>;
export type NormalizedDirectorOptions = z.output<typeof directorOptionsSchema>;

export interface DirectorDeps {
  /** Playback position on the media timeline, us (the session: clock.nowUs() - output delay). */
  readonly nowUs: () => number;
  readonly portrait?: PortraitInput;
  /** Live mode: a recogniser the director feeds with live audio and reads words from. The director closes it. */
  readonly recognizer?: SpeechRecognizer;
  /** Replace the rule-based experts (tests). */
  readonly experts?: readonly Expert[];
}

export type RoundKind = 'input' | 'refresh' | 'interrupt' | 'manual';

export type ChatStatus = 'pending' | 'accepted' | 'timeout' | 'http' | 'network' | 'invalid' | 'late' | 'superseded' | 'aborted';

export interface RoundTrace {
  readonly round: number;
  readonly kind: RoundKind;
  /** Playback position when the round started. */
  readonly atUs: number;
  readonly window: { readonly startUs: number; readonly endUs: number };
  readonly latencyMs: number;
  readonly proposals: Readonly<Record<ExpertName, { notes: string[]; claims: string[]; gestures: string[]; avoid: string[]; cuts: string[] }>>;
  readonly merge: readonly string[];
  readonly critiques: readonly { expert: ExpertName; applied: string[]; refused: string[]; notes: string[] }[];
  /** Per shot: why each item of its negative storyline is there (and what was lifted). */
  readonly negative: readonly (readonly string[])[];
  /** The rule-based plan of this round; `published` says whether it went out (a standing chat plan may keep it back). */
  readonly final: Plan;
  readonly published: boolean;
  chat?: { status: ChatStatus; latencyMs?: number; detail: string; plan?: Plan; critiques?: RoundTrace['critiques'] };
}

export interface DirectorMetrics {
  rounds: number;
  plansPublished: number;
  /** Chat answers that failed (timeout, HTTP, network, invalid): the rule-based plan stood. */
  fallbacks: number;
  /** Chat answers that came after playback passed their window's start, or after newer input: dropped. */
  lateAnswers: number;
  chatRequests: number;
  chatAccepted: number;
  /** Rule-based round latency, ms: last, median and 95th percentile of the recent rounds. */
  planLatencyMs: { last: number; p50: number; p95: number };
  /** Same, divided by the shots of each round. */
  planLatencyPerShotMs: { p50: number; p95: number };
  /** How far ahead of playback the newest plan reached when it was published, ms. */
  lastLeadMs: number;
  /** Audio chunks dropped by the analysis queue. */
  droppedChunks: number;
  invalidPlans: number;
  recognizer?: { name: string; results: number; words: number; medianLatencyMs: number; errors: number; droppedSegments: number };
}

export type DirectorEvents = {
  plan: [Plan];
  /** The chat backend failed or was late; the rule-based (or last) plan stands. */
  fallback: [{ reason: ChatStatus; detail: string }];
  /** Words recognised in live audio (also fed to the transcript). */
  words: [RecognitionResult];
  error: [Error];
};

export class DirectorClosedError extends Error {
  override readonly name = 'DirectorClosedError';
  constructor() {
    super('the director is closed');
  }
}

export class DirectorInputError extends Error {
  override readonly name = 'DirectorInputError';
}
