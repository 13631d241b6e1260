// Published plans on the media timeline. A newer plan replaces older ones from its startUs on; beyond every
// plan the newest plan's last shot holds (the blueprint never gets "nothing" once a plan exists). Bounded:
// the oldest plans are dropped (policy: drop-oldest).
import type { Plan, Shot } from './types.ts';

export class PlanTimeline {
  #plans: Plan[] = [];
  readonly #max: number;

  constructor(maxPlans: number) {
    this.#max = maxPlans;
  }

  get latest(): Plan | undefined {
    return this.#plans[this.#plans.length - 1];
  }

  /** End of what the plans cover. */
  get coverageEndUs(): number {
    return this.#plans.reduce((m, p) => Math.max(m, p.endUs), 0);
  }

  publish(plan: Plan): void {
    this.#plans.push(plan);
    if (this.#plans.length > this.#max) this.#plans.splice(0, this.#plans.length - this.#max);
  }

  planAt(ptsUs: number): Plan | undefined {
    for (let i = this.#plans.length - 1; i >= 0; i--) {
      const p = this.#plans[i]!;
      if (p.startUs <= ptsUs && ptsUs < p.endUs) return p;
    }
    return undefined;
  }

  shotAt(ptsUs: number): Shot | undefined {
    const plan = this.planAt(ptsUs);
    if (plan) return shotIn(plan, ptsUs);
    // Beyond every plan: hold the last shot of the plan that reaches furthest. Before every plan: nothing.
    let far: Plan | undefined;
    for (const p of this.#plans) if (!far || p.endUs >= far.endUs) far = p;
    if (far && ptsUs >= far.endUs) return far.shots[far.shots.length - 1];
    return undefined;
  }

  /** Barge-in: nothing planned at or after atUs stands; plans are cut there (same versions, shorter). */
  truncate(atUs: number): void {
    const out: Plan[] = [];
    for (const p of this.#plans) {
      if (p.endUs <= atUs) out.push(p);
      else if (p.startUs < atUs) {
        const shots: Shot[] = p.shots
          .filter((s) => s.startUs < atUs)
          .map((s) => (s.endUs > atUs ? Object.freeze({ ...s, endUs: atUs, gestures: s.gestures.filter((g) => g.atUs < atUs) }) : s));
        out.push(Object.freeze({ ...p, endUs: atUs, shots }));
      }
    }
    this.#plans = out;
  }
}

function shotIn(plan: Plan, ptsUs: number): Shot | undefined {
  let lo = 0;
  let hi = plan.shots.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = plan.shots[mid]!;
    if (ptsUs < s.startUs) hi = mid - 1;
    else if (ptsUs >= s.endUs) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** Shots in order, contiguous, covering [startUs, endUs) exactly. */
export function coversWindow(plan: Plan): string | null {
  let at = plan.startUs;
  for (const [i, s] of plan.shots.entries()) {
    if (s.startUs !== at) return `shot ${i} starts at ${s.startUs}, expected ${at}`;
    for (const g of s.gestures) if (g.atUs < s.startUs || g.atUs >= s.endUs) return `shot ${i} has a gesture outside it`;
    at = s.endUs;
  }
  return at === plan.endUs ? null : `shots end at ${at}, the plan at ${plan.endUs}`;
}
