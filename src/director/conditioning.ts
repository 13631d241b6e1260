// Shot -> default-pack conditioning, by coefficient NAME: the targets the blueprint stage steers toward at a media
// time, and the limits (the negative storyline) it clamps the final vector to, plus rate limits for smoothness.
// Pure and deterministic: the same shot and time give the same numbers.
//
// Conventions (the default pack's basis must agree; flip a sign there, not here): +headYaw turns the face toward
// the image's right, +headPitch lifts the chin, +headRoll tilts the head clockwise in the image; +-1 = +-15 deg.
// jawOpen / lipSpread / lipPress targets are rest values: the fill adds the audio-driven mouth, and the limits apply
// to the sum. Blinks are the scheduler's (targets 0 = eyes open).
import type { Negative, PlanSource, Shot } from './types.ts';
import type { PlanLayer } from '../cascade/types.ts';

export const CONDITIONED_COEFFICIENTS = ['jawOpen', 'lipSpread', 'lipPress', 'smile', 'blinkLeft', 'blinkRight', 'browRaise', 'browFrown', 'headYaw', 'headPitch', 'headRoll', 'neckSway', 'breathe'] as const;
export type ConditionedCoefficient = (typeof CONDITIONED_COEFFICIENTS)[number];

export const COEFFICIENT_RANGES: Readonly<Record<ConditionedCoefficient, readonly [number, number]>> = Object.freeze({
  jawOpen: [0, 1], lipSpread: [-1, 1], lipPress: [0, 1], smile: [0, 1], blinkLeft: [0, 1], blinkRight: [0, 1], browRaise: [0, 1],
  browFrown: [0, 1], headYaw: [-1, 1], headPitch: [-1, 1], headRoll: [-1, 1], neckSway: [-1, 1], breathe: [0, 1],
});

export interface Conditioning {
  readonly targets: Readonly<Record<ConditionedCoefficient, number>>;
  /** From the negative storyline: clamp the final coefficient to [min, max]. */
  readonly limits: Readonly<Partial<Record<ConditionedCoefficient, readonly [number, number]>>>;
  /** Largest change per second, in coefficient units, for the final trajectory. */
  readonly rateLimits?: Readonly<Partial<Record<ConditionedCoefficient, number>>>;
  /** 0..1: how much idle head motion the shot wants (for a pack that runs its own idle layer). */
  readonly motionScale: number;
}

export interface ConditioningOptions {
  /** The shot before: its static pose and expression fade out over the first 400 ms of this one. */
  readonly previous?: Shot;
  /** The shot after: its gestures that start before this shot ends are played into it. */
  readonly next?: Shot;
  /**
   * Include idle motion (slow sway, neck, breathing) in the targets (default true). A pack with its own idle layer
   * passes false: the targets are then offsets from neutral (expression, gaze, gestures) and it scales its idle
   * motion by `motionScale`.
   */
  readonly idle?: boolean;
}

/** What the negative storyline turns into. */
export const NEGATIVE_LIMITS: Readonly<Record<Negative, { limits?: Partial<Record<ConditionedCoefficient, readonly [number, number]>>; rate?: Partial<Record<ConditionedCoefficient, number>> }>> = Object.freeze({
  'look-away': { limits: { headYaw: [-0.15, 0.15], headPitch: [-0.15, 0.15] } },
  smile: { limits: { smile: [0, 0.05] } },
  frown: { limits: { browFrown: [0, 0.05] } },
  'exaggerated-mouth': { limits: { jawOpen: [0, 0.7], lipSpread: [-0.7, 0.7] } },
  // 0.6 units/s: a shake (2.5 Hz) shrinks to a twitch of 0.04; gaze sweeps still pass.
  'head-shake': { rate: { headYaw: 0.6 } },
  // 2.5 units/s = 37 deg/s: slow sways pass, a nod (2 Hz) is held to about 0.2 (3 deg).
  'fast-head-motion': { rate: { headYaw: 2.5, headPitch: 2.5, headRoll: 2.5, neckSway: 2.5 } },
  // A floor on idle motion (below) rather than a limit.
  'frozen-face': {},
  // Eyes are only ever closed by the scheduler's blinks; targets keep them open.
  'closed-eyes': {},
});

