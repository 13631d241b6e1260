// The default pack's cascade stages (DESIGN.md): blueprint = coefficient keyframes from the
// plan and the idle motion; refine = full-resolution anchor renders; fill = every frame's
// coefficients at its own time (plan + idle + audio-driven mouth, within the negative
// storyline's limits) rendered by the warp graph; SR = off (the pack renders at output size).
import type { Anchor, FillRequest, FillStage, PackStages, RefineStage, RenderOutput, SuperResolutionStage } from '../../cascade/types.ts';
import { COEFFICIENT_NAMES } from './coefficients.ts';
import type { DefaultRenderer } from './renderer.ts';
import { CoefficientPlanner, PlannedBlueprint, type DefaultKeyframe, type PlanLayer } from './blueprint.ts';

const index = (name: string) => COEFFICIENT_NAMES.indexOf(name as (typeof COEFFICIENT_NAMES)[number]);
const JAW = index('jawOpen');
const SPREAD = index('lipSpread');
const PRESS = index('lipPress');

async function renderFrame(renderer: DefaultRenderer, coeffs: Float32Array, rgb: boolean): Promise<RenderOutput> {
  const size = { width: renderer.width, height: renderer.height };
  if (!rgb) return { ...size, i420: (await renderer.render(coeffs, { rgb: false })).i420 };
  const out = await renderer.render(coeffs);
  return { ...size, i420: out.i420, rgb: out.rgb };
}

class AnchorRefine implements RefineStage<DefaultKeyframe> {
  readonly name = 'refine';
  readonly latencyUs: number;
  readonly #renderer: DefaultRenderer;
  readonly #rgb: boolean;

  constructor(renderer: DefaultRenderer, latencyUs: number, rgb: boolean) {
    this.#renderer = renderer;
    this.latencyUs = latencyUs;
    this.#rgb = rgb;
  }

  async refine(keyframe: DefaultKeyframe): Promise<Anchor<DefaultKeyframe>> {
    let made: Promise<RenderOutput> | undefined;
    return { keyframe, frame: () => (made ??= renderFrame(this.#renderer, keyframe.coeffs, this.#rgb)) };
  }
}

/**
 * Largest coefficient change (in coefficient units; 1 = the motion's full range, e.g. 15
 * degrees of yaw) under which the last render is reused: well under a pixel of motion.
 */
const REUSE_EPSILON = 0.004;

class PlannedFill implements FillStage<DefaultKeyframe> {
  readonly name = 'fill';
  readonly latencyUs: number;
  readonly #renderer: DefaultRenderer;
  readonly #planner: CoefficientPlanner;
  readonly #rgb: boolean;
  #last: { coeffs: Float32Array; frame: RenderOutput } | null = null;
  reused = 0;

  constructor(renderer: DefaultRenderer, planner: CoefficientPlanner, latencyUs: number, rgb: boolean) {
    this.#renderer = renderer;
    this.#planner = planner;
    this.latencyUs = latencyUs;
    this.#rgb = rgb;
  }

  async fill(req: FillRequest<DefaultKeyframe>): Promise<RenderOutput> {
    const { coeffs, min, max } = this.#planner.at(req.ptsUs);
    coeffs[JAW] = Math.max(coeffs[JAW], req.mouth.jawOpen);
    if (SPREAD >= 0) coeffs[SPREAD] += req.mouth.lipSpread * 0.6;
    if (PRESS >= 0) coeffs[PRESS] = Math.max(coeffs[PRESS], req.mouth.lipPress);
    let sameAsAnchor = true;
    const anchor = req.window.first;
    for (let i = 0; i < coeffs.length; i++) {
      coeffs[i] = Math.min(max[i], Math.max(min[i], coeffs[i]));
      if (Math.abs(coeffs[i] - anchor.keyframe.coeffs[i]) > 1e-4) sameAsAnchor = false;
    }
    // Unchanged from the anchor (a still face in silence): no render needed.
    if (sameAsAnchor) return anchor.frame();
    // Idle life moves the face by fractions of a pixel per frame: reuse the last render
    // until the change adds up (a third to half of idle frames, none while talking).
    const last = this.#last;
    if (last && last.coeffs.every((v, i) => Math.abs(v - coeffs[i]) < REUSE_EPSILON)) {
      this.reused++;
      return last.frame;
    }
    const frame = await renderFrame(this.#renderer, coeffs, this.#rgb);
    this.#last = { coeffs, frame };
    return frame;
  }
}

class NoSuperResolution implements SuperResolutionStage {
  readonly name = 'sr';
  readonly latencyUs = 0;
  readonly enabled = false;
  async upscale(frame: RenderOutput): Promise<RenderOutput> {
    return frame;
  }
}

/** Declared render latency of one 512x512 frame on one core: p95 of bench/render.ts, rounded up. */
export const DEFAULT_RENDER_LATENCY_US = 20_000;

export interface DefaultStagesOptions {
  /** Seeds the idle motion (blinks, sway); the same seed renders the same video. */
  seed?: number;
  /** The director's plan, as coefficient targets and limits by name. */
  plan?: PlanLayer;
  /** False: only the mouth moves (no blinks, breathing, sway or planned expression). Default true. */
  life?: boolean;
  /** False: frames carry I420 only (what a live session encodes; skips the RGB copy). Default true. */
  rgb?: boolean;
}

export interface DefaultPackStages extends PackStages<DefaultKeyframe> {
  /** Swap the plan at run time (the director publishes new ones). */
  readonly planner: CoefficientPlanner;
}

export function createDefaultStages(renderer: DefaultRenderer, opts: DefaultStagesOptions = {}): DefaultPackStages {
  const planner = new CoefficientPlanner({ seed: opts.seed ?? 1, plan: opts.plan, life: opts.life });
  return {
    blueprint: new PlannedBlueprint(planner),
    refine: new AnchorRefine(renderer, DEFAULT_RENDER_LATENCY_US, opts.rgb ?? true),
    fill: new PlannedFill(renderer, planner, DEFAULT_RENDER_LATENCY_US, opts.rgb ?? true),
    sr: new NoSuperResolution(),
    width: renderer.width,
    height: renderer.height,
    planner,
  };
}
