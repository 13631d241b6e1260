// The quality measures, on face-api landmarks and descriptors found on the rendered RGB frames (never on the
// renderer's coefficients): mouth aperture against the audio envelope, closed and still in silence, identity.
import { bestLag, envelopeFn, mean, percentile, silentFrames, type LagFit } from './signal.ts';

/** What face-api found on one sampled frame (null: no face). */
export interface FrameFace {
  readonly index: number;
  readonly tUs: number;
  readonly landmarks: Float32Array | null;
  readonly descriptor: Float32Array | null;
  /**
   * Identity samples: how open the eyes look from their pixels (test/support eyesOpenFraction, over the frame's own
   * landmarks, or the nearest frame's, or the portrait's), as a fraction of the portrait's own.
   */
  readonly eyesOpen?: number;
}

export const TARGETS = Object.freeze({
  /** Pearson r of aperture vs the RMS envelope at the best lag, at least. */
  r: 0.7,
  /** |best lag| at most, ms. */
  lagMs: 40,
  /** Fraction of silent frames with the mouth closed, at least. */
  closedFraction: 0.95,
  /** Lip landmark jitter over silent frames, px, under. */
  jitterPx: 1,
  /** face-api descriptor distance to the reference, at most (every sampled frame). */
  identity: 0.4,
});

const pt = (L: Float32Array, i: number) => [L[2 * i], L[2 * i + 1]] as const;

/** Distance between the eye centres (mean of 36-41 and of 42-47), px. */
export function interOcular(L: Float32Array): number {
  let lx = 0;
  let ly = 0;
  let rx = 0;
  let ry = 0;
  for (let i = 0; i < 6; i++) {
    lx += L[2 * (36 + i)];
    ly += L[2 * (36 + i) + 1];
    rx += L[2 * (42 + i)];
    ry += L[2 * (42 + i) + 1];
  }
  return Math.hypot(rx - lx, ry - ly) / 6;
}

/** Inner lip opening (62 to 66) over the inter-ocular distance. */
export function aperture(L: Float32Array): number {
  const [ax, ay] = pt(L, 62);
  const [bx, by] = pt(L, 66);
  return Math.hypot(bx - ax, by - ay) / interOcular(L);
}

/** Mouth width (48 to 54) over the inter-ocular distance. */
export function mouthWidth(L: Float32Array): number {
  const [ax, ay] = pt(L, 48);
  const [bx, by] = pt(L, 54);
  return Math.hypot(bx - ax, by - ay) / interOcular(L);
}

export function descriptorDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * Frame-to-frame motion of the lip points 48-67 between consecutive frames, RMS over points, x and y, px.
 * `headRelative` removes the common motion of the nose (27-35) first, so that slow idle head motion is not
 * counted as lip jitter.
 */
export function lipJitter(pairs: readonly (readonly [Float32Array, Float32Array])[], headRelative: boolean): number {
  let acc = 0;
  let n = 0;
  for (const [a, b] of pairs) {
    let ox = 0;
    let oy = 0;
    if (headRelative) {
      for (let i = 27; i <= 35; i++) {
        ox += (b[2 * i] - a[2 * i]) / 9;
        oy += (b[2 * i + 1] - a[2 * i + 1]) / 9;
      }
    }
    for (let i = 48; i <= 67; i++) {
      acc += (b[2 * i] - a[2 * i] - ox) ** 2 + (b[2 * i + 1] - a[2 * i + 1] - oy) ** 2;
      n += 2;
    }
  }
  return n ? Math.sqrt(acc / n) : 0;
}

export interface Calibration {
  /** Aperture of the neutral render and of jawOpen = 1 (same measure). */
  readonly neutral: number;
  readonly open: number;
}

/** The closed-mouth threshold: the neutral aperture plus 15% of the way to a fully open jaw. */
export function closedThreshold(c: Calibration): number {
  return c.neutral + 0.15 * Math.max(0, c.open - c.neutral);
}

