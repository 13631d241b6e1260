// One planning round, as in the report's co-reasoning director: every expert proposes, the proposals are merged,
// every expert critiques the merge, the critiques are applied under the stated priorities (a change replaces a
// value only if its source ranks at least as high as the value's), then the negative director writes each shot's
// negative storyline and the plan is validated. Pure and deterministic for a given context.
import { SOURCE_WORDS, outranks } from './priorities.ts';
import { mergeProposals } from './merge.ts';
import { negativeFor } from './negative.ts';
import { shotSchema, type Shot } from './types.ts';
import { AudioExpert } from './experts/audio.ts';
import { TextExpert } from './experts/text.ts';
import { VisualExpert } from './experts/visual.ts';
import type { Change, Critique, DraftPlan, DraftShot, Expert, FieldValues, PlanContext, Proposal } from './experts/types.ts';
import { quote, seconds } from './experts/util.ts';

export interface ChangeOutcome {
  readonly change: Change;
  readonly applied: boolean;
  /** Plain words: what changed, or why it was refused. */
  readonly words: string;
}

export interface CritiqueOutcome {
  readonly critique: Critique;
  readonly outcomes: readonly ChangeOutcome[];
}

export interface RoundOutput {
  readonly proposals: readonly Proposal[];
  /** The merge before any critique (a copy). */
  readonly merged: DraftPlan;
  readonly mergeNotes: readonly string[];
  readonly critiques: readonly CritiqueOutcome[];
  readonly final: DraftPlan;
  /** Validated shots (shotSchema), with their negative storylines. */
  readonly shots: readonly Shot[];
  readonly negativeReasons: readonly (readonly string[])[];
}

/** Visual, audio, text: critiques apply in rising order of the priority they usually carry. */
export function defaultExperts(): readonly Expert[] {
  return [new VisualExpert(), new AudioExpert(), new TextExpert()];
}

export function runRound(ctx: PlanContext, experts: readonly Expert[] = defaultExperts()): RoundOutput {
  const proposals = experts.map((e) => e.propose(ctx));
  const { draft, notes } = mergeProposals(ctx, proposals);
  return { proposals, mergeNotes: notes, ...critiqueAndFinish(ctx, experts, draft) };
}

/** The second half of a round; the chat backend's plan goes through it too. */
export function critiqueAndFinish(ctx: PlanContext, experts: readonly Expert[], draft: DraftPlan): Omit<RoundOutput, 'proposals' | 'mergeNotes'> {
  const merged = cloneDraft(draft);
  const critiques = experts.map((e) => e.critique(ctx, merged));
  const working = cloneDraft(draft);
  const outcomes: CritiqueOutcome[] = critiques.map((critique) => ({ critique, outcomes: critique.changes.map((c) => applyChange(working, c)) }));
  const negativeReasons: string[][] = [];
  const shots = working.shots.map((s) => {
    const neg = negativeFor(s, ctx);
    negativeReasons.push([...neg.reasons]);
    s.description = describeShot(s, ctx);
    return shotSchema.parse({
      startUs: s.startUs,
      endUs: s.endUs,
      emotion: s.emotion.value,
      intensity: round2(s.intensity.value),
      gaze: s.gaze.value,
      headMotion: s.headMotion.value,
      motionAmplitude: round2(s.motionAmplitude.value),
      gestures: s.gestures.map((g) => ({ kind: g.kind, atUs: Math.round(g.atUs), strength: round2(g.strength) })),
      camera: s.camera.value,
      description: s.description,
      negative: { avoid: neg.avoid, description: neg.description },
    });
  });
  return { merged, critiques: outcomes, final: working, shots: Object.freeze(shots.map((s) => Object.freeze(s))), negativeReasons };
}

