// Rounds, priorities, schema, determinism and the storyline on real speech (espeak-ng audio + its text).
import { describe, expect, it } from 'vitest';
import { conditionShot, coversWindow, critiqueAndFinish, Director, planSchema, type Plan, type Shot } from '../../src/director/index.ts';
import type { DraftPlan, Expert, PlanContext } from '../../src/director/experts/types.ts';
import { ProsodyTracker } from '../../src/director/prosody.ts';
import { chunks, speech } from './fixtures.ts';

const PORTRAIT = { width: 512, height: 512, faceBox: { x: 170, y: 150, width: 170, height: 200 } };

/** A director fed one TTS turn (text + espeak audio from t=0) and instructions, planned once at now = 0. */
async function planFor(text: string, instructions: string[] = []): Promise<{ plan: Plan; d: Director }> {
  const d = new Director({ lookaheadMs: 10_000 }, { nowUs: () => 0, portrait: PORTRAIT });
  for (const i of instructions) d.instruction(i, 0);
  d.transcript({ text, segmentId: 7 });
  const cs = chunks(speech('espeak', text, ['-s', '160']));
  cs.forEach((c, i) => d.audio(c, { segmentId: 7, last: i === cs.length - 1 }));
  const plan = d.planNow();
  return { plan, d };
}

/** Conditioning sampled every 20 ms over the plan. */
function sample(plan: Plan, name: 'smile' | 'headYaw' | 'headPitch' | 'browFrown'): number[] {
  const out: number[] = [];
  plan.shots.forEach((s, i) => {
    for (let t = s.startUs; t < s.endUs; t += 20_000) out.push(conditionShot(s, t, { previous: plan.shots[i - 1], next: plan.shots[i + 1] }).targets[name]);
  });
  return out;
}

const AGREEING = 'Yes, I agree with you. Absolutely, that is exactly right. Yes, of course, that is wonderful.';
const HAPPY = 'This is wonderful news, I am so happy and delighted for you! What a fantastic and beautiful day.';
const SAD = 'I am so sorry for your loss. Unfortunately it is a sad and painful day, and we all miss him deeply.';