interface Expression {
  smile: number;
  browRaise: number;
  browFrown: number;
  lipPress: number;
  /** Static head pitch offset. */
  pitch: number;
  /** Motion gain. */
  gain: number;
}

/** At intensity 1. Sad: corners down (smile 0), inner brows up and drawn together, head a little down. */
const EXPRESSIONS: Readonly<Record<Shot['emotion'], Expression>> = Object.freeze({
  neutral: { smile: 0.05, browRaise: 0, browFrown: 0, lipPress: 0, pitch: 0, gain: 1 },
  happy: { smile: 0.75, browRaise: 0.15, browFrown: 0, lipPress: 0, pitch: 0.03, gain: 1.1 },
  sad: { smile: 0, browRaise: 0.3, browFrown: 0.4, lipPress: 0.1, pitch: -0.18, gain: 0.6 },
  angry: { smile: 0, browRaise: 0, browFrown: 0.85, lipPress: 0.35, pitch: -0.05, gain: 1 },
  surprised: { smile: 0.1, browRaise: 0.85, browFrown: 0, lipPress: 0, pitch: 0.08, gain: 1.1 },
  serious: { smile: 0, browRaise: 0, browFrown: 0.2, lipPress: 0.1, pitch: 0, gain: 0.5 },
  calm: { smile: 0.15, browRaise: 0, browFrown: 0, lipPress: 0, pitch: 0, gain: 0.6 },
  excited: { smile: 0.65, browRaise: 0.35, browFrown: 0, lipPress: 0, pitch: 0.05, gain: 1.4 },
});

const HEAD_SCALE: Readonly<Record<Shot['headMotion'], number>> = Object.freeze({ still: 0.1, subtle: 0.5, lively: 1, nodding: 0.6, shaking: 0.6 });

const TWO_PI = 2 * Math.PI;
const FADE_US = 400_000;

export function conditionShot(shot: Shot, ptsUs: number, opts: ConditioningOptions = {}): Conditioning {
  const t = ptsUs / 1e6;
  const { limits, rate } = limitsOf(shot.negative.avoid);
  const idle = opts.idle ?? true;
  const staticPart = (s: Shot) => staticTargets(s, t, idle);
  const here = staticPart(shot);
  // Fade from the previous shot's static pose and expression (gaze, emotion) over the first 400 ms.
  let base = here;
  if (opts.previous && ptsUs - shot.startUs < FADE_US) {
    const w = smoothstep((ptsUs - shot.startUs) / FADE_US);
    const before = staticPart(opts.previous);
    base = Object.fromEntries(CONDITIONED_COEFFICIENTS.map((k) => [k, before[k] + (here[k] - before[k]) * w])) as Record<ConditionedCoefficient, number>;
  }
  const targets = { ...base };
  const amp = motionAmplitudeOf(shot);
  const gestures = [...shot.gestures, ...(opts.previous?.gestures ?? []), ...(opts.next?.gestures ?? [])];
  for (const g of gestures) addGesture(targets, g, ptsUs, shot.motionAmplitude, rate);
  if (shot.headMotion === 'nodding') targets.headPitch += capRate(amp * 0.12, 1.5, rate.headPitch) * Math.sin(TWO_PI * 1.5 * t);
  if (shot.headMotion === 'shaking') targets.headYaw += capRate(amp * 0.12, 2, rate.headYaw) * Math.sin(TWO_PI * 2 * t);
  for (const k of CONDITIONED_COEFFICIENTS) {
    const [lo, hi] = COEFFICIENT_RANGES[k];
    const lim = limits[k];
    let v = Math.max(lo, Math.min(hi, targets[k]));
    if (lim) v = Math.max(lim[0], Math.min(lim[1], v));
    targets[k] = v;
  }
  // A subtle shot at a normal amplitude keeps the pack's idle motion as it is (about 1); still shots calm it.
  const motionScale = Math.min(1, amp / 0.3);
  return Object.freeze({ targets: Object.freeze(targets), limits: Object.freeze(limits), motionScale, ...(Object.keys(rate).length ? { rateLimits: Object.freeze(rate) } : {}) });
}

