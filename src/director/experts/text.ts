// The text expert: user instructions (constraints, the top priority) and the transcript (sentences -> sentiment,
// agreement nods, disagreement shakes, question brow raises and tilts, emphasis, thinking glances).
import { activeConstraints, type Constraint, type InstructionRecord, type Trigger } from '../instructions.ts';
import { readSentence, type SentenceReading } from '../lexicon.ts';
import type { Sentence } from '../transcript.ts';
import type { AvoidClaim, Change, Claim, Critique, Cut, DraftPlan, Expert, GestureClaim, PlanContext, Proposal } from './types.ts';
import { clip, instructionSpans, overlap, quote, spanWords } from './util.ts';

/** How long the mood of a sentence carries on after it. */
const LINGER_US = 4_000_000;
const GESTURE_OF_AVOID: Partial<Record<string, string>> = { smile: 'smile', 'head-shake': 'shake' };

export class TextExpert implements Expert {
  readonly name = 'text' as const;

  propose(ctx: PlanContext): Proposal {
    const cuts: Cut[] = [];
    const claims: Claim[] = [];
    const gestures: GestureClaim[] = [];
    const avoid: AvoidClaim[] = [];
    const notes: string[] = [];
    const readings = ctx.sentences.map((s) => ({ s, r: readSentence(s) }));
    for (const { s, r } of readings) this.#fromSentence(ctx, s, r, { cuts, claims, gestures, avoid, notes });
    this.#lingeringMood(ctx, readings, claims);
    for (const { span, at } of instructionSpans(ctx)) {
      if (span.startUs > ctx.startUs) cuts.push({ atUs: span.startUs, hard: true, source: 'instruction', reason: 'a new instruction takes effect here' });
      for (const { constraint, from } of activeConstraints(ctx.instructions, at)) this.#fromConstraint(constraint, from, span, readings, { claims, gestures, avoid });
    }
    for (const rec of ctx.instructions) {
      if (rec.notUnderstood.length > 0) notes.push(`instruction ${quote(rec.text)}: not understood: ${rec.notUnderstood.map((c) => quote(c, 40)).join(', ')}`);
    }
    if (ctx.sentences.length === 0) notes.push('no transcript in this window');
    return { expert: this.name, cuts, claims, gestures, avoid, notes };
  }

  critique(ctx: PlanContext, draft: Readonly<DraftPlan>): Critique {
    const changes: Change[] = [];
    const notes: string[] = [];
    draft.shots.forEach((shot, i) => {
      for (const { constraint: c, from } of activeConstraints(ctx.instructions, shot.startUs)) {
        const why = `instruction ${quote(from.text)}`;
        if (c.kind === 'emotion' && shot.emotion.value !== c.emotion) changes.push({ kind: 'set', shot: i, field: 'emotion', value: c.emotion, source: 'instruction', reason: why });
        if (c.kind === 'gaze' && shot.gaze.value !== c.gaze) changes.push({ kind: 'set', shot: i, field: 'gaze', value: c.gaze, source: 'instruction', reason: why });
        if (c.kind === 'motion' && shot.headMotion.value !== c.headMotion) changes.push({ kind: 'set', shot: i, field: 'headMotion', value: c.headMotion, source: 'instruction', reason: why });
        const forbidden = c.kind === 'no-gesture' ? c.gesture : c.kind === 'avoid' ? GESTURE_OF_AVOID[c.what] : undefined;
        if (forbidden) {
          for (const g of shot.gestures.filter((g) => g.kind === forbidden)) {
            changes.push({ kind: 'remove-gesture', shot: i, gesture: g.kind, atUs: g.atUs, source: 'instruction', reason: `${why} forbids ${g.kind}` });
          }
        }
      }
      // Content check: no smile gesture while the words are sad.
      const sad = ctx.sentences.some((s) => overlap(s, shot) > 0 && readSentence(s).sentiment.emotion === 'sad' && readSentence(s).sentiment.confidence >= 0.4);
      if (sad) {
        for (const g of shot.gestures.filter((g) => g.kind === 'smile')) {
          changes.push({ kind: 'remove-gesture', shot: i, gesture: 'smile', atUs: g.atUs, source: 'transcript', reason: 'a smile during sad words' });
        }
      }
    });
    if (changes.length === 0) notes.push('the merge honours every instruction and the words');
    return { expert: this.name, changes, notes };
  }

