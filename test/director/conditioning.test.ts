// Shot -> default-pack targets and limits: gesture curves, emotion mapping, negative limits, rate limits.
import { describe, expect, it } from 'vitest';
import { conditionShot, conditioningLayer, CONDITIONED_COEFFICIENTS, COEFFICIENT_RANGES, PlanTimeline, shotSchema, type Shot } from '../../src/director/index.ts';

function shot(over: Partial<Shot> = {}): Shot {
  return shotSchema.parse({
    startUs: 0,
    endUs: 4_000_000,
    emotion: 'neutral',
    intensity: 0.5,
    gaze: 'camera',
    headMotion: 'subtle',
    motionAmplitude: 0.5,
    gestures: [],
    camera: 'medium',
    description: 'test',
    negative: { avoid: [], description: '' },
    ...over,
  }) as Shot;
}

function series(s: Shot, name: (typeof CONDITIONED_COEFFICIENTS)[number], fromUs: number, toUs: number, stepUs = 5_000, prev?: Shot): number[] {
  const out: number[] = [];
  for (let t = fromUs; t < toUs; t += stepUs) out.push(conditionShot(s, t, { previous: prev }).targets[name]);
  return out;
}

describe('conditionShot', () => {
  it('a nod is a ~2 Hz pitch oscillation of ~0.8 s peaking down at its time', () => {
    const withNod = shot({ gestures: [{ kind: 'nod', atUs: 2_000_000, strength: 1 }] });
    const without = shot();
    const diff = series(withNod, 'headPitch', 1_400_000, 2_600_000).map((v, i) => v - series(without, 'headPitch', 1_400_000, 2_600_000)[i]!);
    const minAt = 1_400_000 + diff.indexOf(Math.min(...diff)) * 5_000;
    expect(Math.abs(minAt - 2_000_000)).toBeLessThanOrEqual(20_000);
    expect(Math.min(...diff)).toBeLessThan(-0.2);
    // Zero outside +-0.4 s, and about 2 Hz inside: sign changes every ~250 ms.
    expect(diff.slice(0, Math.round(190_000 / 5_000)).every((v) => Math.abs(v) < 1e-9)).toBe(true);
    // 2 Hz under a 0.8 s envelope: zero crossings at +-125 and +-375 ms.
    const inside = diff.slice(Math.round(200_000 / 5_000), Math.round(1_000_000 / 5_000)).filter((v) => Math.abs(v) > 1e-3);
    let crossings = 0;
    for (let i = 1; i < inside.length; i++) if (Math.sign(inside[i]!) !== Math.sign(inside[i - 1]!)) crossings++;
    expect(crossings).toBeGreaterThanOrEqual(2);
    expect(crossings).toBeLessThanOrEqual(4);
    // The rebounds peak half a period (250 ms) from the dip.
    const after = diff.slice(Math.round(600_000 / 5_000), Math.round(1_000_000 / 5_000));
    const reboundAt = 2_000_000 + after.indexOf(Math.max(...after)) * 5_000;
    expect(Math.max(...after)).toBeGreaterThan(0.05);
    expect(Math.abs(reboundAt - 2_230_000)).toBeLessThanOrEqual(60_000);
  });

  it('a shake moves yaw, a tilt moves roll, a brow raise moves the brows', () => {
    const s = shot({ gestures: [{ kind: 'shake', atUs: 1_000_000, strength: 1 }, { kind: 'tilt', atUs: 2_000_000, strength: 1 }, { kind: 'brow-raise', atUs: 3_000_000, strength: 1 }] });
    const base = shot();
    const dev = (name: 'headYaw' | 'headRoll' | 'browRaise', a: number, b: number) => Math.max(...series(s, name, a, b).map((v, i) => Math.abs(v - series(base, name, a, b)[i]!)));
    expect(dev('headYaw', 500_000, 1_500_000)).toBeGreaterThan(0.15);
    expect(dev('headRoll', 1_400_000, 2_600_000)).toBeGreaterThan(0.2);
    expect(dev('browRaise', 2_600_000, 3_400_000)).toBeGreaterThan(0.4);
    expect(dev('headYaw', 1_600_000, 3_400_000)).toBeLessThan(1e-9);
  });

  it('emotion and intensity drive smile and brows; sad lowers the head', () => {
    const at = (s: Shot) => conditionShot(s, 1_000_000).targets;
    const happy = at(shot({ emotion: 'happy', intensity: 1 }));
    const mild = at(shot({ emotion: 'happy', intensity: 0.2 }));
    const sad = at(shot({ emotion: 'sad', intensity: 1 }));
    const neutral = at(shot());
    expect(happy.smile).toBeGreaterThan(0.6);
    expect(mild.smile).toBeLessThan(happy.smile - 0.3);
    expect(sad.smile).toBe(0);
    expect(sad.browFrown).toBeGreaterThan(0.3);
    expect(sad.headPitch).toBeLessThan(neutral.headPitch - 0.1);
    expect(at(shot({ emotion: 'serious', intensity: 1 })).smile).toBe(0);
  });

  it('motion amplitude and head motion scale the idle sway', () => {
    const range = (s: Shot) => {
      const v = series(s, 'headYaw', 0, 10_000_000, 50_000);
      return Math.max(...v) - Math.min(...v);
    };
    const lively = range(shot({ endUs: 10_000_000, headMotion: 'lively', motionAmplitude: 1 }));
    const still = range(shot({ endUs: 10_000_000, headMotion: 'still', motionAmplitude: 1 }));
    const small = range(shot({ endUs: 10_000_000, headMotion: 'lively', motionAmplitude: 0.2 }));
    expect(lively).toBeGreaterThan(3 * still);
    expect(lively).toBeGreaterThan(2 * small);
  });

  it('negatives become limits by name and the targets respect them', () => {
    const s = shot({ emotion: 'happy', intensity: 1, gaze: 'around', negative: { avoid: ['look-away', 'smile', 'exaggerated-mouth', 'fast-head-motion'], description: '' } });
    const c = conditionShot(s, 1_234_000);
    expect(c.limits).toEqual({ headYaw: [-0.15, 0.15], headPitch: [-0.15, 0.15], smile: [0, 0.05], jawOpen: [0, 0.7], lipSpread: [-0.7, 0.7] });
    expect(c.rateLimits?.headYaw).toBe(2.5);
    expect(Math.max(...series(s, 'headYaw', 0, 4_000_000, 20_000).map(Math.abs))).toBeLessThanOrEqual(0.15);
    expect(Math.max(...series(s, 'smile', 0, 4_000_000, 20_000))).toBeLessThanOrEqual(0.05);
    for (const k of CONDITIONED_COEFFICIENTS) {
      const [lo, hi] = COEFFICIENT_RANGES[k];
      expect(c.targets[k]).toBeGreaterThanOrEqual(lo);
      expect(c.targets[k]).toBeLessThanOrEqual(hi);
    }
  });

  it('a rate limit shrinks fast gestures so their curve respects it', () => {
    const free = shot({ gestures: [{ kind: 'nod', atUs: 1_000_000, strength: 1 }] });
    const slow = shot({ gestures: [{ kind: 'nod', atUs: 1_000_000, strength: 1 }], negative: { avoid: ['fast-head-motion'], description: '' } });
    const maxRate = (s: Shot) => {
      const v = series(s, 'headPitch', 500_000, 1_500_000, 5_000);
      let m = 0;
      for (let i = 1; i < v.length; i++) m = Math.max(m, Math.abs(v[i]! - v[i - 1]!) / 0.005);
      return m;
    };
    expect(maxRate(free)).toBeGreaterThan(3);
    expect(maxRate(slow)).toBeLessThan(2.5 * 1.3); // the envelope adds a little to the sine's own rate
  });

  it('fades from the previous shot instead of jumping', () => {
    const prev = shot({ endUs: 1_000_000, gaze: 'away-left' });
    const next = shot({ startUs: 1_000_000, endUs: 3_000_000, gaze: 'camera' });
    const atStart = conditionShot(next, 1_000_000, { previous: prev }).targets.headYaw;
    const prevEnd = conditionShot(prev, 999_999).targets.headYaw;
    expect(Math.abs(atStart - prevEnd)).toBeLessThan(0.02);
    expect(Math.abs(conditionShot(next, 1_500_000, { previous: prev }).targets.headYaw)).toBeLessThan(0.2);
  });

  it('is a pure function', () => {
    const s = shot({ emotion: 'excited', gestures: [{ kind: 'smile', atUs: 500_000, strength: 1 }] });
    expect(conditionShot(s, 700_000)).toEqual(conditionShot(s, 700_000));
  });

  it('without idle motion the targets are offsets only, and motionScale tells the pack how much idle motion to keep', () => {
    const lively = shot({ endUs: 10_000_000, headMotion: 'lively', motionAmplitude: 1, emotion: 'happy' });
    const still = shot({ endUs: 10_000_000, headMotion: 'still', motionAmplitude: 0.3 });
    const yaw = [0, 1_000_000, 3_000_000, 7_000_000].map((t) => conditionShot(lively, t, { idle: false }).targets.headYaw);
    expect(new Set(yaw.map((v) => v.toFixed(6))).size).toBe(1);
    expect(conditionShot(lively, 1_000_000, { idle: false }).targets.breathe).toBe(0);
    expect(conditionShot(lively, 1_000_000, { idle: false }).targets.smile).toBeGreaterThan(0.3);
    expect(conditionShot(lively, 0).motionScale).toBeGreaterThan(conditionShot(still, 0).motionScale + 0.5);
  });

  it('conditioningLayer follows the plan source, with the neighbouring shots', () => {
    const timeline = new PlanTimeline(4);
    const layer = conditioningLayer(timeline, { idle: false });
    expect(layer(0)).toBeUndefined();
    const a = shot({ endUs: 1_000_000, gaze: 'away-left' });
    const b = shot({ startUs: 1_000_000, endUs: 3_000_000, gestures: [{ kind: 'nod', atUs: 1_100_000, strength: 1 }] });
    timeline.publish({ version: 1, startUs: 0, endUs: 3_000_000, shots: [a, b], source: 'rules' });
    expect(layer(1_050_000)).toEqual(conditionShot(b, 1_050_000, { idle: false, previous: a }));
    // a's end feels b's nod (it starts 0.3 s before its peak at 1.1 s).
    expect(layer(900_000)!.targets.headPitch).not.toBe(conditionShot(a, 900_000, { idle: false }).targets.headPitch);
  });
});
