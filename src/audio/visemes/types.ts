// Types of the text-driven mouth: phones, their timings, the mouth shapes they ask for, and the audio view the
// aligner reads.
import type { HopFeatures } from './hop-features.ts';

/** The 39 ARPAbet phones of the CMU dictionary (no stress marks). */
export type Phone =
  | 'AA' | 'AE' | 'AH' | 'AO' | 'AW' | 'AY' | 'B' | 'CH' | 'D' | 'DH' | 'EH' | 'ER' | 'EY' | 'F' | 'G' | 'HH' | 'IH'
  | 'IY' | 'JH' | 'K' | 'L' | 'M' | 'N' | 'NG' | 'OW' | 'OY' | 'P' | 'R' | 'S' | 'SH' | 'T' | 'TH' | 'UH' | 'UW'
  | 'V' | 'W' | 'Y' | 'Z' | 'ZH';

/** One word of a text, with its phones and whether a pause may follow it (punctuation). */
export interface PronouncedWord {
  readonly word: string;
  readonly phones: readonly Phone[];
  /** True when the phones came from the letter-to-sound fallback, not the dictionary. */
  readonly guessed: boolean;
  readonly pauseAfter: boolean;
}

/** A word's time span on the media timeline (for example from a TTS engine's word boundaries). */
export interface WordTiming {
  readonly word: string;
  readonly startUs: number;
  readonly endUs: number;
}

export interface TimedPhone {
  readonly phone: Phone;
  readonly startUs: number;
  readonly endUs: number;
}

/** A mouth shape asked for by the text, relative to what the audio says. */
export interface VisemeShape {
  /** How open this sound wants the jaw, 0 (closed: m, b, p) .. 1 (aa); scales the audio's jaw. */
  readonly jawOpen: number;
  /** -1 rounded (oo, w) .. 1 spread (ee, s). */
  readonly lipSpread: number;
  /** 0 .. 1 lips pressed together (m, b, p; f, v partly). */
  readonly lipPress: number;
  /** 0 (the text says nothing here: silence, or no text) .. 1 (inside aligned speech). */
  readonly weight: number;
}

/** What the aligner needs from one 10 ms hop of audio. */
export interface AudioHop {
  readonly features: HopFeatures;
  /** Speech activity 0 (below the gate) .. 1. */
  readonly act: number;
  /** Frication 0..1 (s, sh, f). */
  readonly fric: number;
  /** Loudness against the tracked speech peak, 0 (at the gate) .. 1. */
  readonly level: number;
}

/** Read access to the mouth track's hops, keyed by floor(ptsUs / hopUs). */
export interface HopSource {
  readonly hopUs: number;
  hopAt(key: number): AudioHop | undefined;
}
