// The cascade's stage contracts (DESIGN.md): the scheduler knows only these; a model pack
// fills them. Every stage declares its latency; the session sums them against its budget.
import type { MouthDrive } from '../audio/mouth-features.ts';

export interface StageInfo {
  readonly name: string;
  /** Worst-case time the stage adds on the live path, microseconds. */
  readonly latencyUs: number;
}

/** A rendered picture; I420 because that is what the encoder takes. */
export interface RenderOutput {
  readonly width: number;
  readonly height: number;
  readonly i420: Uint8Array;
}

/** A blueprint keyframe: slow motion (pose, expression, gesture) at one media time. */
export interface Keyframe {
  readonly ptsUs: number;
  /** Pack-specific coefficients, mouth excluded (the fill drives the mouth from audio). */
  readonly coeffs: Float32Array;
}

/** A refined keyframe: the full-resolution render the fill works between. */
export interface Anchor {
  readonly keyframe: Keyframe;
  readonly frame: RenderOutput;
}

/** A first-last-frame window of the fill: both ends are anchors. */
export interface FillWindow {
  readonly index: number;
  readonly first: Anchor;
  readonly last: Anchor;
}

export interface BlueprintStage extends StageInfo {
  /** Keyframe spacing in frames; windows are [k*spacing, (k+1)*spacing). */
  readonly spacingFrames: number;
  /** The keyframe at a window boundary. Deterministic for a given plan. */
  keyframeAt(ptsUs: number): Keyframe;
}

export interface RefineStage extends StageInfo {
  refine(keyframe: Keyframe): Promise<Anchor>;
}

export interface FillRequest {
  readonly window: FillWindow;
  readonly ptsUs: number;
  /** 0 at the window's first anchor, 1 at its last. */
  readonly alpha: number;
  readonly mouth: MouthDrive;
  /** Degrade hint from QoS: render the cheapest acceptable frame. */
  readonly degrade: boolean;
}

export interface FillStage extends StageInfo {
  fill(req: FillRequest): Promise<RenderOutput>;
}

export interface SuperResolutionStage extends StageInfo {
  /** False when the pack has no SR or the output needs none; the stage is then skipped. */
  readonly enabled: boolean;
  upscale(frame: RenderOutput): Promise<RenderOutput>;
}

export interface PackStages {
  readonly blueprint: BlueprintStage;
  readonly refine: RefineStage;
  readonly fill: FillStage;
  readonly sr: SuperResolutionStage;
  readonly width: number;
  readonly height: number;
}

/** A frame ready for the pacer, stamped on the media timeline. */
export interface ScheduledFrame {
  readonly index: number;
  readonly ptsUs: number;
  readonly epoch: number;
  readonly frame: RenderOutput;
  /** Media time when rendering finished (for latency accounting). */
  readonly readyAtUs: number;
}
