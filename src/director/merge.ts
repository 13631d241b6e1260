// Merging the experts' proposals into one draft: shots cut where the proposals cut (hard cuts first, no shot
// shorter than 0.5 s or longer than 6 s), each field decided by the stated priorities (priorities.ts), then
// confidence x overlap; gestures pooled, duplicates dropped, gestures forbidden by an equal-or-higher "avoid" dropped.
import { MIN_CONFIDENCE, PRIORITY, SOURCE_WORDS, outranks, type Source } from './priorities.ts';
import type { AvoidClaim, Claim, Cut, DraftPlan, DraftShot, Field, FieldValues, GestureClaim, PlanContext, Proposal, Sourced, Span } from './experts/types.ts';
import { overlap, spanWords } from './experts/util.ts';

export const MIN_SHOT_US = 500_000;
export const MAX_SHOT_US = 6_000_000;
const SAME_CUT_US = 150_000;
const SAME_GESTURE_US = 400_000;
const MAX_GESTURES_PER_SHOT = 32;

const DEFAULTS: FieldValues = { emotion: 'neutral', intensity: 0.4, gaze: 'camera', headMotion: 'subtle', motionAmplitude: 0.5, camera: 'medium' };
const GESTURE_FORBIDDEN_BY: Partial<Record<GestureClaim['kind'], AvoidClaim['what']>> = { smile: 'smile', shake: 'head-shake' };

export function shotBoundaries(ctx: Pick<PlanContext, 'startUs' | 'endUs'>, cuts: readonly Cut[]): number[] {
  // Coincident cuts: keep the hard one, then the higher priority.
  const sorted = cuts.filter((c) => c.atUs > ctx.startUs && c.atUs < ctx.endUs).sort((a, b) => a.atUs - b.atUs);
  const kept: Cut[] = [];
  for (const c of sorted) {
    const prev = kept[kept.length - 1];
    if (prev && c.atUs - prev.atUs < SAME_CUT_US) {
      if (rank(c) > rank(prev)) kept[kept.length - 1] = c;
      continue;
    }
    kept.push(c);
  }
  // No shot shorter than MIN_SHOT_US: drop the weaker cut around a short shot until none is left.
  let changed = true;
  while (changed) {
    changed = false;
    const edges = [ctx.startUs, ...kept.map((c) => c.atUs), ctx.endUs];
    for (let i = 0; i + 1 < edges.length; i++) {
      if (edges[i + 1]! - edges[i]! >= MIN_SHOT_US) continue;
      const left = i > 0 ? i - 1 : -1; // index in kept of the cut at edges[i]
      const right = i < kept.length ? i : -1; // index in kept of the cut at edges[i+1]
      const drop = left < 0 ? right : right < 0 ? left : rank(kept[left]!) < rank(kept[right]!) ? left : right;
      if (drop < 0) break; // the whole window is shorter than a shot
      kept.splice(drop, 1);
      changed = true;
      break;
    }
  }
  const edges = [ctx.startUs, ...kept.map((c) => c.atUs), ctx.endUs];
  // No shot longer than MAX_SHOT_US: split evenly.
  const out: number[] = [edges[0]!];
  for (let i = 1; i < edges.length; i++) {
    const a = edges[i - 1]!;
    const b = edges[i]!;
    const parts = Math.ceil((b - a) / MAX_SHOT_US);
    for (let k = 1; k < parts; k++) out.push(Math.round(a + ((b - a) * k) / parts));
    out.push(b);
  }
  return out;
}

function rank(c: Cut): number {
  return (c.hard ? 100 : 0) + PRIORITY[c.source];
}

export interface MergeResult {
  readonly draft: DraftPlan;
  readonly notes: readonly string[];
}