function applyChange(plan: DraftPlan, c: Change): ChangeOutcome {
  const shot = plan.shots[c.shot];
  if (!shot) return { change: c, applied: false, words: `shot ${c.shot} does not exist` };
  const who = SOURCE_WORDS[c.source];
  switch (c.kind) {
    case 'set': {
      const cur = shot[c.field];
      if (cur.value === c.value) return { change: c, applied: false, words: `shot ${c.shot}: ${c.field} is already ${String(c.value)}` };
      if (!outranks(c.source, cur.source)) {
        return { change: c, applied: false, words: `shot ${c.shot}: kept ${c.field} ${String(cur.value)} from ${SOURCE_WORDS[cur.source]} over ${String(c.value)} from ${who} (${c.reason})` };
      }
      const words = `shot ${c.shot}: ${c.field} ${String(cur.value)} -> ${String(c.value)} (${c.reason})`;
      (shot as unknown as Record<string, { value: FieldValues[typeof c.field]; source: string; reason: string }>)[c.field] = { value: c.value, source: c.source, reason: c.reason };
      return { change: c, applied: true, words };
    }
    case 'remove-gesture': {
      const i = shot.gestures.findIndex((g) => g.kind === c.gesture && Math.abs(g.atUs - c.atUs) < 1_000);
      if (i < 0) return { change: c, applied: false, words: `shot ${c.shot}: the ${c.gesture} at ${seconds(c.atUs)} is already gone` };
      const g = shot.gestures[i]!;
      if (!outranks(c.source, g.source)) return { change: c, applied: false, words: `shot ${c.shot}: kept the ${g.kind} at ${seconds(g.atUs)} from ${SOURCE_WORDS[g.source]} (${c.reason} comes from ${who})` };
      shot.gestures.splice(i, 1);
      return { change: c, applied: true, words: `shot ${c.shot}: removed the ${g.kind} at ${seconds(g.atUs)} (${c.reason})` };
    }
    case 'move-gesture': {
      const g = shot.gestures.find((x) => x.kind === c.gesture && Math.abs(x.atUs - c.atUs) < 1_000);
      if (!g) return { change: c, applied: false, words: `shot ${c.shot}: the ${c.gesture} at ${seconds(c.atUs)} is gone` };
      // Timing refinements of up to 300 ms are the audio expert's to make whatever the gesture's source.
      if (Math.abs(c.toUs - c.atUs) > 300_000 && !outranks(c.source, g.source)) return { change: c, applied: false, words: `shot ${c.shot}: kept the ${g.kind} at ${seconds(g.atUs)} (a move of more than 300 ms needs more authority than ${who})` };
      const i = shot.gestures.indexOf(g);
      shot.gestures[i] = { ...g, atUs: c.toUs };
      shot.gestures.sort((a, b) => a.atUs - b.atUs);
      return { change: c, applied: true, words: `shot ${c.shot}: moved the ${g.kind} ${seconds(c.atUs)} -> ${seconds(c.toUs)} (${c.reason})` };
    }
    case 'add-gesture':
      shot.gestures.push(c.gesture);
      shot.gestures.sort((a, b) => a.atUs - b.atUs);
      return { change: c, applied: true, words: `shot ${c.shot}: added a ${c.gesture.kind} at ${seconds(c.gesture.atUs)} (${c.reason})` };
    case 'avoid':
      shot.avoid.push(c.avoid);
      return { change: c, applied: true, words: `shot ${c.shot}: avoid ${c.avoid.what} (${c.reason})` };
  }
}

function describeShot(s: DraftShot, ctx: PlanContext): string {
  const said = ctx.sentences.filter((x) => x.endUs > s.startUs && x.startUs < s.endUs).map((x) => x.text);
  const what = said.length ? `Says ${quote(said.join(' '), 160)}` : s.startUs >= ctx.audioKnownUntilUs ? 'Upcoming, not heard yet' : 'Listens';
  const gestures = s.gestures.length ? `; ${s.gestures.map((g) => `${g.kind} at ${seconds(g.atUs)}`).join(', ')}` : '';
  const text = `${what}: ${s.emotion.value} (${s.intensity.value.toFixed(2)}), gaze ${s.gaze.value}, head ${s.headMotion.value}${gestures}.`;
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

function cloneDraft(d: DraftPlan): DraftPlan {
  return {
    startUs: d.startUs,
    endUs: d.endUs,
    shots: d.shots.map((s) => ({
      ...s,
      emotion: { ...s.emotion },
      intensity: { ...s.intensity },
      gaze: { ...s.gaze },
      headMotion: { ...s.headMotion },
      motionAmplitude: { ...s.motionAmplitude },
      camera: { ...s.camera },
      gestures: s.gestures.map((g) => ({ ...g })),
      avoid: s.avoid.map((a) => ({ ...a })),
    })),
  };
}

function round2(v: number): number {
  return Math.round(Math.max(0, Math.min(1, v)) * 100) / 100;
}
