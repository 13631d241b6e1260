// Capacity: the figure (stated, or from the render probe and then the measured CPU per session) and the live
// refusals (the running sessions already late, or the machine's cores busy with other work).
import { describe, expect, it } from 'vitest';
import { Capacity, PER_SESSION_OVERHEAD_CORES } from '../../src/session/capacity.ts';

const idleMachine = (busy: number, total: number) => ({ busy, total });


describe('Capacity', () => {
  it('states a fixed figure, or measures one from the probe, then from the CPU sessions really use', () => {
    expect(new Capacity({ stated: 5, headroom: 0.85, cores: 2 }).sessions).toBe(5);
    const c = new Capacity({ stated: 'auto', headroom: 0.85, cores: 2 });
    c.setProbe(8); // 8 ms a frame at 25 fps: 0.2 cores, plus the rest of a session's work
    expect(c.figures.perSessionCores).toBeCloseTo(0.2 + PER_SESSION_OVERHEAD_CORES, 3);
    expect(c.sessions).toBe(Math.floor(1.7 / (0.2 + PER_SESSION_OVERHEAD_CORES)));
    // Three sessions that really use 0.6 cores each: the figure follows (a moving average over readings).
    let cpu = 0;
    for (let t = 0; t <= 40; t++) {
      c.observe({ sessions: 3, lateFrames: 0, cpuSeconds: cpu }, t * 2000, idleMachine(360 * t, 400 * t));
      cpu += 3 * 0.6 * 2;
    }
    expect(c.figures.perSessionCores).toBeCloseTo(0.6, 1);
    expect(c.sessions).toBe(2);
  });

  it('refuses at the figure, and under it while the running sessions are late or other work takes the cores', () => {
    const stated = new Capacity({ stated: 4, headroom: 0.85, cores: 2 });
    expect(stated.admit(3).ok).toBe(true);
    const full = stated.admit(4);
    expect(full.ok).toBe(false);
    if (!full.ok) {
      expect(full.reason).toBe('at-capacity');
      expect(full.retryAfterS).toBeGreaterThan(0);
      expect(full.message).toMatch(/serves 4 sessions/);
    }
    const c = new Capacity({ stated: 'auto', headroom: 0.85, cores: 2 });
    c.setProbe(6); // 0.15 + 0.16 cores a session: 5 sessions
    // Two sessions repeating frames (10 in 2 s): no third while that is in the last 10 s.
    const cores = 2;
    let cpu = 0;
    let t = 0;
    let machine = { busy: 0, total: 0 };
    /** One 2 s reading: our processes use `ours` cores, the whole machine `busy` cores. */
    const reading = (late: number, ours: number, busy: number) => {
      t += 2000;
      cpu += ours * 2;
      machine = { busy: machine.busy + busy * 2 * 100, total: machine.total + cores * 2 * 100 };
      c.observe({ sessions: 2, lateFrames: late, cpuSeconds: cpu }, t, machine);
    };
    reading(0, 0.6, 0.7);
    reading(10, 0.6, 0.7);
    expect(c.admit(2).ok).toBe(false);
    for (let i = 0; i < 5; i++) reading(10, 0.6, 0.7);
    expect(c.admit(2).ok).toBe(true); // 10 s clean
    // A passing spike of other work (one reading at 2 busy cores) refuses nobody...
    reading(10, 0.6, 2);
    expect(c.admit(2).ok).toBe(true);
    // ...but other work that keeps 1.4 cores for 10 s leaves no room for a third session.
    for (let i = 0; i < 5; i++) reading(10, 0.6, 2);
    const busy = c.admit(2);
    expect(busy.ok).toBe(false);
    if (!busy.ok) expect(busy.message).toMatch(/other work on the machine uses 1\.4/);
    expect(c.figures.otherCores).toBeCloseTo(1.4, 1);
  });

  it('validates its options', () => {
    expect(() => new Capacity({ stated: 0, headroom: 0.85 })).toThrow(RangeError);
    expect(() => new Capacity({ stated: 'auto', headroom: 1.5 })).toThrow(RangeError);
  });
});
