import { describe, expect, it } from 'vitest';
import {
  COEFFICIENTS,
  COEFFICIENT_COUNT,
  COEFFICIENT_NAMES,
  MOTIONS,
  UnknownCoefficientError,
  coefficientIndex,
  coefficientVector,
  neutralCoefficients,
  normalizeCoefficients,
} from '../../src/packs/default/index.ts';

describe('default pack coefficients', () => {
  it('is an ordered list starting with the mouth coefficients', () => {
    expect(COEFFICIENT_NAMES.slice(0, 3)).toEqual(['jawOpen', 'lipSpread', 'lipPress']);
    expect(COEFFICIENT_COUNT).toBe(COEFFICIENTS.length);
    expect(coefficientIndex('lipSpread')).toBe(1);
    expect(() => coefficientIndex('smirk')).toThrow(UnknownCoefficientError);
  });

  it('has a motion definition for every coefficient', () => {
    for (const name of COEFFICIENT_NAMES) expect(typeof MOTIONS[name]).toBe('function');
  });

  it('declares the ranges of the brief', () => {
    const byName = Object.fromEntries(COEFFICIENTS.map((c) => [c.name, c]));
    expect([byName.jawOpen!.min, byName.jawOpen!.max]).toEqual([0, 1]);
    expect([byName.lipSpread!.min, byName.lipSpread!.max]).toEqual([-1, 1]);
    expect([byName.lipPress!.min, byName.lipPress!.max]).toEqual([0, 1]);
  });

  it('builds vectors by name, neutral elsewhere, clamped into range', () => {
    const v = coefficientVector({ jawOpen: 2, lipSpread: -3 });
    expect(Array.from(v)).toEqual([1, -1, 0]);
    expect(Array.from(neutralCoefficients())).toEqual([0, 0, 0]);
    expect(() => coefficientVector({ jawOpen: Number.NaN })).toThrow(RangeError);
  });

  it('normalizes a copy and rejects a wrong length', () => {
    const input = Float32Array.of(0.5, 5, -1);
    const out = normalizeCoefficients(input);
    expect(Array.from(out)).toEqual([0.5, 1, 0]);
    expect(Array.from(input)).toEqual([0.5, 5, -1]);
    expect(() => normalizeCoefficients(Float32Array.of(1, 2))).toThrow(RangeError);
    expect(() => normalizeCoefficients(Float32Array.of(0, Number.POSITIVE_INFINITY, 0))).toThrow(RangeError);
  });
});
