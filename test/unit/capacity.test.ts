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
      c.observe({ sessions: 3, lateFrames: 0, cpuSeconds: cpu }, t * 2000, idleMachine(t, 4 * t));
      cpu += 3 * 0.6 * 2;
    }
    expect(c.figures.perSessionCores).toBeCloseTo(0.6, 1);
    expect(c.sessions).toBe(2);
  });

  it('refuses at the figure, and under it while the running sessions are late or the machine is busy', () => {
    const c = new Capacity({ stated: 4, headroom: 0.85, cores: 2 });
    expect(c.admit(3).ok).toBe(true);
    const full = c.admit(4);
    expect(full.ok).toBe(false);
    if (!full.ok) {
      expect(full.reason).toBe('at-capacity');
      expect(full.retryAfterS).toBeGreaterThan(0);
      expect(full.message).toMatch(/serves 4 sessions/);
    }
    // Two sessions repeating 5 frames a second between two readings: no third.
    c.observe({ sessions: 2, lateFrames: 0, cpuSeconds: 0 }, 0, idleMachine(0, 0));
    c.observe({ sessions: 2, lateFrames: 10, cpuSeconds: 1 }, 2000, idleMachine(100, 400));
    expect(c.admit(2).ok).toBe(false);
    // Clean again: admitted.
    c.observe({ sessions: 2, lateFrames: 10, cpuSeconds: 2 }, 4000, idleMachine(200, 800));
    expect(c.admit(2).ok).toBe(true);
    // A neighbour takes the cores (97% busy): refused even with nothing late.
    c.observe({ sessions: 2, lateFrames: 10, cpuSeconds: 3 }, 6000, idleMachine(200 + 388, 800 + 400));
    const busy = c.admit(2);
    expect(busy.ok).toBe(false);
    if (!busy.ok) expect(busy.message).toMatch(/busy/);
  });

  it('validates its options', () => {
    expect(() => new Capacity({ stated: 0, headroom: 0.85 })).toThrow(RangeError);
    expect(() => new Capacity({ stated: 'auto', headroom: 1.5 })).toThrow(RangeError);
  });
});