  /**
   * The mood of what was said lingers after it (over the pause, or in live mode over the unknown future, since
   * recognised words arrive after they were spoken), weaker, for up to 4 s or until the next sentence.
   */
  #lingeringMood(ctx: PlanContext, readings: { s: Sentence; r: SentenceReading }[], claims: Claim[]): void {
    const recent = (ctx.recent ?? []).slice(-1).map((s) => ({ s, r: readSentence(s) }));
    const all = [...recent, ...readings];
    all.forEach(({ s, r }, i) => {
      if (r.sentiment.confidence <= 0) return;
      const next = all[i + 1]?.s.startUs ?? Infinity;
      const span = clip({ startUs: s.endUs, endUs: Math.min(next, s.endUs + LINGER_US) }, ctx);
      if (!span || span.endUs - span.startUs < 300_000) return;
      const reason = `the mood of ${quote(s.text)} (${r.sentiment.emotion}) lingers after it`;
      const confidence = r.sentiment.confidence * 0.6;
      claims.push({ field: 'emotion', value: r.sentiment.emotion, ...span, source: 'transcript', confidence, reason });
      claims.push({ field: 'intensity', value: r.sentiment.intensity * 0.7, ...span, source: 'transcript', confidence, reason });
    });
  }

  #fromSentence(ctx: PlanContext, s: Sentence, r: SentenceReading, out: { cuts: Cut[]; claims: Claim[]; gestures: GestureClaim[]; avoid: AvoidClaim[]; notes: string[] }): void {
    const span = clip(s, ctx);
    if (!span) return;
    const said = `says ${quote(s.text)}`;
    if (s.startUs > ctx.startUs) out.cuts.push({ atUs: s.startUs, hard: true, source: 'transcript', reason: 'a sentence starts' });
    if (s.endUs < ctx.endUs) out.cuts.push({ atUs: s.endUs, hard: true, source: 'transcript', reason: 'a sentence ends' });
    const { sentiment } = r;
    out.notes.push(`${spanWords(s)} ${said}: ${sentiment.confidence > 0 ? `${sentiment.emotion} (${sentiment.evidence.join(', ')})` : 'no sentiment words'}${r.question ? ', a question' : ''}`);
    if (sentiment.confidence > 0) {
      const reason = `${said}: ${sentiment.evidence.join(', ')}`;
      out.claims.push({ field: 'emotion', value: sentiment.emotion, ...span, source: 'transcript', confidence: sentiment.confidence, reason });
      out.claims.push({ field: 'intensity', value: sentiment.intensity, ...span, source: 'transcript', confidence: sentiment.confidence, reason });
      if (sentiment.emotion === 'sad' || sentiment.emotion === 'angry') out.avoid.push({ what: 'smile', ...span, source: 'transcript', reason: `no smile on ${sentiment.emotion} words` });
      if (sentiment.emotion === 'happy' || sentiment.emotion === 'excited') out.avoid.push({ what: 'frown', ...span, source: 'transcript', reason: 'no frown on happy words' });
    }
    const mid = (t: { startUs: number; endUs: number }) => Math.round((t.startUs + t.endUs) / 2);
    for (const c of r.agreements) out.gestures.push({ kind: 'nod', atUs: mid(c.token), strength: 0.5, source: 'transcript', reason: c.reason });
    for (const c of r.disagreements) out.gestures.push({ kind: 'shake', atUs: mid(c.token), strength: 0.5, source: 'transcript', reason: c.reason });
    if (r.agreements.length > 0 && r.disagreements.length === 0) out.avoid.push({ what: 'head-shake', ...span, source: 'transcript', reason: 'no head shake while agreeing' });
    if (r.question) {
      const last = s.tokens[s.tokens.length - 1]!;
      out.gestures.push({ kind: 'brow-raise', atUs: mid(last), strength: 0.6, source: 'transcript', reason: 'a question: brows up at its end' });
      out.gestures.push({ kind: 'tilt', atUs: Math.round(s.startUs + 0.6 * (s.endUs - s.startUs)), strength: 0.4, source: 'transcript', reason: 'a question: a slight head tilt' });
    }
    for (const c of r.emphasis) out.gestures.push({ kind: 'brow-raise', atUs: c.token.startUs, strength: 0.35, source: 'transcript', reason: c.reason });
    if (r.thinking.length > 0) {
      const t = { startUs: r.thinking[0]!.startUs, endUs: r.thinking[r.thinking.length - 1]!.endUs + 300_000 };
      const tspan = clip(t, ctx);
      if (tspan) {
        out.claims.push({ field: 'gaze', value: 'up', ...tspan, source: 'transcript', confidence: 0.6, reason: `${quote(r.thinking.map((x) => x.raw).join(' '))}: a thinking glance` });
        out.cuts.push({ atUs: tspan.endUs, hard: false, source: 'transcript', reason: 'end of a thinking phrase' });
      }
    }
  }

  #fromConstraint(
    c: Constraint,
    from: InstructionRecord,
    span: { startUs: number; endUs: number },
    readings: { s: Sentence; r: SentenceReading }[],
    out: { claims: Claim[]; gestures: GestureClaim[]; avoid: AvoidClaim[] },
  ): void {
    const reason = `instruction ${quote(from.text)}`;
    const base = { ...span, source: 'instruction' as const, confidence: 1, reason };
    switch (c.kind) {
      case 'emotion':
        out.claims.push({ field: 'emotion', value: c.emotion, ...base }, { field: 'intensity', value: c.intensity, ...base });
        break;
      case 'gaze':
        out.claims.push({ field: 'gaze', value: c.gaze, ...base });
        break;
      case 'motion':
        out.claims.push({ field: 'headMotion', value: c.headMotion, ...base }, { field: 'motionAmplitude', value: c.amplitude, ...base });
        break;
      case 'avoid':
        out.avoid.push({ what: c.what, ...span, source: 'instruction', reason });
        break;
      case 'gesture':
        for (const at of triggerTimes(c.trigger, readings)) {
          if (at >= span.startUs && at < span.endUs) out.gestures.push({ kind: c.gesture, atUs: at, strength: c.strength, source: 'instruction', reason: `${reason} (${c.trigger})` });
        }
        break;
      default:
        break; // allow, no-gesture: read by the critique and the negative director
    }
  }
}

/** Where a trigger fires in the words (emphasis beats in the voice are the audio expert's). */
function triggerTimes(trigger: Trigger, readings: { s: Sentence; r: SentenceReading }[]): number[] {
  const mid = (t: { startUs: number; endUs: number }) => Math.round((t.startUs + t.endUs) / 2);
  const out: number[] = [];
  for (const { s, r } of readings) {
    if (trigger === 'agreement') out.push(...r.agreements.map((c) => mid(c.token)));
    if (trigger === 'disagreement') out.push(...r.disagreements.map((c) => mid(c.token)));
    if (trigger === 'question' && r.question) out.push(mid(s.tokens[s.tokens.length - 1]!));
    if (trigger === 'emphasis') out.push(...r.emphasis.map((c) => c.token.startUs));
  }
  return out;
}
