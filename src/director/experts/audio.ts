// The audio expert: what the voice itself says (level, pitch and its range, tempo, pauses, stress, final rises),
// relative to the speaker so far. Prosody is a weak cue for emotion, so its confidence stays modest; it is strong
// for timing (where pauses and stressed syllables are) and for how much motion the delivery carries.
import { activeConstraints } from '../instructions.ts';
import type { ProsodyBaseline, ProsodySummary } from '../prosody.ts';
import type { Emotion } from '../types.ts';
import type { AvoidClaim, Change, Claim, Critique, Cut, DraftPlan, Expert, GestureClaim, PlanContext, Proposal, Span } from './types.ts';
import { clip, quote, spanWords } from './util.ts';

/** Pauses at least this long cut shots. */
const CUT_PAUSE_US = 400_000;
const HEAD_GESTURES = new Set(['nod', 'shake', 'tilt']);
/** Head gestures closer than this read as jitter. */
const MIN_GESTURE_GAP_US = 600_000;

export interface ProsodyEmotion {
  readonly emotion: Emotion;
  /** 0..1. */
  readonly arousal: number;
  readonly confidence: number;
  readonly reason: string;
}

/** Emotion from prosody, relative to the speaker's baseline when there is one (else to typical speech). */
export function emotionFromProsody(s: ProsodySummary, base: ProsodyBaseline, wordsPerS?: number): ProsodyEmotion {
  const haveBase = base.speechS >= 5;
  const refDb = haveBase ? base.meanDb : -20;
  const refF0 = haveBase && base.f0MedianHz > 0 ? base.f0MedianHz : s.f0MedianHz || 150;
  const relDb = s.meanDb - refDb;
  const relSt = s.f0MedianHz > 0 ? 12 * Math.log2(s.f0MedianHz / refF0) : 0;
  const rate = wordsPerS !== undefined ? wordsPerS * 1.4 : s.syllableRate;
  // Typical read speech: about -20 dBFS (TTS levels), a 6-semitone range, 5 syllables/s.
  const arousal = Math.max(0, Math.min(1, 0.5 + relDb / 12 + (s.f0RangeSt - 6) / 16 + (rate - 5) / 8));
  let emotion: Emotion = 'neutral';
  if (arousal >= 0.7) emotion = s.f0RangeSt >= 6 || relSt > 1 ? 'excited' : relDb > 3 ? 'angry' : 'excited';
  else if (arousal <= 0.3) emotion = relSt < -1 ? 'sad' : 'calm';
  const confidence = Math.min(0.55, 0.25 + Math.abs(arousal - 0.5) * 0.6);
  const reason =
    `${s.meanDb.toFixed(0)} dBFS (${relDb >= 0 ? '+' : ''}${relDb.toFixed(1)} dB vs ${haveBase ? 'the speaker so far' : 'typical speech'}), ` +
    `pitch ${s.f0MedianHz.toFixed(0)} Hz (${relSt >= 0 ? '+' : ''}${relSt.toFixed(1)} st), range ${s.f0RangeSt.toFixed(1)} st, ` +
    `${wordsPerS !== undefined ? `${wordsPerS.toFixed(1)} words/s` : `${s.syllableRate.toFixed(1)} syllables/s`}: arousal ${arousal.toFixed(2)}`;
  return { emotion, arousal, confidence, reason };
}

export class AudioExpert implements Expert {
  readonly name = 'audio' as const;

