import { describe, expect, it } from 'vitest';
import { IdleMotion } from '../../src/packs/default/idle.ts';
import { CoefficientPlanner } from '../../src/packs/default/blueprint.ts';
import { COEFFICIENT_NAMES } from '../../src/packs/default/coefficients.ts';

const has = (name: string) => (COEFFICIENT_NAMES as readonly string[]).includes(name);

describe('IdleMotion', () => {
  it('blinks 10 to 20 times a minute, every minute of a 10-minute stream', () => {
    const idle = new IdleMotion({ seed: 42 });
    for (let m = 0; m < 10; m++) {
      const n = idle.blinksBetween(m * 60e6, (m + 1) * 60e6);
      expect(n).toBeGreaterThanOrEqual(10);
      expect(n).toBeLessThanOrEqual(20);
    }
  });

  it('a blink closes the lids fully and reopens within ~250 ms', () => {
    const idle = new IdleMotion({ seed: 3 });
    const closed: number[] = [];
    for (let t = 0; t < 20e6; t += 10_000) if (idle.blinkAt(t) > 0.98) closed.push(t);
    expect(closed.length).toBeGreaterThan(3);
    const first = closed[0];
    const open = (t: number) => idle.blinkAt(t) < 0.02;
    expect(open(first - 150_000)).toBe(true);
    expect(open(first + 250_000)).toBe(true);
  });

  it('is a pure function of time and seed (render order does not matter)', () => {
    const a = new IdleMotion({ seed: 9 });
    const b = new IdleMotion({ seed: 9 });
    const ts = [5e6, 1e6, 30e6, 2.5e6];
    const va = ts.map((t) => a.at(t));
    const vb = [...ts].reverse().map((t) => b.at(t)).reverse();
    expect(va).toEqual(vb);
    expect(new IdleMotion({ seed: 10 }).at(5e6)).not.toEqual(va[0]);
  });

  it('breathes and sways smoothly: small steps between frames, bounded amplitude', () => {
    const idle = new IdleMotion({ seed: 1 });
    let prev = idle.at(0);
    let maxYaw = 0;
    for (let t = 40_000; t < 60e6; t += 40_000) {
      const cur = idle.at(t);
      // Smooth: at most 0.02 units (0.3 degrees) a frame, 7.5 degrees a second.
      expect(Math.abs((cur.headYaw ?? 0) - (prev.headYaw ?? 0))).toBeLessThan(0.02);
      expect(Math.abs((cur.breathe ?? 0) - (prev.breathe ?? 0))).toBeLessThan(0.05);
      maxYaw = Math.max(maxYaw, Math.abs(cur.headYaw ?? 0));
      prev = cur;
    }
    // A talking head's sway (2-3 degrees sd on renders, bench/head-motion.ts), not a stare and not a gesture.
    expect(maxYaw).toBeGreaterThan(0.1);
    expect(maxYaw).toBeLessThan(0.6);
  });
});

describe('CoefficientPlanner', () => {
  it('applies the plan targets and clamps everything into the negative storyline limits', () => {
    const planner = new CoefficientPlanner({
      seed: 1,
      plan: () => ({ targets: { jawOpen: 0.9, headYaw: 0.8, unknownThing: 5 }, limits: { jawOpen: [0, 0.5], headYaw: [-0.1, 0.1] } }),
    });
    const { coeffs, min, max } = planner.at(1e6);
    const jaw = COEFFICIENT_NAMES.indexOf('jawOpen');
    expect(coeffs[jaw]).toBeCloseTo(0.9, 5); // targets are summed; the fill clamps
    expect(max[jaw]).toBeCloseTo(0.5, 6);
    if (has('headYaw')) {
      const yaw = COEFFICIENT_NAMES.indexOf('headYaw' as never);
      expect(max[yaw]).toBeCloseTo(0.1, 6);
      expect(min[yaw]).toBeCloseTo(-0.1, 6);
    }
  });

  it('eases slow expression targets across a shot boundary instead of jumping', () => {
    if (!has('smile')) return expect(has('smile')).toBe(false); // the pack has no smile yet
    const smile = COEFFICIENT_NAMES.indexOf('smile' as never);
    const planner = new CoefficientPlanner({ seed: 1, plan: (t) => ({ targets: { smile: t >= 2e6 ? 0.8 : 0 }, limits: {} }) });
    const steps: number[] = [];
    let prev = planner.at(1.8e6).coeffs[smile];
    for (let t = 1.84e6; t <= 2.6e6; t += 40_000) {
      const v = planner.at(t).coeffs[smile];
      steps.push(v - prev);
      prev = v;
    }
    expect(prev).toBeCloseTo(0.8, 2);
    expect(Math.max(...steps)).toBeLessThan(0.8 / 3);
  });
});