/**
 * The conditioning of whatever shot a plan source has in force, as a function of media time (what the default
 * pack's planner takes as its plan layer). Neighbouring shots are looked up for the fade-in and for gestures
 * that straddle a cut. Undefined before the first plan.
 */
/** The plan as the cascade's blueprint reads it (cascade/types.ts PlanLayer), with the director's own fields. */
export function conditioningLayer(source: PlanSource, opts: Pick<ConditioningOptions, 'idle'> = {}): PlanLayer & ((ptsUs: number) => Conditioning | undefined) {
  return (ptsUs: number) => {
    const shot = source.shotAt(ptsUs);
    if (!shot) return undefined;
    const prev = source.shotAt(shot.startUs - 1);
    const next = source.shotAt(shot.endUs);
    return conditionShot(shot, ptsUs, { ...opts, previous: prev !== shot ? prev : undefined, next: next !== shot ? next : undefined });
  };
}

export function limitsOf(avoid: readonly Negative[]): { limits: Partial<Record<ConditionedCoefficient, [number, number]>>; rate: Partial<Record<ConditionedCoefficient, number>> } {
  const limits: Partial<Record<ConditionedCoefficient, [number, number]>> = {};
  const rate: Partial<Record<ConditionedCoefficient, number>> = {};
  for (const n of avoid) {
    const spec = NEGATIVE_LIMITS[n];
    for (const [k, [lo, hi]] of Object.entries(spec.limits ?? {}) as [ConditionedCoefficient, readonly [number, number]][]) {
      const cur = limits[k];
      limits[k] = cur ? [Math.max(cur[0], lo), Math.min(cur[1], hi)] : [lo, hi];
    }
    for (const [k, r] of Object.entries(spec.rate ?? {}) as [ConditionedCoefficient, number][]) rate[k] = Math.min(rate[k] ?? Infinity, r);
  }
  return { limits, rate };
}

function motionAmplitudeOf(shot: Shot): number {
  const floor = shot.negative.avoid.includes('frozen-face') ? 0.15 : 0;
  return Math.max(floor, shot.motionAmplitude * EXPRESSIONS[shot.emotion].gain * HEAD_SCALE[shot.headMotion]);
}

/** Expression, gaze and (when asked) idle motion: everything but gestures. */
function staticTargets(shot: Shot, t: number, idle: boolean): Record<ConditionedCoefficient, number> {
  const e = EXPRESSIONS[shot.emotion];
  const k = 0.3 + 0.7 * shot.intensity;
  const amp = motionAmplitudeOf(shot);
  const { rate } = limitsOf(shot.negative.avoid);
  // Idle sway: incommensurate slow sines, so it never visibly repeats; phases fixed (determinism).
  const sway = idle ? capRate(amp * 0.25, 0.31, rate.headYaw) : 0;
  const still = idle ? 1 : 0;
  const gazeGain = 0.6 + 0.4 * shot.motionAmplitude;
  const gaze = gazeOffsets(shot.gaze, t, gazeGain, rate);
  return {
    jawOpen: 0,
    lipSpread: 0,
    lipPress: e.lipPress * k,
    smile: e.smile * k,
    blinkLeft: 0,
    blinkRight: 0,
    browRaise: e.browRaise * k,
    browFrown: e.browFrown * k,
    headYaw: gaze.yaw + sway * ((Math.sin(TWO_PI * 0.13 * t + 0.7) + 0.5 * Math.sin(TWO_PI * 0.31 * t + 2.1)) / 1.5),
    headPitch: gaze.pitch + e.pitch * k + still * capRate(amp * 0.15, 0.17, rate.headPitch) * Math.sin(TWO_PI * 0.17 * t + 1.3),
    headRoll: still * capRate(amp * 0.1, 0.09, rate.headRoll) * Math.sin(TWO_PI * 0.09 * t + 0.4),
    neckSway: still * capRate(amp * 0.3, 0.11, rate.neckSway) * Math.sin(TWO_PI * 0.11 * t + 2.9),
    breathe: still * (0.5 + 0.5 * Math.sin(TWO_PI * (shot.emotion === 'excited' ? 0.33 : shot.emotion === 'calm' || shot.emotion === 'sad' ? 0.2 : 0.25) * t)),
  };
}

