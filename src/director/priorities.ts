// Who wins when the modalities disagree. Written down once here (and in README "The director"):
// an explicit user instruction beats what the transcript says, which beats what the voice sounds like,
// which beats what the portrait suggests, which beats the built-in defaults. A plan from the chat backend
// ranks with the transcript: it may re-read the words, but an instruction still overrides it.

export const PRIORITY = Object.freeze({
  instruction: 5,
  transcript: 4,
  llm: 4,
  prosody: 3,
  portrait: 2,
  default: 1,
} as const);

export type Source = keyof typeof PRIORITY;

export const PRIORITY_ORDER: readonly Source[] = Object.freeze(['instruction', 'transcript', 'llm', 'prosody', 'portrait', 'default'] as Source[]);

/** Plain words for traces. */
export const SOURCE_WORDS: Readonly<Record<Source, string>> = Object.freeze({
  instruction: 'an explicit user instruction',
  transcript: 'the transcript',
  llm: 'the chat backend',
  prosody: 'the voice (prosody)',
  portrait: 'the portrait',
  default: 'the defaults',
});

/** True when a value from `challenger` may replace one from `holder`. */
export function outranks(challenger: Source, holder: Source): boolean {
  return PRIORITY[challenger] >= PRIORITY[holder];
}

/** Claims below this confidence are heard in the trace but never decide a field. */
export const MIN_CONFIDENCE = 0.25;