  propose(ctx: PlanContext): Proposal {
    const cuts: Cut[] = [];
    const claims: Claim[] = [];
    const gestures: GestureClaim[] = [];
    const avoid: AvoidClaim[] = [];
    const notes: string[] = [];
    const known = Math.min(ctx.endUs, ctx.audioKnownUntilUs);
    if (known <= ctx.startUs) {
      notes.push('no audio for this window yet');
    }
    // Runs of speech between pauses, each with its own reading.
    const whole = ctx.prosody.summarize(Math.max(0, ctx.startUs - 1_000_000), Math.max(known, ctx.startUs));
    const pauses = whole.pauses.filter((p) => p.endUs - p.startUs >= CUT_PAUSE_US);
    const runs: Span[] = [];
    let at = ctx.startUs;
    for (const p of pauses) {
      if (p.endUs <= ctx.startUs) continue;
      if (p.startUs > at) runs.push({ startUs: at, endUs: Math.min(p.startUs, known) });
      const ps = clip(p, ctx);
      if (ps) {
        if (ps.startUs > ctx.startUs) cuts.push({ atUs: ps.startUs, hard: p.endUs - p.startUs >= 1_000_000, source: 'prosody', reason: 'a pause starts' });
        if (ps.endUs < known) cuts.push({ atUs: ps.endUs, hard: false, source: 'prosody', reason: 'speech resumes' });
        const still = { ...ps, source: 'prosody' as const, confidence: 0.5, reason: `a pause (${spanWords(p)}): listening, small idle motion` };
        claims.push({ field: 'headMotion', value: 'subtle', ...still }, { field: 'motionAmplitude', value: 0.3, ...still });
      }
      at = Math.max(at, p.endUs);
    }
    if (known > at) runs.push({ startUs: at, endUs: known });
    let last: { reading: ReturnType<typeof emotionFromProsody>; span: Span } | null = null;
    for (const run of runs) {
      const s = ctx.prosody.summarize(run.startUs, run.endUs);
      if (s.speechS < 0.3) continue;
      const measured = ctx.sentences.flatMap((x) => x.tokens).filter((t) => !t.estimated && t.startUs >= run.startUs && t.endUs <= run.endUs);
      const wps = measured.length >= 3 ? measured.length / s.speechS : undefined;
      const reading = emotionFromProsody(s, ctx.prosody.baseline, wps);
      last = { reading, span: run };
      this.#claimDelivery(run, reading, claims, `voice ${spanWords(run)}: ${reading.reason}`);
      notes.push(`${spanWords(run)}: ${reading.reason} -> ${reading.emotion} (confidence ${reading.confidence.toFixed(2)})`);
      for (const e of s.emphasis) {
        if (e.atUs < ctx.startUs || e.atUs >= ctx.endUs) continue;
        if (e.strength >= 0.6) gestures.push({ kind: 'nod', atUs: e.atUs, strength: 0.3, source: 'prosody', reason: 'a strongly stressed syllable: a small beat nod' });
        else gestures.push({ kind: 'brow-raise', atUs: e.atUs, strength: 0.25, source: 'prosody', reason: 'a stressed syllable: brows flick up' });
      }
      for (const r of s.rises) {
        if (r >= ctx.startUs && r < ctx.endUs) gestures.push({ kind: 'brow-raise', atUs: r, strength: 0.4, source: 'prosody', reason: 'the pitch rises at the end of a phrase (question-like)' });
      }
      if (reading.arousal < 0.3) avoid.push({ what: 'fast-head-motion', ...run, source: 'prosody', reason: 'quiet, slow delivery' });
      // Instruction gestures triggered by emphasis land on stressed syllables.
      for (const { constraint: c, from } of activeConstraints(ctx.instructions, run.startUs)) {
        if (c.kind !== 'gesture' || c.trigger !== 'emphasis') continue;
        for (const e of s.emphasis) {
          if (e.atUs >= ctx.startUs && e.atUs < ctx.endUs) gestures.push({ kind: c.gesture, atUs: e.atUs, strength: c.strength, source: 'instruction', reason: `instruction ${quote(from.text)} on a stressed syllable` });
        }
      }
    }
    if (known < ctx.endUs) {
      // Live mode: the rest of the window is in the future. Carry the recent delivery forward, less sure.
      if (known > ctx.startUs) cuts.push({ atUs: known, hard: true, source: 'prosody', reason: 'audio known until here; beyond, the future is planned from the voice so far' });
      const future = { startUs: Math.max(known, ctx.startUs), endUs: ctx.endUs };
      const recent = ctx.prosody.summarize(Math.max(0, known - 2_000_000), known);
      if (recent.speechS >= 0.5) {
        const reading = emotionFromProsody(recent, ctx.prosody.baseline);
        this.#claimDelivery(future, { ...reading, confidence: reading.confidence * 0.6 }, claims, `the future is unknown: the last 2 s of voice carried forward (${reading.reason})`);
      } else {
        const idle = { ...future, source: 'prosody' as const, confidence: 0.4, reason: 'the future is unknown and the speaker is silent: listening' };
        claims.push({ field: 'headMotion', value: 'subtle', ...idle }, { field: 'motionAmplitude', value: 0.3, ...idle });
      }
    }
    if (last === null && known > ctx.startUs) notes.push('no speech in the known audio');
    return { expert: this.name, cuts, claims, gestures, avoid, notes };
  }

