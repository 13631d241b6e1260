// The default pack's cascade stages (DESIGN.md): blueprint = coefficient keyframes,
// refine = full-resolution anchor renders, fill = audio-driven mouth between anchors,
// SR = off (the default pack renders at output size; see models/README.md).
import type { Anchor, BlueprintStage, FillRequest, FillStage, Keyframe, PackStages, RefineStage, RenderOutput, SuperResolutionStage } from '../../cascade/types.ts';
import { coefficientIndex, neutralCoefficients } from './coefficients.ts';
import type { DefaultRenderer } from './renderer.ts';

const JAW = coefficientIndex('jawOpen');
const SPREAD = coefficientIndex('lipSpread');

/** Keyframes every 10 frames (400 ms); the face is otherwise still in this version. */
class StillBlueprint implements BlueprintStage {
  readonly name = 'blueprint';
  readonly latencyUs = 0;
  readonly spacingFrames = 10;
  readonly #neutral = neutralCoefficients();

  keyframeAt(ptsUs: number): Keyframe {
    return { ptsUs, coeffs: this.#neutral };
  }
}

class AnchorRefine implements RefineStage {
  readonly name = 'refine';
  readonly latencyUs: number;
  readonly #renderer: DefaultRenderer;

  constructor(renderer: DefaultRenderer, latencyUs: number) {
    this.#renderer = renderer;
    this.latencyUs = latencyUs;
  }

  async refine(keyframe: Keyframe): Promise<Anchor> {
    const out = await this.#renderer.render(keyframe.coeffs);
    return { keyframe, frame: { width: this.#renderer.width, height: this.#renderer.height, i420: out.i420 } };
  }
}

class MouthFill implements FillStage {
  readonly name = 'fill';
  readonly latencyUs: number;
  readonly #renderer: DefaultRenderer;

  constructor(renderer: DefaultRenderer, latencyUs: number) {
    this.#renderer = renderer;
    this.latencyUs = latencyUs;
  }

  async fill(req: FillRequest): Promise<RenderOutput> {
    const { first, last } = req.window;
    const coeffs = new Float32Array(first.keyframe.coeffs.length);
    let sameAsAnchor = true;
    for (let i = 0; i < coeffs.length; i++) {
      coeffs[i] = first.keyframe.coeffs[i] + (last.keyframe.coeffs[i] - first.keyframe.coeffs[i]) * req.alpha;
      if (coeffs[i] !== first.keyframe.coeffs[i]) sameAsAnchor = false;
    }
    coeffs[JAW] = Math.max(coeffs[JAW], req.mouth.jawOpen);
    coeffs[SPREAD] += req.mouth.lipSpread * 0.6;
    // A closed mouth on an unchanged pose is the anchor itself: no render needed.
    if (sameAsAnchor && req.mouth.jawOpen < 0.02 && Math.abs(req.mouth.lipSpread) < 0.02) return first.frame;
    const out = await this.#renderer.render(coeffs);
    return { width: this.#renderer.width, height: this.#renderer.height, i420: out.i420 };
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

/** Declared render latency of one 512x512 frame on one core (measured in bench/). */
export const DEFAULT_RENDER_LATENCY_US = 30_000;

export function createDefaultStages(renderer: DefaultRenderer): PackStages {
  return {
    blueprint: new StillBlueprint(),
    refine: new AnchorRefine(renderer, DEFAULT_RENDER_LATENCY_US),
    fill: new MouthFill(renderer, DEFAULT_RENDER_LATENCY_US),
    sr: new NoSuperResolution(),
    width: renderer.width,
    height: renderer.height,
  };
}
