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

  it('lists the face, head and body coefficients after the mouth, in the agreed order', () => {
    expect(COEFFICIENT_NAMES).toEqual([
      'jawOpen',
      'lipSpread',
      'lipPress',
      'smile',
      'blinkLeft',
      'blinkRight',
      'browRaise',
      'browFrown',
      'headYaw',
      'headPitch',
      'headRoll',
      'neckSway',
      'breathe',
    ]);
  });

  it('has a motion definition for every coefficient: face motions in the head frame, pose motions per layer', () => {
    for (const name of COEFFICIENT_NAMES) expect(['face', 'pose']).toContain(MOTIONS[name].group);
    expect(MOTIONS.blinkLeft.kind).toBe('eyes');
    expect(MOTIONS.headYaw).toMatchObject({ group: 'pose', sides: 'split' });
    expect(MOTIONS.breathe.group).toBe('pose');
  });

  it('declares the ranges of the brief and documents the conventions', () => {
    const byName = Object.fromEntries(COEFFICIENTS.map((c) => [c.name, c]));
    const range = (n: string): number[] => [byName[n]!.min, byName[n]!.max];
    for (const n of ['jawOpen', 'lipPress', 'smile', 'blinkLeft', 'blinkRight', 'browRaise', 'browFrown', 'breathe']) expect(range(n)).toEqual([0, 1]);
    for (const n of ['lipSpread', 'headYaw', 'headPitch', 'headRoll', 'neckSway']) expect(range(n)).toEqual([-1, 1]);
    for (const c of COEFFICIENTS) expect(c.neutral).toBe(0);
    expect(byName.blinkLeft!.description).toMatch(/42-47/);
    expect(byName.headYaw!.description).toMatch(/15 degrees/);
    expect(byName.headPitch!.description).toMatch(/chin up/);
  });

  it('builds vectors by name, neutral elsewhere, clamped into range', () => {
    const v = coefficientVector({ jawOpen: 2, lipSpread: -3, headRoll: 0.25 });
    expect(Array.from(v)).toEqual([1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0.25, 0, 0]);
    expect(Array.from(neutralCoefficients())).toEqual(new Array(COEFFICIENT_COUNT).fill(0));
    expect(() => coefficientVector({ jawOpen: Number.NaN })).toThrow(RangeError);
  });

  it('normalizes a copy and rejects a wrong length', () => {
    const input = new Float32Array(COEFFICIENT_COUNT);
    input.set([0.5, 5, -1]);
    input[coefficientIndex('headYaw')] = -7;
    const out = normalizeCoefficients(input);
    expect(Array.from(out.subarray(0, 3))).toEqual([0.5, 1, 0]);
    expect(out[coefficientIndex('headYaw')]).toBe(-1);
    expect(Array.from(input.subarray(0, 3))).toEqual([0.5, 5, -1]);
    expect(() => normalizeCoefficients(Float32Array.of(1, 2))).toThrow(RangeError);
    const bad = new Float32Array(COEFFICIENT_COUNT);
    bad[1] = Number.POSITIVE_INFINITY;
    expect(() => normalizeCoefficients(bad)).toThrow(RangeError);
  });
});