describe('director rounds', () => {
  it('keeps every round: three proposals, the merge, three critiques and the final plan, in plain words', async () => {
    const { plan, d } = await planFor(AGREEING, ['nod when you agree']);
    const [entry] = d.trace();
    expect(entry).toBeDefined();
    expect(Object.keys(entry!.proposals).sort()).toEqual(['audio', 'text', 'visual']);
    expect(entry!.proposals.text.notes.join(' ')).toContain('says');
    expect(entry!.proposals.audio.notes.join(' ')).toMatch(/dBFS.*pitch.*Hz/);
    expect(entry!.proposals.visual.notes.join(' ')).toMatch(/close-up|medium|wide/);
    expect(entry!.proposals.text.gestures.some((g) => g.startsWith('nod') && g.includes('instruction'))).toBe(true);
    expect(entry!.merge).toHaveLength(plan.shots.length);
    expect(entry!.critiques.map((c) => c.expert)).toEqual(['visual', 'audio', 'text']);
    expect(entry!.negative).toHaveLength(plan.shots.length);
    expect(entry!.final).toEqual(plan);
    expect(entry!.published).toBe(true);
    await d.close();
  });

  it('applies critiques by priority: an instruction overrides the transcript, prosody cannot override an instruction', () => {
    const ctx: PlanContext = { startUs: 0, endUs: 2_000_000, nowUs: 0, audioKnownUntilUs: 0, sentences: [], prosody: new ProsodyTracker(), portrait: null, instructions: [] };
    const v = <T>(value: T, source: 'instruction' | 'transcript' | 'prosody' | 'default') => ({ value, source, reason: 'test' });
    const draft: DraftPlan = {
      startUs: 0,
      endUs: 2_000_000,
      shots: [
        { startUs: 0, endUs: 1_000_000, emotion: v('serious' as const, 'instruction'), intensity: v(0.5, 'default'), gaze: v('camera' as const, 'default'), headMotion: v('subtle' as const, 'default'), motionAmplitude: v(0.5, 'default'), camera: v('medium' as const, 'default'), gestures: [], avoid: [], description: '' },
        { startUs: 1_000_000, endUs: 2_000_000, emotion: v('happy' as const, 'transcript'), intensity: v(0.5, 'default'), gaze: v('camera' as const, 'default'), headMotion: v('subtle' as const, 'default'), motionAmplitude: v(0.5, 'default'), camera: v('medium' as const, 'default'), gestures: [{ kind: 'smile', atUs: 1_500_000, strength: 0.5, source: 'instruction', reason: 'test' }], avoid: [], description: '' },
      ],
    };
    const critic = (name: 'audio' | 'text', changes: Parameters<Expert['critique']> extends never ? never : ReturnType<Expert['critique']>['changes']): Expert => ({
      name,
      propose: () => ({ expert: name, cuts: [], claims: [], gestures: [], avoid: [], notes: [] }),
      critique: () => ({ expert: name, changes, notes: [] }),
    });
    const experts = [
      critic('audio', [
        { kind: 'set', shot: 0, field: 'emotion', value: 'excited', source: 'prosody', reason: 'loud voice' },
        { kind: 'remove-gesture', shot: 1, gesture: 'smile', atUs: 1_500_000, source: 'prosody', reason: 'no' },
      ]),
      critic('text', [{ kind: 'set', shot: 1, field: 'emotion', value: 'serious', source: 'instruction', reason: "instruction 'keep a serious face'" }]),
    ];
    const out = critiqueAndFinish(ctx, experts, draft);
    expect(out.shots[0]!.emotion).toBe('serious'); // prosody refused
    expect(out.shots[1]!.emotion).toBe('serious'); // instruction applied over the transcript
    expect(out.shots[1]!.gestures.map((g) => g.kind)).toEqual(['smile']); // a prosody critique cannot remove an instructed gesture
    expect(out.critiques[0]!.outcomes.every((o) => !o.applied)).toBe(true);
    expect(out.critiques[0]!.outcomes[0]!.words).toMatch(/kept emotion serious from an explicit user instruction/);
    expect(out.critiques[1]!.outcomes[0]!.applied).toBe(true);
  });

  it('an instruction overrides transcript sentiment in the integrated plan', async () => {
    const { plan: free } = await planFor(HAPPY);
    const { plan: told, d } = await planFor(HAPPY, ['keep a serious face']);
    expect(free.shots.some((s) => s.emotion === 'happy' || s.emotion === 'excited')).toBe(true);
    expect(told.shots.every((s) => s.emotion === 'serious')).toBe(true);
    expect(told.shots.every((s) => s.negative.avoid.includes('smile'))).toBe(true);
    expect(d.trace()[0]!.merge[0]).toContain('emotion serious from an explicit user instruction');
  });

  it('"nod when you agree, keep a serious face" on agreeing words: nods at the agreements and no smile; without it the avatar smiles', async () => {
    const { plan: told } = await planFor(AGREEING, ['Nod when you agree, keep a serious face.']);
    const { plan: free } = await planFor(AGREEING);
    const nods = told.shots.flatMap((s) => s.gestures.filter((g) => g.kind === 'nod'));
    expect(nods.length).toBeGreaterThanOrEqual(3); // yes, agree, absolutely/exactly/of course: after jitter pruning at least 3
    expect(Math.max(...sample(told, 'smile'))).toBeLessThan(0.06);
    expect(Math.max(...sample(free, 'smile'))).toBeGreaterThan(0.3);
    // The nods show in the head pitch: it dips at each nod.
    const shot = told.shots.find((s) => s.gestures.some((g) => g.kind === 'nod'))!;
    const nod = shot.gestures.find((g) => g.kind === 'nod')!;
    const atPeak = conditionShot(shot, nod.atUs).targets.headPitch;
    const before = conditionShot(shot, Math.max(shot.startUs, nod.atUs - 450_000)).targets.headPitch;
    expect(before - atPeak).toBeGreaterThan(0.1);
  });

  it('"do not look away" limits yaw and pitch; "look around" plans yaw beyond those limits', async () => {
    const text = 'Let us talk about the plan for next week and the people who will join us.';
    const { plan: steady } = await planFor(text, ['Do not look away.']);
    const { plan: roaming } = await planFor(text, ['Look around.']);
    for (const s of steady.shots) {
      expect(s.negative.avoid).toContain('look-away');
      const c = conditionShot(s, s.startUs);
      expect(c.limits.headYaw).toEqual([-0.15, 0.15]);
      expect(c.limits.headPitch).toEqual([-0.15, 0.15]);
    }
    expect(Math.max(...sample(steady, 'headYaw').map(Math.abs))).toBeLessThanOrEqual(0.15);
    expect(roaming.shots.every((s) => s.gaze === 'around' && !s.negative.avoid.includes('look-away'))).toBe(true);
    expect(Math.max(...sample(roaming, 'headYaw').map(Math.abs))).toBeGreaterThan(0.3);
  });

  it('sad and happy transcripts give different emotions, smiles and brows', async () => {
    const { plan: happy } = await planFor(HAPPY);
    const { plan: sad } = await planFor(SAD);
    const spoken = (p: Plan) => p.shots.filter((s) => s.description.startsWith('Says'));
    expect(spoken(happy).every((s) => s.emotion === 'happy' || s.emotion === 'excited')).toBe(true);
    expect(spoken(sad).every((s) => s.emotion === 'sad')).toBe(true);
    expect(spoken(sad).every((s) => s.negative.avoid.includes('smile'))).toBe(true);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const onSpeech = (p: Plan, name: 'smile' | 'browFrown') => sample({ ...p, shots: spoken(p) }, name);
    expect(mean(onSpeech(happy, 'smile'))).toBeGreaterThan(0.3);
    expect(mean(onSpeech(sad, 'smile'))).toBeLessThan(0.05);
    expect(mean(onSpeech(sad, 'browFrown'))).toBeGreaterThan(mean(onSpeech(happy, 'browFrown')) + 0.1);
  });

  it('every plan validates against planSchema and covers its window; the schema rejects bad plans', async () => {
    const { plan } = await planFor(AGREEING, ['look around, smile more']);
    expect(planSchema.safeParse(plan).success).toBe(true);
    expect(coversWindow(plan)).toBeNull();
    const shot = plan.shots[0]!;
    const bad = (s: Partial<Shot> & Record<string, unknown>) => planSchema.safeParse({ ...plan, shots: [{ ...shot, ...s }] }).success;
    expect(bad({ endUs: shot.startUs })).toBe(false);
    expect(bad({ emotion: 'bored' as Shot['emotion'] })).toBe(false);
    expect(bad({ intensity: 1.5 })).toBe(false);
    expect(bad({ extra: 1 })).toBe(false);
    expect(bad({ negative: { avoid: ['blinking' as 'smile'], description: '' } })).toBe(false);
  });

  it('the rule backend is deterministic', async () => {
    const a = await planFor(SAD, ['nod when you agree', 'do not look away']);
    const b = await planFor(SAD, ['nod when you agree', 'do not look away']);
    expect(JSON.stringify(a.plan)).toBe(JSON.stringify(b.plan));
    const strip = (t: ReturnType<Director['trace']>) => JSON.stringify(t.map((e) => ({ ...e, latencyMs: 0 })));
    expect(strip(a.d.trace())).toBe(strip(b.d.trace()));
  });
});