  critique(ctx: PlanContext, draft: Readonly<DraftPlan>): Critique {
    const changes: Change[] = [];
    const notes: string[] = [];
    const s = ctx.prosody.summarize(Math.max(0, draft.startUs - 500_000), draft.endUs);
    const known = ctx.audioKnownUntilUs;
    draft.shots.forEach((shot, i) => {
      // Gestures in a pause move to the nearest stressed syllable (or nucleus) within 300 ms: a timing refinement.
      for (const g of shot.gestures) {
        if (g.atUs >= known) continue;
        const inPause = s.pauses.some((p) => g.atUs > p.startUs + 150_000 && g.atUs < p.endUs - 150_000);
        const near = nearest(s.nuclei.map((n) => n.atUs), g.atUs);
        if (near !== null && Math.abs(near - g.atUs) <= 300_000 && Math.abs(near - g.atUs) > 40_000 && near >= shot.startUs && near < shot.endUs) {
          changes.push({ kind: 'move-gesture', shot: i, gesture: g.kind, atUs: g.atUs, toUs: near, source: 'prosody', reason: inPause ? 'it fell in a pause: onto the nearest syllable' : 'onto the syllable it belongs to' });
        }
      }
      // Head gestures too close together read as jitter: keep the stronger.
      const head = shot.gestures.filter((g) => HEAD_GESTURES.has(g.kind)).sort((a, b) => a.atUs - b.atUs);
      for (let k = 1; k < head.length; k++) {
        const a = head[k - 1]!;
        const b = head[k]!;
        if (b.atUs - a.atUs < MIN_GESTURE_GAP_US) {
          const weaker = a.strength >= b.strength ? b : a;
          changes.push({ kind: 'remove-gesture', shot: i, gesture: weaker.kind, atUs: weaker.atUs, source: 'prosody', reason: `two head gestures ${((b.atUs - a.atUs) / 1000).toFixed(0)} ms apart: jitter` });
        }
      }
      // Motion against delivery: a lively head on a quiet voice, or a frozen one on an animated voice.
      const end = Math.min(shot.endUs, known);
      if (end - shot.startUs >= 500_000) {
        const ss = ctx.prosody.summarize(shot.startUs, end);
        if (ss.speechS >= 0.5) {
          const r = emotionFromProsody(ss, ctx.prosody.baseline);
          if (r.arousal >= 0.7 && shot.headMotion.value === 'still') changes.push({ kind: 'set', shot: i, field: 'headMotion', value: 'subtle', source: 'prosody', reason: `an animated voice (arousal ${r.arousal.toFixed(2)}) with a still head` });
          if (r.arousal <= 0.25 && shot.headMotion.value === 'lively') changes.push({ kind: 'set', shot: i, field: 'headMotion', value: 'subtle', source: 'prosody', reason: `a quiet voice (arousal ${r.arousal.toFixed(2)}) with a lively head` });
          if (r.arousal <= 0.25 && shot.intensity.value > 0.7) changes.push({ kind: 'set', shot: i, field: 'intensity', value: 0.5, source: 'prosody', reason: `the voice is subdued (arousal ${r.arousal.toFixed(2)}): tone the expression down` });
        }
      }
    });
    if (changes.length === 0) notes.push('gestures sit on the speech and the motion fits the voice');
    return { expert: this.name, changes, notes };
  }

  #claimDelivery(span: Span, r: ProsodyEmotion, claims: Claim[], reason: string): void {
    const base = { ...span, source: 'prosody' as const, confidence: r.confidence, reason };
    if (r.emotion !== 'neutral') claims.push({ field: 'emotion', value: r.emotion, ...base }, { field: 'intensity', value: 0.3 + 0.5 * Math.abs(r.arousal - 0.5) * 2, ...base });
    claims.push({ field: 'headMotion', value: r.arousal >= 0.65 ? 'lively' : r.arousal <= 0.15 ? 'still' : 'subtle', ...base, confidence: Math.max(r.confidence, 0.4) });
    claims.push({ field: 'motionAmplitude', value: Math.round((0.3 + 0.5 * r.arousal) * 100) / 100, ...base, confidence: Math.max(r.confidence, 0.4) });
  }
}

function nearest(times: number[], t: number): number | null {
  let best: number | null = null;
  for (const x of times) if (best === null || Math.abs(x - t) < Math.abs(best - t)) best = x;
  return best;
}