export interface ClipMeasure {
  readonly frames: number;
  readonly detected: number;
  readonly lip: LagFit;
  readonly speechFrames: number;
  readonly silentFrames: number;
  /** Fraction of silent frames with the mouth closed. */
  readonly closedFraction: number;
  readonly jitterPx: number;
  readonly jitterRawPx: number;
  /** Aperture percentiles over speech frames (how far the mouth opens). */
  readonly apertureP50: number;
  readonly apertureP90: number;
  readonly closedThreshold: number;
}

/** Measures one rendered clip against its audio. `faces` are consecutive frames (every frame, for the jitter). */
export function measureClip(faces: readonly FrameFace[], audio: Int16Array, calib: Calibration): ClipMeasure {
  const env = envelopeFn(audio);
  const seen = faces.filter((f) => f.landmarks);
  const ts = seen.map((f) => f.tUs);
  const ap = seen.map((f) => aperture(f.landmarks!));
  const lip = bestLag(ts, ap, env);
  const all = faces.map((f) => env(f.tUs));
  const floor = Math.max(1e-4, 0.03 * percentile(all, 0.95));
  const silent = silentFrames(ts, env, floor);
  const thr = closedThreshold(calib);
  const silentIdx = silent.flatMap((s, i) => (s ? [i] : []));
  const closed = silentIdx.filter((i) => ap[i] <= thr).length;
  const pairs: [Float32Array, Float32Array][] = [];
  for (const i of silentIdx) {
    if (silent[i + 1] && seen[i + 1].index === seen[i].index + 1) pairs.push([seen[i].landmarks!, seen[i + 1].landmarks!]);
  }
  const speech = seen.map((f, i) => (env(f.tUs) > 0.3 * percentile(all, 0.95) ? ap[i] : Number.NaN)).filter((x) => !Number.isNaN(x));
  return {
    frames: faces.length,
    detected: seen.length,
    lip,
    speechFrames: speech.length,
    silentFrames: silentIdx.length,
    closedFraction: silentIdx.length ? closed / silentIdx.length : Number.NaN,
    jitterPx: lipJitter(pairs, true),
    jitterRawPx: lipJitter(pairs, false),
    apertureP50: percentile(speech, 0.5),
    apertureP90: percentile(speech, 0.9),
    closedThreshold: thr,
  };
}

/** Eye aspect ratio (mean of both eyes): about 0.3 open, under 0.15 closed. */
export function eyeOpenness(L: Float32Array): number {
  const d = (a: number, b: number) => Math.hypot(L[2 * a] - L[2 * b], L[2 * a + 1] - L[2 * b + 1]);
  const ear = (o: number) => (d(o + 1, o + 5) + d(o + 2, o + 4)) / (2 * d(o, o + 3));
  return (ear(36) + ear(42)) / 2;
}

/** Below this eye openness a frame is mid-blink: face-api's descriptor is not an identity measure there. */
export const BLINK_EAR = 0.18;
/**
 * Below this share of the portrait's open-eye pixels a frame is mid-blink. face-api's eye points barely move on a
 * closed eye (and on a soft photo it may find no face at all with the eyes shut), so pixels decide first.
 */
export const BLINK_OPEN_FRACTION = 0.5;

export interface IdentityMeasure {
  readonly samples: number;
  /** Sampled frames where no face was found at all (either detector). */
  readonly missed: number;
  /** Their frame indices. */
  readonly missedAt: readonly number[];
  /** Sampled frames with the eyes closed (a blink), left out of mean and max. */
  readonly blinks: number;
  readonly mean: number;
  readonly max: number;
  /** Max over every frame with a face, blinks included. */
  readonly maxWithBlinks: number;
}

