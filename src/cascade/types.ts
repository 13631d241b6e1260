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
  /** Interleaved RGB, when the pack has it at no extra cost (offline measurement uses it). */
  readonly rgb?: Uint8Array;
}

/** A blueprint keyframe: slow motion (pose, expression, gesture) at one media time. */
export interface Keyframe {
  readonly ptsUs: number;
  /** Pack-specific coefficients, mouth excluded (the fill drives the mouth from audio). */
  readonly coeffs: Float32Array;
}

/** A refined keyframe: what the fill works between. */
export interface Anchor<K extends Keyframe = Keyframe> {
  readonly keyframe: K;
  /**
   * The keyframe's full-resolution render, made on first use and kept: a fill that needs no change from its anchor
   * (a still face in silence) shows it; while the face moves every frame is filled and anchors cost nothing.
   */
  frame(): Promise<RenderOutput>;
}

/** A first-last-frame window of the fill: both ends are anchors. */
export interface FillWindow<K extends Keyframe = Keyframe> {
  readonly index: number;
  readonly first: Anchor<K>;
  readonly last: Anchor<K>;
}

/** K: the pack's keyframe type (a pack may carry limits or planned events in it). */
export interface BlueprintStage<K extends Keyframe = Keyframe> extends StageInfo {
  /** Keyframe spacing in frames; windows are [k*spacing, (k+1)*spacing). */
  readonly spacingFrames: number;
  /** The keyframe at a window boundary. Deterministic for a given plan. */
  keyframeAt(ptsUs: number): K;
}

export interface RefineStage<K extends Keyframe = Keyframe> extends StageInfo {
  refine(keyframe: K): Promise<Anchor<K>>;
}

export interface FillRequest<K extends Keyframe = Keyframe> {
  readonly window: FillWindow<K>;
  readonly ptsUs: number;
  /** 0 at the window's first anchor, 1 at its last. */
  readonly alpha: number;
  readonly mouth: MouthDrive;
  /** Degrade hint from QoS: render the cheapest acceptable frame. */
  readonly degrade: boolean;
}

export interface FillStage<K extends Keyframe = Keyframe> extends StageInfo {
  fill(req: FillRequest<K>): Promise<RenderOutput>;
  /** The stream ended: the stage lets go of what it kept for it (the scheduler calls it once, on close). */
  close?(): void;
}

export interface SuperResolutionStage extends StageInfo {
  /** False when the pack has no SR or the output needs none; the stage is then skipped. */
  readonly enabled: boolean;
  upscale(frame: RenderOutput): Promise<RenderOutput>;
}

/**
 * A pack's degradation ladder: what it gives up, cheapest loss first, when its frames are late. Level k applies the
 * first k steps; the session's controller (session/degrade.ts) moves the level with the pacer's late frames.
 */
export interface DegradeControl {
  readonly steps: readonly string[];
  setLevel(level: number): void;
}

/**
 * The director's plan as the blueprint stage reads it: what it says at one media time. Made by director/
 * conditioning.ts (conditioningLayer), read by a pack's blueprint; coefficient names are the pack-neutral ones the
 * director conditions (a pack ignores names it does not render).
 */
export interface PlanSample {
  /** Offsets from neutral by coefficient name (expression, gaze, gestures). */
  readonly targets: Readonly<Partial<Record<string, number>>>;
  /** Inclusive [min, max] per coefficient: the negative storyline. */
  readonly limits: Readonly<Partial<Record<string, readonly [number, number]>>>;
  /** Largest change per second per coefficient, for the final trajectory. */
  readonly rateLimits?: Readonly<Partial<Record<string, number>>>;
  /** 0..1: how much idle head motion the plan wants (a "keep still" plan calms it). */
  readonly motionScale?: number;
}

/** The plan over media time; undefined where nothing is planned (the pack's idle motion alone). */
export type PlanLayer = (ptsUs: number) => PlanSample | undefined;

/** One pack's stages; the keyframe type K is the pack's own, opaque to the scheduler. */
export interface PackStages<K extends Keyframe = Keyframe> {
  readonly blueprint: BlueprintStage<K>;
  readonly refine: RefineStage<K>;
  readonly fill: FillStage<K>;
  readonly sr: SuperResolutionStage;
  readonly width: number;
  readonly height: number;
  /** What the pack can give up under load; none when absent. */
  readonly degrade?: DegradeControl;
  /** Takes the director's plan (null: none); absent when the pack plans nothing (it then ignores directions). */
  setPlan?(plan: PlanLayer | null): void;
}

/** How often a pack renders the slow layers (head and torso): every frame, or every other one. */
export type HeadRate = 'full' | 'half';

/** What each session asks of the pack for its stages. */
export interface SessionStageOptions {
  /** Seeds the idle motion (blinks, sway). */
  readonly seed: number;
  /** False: only the mouth moves (no idle motion, no planned expression). */
  readonly life?: boolean;
  readonly headRate?: HeadRate;
}

/**
 * An avatar loaded by a pack: what the sessions on it share (its renderer, in the pack's own threads) and what each
 * of them gets (its own stages). The session layer uses a pack only through this and PackStages.
 */
export interface PackAvatar {
  /** One session's stages on this avatar (its own plan and idle motion; the renderer shared). */
  stages(opts: SessionStageOptions): PackStages;
  /** The sessions sharing this avatar may use up to `threads` render threads; the pack adds them as it can. */
  growTo(threads: number): Promise<void>;
  /** CPU ms per frame of a talking face over `frames` frames (the capacity's render probe); null where unknown. */
  probe(frames: number): Promise<number | null>;
  /** Where it renders, on how many threads, and the CPU seconds those have used. */
  readonly figures: { readonly thread: 'worker' | 'main'; readonly threads: number; readonly cpuS: number | null };
  close(): Promise<void>;
}

/** A model pack: loads an enrolled avatar (A: the pack's enrollment) for sessions. */
export interface AvatarPack<A> {
  readonly name: string;
  load(avatar: A): Promise<PackAvatar>;
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