function gazeOffsets(gaze: Shot['gaze'], t: number, gain: number, rate: Partial<Record<ConditionedCoefficient, number>>): { yaw: number; pitch: number } {
  switch (gaze) {
    case 'camera':
      return { yaw: 0, pitch: 0 };
    case 'away-left':
      return { yaw: -0.45 * gain, pitch: 0 };
    case 'away-right':
      return { yaw: 0.45 * gain, pitch: 0 };
    case 'up':
      return { yaw: 0.1 * gain, pitch: 0.3 * gain };
    case 'down':
      return { yaw: 0, pitch: -0.3 * gain };
    case 'around':
      // A slow sweep left and right, well beyond the +-0.15 a "do not look away" allows.
      return { yaw: capRate(0.5 * gain, 0.12, rate.headYaw) * Math.sin(TWO_PI * 0.12 * t), pitch: capRate(0.12 * gain, 0.07, rate.headPitch) * Math.sin(TWO_PI * 0.07 * t + 1) };
  }
}

/** Gesture curves: nod = pitch at ~2 Hz over ~0.8 s, peaking down at atUs; shake = yaw at 2.5 Hz over 1 s; tilt = a roll bump. */
function addGesture(targets: Record<ConditionedCoefficient, number>, g: Shot['gestures'][number], ptsUs: number, amp: number, rate: Partial<Record<ConditionedCoefficient, number>>): void {
  const dt = (ptsUs - g.atUs) / 1e6;
  // A planned gesture stays visible on a calm face: the shot's amplitude scales it by 0.6..1 only.
  const scale = g.strength * (0.6 + 0.4 * Math.min(1, amp / 0.5));
  switch (g.kind) {
    case 'nod':
      if (Math.abs(dt) < 0.4) targets.headPitch -= capRate(0.35 * scale, 2, rate.headPitch) * hann(dt, 0.4) * Math.cos(TWO_PI * 2 * dt);
      break;
    case 'shake':
      if (Math.abs(dt) < 0.5) targets.headYaw += capRate(0.3 * scale, 2.5, rate.headYaw) * hann(dt, 0.5) * Math.sin(TWO_PI * 2.5 * dt);
      break;
    case 'tilt':
      if (Math.abs(dt) < 0.6) targets.headRoll += capRate(0.35 * g.strength, 0.4, rate.headRoll) * hann(dt, 0.6);
      break;
    case 'brow-raise':
      if (Math.abs(dt) < 0.35) targets.browRaise += 0.6 * g.strength * hann(dt, 0.35);
      break;
    case 'smile':
      if (Math.abs(dt) < 0.75) targets.smile += 0.4 * g.strength * hann(dt, 0.75);
      break;
  }
}

/** A sine of amplitude a at f Hz changes by at most 2*pi*f*a per second: shrink a to fit the rate limit. */
function capRate(a: number, f: number, maxRate: number | undefined): number {
  if (maxRate === undefined) return a;
  return Math.min(a, maxRate / (TWO_PI * f));
}

/** A raised-cosine bump: 1 at 0, 0 at +-half. */
function hann(dt: number, half: number): number {
  return Math.abs(dt) >= half ? 0 : 0.5 * (1 + Math.cos((Math.PI * dt) / half));
}

function smoothstep(x: number): number {
  const c = Math.max(0, Math.min(1, x));
  return c * c * (3 - 2 * c);
}
