// Mouth shapes from audio features and from text (visemes). The folder's single entry: import from here.
// - hop-features.ts: per-10 ms band energies (F1, F2, frication) the mouth track and the aligner read.
// - cmudict.ts: text -> ARPAbet phones (the CMU dictionary shipped by Debian's pocketsphinx-en-us).
// - phonemes.ts: phone -> viseme targets, typical durations, coarticulation dominance.
// - align.ts: phones -> times on the audio (a semi-Markov model decoded over hops) when no word timings are given.
// - track.ts: VisemeTrack (texts on the media timeline -> shape at a time) and blendVisemes (audio x text).
// - pocketsphinx.ts: forcedAlign(), phone times from CMU Sphinx in a child process (audio known ahead).
export type { AudioHop, HopSource, Phone, PronouncedWord, TimedPhone, VisemeShape, WordTiming } from './types.ts';
export { HOP_SAMPLES, HopAnalyzer, type HopFeatures } from './hop-features.ts';
export { CMUDICT_PATH, PronunciationDictionary, letterToSound, loadSharedDictionary, sharedDictionary } from './cmudict.ts';
export { PHONES, isPhone, phoneSpec, type PhoneClass, type PhoneSpec } from './phonemes.ts';
export { alignHops, type HopAlignment, type HopPhone } from './align.ts';
export { VisemeTrack, blendVisemes, coarticulate, type MouthValues, type VisemeAudioSource, type VisemeTrackOptions } from './track.ts';
export { ForcedAlignmentError, POCKETSPHINX_BIN, forcedAlign } from './pocketsphinx.ts';
