// The default pack's named coefficient vector. The ORDER of COEFFICIENTS is the contract: the motion basis stacks
// its fields in this order and the render graph's `coeffs` input indexes the same way. To add a coefficient: append
// a spec here and a motion in basis.ts (MOTIONS) under the same name; enrolled avatars are rebuilt automatically
// because BASIS_VERSION covers the list.
//
// Conventions (image = the rendered picture, subject = the person in it):
//  - "left"/"right" in a name are the SUBJECT's: blinkLeft closes the subject's left eye, which is on the image's
//    right (landmarks 42-47).
//  - Head pose: +1 = +15 degrees. headYaw +1 turns the face towards the subject's left (the nose moves to the image's
//    right); headPitch +1 tilts the chin up (the face looks up); headRoll +1 tilts the head towards the subject's left
//    shoulder (the top of the head moves to the image's right, clockwise on screen); neckSway +1 shifts head and neck
//    to the image's right. So for yaw, roll and sway, positive moves things to the image's right.
//  - Mouth, eyes and brows move with the head: the face coefficients are applied in the head's own frame.
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
  {
    name: 'smile',
    min: 0,
    max: 1,
    neutral: 0,
    description: 'Mouth corners up and out, upper lip lifted a little, cheeks raised a little.',
  },
  {
    name: 'blinkLeft',
    min: 0,
    max: 1,
    neutral: 0,
    description: "The subject's left eye (image right, landmarks 42-47): the upper lid comes down over the eye; 1 = closed.",
  },
  {
    name: 'blinkRight',
    min: 0,
    max: 1,
    neutral: 0,
    description: "The subject's right eye (image left, landmarks 36-41): the upper lid comes down over the eye; 1 = closed.",
  },
  {
    name: 'browRaise',
    min: 0,
    max: 1,
    neutral: 0,
    description: 'Both brows up (surprise, emphasis); the lid skin under them stretches, the forehead follows a little.',
  },
  {
    name: 'browFrown',
    min: 0,
    max: 1,
    neutral: 0,
    description: 'Both brows down and drawn together (concentration, displeasure), the inner ends most.',
  },
  {
    name: 'headYaw',
    min: -1,
    max: 1,
    neutral: 0,
    description: "Head turn about the neck, +-1 = +-15 degrees; +1 turns towards the subject's left (nose to the image's right).",
  },
  {
    name: 'headPitch',
    min: -1,
    max: 1,
    neutral: 0,
    description: 'Head nod about the neck, +-1 = +-15 degrees; +1 = chin up (looking up), -1 = chin down (looking down).',
  },
  {
    name: 'headRoll',
    min: -1,
    max: 1,
    neutral: 0,
    description: "Head tilt about the neck, +-1 = +-15 degrees; +1 = towards the subject's left shoulder (clockwise on screen).",
  },
  {
    name: 'neckSway',
    min: -1,
    max: 1,
    neutral: 0,
    description: "Head and neck shift sideways by a few pixels (4% of the face width at +-1); +1 = towards the image's right.",
  },
  {
    name: 'breathe',
    min: 0,
    max: 1,
    neutral: 0,
    description: 'Breathing in: shoulders and upper chest rise a few pixels (2.5% of the face width at 1), the head a little less.',
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
