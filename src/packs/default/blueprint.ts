// The default pack's blueprint: coefficient keyframes planned ahead from the director's
// plan (through a PlanLayer) and the idle motion, with the negative storyline's limits.
// A warp renderer can render any instant exactly, so the fill re-evaluates the same
// layers at each frame's own time; keyframes are what anchors are rendered from.
import type { BlueprintStage, Keyframe, PlanLayer } from '../../cascade/types.ts';
import { COEFFICIENTS, COEFFICIENT_NAMES } from './coefficients.ts';
import { IdleMotion, type Layer } from './idle.ts';

export type { PlanLayer, PlanSample } from '../../cascade/types.ts';

export interface DefaultKeyframe extends Keyframe {
  readonly min: Float32Array;
  readonly max: Float32Array;
}

/** Coefficients that change slowly: plan targets are smoothed over this window. */
const SMOOTH_US = 300_000;
const SMOOTH_STEPS = 6;
const SLOW = new Set(['smile', 'browRaise', 'browFrown']);

export class CoefficientPlanner {
  readonly idle: IdleMotion;
  #plan: PlanLayer | null;
  readonly #index = new Map(COEFFICIENT_NAMES.map((n, i) => [n as string, i]));

  readonly #life: boolean;

  /** life: false keeps the face still apart from the mouth (no idle motion, no plan). */
  constructor(opts: { seed: number; plan?: PlanLayer; life?: boolean }) {
    this.idle = new IdleMotion({ seed: opts.seed });
    this.#plan = opts.plan ?? null;
    this.#life = opts.life ?? true;
  }

  set plan(plan: PlanLayer | null) {
    this.#plan = this.#life ? plan : null;
  }

  /** Full coefficients (no mouth) and limits at a media time. */
  at(ptsUs: number): { coeffs: Float32Array; min: Float32Array; max: Float32Array } {
    const coeffs = Float32Array.from(COEFFICIENTS, (c) => c.neutral);
    const min = Float32Array.from(COEFFICIENTS, (c) => c.min);
    const max = Float32Array.from(COEFFICIENTS, (c) => c.max);
    const sample = this.#plan?.(ptsUs);
    if (this.#life) this.#add(coeffs, this.idle.at(ptsUs, sample?.motionScale ?? 1));
    if (sample) {
      // Slow targets (expression) ease in over SMOOTH_US so shots blend, never jump.
      const eased: Layer = {};
      for (const [name, v] of Object.entries(sample.targets)) {
        if (v === undefined) continue;
        if (!SLOW.has(name)) {
          eased[name] = v;
          continue;
        }
        let sum = 0;
        for (let k = 0; k < SMOOTH_STEPS; k++) sum += this.#plan?.(ptsUs - (k * SMOOTH_US) / SMOOTH_STEPS)?.targets[name] ?? 0;
        eased[name] = sum / SMOOTH_STEPS;
      }
      this.#add(coeffs, eased);
      for (const [name, range] of Object.entries(sample.limits)) {
        const i = this.#index.get(name);
        if (i === undefined || !range) continue;
        min[i] = Math.max(min[i], range[0]);
        max[i] = Math.min(max[i], range[1]);
      }
    }
    return { coeffs, min, max };
  }

  #add(into: Float32Array, layer: Layer): void {
    for (const [name, v] of Object.entries(layer)) {
      const i = this.#index.get(name);
      // Names the pack does not render (yet) are ignored, not errors: plans outlive packs.
      if (i !== undefined && v !== undefined) into[i] += v;
    }
  }
}

export class PlannedBlueprint implements BlueprintStage<DefaultKeyframe> {
  readonly name = 'blueprint';
  readonly latencyUs = 0;
  readonly spacingFrames = 10;
  readonly #planner: CoefficientPlanner;

  constructor(planner: CoefficientPlanner) {
    this.#planner = planner;
  }

  keyframeAt(ptsUs: number): DefaultKeyframe {
    return { ptsUs, ...this.#planner.at(ptsUs) };
  }
}
