// The default pack's named coefficient vector. The ORDER of COEFFICIENTS is the contract: the motion basis stacks
// one flow field per entry in this order and the render graph's `coeffs` input indexes the same way. To add a
// coefficient (smile, blink, brows, head pose, sway, breathing): append a spec here and a motion definition in
// basis.ts under the same name; enrolled avatars are rebuilt automatically because BASIS_VERSION covers the list.

export interface CoefficientSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** The rest value; a vector of neutrals renders the reference unchanged. */
  readonly neutral: number;
  readonly description: string;
}

export const COEFFICIENTS = [
  {
    name: 'jawOpen',
    min: 0,
    max: 1,
    neutral: 0,
    description: 'Jaw drop: chin, jaw line and lower lip move down, the lips part and reveal the mouth interior.',
  },
  {
    name: 'lipSpread',
    min: -1,
    max: 1,
    neutral: 0,
    description: 'Mouth corners out and lips thinned (+1, "ee") or corners in and lips rounded forward (-1, "oo").',
  },
  {
    name: 'lipPress',
    min: 0,
    max: 1,
    neutral: 0,
    description: 'Lips pressed together and rolled in (m, b, p): the red of both lips thins towards the lip line.',
  },
] as const satisfies readonly CoefficientSpec[];

export type CoefficientName = (typeof COEFFICIENTS)[number]['name'];

export const COEFFICIENT_NAMES: readonly CoefficientName[] = Object.freeze(COEFFICIENTS.map((c) => c.name));
export const COEFFICIENT_COUNT = COEFFICIENTS.length;

const INDEX: ReadonlyMap<string, number> = new Map(COEFFICIENT_NAMES.map((name, i) => [name, i]));

export class UnknownCoefficientError extends Error {
  override readonly name = 'UnknownCoefficientError';
  constructor(readonly coefficient: string) {
    super(`unknown coefficient '${coefficient}' (known: ${COEFFICIENT_NAMES.join(', ')})`);
  }
}

export function coefficientIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new UnknownCoefficientError(name);
  return i;
}

/** A neutral vector (renders the reference). */
export function neutralCoefficients(): Float32Array {
  return Float32Array.from(COEFFICIENTS, (c) => c.neutral);
}

/** Builds a vector from named values; unnamed entries are neutral, values are clamped into their range. */
export function coefficientVector(values: Partial<Record<CoefficientName, number>>): Float32Array {
  const out = neutralCoefficients();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (!Number.isFinite(value)) throw new RangeError(`coefficient '${name}' must be a finite number, got ${value}`);
    const i = coefficientIndex(name);
    out[i] = clamp(value, COEFFICIENTS[i]!.min, COEFFICIENTS[i]!.max);
  }
  return out;
}

/** A clamped copy of `coeffs` (never mutates it). Throws on a wrong length or a non-finite value. */
export function normalizeCoefficients(coeffs: ArrayLike<number>): Float32Array {
  if (coeffs.length !== COEFFICIENT_COUNT) {
    throw new RangeError(`expected ${COEFFICIENT_COUNT} coefficients (${COEFFICIENT_NAMES.join(', ')}), got ${coeffs.length}`);
  }
  const out = new Float32Array(COEFFICIENT_COUNT);
  for (let i = 0; i < COEFFICIENT_COUNT; i++) {
    const v = coeffs[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`coefficient '${COEFFICIENT_NAMES[i]}' must be finite, got ${v}`);
    out[i] = clamp(v, COEFFICIENTS[i]!.min, COEFFICIENTS[i]!.max);
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
