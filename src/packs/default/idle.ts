// Idle and listening life, planned ahead and evaluated per frame: blinks at 10-20 a minute,
// breathing, small head motion. Every layer is a pure function of media time (seeded), so
// the scheduler may render frames in any order and a replay renders the same video.

/** Partial coefficient values by name; the caller adds them to the slow keyframe targets. */
export type Layer = Partial<Record<string, number>>;

export interface IdleOptions {
  seed: number;
  /** Blinks per minute, drawn uniformly in this range for each interval. */
  blinksPerMinute?: [number, number];
  /** Breaths per minute. */
  breathsPerMinute?: number;
  /** Scales the micro head motion (0 = still). */
  microMotion?: number;
}

/** mulberry32: small, fast, good enough for motion. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BLINK_US = 220_000;

export class IdleMotion {
  readonly #rand: () => number;
  readonly #bpm: [number, number];
  readonly #breathHz: number;
  readonly #micro: number;
  /** Blink start times, generated in order as far as asked. */
  readonly #blinks: number[] = [];
  /** Phases and frequencies of the micro-motion sinusoids, per coefficient. */
  readonly #waves: Record<string, { f: number; p: number; a: number }[]>;

  constructor(opts: IdleOptions) {
    this.#rand = prng(opts.seed);
    this.#bpm = opts.blinksPerMinute ?? [12, 18];
    this.#breathHz = (opts.breathsPerMinute ?? 14) / 60;
    this.#micro = opts.microMotion ?? 1;
    const waves = (amp: number) =>
      // Incommensurate low frequencies (0.05-0.35 Hz): smooth, never quite repeating.
      [0.05, 0.13, 0.29].map((f) => ({ f: f * (0.8 + 0.4 * this.#rand()), p: this.#rand() * 2 * Math.PI, a: amp * (0.5 + this.#rand()) }));
    // Amplitudes (coefficient units, 1 = 15 degrees) that give a talking head's sway of about 2-3 degrees sd in yaw and
    // 1.5-2 in pitch and roll, measured on renders (bench/head-motion.ts); the director's plan scales them down for a
    // calm shot (motionScale) and adds its gestures on top.
    this.#waves = { headYaw: waves(0.12), headPitch: waves(0.09), headRoll: waves(0.07), neckSway: waves(0.1) };
    this.#blinks.push(1_000_000 + this.#interval());
  }

  /** Eyelid closure 0..1 at a media time (both eyes; a blink is ~220 ms). */
  blinkAt(ptsUs: number): number {
    while (this.#blinks[this.#blinks.length - 1] < ptsUs + BLINK_US) {
      this.#blinks.push(this.#blinks[this.#blinks.length - 1] + this.#interval());
    }
    // The latest blink starting at or before ptsUs.
    let lo = 0;
    let hi = this.#blinks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#blinks[mid] <= ptsUs) lo = mid;
      else hi = mid - 1;
    }
    const start = this.#blinks[lo];
    if (start > ptsUs) return 0;
    const x = (ptsUs - start) / BLINK_US;
    if (x >= 1) return 0;
    // Fast close (35%), slower open: the shape of a real blink.
    return x < 0.35 ? Math.sin((x / 0.35) * (Math.PI / 2)) : Math.cos(((x - 0.35) / 0.65) * (Math.PI / 2));
  }

  /** Number of blinks that start within [fromUs, toUs). */
  blinksBetween(fromUs: number, toUs: number): number {
    this.blinkAt(toUs);
    return this.#blinks.filter((t) => t >= fromUs && t < toUs).length;
  }

  /** All idle layers at a media time; `scale` (0..1) scales head motion (plans and limits). */
  at(ptsUs: number, scale = 1): Layer {
    const t = ptsUs / 1e6;
    const blink = this.blinkAt(ptsUs);
    const out: Layer = {
      blinkLeft: blink,
      blinkRight: blink,
      breathe: 0.5 + 0.5 * Math.sin(2 * Math.PI * this.#breathHz * t),
    };
    for (const [name, ws] of Object.entries(this.#waves)) {
      out[name] = scale * this.#micro * ws.reduce((s, w) => s + w.a * Math.sin(2 * Math.PI * w.f * t + w.p), 0);
    }
    return out;
  }

  #interval(): number {
    const [lo, hi] = this.#bpm;
    const perMinute = lo + (hi - lo) * this.#rand();
    return (60 / perMinute) * 1e6 * (0.6 + 0.8 * this.#rand());
  }
}
