// The degradation controller: late frames take the pack one step down its ladder per window, in order; a clean
// stretch takes it back up one step at a time; every step counted.
import { describe, expect, it } from 'vitest';
import { DegradeController } from '../../src/session/degrade.ts';

function ladder() {
  const levels: number[] = [];
  return { levels, control: { steps: ['idle-detail', 'head-half-rate'] as const, setLevel: (l: number) => levels.push(l) } };
}

describe('DegradeController', () => {
  it('steps down while frames are late, one step a window, and back up after 10 s clean', () => {
    const { levels, control } = ladder();
    let late = 0;
    const c = new DegradeController(control, () => late, 'test');
    let t = 0;
    const second = () => c.check((t += 1000));
    second();
    second();
    expect(c.figures.level).toBe(0);
    late += 3; // frames repeated
    second();
    expect(c.figures).toMatchObject({ level: 1, applied: ['idle-detail'], stepsDown: 1 });
    second(); // no new late frame in this window: stays
    expect(c.figures.level).toBe(1);
    late += 1;
    second();
    expect(c.figures).toMatchObject({ level: 2, applied: ['idle-detail', 'head-half-rate'], stepsDown: 2 });
    late += 5;
    second(); // already at the bottom of the ladder
    expect(c.figures.level).toBe(2);
    // Those late frames stay in the 2 s window for two checks; 10 s clean from the last check that saw them.
    for (let i = 0; i < 10; i++) second();
    expect(c.figures.level).toBe(2);
    second();
    expect(c.figures).toMatchObject({ level: 1, stepsUp: 1 });
    for (let i = 0; i < 10; i++) second();
    expect(c.figures).toMatchObject({ level: 0, applied: [], stepsUp: 2 });
    expect(levels).toEqual([1, 2, 1, 0]);
  });
});
