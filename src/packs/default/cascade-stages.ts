// The default pack's cascade stages (DESIGN.md): blueprint = coefficient keyframes from the
// plan and the idle motion; refine = full-resolution anchor renders; fill = every frame's
// coefficients at its own time (plan + idle + audio-driven mouth, within the negative
// storyline's limits) rendered by the warp graph; SR = off (the pack renders at output size).
import type { Anchor, DegradeControl, FillRequest, FillStage, HeadRate, PackStages, RefineStage, RenderOutput, SuperResolutionStage } from '../../cascade/types.ts';
import { COEFFICIENT_NAMES } from './coefficients.ts';
import type { DefaultRenderer, RenderOptions } from './renderer.ts';
import { FRAME_US } from '../../media/types.ts';
import { CoefficientPlanner, PlannedBlueprint, type DefaultKeyframe, type PlanLayer } from './blueprint.ts';

const index = (name: string) => COEFFICIENT_NAMES.indexOf(name as (typeof COEFFICIENT_NAMES)[number]);
const JAW = index('jawOpen');
const SPREAD = index('lipSpread');
const PRESS = index('lipPress');

async function renderFrame(renderer: DefaultRenderer, coeffs: Float32Array, rgb: boolean, opts: RenderOptions = {}): Promise<RenderOutput> {
  const size = { width: renderer.width, height: renderer.height };
  if (!rgb) return { ...size, i420: (await renderer.render(coeffs, { ...opts, rgb: false })).i420 };
  const out = await renderer.render(coeffs, { ...opts, rgb: true });
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
/** The same with idle detail reduced (degradation step 1): about a pixel; idle motion re-renders less often. */
const REUSE_EPSILON_REDUCED = 0.012;

/**
 * HeadRate (cascade/types.ts), here: 'full' renders the head and torso layers every frame; 'half' every other frame,
 * the eye and mouth windows still every frame over the last whole frame (about 0.6 of the cost; the head moves at
 * 12.5 fps, the mouth at 25). Under QoS pressure (a frame due at the pacer's next tick) a frame is windows-only
 * either way.
 */
export type { HeadRate } from '../../cascade/types.ts';

class PlannedFill implements FillStage<DefaultKeyframe> {
  readonly name = 'fill';
  readonly latencyUs: number;
  readonly #renderer: DefaultRenderer;
  readonly #planner: CoefficientPlanner;
  readonly #rgb: boolean;
  readonly #stream: number;
  #last: { coeffs: Float32Array; frame: RenderOutput } | null = null;
  headRate: HeadRate;
  /** The head and torso layers at half resolution (the ladder's resolution step). */
  halfRes = false;
  reuseEpsilon = REUSE_EPSILON;
  reused = 0;
  /** Frames rendered as windows only (the head layer held from the last whole frame). */
  windowsOnly = 0;

  constructor(renderer: DefaultRenderer, planner: CoefficientPlanner, latencyUs: number, rgb: boolean, headRate: HeadRate) {
    this.#renderer = renderer;
    this.#planner = planner;
    this.latencyUs = latencyUs;
    this.#rgb = rgb;
    this.headRate = headRate;
    this.#stream = renderer.newStream();
  }

  close(): void {
    this.#renderer.endStream(this.#stream);
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
    if (last && last.coeffs.every((v, i) => Math.abs(v - coeffs[i]) < this.reuseEpsilon)) {
      this.reused++;
      return last.frame;
    }
    const odd = Math.round(req.ptsUs / FRAME_US) % 2 === 1;
    const windowsOnly = req.degrade || (this.headRate === 'half' && odd);
    if (windowsOnly) this.windowsOnly++;
    const frame = await renderFrame(this.#renderer, coeffs, this.#rgb, { stream: this.#stream, windowsOnly, halfRes: this.halfRes });
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
  /** How often the head and torso layers are rendered (HeadRate); default 'full'. */
  headRate?: HeadRate;
}

export interface DefaultPackStages extends PackStages<DefaultKeyframe> {
  readonly fill: PlannedFill;
  readonly degrade: DegradeControl;
  setPlan(plan: PlanLayer | null): void;
}

/**
 * The default pack's degradation ladder: 1. idle detail (idle motion re-rendered only once it adds up to about a
 * pixel); 2. the head layer at half rate (windows-only frames in between: the mouth and eyes stay at 25 fps);
 * 3. resolution: the head and torso layers at half resolution (the mouth and eyes windows stay full; a whole frame
 * costs ~0.8 of one at full resolution, bench/render-profile.ts).
 */
export const DEFAULT_DEGRADE_STEPS = ['idle-detail', 'head-half-rate', 'head-half-resolution'] as const;

function degradeControl(fill: PlannedFill, baseHeadRate: HeadRate): DegradeControl {
  return {
    steps: DEFAULT_DEGRADE_STEPS,
    setLevel(level: number) {
      fill.reuseEpsilon = level >= 1 ? REUSE_EPSILON_REDUCED : REUSE_EPSILON;
      fill.headRate = level >= 2 ? 'half' : baseHeadRate;
      fill.halfRes = level >= 3;
    },
  };
}

export function createDefaultStages(renderer: DefaultRenderer, opts: DefaultStagesOptions = {}): DefaultPackStages {
  const planner = new CoefficientPlanner({ seed: opts.seed ?? 1, plan: opts.plan, life: opts.life });
  const fill = new PlannedFill(renderer, planner, DEFAULT_RENDER_LATENCY_US, opts.rgb ?? true, opts.headRate ?? 'full');
  return {
    blueprint: new PlannedBlueprint(planner),
    refine: new AnchorRefine(renderer, DEFAULT_RENDER_LATENCY_US, opts.rgb ?? true),
    fill,
    degrade: degradeControl(fill, opts.headRate ?? 'full'),
    sr: new NoSuperResolution(),
    width: renderer.width,
    height: renderer.height,
    setPlan: (plan) => {
      planner.plan = plan;
    },
  };
}