export function mergeProposals(ctx: PlanContext, proposals: readonly Proposal[]): MergeResult {
  const notes: string[] = [];
  const edges = shotBoundaries(ctx, proposals.flatMap((p) => p.cuts));
  const claims = proposals.flatMap((p) => p.claims);
  const gestures = proposals.flatMap((p) => p.gestures);
  const avoids = proposals.flatMap((p) => p.avoid);
  const shots: DraftShot[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const span = { startUs: edges[i]!, endUs: edges[i + 1]! };
    const emotion = decide(span, claims, 'emotion');
    // Intensity goes with the emotion that was chosen: prefer a claim from the same source.
    const intensity = decide(span, claims.filter((c) => c.source === emotion.source), 'intensity', null) ?? decide(span, claims, 'intensity');
    const shot: DraftShot = {
      ...span,
      emotion,
      intensity,
      gaze: decide(span, claims, 'gaze'),
      headMotion: decide(span, claims, 'headMotion'),
      motionAmplitude: decide(span, claims, 'motionAmplitude'),
      camera: decide(span, claims, 'camera'),
      gestures: [],
      avoid: avoids.filter((a) => overlap(a, span) >= Math.min(0.3 * (span.endUs - span.startUs), 300_000)),
      description: '',
    };
    shot.gestures = pickGestures(shot, gestures.filter((g) => g.atUs >= span.startUs && g.atUs < span.endUs), notes, i);
    notes.push(`shot ${i} (${spanWords(span)}): ${describeChoice('emotion', emotion)}; ${describeChoice('gaze', shot.gaze)}; ${describeChoice('head', shot.headMotion)}; ${shot.gestures.length} gesture(s)`);
    shots.push(shot);
  }
  return { draft: { startUs: ctx.startUs, endUs: ctx.endUs, shots }, notes };
}

function decide<F extends Field>(span: Span, claims: readonly Claim[], field: F): Sourced<FieldValues[F]>;
function decide<F extends Field>(span: Span, claims: readonly Claim[], field: F, fallback: null): Sourced<FieldValues[F]> | null;
function decide<F extends Field>(span: Span, claims: readonly Claim[], field: F, fallback?: null): Sourced<FieldValues[F]> | null {
  const len = span.endUs - span.startUs;
  let best: { claim: Claim; score: number } | null = null;
  for (const c of claims) {
    if (c.field !== field || c.confidence < MIN_CONFIDENCE) continue;
    const ov = overlap(c, span);
    if (ov < Math.min(0.3 * len, 300_000)) continue;
    const score = c.confidence * (ov / len);
    if (!best || PRIORITY[c.source] > PRIORITY[best.claim.source] || (PRIORITY[c.source] === PRIORITY[best.claim.source] && score > best.score)) best = { claim: c, score };
  }
  if (best) return { value: best.claim.value as FieldValues[F], source: best.claim.source, reason: best.claim.reason };
  if (fallback === null) return null;
  return { value: DEFAULTS[field], source: 'default', reason: 'nothing claimed it' };
}

function pickGestures(shot: DraftShot, candidates: GestureClaim[], notes: string[], index: number): GestureClaim[] {
  const byPriority = [...candidates].sort((a, b) => PRIORITY[b.source] - PRIORITY[a.source] || b.strength - a.strength || a.atUs - b.atUs);
  const kept: GestureClaim[] = [];
  for (const g of byPriority) {
    const forbid = GESTURE_FORBIDDEN_BY[g.kind];
    const blocker = forbid ? shot.avoid.find((a) => a.what === forbid && outranks(a.source, g.source)) : undefined;
    if (blocker) {
      notes.push(`shot ${index}: dropped a ${g.kind} at ${(g.atUs / 1e6).toFixed(2)} s (${g.reason}): ${blocker.reason}`);
      continue;
    }
    if (kept.some((k) => k.kind === g.kind && Math.abs(k.atUs - g.atUs) < SAME_GESTURE_US)) continue;
    kept.push(g);
    if (kept.length >= MAX_GESTURES_PER_SHOT) break;
  }
  return kept.sort((a, b) => a.atUs - b.atUs);
}

export function describeChoice(label: string, v: Sourced<unknown>): string {
  return `${label} ${String(v.value)} from ${SOURCE_WORDS[v.source as Source]} (${v.reason})`;
}
