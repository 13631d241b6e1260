// ARPAbet phones -> viseme targets, typical durations and coarticulation dominance. Targets follow the usual
// viseme classes: bilabials (p, b, m) close and press the lips, labiodentals (f, v) tuck the lower lip, rounded
// sounds (oo, w, oh, sh) round, front vowels and s/z spread, open vowels open the jaw. Dominance says how strongly
// a phone holds its target against its neighbours (Cohen & Massaro's model): a p must close whatever the vowel
// around it, an h takes the shape of the vowel after it.
import type { Phone } from './types.ts';

export type PhoneClass = 'vowel' | 'stop' | 'fricative' | 'affricate' | 'nasal' | 'liquid' | 'glide' | 'aspirate';

export interface PhoneSpec {
  readonly cls: PhoneClass;
  /** Typical duration in running speech, ms. */
  readonly ms: number;
  /** Target jaw opening relative to the audio's (0 closed .. 1 open), lip spread (-1 round .. 1), lip press. */
  readonly jaw: number;
  readonly spread: number;
  readonly press: number;
  /** Dominance of each target (0..1). */
  readonly dJaw: number;
  readonly dSpread: number;
  readonly dPress: number;
}

type Row = [PhoneClass, number, number, number, number, number, number, number];

const V = (ms: number, jaw: number, spread: number, dSpread = 0.7): Row => ['vowel', ms, jaw, spread, 0, 1, dSpread, 0.8];
const ROWS: Record<Phone, Row> = {
  AA: V(130, 1.0, 0.05),
  AE: V(125, 0.9, 0.4),
  AH: V(80, 0.75, 0.0, 0.4),
  AO: V(130, 0.85, -0.5),
  AW: V(160, 0.9, -0.35),
  AY: V(155, 0.9, 0.3),
  EH: V(100, 0.7, 0.4),
  ER: V(120, 0.5, -0.35),
  EY: V(135, 0.6, 0.55),
  IH: V(75, 0.45, 0.5),
  IY: V(105, 0.35, 0.8),
  OW: V(140, 0.65, -0.7, 0.9),
  OY: V(170, 0.7, -0.45),
  UH: V(80, 0.45, -0.6, 0.9),
  UW: V(120, 0.35, -0.9, 1),
  B: ['stop', 70, 0.05, 0, 1, 0.8, 0.2, 1],
  P: ['stop', 85, 0.05, 0, 1, 0.8, 0.2, 1],
  M: ['nasal', 75, 0.05, 0, 0.9, 0.8, 0.2, 1],
  F: ['fricative', 95, 0.2, 0.15, 0.45, 0.7, 0.3, 0.8],
  V: ['fricative', 65, 0.2, 0.15, 0.4, 0.7, 0.3, 0.8],
  TH: ['fricative', 90, 0.35, 0.2, 0, 0.5, 0.3, 0.3],
  DH: ['fricative', 45, 0.35, 0.2, 0, 0.4, 0.2, 0.3],
  S: ['fricative', 105, 0.2, 0.6, 0, 0.7, 0.6, 0.3],
  Z: ['fricative', 85, 0.2, 0.55, 0, 0.7, 0.6, 0.3],
  SH: ['fricative', 110, 0.3, -0.6, 0, 0.6, 0.8, 0.3],
  ZH: ['fricative', 90, 0.3, -0.6, 0, 0.6, 0.8, 0.3],
  CH: ['affricate', 110, 0.3, -0.5, 0, 0.6, 0.8, 0.3],
  JH: ['affricate', 90, 0.3, -0.5, 0, 0.6, 0.8, 0.3],
  T: ['stop', 70, 0.3, 0.2, 0, 0.5, 0.2, 0.3],
  D: ['stop', 55, 0.3, 0.2, 0, 0.5, 0.2, 0.3],
  K: ['stop', 80, 0.4, 0.1, 0, 0.4, 0.2, 0.3],
  G: ['stop', 65, 0.4, 0.1, 0, 0.4, 0.2, 0.3],
  N: ['nasal', 60, 0.3, 0.2, 0, 0.5, 0.2, 0.3],
  NG: ['nasal', 75, 0.4, 0.1, 0, 0.4, 0.2, 0.3],
  L: ['liquid', 65, 0.45, 0.1, 0, 0.4, 0.2, 0.3],
  R: ['liquid', 65, 0.35, -0.45, 0, 0.5, 0.7, 0.3],
  W: ['glide', 60, 0.25, -0.9, 0, 0.6, 1, 0.3],
  Y: ['glide', 55, 0.35, 0.6, 0, 0.5, 0.6, 0.3],
  HH: ['aspirate', 60, 0.6, 0, 0, 0.1, 0.1, 0.1],
};

export const PHONES: ReadonlyMap<Phone, PhoneSpec> = new Map(
  (Object.entries(ROWS) as [Phone, Row][]).map(([p, [cls, ms, jaw, spread, press, dJaw, dSpread, dPress]]) => [
    p,
    Object.freeze({ cls, ms, jaw, spread, press, dJaw, dSpread, dPress }),
  ]),
);

export function isPhone(s: string): s is Phone {
  return PHONES.has(s as Phone);
}

export function phoneSpec(p: Phone): PhoneSpec {
  return PHONES.get(p)!;
}