export function measureIdentity(faces: readonly FrameFace[], reference: Float32Array): IdentityMeasure {
  const blink = (f: FrameFace): boolean =>
    f.eyesOpen !== undefined ? f.eyesOpen < BLINK_OPEN_FRACTION : f.landmarks !== null && eyeOpenness(f.landmarks) < BLINK_EAR;
  const found = faces.filter((f) => f.descriptor && f.landmarks);
  const open = found.filter((f) => !blink(f));
  const d = open.map((f) => descriptorDistance(f.descriptor!, reference));
  const all = found.map((f) => descriptorDistance(f.descriptor!, reference));
  // A sample with no face found is a miss, unless its eyes are shut (then it is a blink, like the others).
  const missed = faces.filter((f) => !(f.descriptor && f.landmarks) && !blink(f));
  return {
    samples: faces.length,
    missed: missed.length,
    missedAt: missed.map((f) => f.index),
    blinks: faces.filter(blink).length,
    mean: mean(d),
    max: d.length ? Math.max(...d) : Number.NaN,
    maxWithBlinks: all.length ? Math.max(...all) : Number.NaN,
  };
}

/** Which targets a clip misses (empty: it passes). */
export function failures(m: ClipMeasure, id?: IdentityMeasure): string[] {
  const out: string[] = [];
  if (!(m.detected >= 0.95 * m.frames)) out.push(`face found in ${m.detected}/${m.frames} frames`);
  if (!(m.lip.r >= TARGETS.r)) out.push(`r ${m.lip.r.toFixed(3)} < ${TARGETS.r}`);
  if (!(Math.abs(m.lip.lagMs) <= TARGETS.lagMs)) out.push(`lag ${m.lip.lagMs} ms beyond ${TARGETS.lagMs} ms`);
  if (!(m.silentFrames >= 10)) out.push(`only ${m.silentFrames} silent frames`);
  if (!(m.closedFraction >= TARGETS.closedFraction)) out.push(`closed in ${(100 * m.closedFraction).toFixed(1)}% of silent frames`);
  if (!(m.jitterPx < TARGETS.jitterPx)) out.push(`lip jitter ${m.jitterPx.toFixed(2)} px`);
  if (id && !(id.max <= TARGETS.identity)) out.push(`identity max ${id.max.toFixed(3)} over open-eye frames`);
  if (id && !(id.missed <= 0.05 * id.samples)) out.push(`no face found in ${id.missed}/${id.samples} identity samples`);
  return out;
}

/** Phones the viseme measures look at (reference timings from an independent aligner: pocketsphinx). */
export interface RefPhone {
  readonly phone: string;
  readonly startUs: number;
  readonly endUs: number;
}

const BILABIAL = new Set(['P', 'B', 'M']);
const ROUNDED = new Set(['UW', 'OW', 'W', 'UH', 'OY']);
const SPREAD = new Set(['IY', 'IH', 'EY', 'S', 'Z']);

export interface VisemeMeasure {
  readonly bilabials: number;
  /** Fraction of bilabials (p, b, m) during which the mouth closes (aperture under the closed threshold). */
  readonly bilabialClosed: number;
  /** Mean mouth width (48-54 over the inter-ocular distance) in spread (ee, ih, s) minus rounded (oo, oh, w) phones. */
  readonly spreadMinusRound: number;
  readonly rounded: number;
  readonly spread: number;
}

export function measureVisemes(faces: readonly FrameFace[], phones: readonly RefPhone[], calib: Calibration): VisemeMeasure {
  const thr = closedThreshold(calib);
  const during = (p: RefPhone, padUs: number) => faces.filter((f) => f.landmarks && f.tUs >= p.startUs - padUs && f.tUs < p.endUs + padUs);
  let closed = 0;
  const bil = phones.filter((p) => BILABIAL.has(p.phone));
  for (const p of bil) {
    const fs = during(p, 20_000);
    if (fs.length && Math.min(...fs.map((f) => aperture(f.landmarks!))) <= thr) closed++;
  }
  const widths = (set: Set<string>) => phones.filter((p) => set.has(p.phone)).flatMap((p) => during(p, 0).map((f) => mouthWidth(f.landmarks!)));
  const round = widths(ROUNDED);
  const spread = widths(SPREAD);
  return {
    bilabials: bil.length,
    bilabialClosed: bil.length ? closed / bil.length : Number.NaN,
    spreadMinusRound: mean(spread) - mean(round),
    rounded: round.length,
    spread: spread.length,
  };
}
