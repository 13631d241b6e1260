// Text-driven mouth shapes on the media timeline. A text (what a TTS turn says) becomes phones (CMU dictionary),
// the phones get times (given word timings, or aligned to the audio as it arrives), and the shape at any time is
// the dominance-weighted blend of the phones around it (coarticulation: a p closes whatever surrounds it, rounding
// starts early). blendVisemes() then lets the audio decide when and how much the mouth opens and the text shape it.
import { moduleLogger } from '../../log.ts';
import { alignHops } from './align.ts';
import { loadSharedDictionary, sharedDictionary, type PronunciationDictionary } from './cmudict.ts';
import { phoneSpec } from './phonemes.ts';
import type { HopSource, PronouncedWord, TimedPhone, VisemeShape, WordTiming } from './types.ts';

const log = moduleLogger('audio/visemes/track');

export interface VisemeAudioSource extends HopSource {
  /** Audio is known (present or declared silent) up to this media time. */
  coveredUntilUs(): number;
}

export interface VisemeTrackOptions {
  /** Default: the shared CMU dictionary, loaded in the background on first use (texts wait for it). */
  readonly dictionary?: PronunciationDictionary;
}

interface Utterance {
  readonly startUs: number;
  readonly texts: string[];
  words: PronouncedWord[] | null;
  timings: WordTiming[] | null;
  phones: TimedPhone[];
  alignedToUs: number;
  final: boolean;
  /** Words whose phones are settled (well behind the audio frontier) and are not aligned again. */
  frozenWords: number;
  frozenPhones: TimedPhone[];
  /** Where the next alignment window starts: the end of the last settled word. */
  frozenUntilUs: number;
  /** An earlier alignment's phones (of the unsettled words): at the frontier a word settles when both agree. */
  previous: TimedPhone[];
  previousAtUs: number;
}

/** Realign an utterance still being received when this much more audio has arrived. */
const REALIGN_STEP_US = 50_000;
/** Words that ended this long before the audio frontier keep their alignment. */
const SETTLE_US = 1_000_000;
/** A word settles when it sits where an alignment made with this much less audio put it. */
const CONFIRM_US = 300_000;
/** The most audio one alignment looks at (its cost grows with it). */
const WINDOW_US = 12_000_000;
/** The shape's weight fades to 0 this far outside the aligned phones. */
const FADE_US = 80_000;
/** Phones further than this from a time do not influence its shape. */
const REACH_US = 250_000;

export class VisemeTrack {
  readonly #audio: VisemeAudioSource;
  readonly #dictionary: PronunciationDictionary | undefined;
  /** In start order. Bounded by truncate() and by forgetBefore(). */
  #utterances: Utterance[] = [];
  /** The aligner's work so far: windows decoded, and their phones x hops (what one decode costs). */
  readonly work = { windows: 0, cells: 0 };

  constructor(audio: VisemeAudioSource, opts: VisemeTrackOptions = {}) {
    this.#audio = audio;
    this.#dictionary = opts.dictionary;
  }

  /** True while no text is held: shapeAt() is null and costs nothing. */
  get empty(): boolean {
    return this.#utterances.length === 0;
  }

  /**
   * Adds a text spoken from `startUs` on (the media time of its turn's first audio). The same startUs as the
   * last text, or none, continues that text (a turn's text may come in pieces). Word timings, when the TTS gives
   * them, place the phones directly; otherwise they are aligned to the audio as it arrives.
   */
  addText(text: string, startUs?: number, wordTimings?: readonly WordTiming[]): void {
    if (typeof text !== 'string') throw new TypeError('text must be a string');
    if (startUs !== undefined && !Number.isFinite(startUs)) throw new RangeError(`startUs must be finite, got ${startUs}`);
    const timings = wordTimings ? validateTimings(wordTimings) : null;
    const last = this.#utterances[this.#utterances.length - 1];
    if (last && (startUs === last.startUs || (startUs === undefined && !last.final))) {
      // More of the same turn's text: placed or aligned again, whole.
      last.texts.push(text);
      last.words = null;
      if (timings) last.timings = [...(last.timings ?? []), ...timings];
      Object.assign(last, { final: false, alignedToUs: Number.NEGATIVE_INFINITY, frozenWords: 0, frozenPhones: [], frozenUntilUs: last.startUs, previous: [], previousAtUs: Number.NEGATIVE_INFINITY });
      return;
    }
    const start = startUs ?? (last ? lastEnd(last) : 0);
    const u: Utterance = {
      startUs: start,
      texts: [text],
      words: null,
      timings,
      phones: [],
      alignedToUs: Number.NEGATIVE_INFINITY,
      final: false,
      frozenWords: 0,
      frozenPhones: [],
      frozenUntilUs: start,
      previous: [],
      previousAtUs: Number.NEGATIVE_INFINITY,
    };
    // Kept in start order; an earlier start closes the texts after it (they would overlap).
    this.#utterances = this.#utterances.filter((x) => x.startUs < start);
    const prev = this.#utterances[this.#utterances.length - 1];
    if (prev) prev.final = prev.final || prev.alignedToUs >= start;
    this.#utterances.push(u);
  }

  /** Forgets every text at and after a time (interruption); earlier ones stop there. */
  truncate(fromUs: number): void {
    this.#utterances = this.#utterances.filter((u) => u.startUs < fromUs);
    for (const u of this.#utterances) {
      this.#ensurePhones(u, fromUs);
      u.phones = u.phones.filter((p) => p.startUs < fromUs).map((p) => (p.endUs > fromUs ? { ...p, endUs: fromUs } : p));
      u.timings = null; // placed already; never re-placed past the cut
      u.final = true;
    }
  }

  /** Drops texts that ended before a time (memory bound for long sessions). */
  forgetBefore(ptsUs: number): void {
    this.#utterances = this.#utterances.filter((u, i) => !(u.final && i < this.#utterances.length - 1 && lastEnd(u) + REACH_US < ptsUs));
  }

  /** The timed phones overlapping [fromUs, toUs) (aligning what needs it). */
  phonesBetween(fromUs: number, toUs: number): TimedPhone[] {
    const out: TimedPhone[] = [];
    for (const u of this.#utterances) {
      if (u.startUs >= toUs) break; // in start order
      this.#ensurePhones(u, toUs);
      for (const p of u.phones) if (p.endUs > fromUs && p.startUs < toUs) out.push(p);
    }
    return out;
  }

  /** The text's mouth shape at a time, or null where the text says nothing. */
  shapeAt(ptsUs: number): VisemeShape | null {
    if (this.#utterances.length === 0) return null;
    const near = this.phonesBetween(ptsUs - REACH_US, ptsUs + REACH_US);
    if (near.length === 0) return null;
    return coarticulate(near, ptsUs);
  }

  #ensurePhones(u: Utterance, wantUs = Number.POSITIVE_INFINITY): void {
    if (!u.words) {
      const dict = this.#dictionary ?? sharedDictionary();
      if (!dict) {
        void loadSharedDictionary();
        return;
      }
      u.words = u.texts.flatMap((t) => dict.pronounce(t));
      const guessed = u.words.filter((w) => w.guessed).map((w) => w.word);
      if (guessed.length) log.debug({ guessed }, 'words not in the dictionary: letter-to-sound');
    }
    if (u.timings) {
      if (u.alignedToUs !== Number.POSITIVE_INFINITY) u.phones = placeByWordTimings(u.words, u.timings);
      u.alignedToUs = Number.POSITIVE_INFINITY;
      u.final = true;
      return;
    }
    // Windows follow one another until the alignment reaches the time asked for (or the audio's end).
    for (let before = u.alignedToUs; !u.final; before = u.alignedToUs) {
      this.#alignWindow(u, u.words);
      if (u.alignedToUs >= wantUs || u.alignedToUs === before) break;
    }
  }

  #alignWindow(u: Utterance, all: readonly PronouncedWord[]): void {
    // Align only from the last settled word on, and at most WINDOW_US of audio: one call costs a few milliseconds
    // however long the text, and a turn streamed in real time can be realigned every few frames.
    const covered = this.#audio.coveredUntilUs();
    const next = this.#utterances[this.#utterances.indexOf(u) + 1];
    const open = all.slice(u.frozenWords);
    const maxUs = u.frozenUntilUs + 2.5 * expectedUs(open) + 1_500_000;
    const endUs = Math.min(covered, next ? next.startUs : Number.POSITIVE_INFINITY, maxUs, u.frozenUntilUs + WINDOW_US);
    if (endUs - u.alignedToUs < REALIGN_STEP_US) return;
    // Only the words that could be spoken within the window: the decoder's cost is phones x hops, and a text of
    // thousands of words (one legal 20,000-character event) against 12 s of audio would hold the thread for seconds.
    const words = wordsWithin(open, MAX_SPEED * (endUs - u.frozenUntilUs) + 1_000_000);
    const hopUs = this.#audio.hopUs;
    const startKey = Math.floor(u.frozenUntilUs / hopUs);
    const endKey = Math.floor(endUs / hopUs);
    const hops = Array.from({ length: Math.max(0, endKey - startKey) }, (_, i) => this.#audio.hopAt(startKey + i));
    const aligned = alignHops(words, hops);
    this.work.windows++;
    this.work.cells += hops.length * words.reduce((n, w) => n + w.phones.length, 0);
    const placed = aligned.phones.map((p) => ({ phone: p.phone, startUs: (startKey + p.start) * hopUs, endUs: (startKey + p.end) * hopUs }));
    u.phones = [...u.frozenPhones, ...placed];
    u.alignedToUs = endUs;
    const complete = aligned.complete && words.length === open.length;
    u.final = (complete && endUs >= covered) || endUs >= maxUs || (next !== undefined && endUs >= next.startUs);
    if (u.final) return;
    // Settle the words that ended well before the window's end (at least one word stays open). At the live
    // frontier an open end can change its mind, so there a word also has to sit where an alignment made with
    // clearly less audio (CONFIRM_US) put it; consecutive alignments share their errors.
    const atFrontier = endUs >= covered;
    const previous = u.previous;
    const renew = endUs - u.previousAtUs >= CONFIRM_US;
    const same = (i: number) => previous[i] !== undefined && Math.abs(previous[i].startUs - placed[i].startUs) <= 20_000 && Math.abs(previous[i].endUs - placed[i].endUs) <= 20_000;
    let k = 0;
    for (const w of words.slice(0, -1)) {
      const n = w.phones.length;
      if (k + n >= placed.length || placed[k + n - 1].endUs > endUs - SETTLE_US) break;
      if (atFrontier && !Array.from({ length: n }, (_, j) => k + j).every(same)) break;
      u.frozenPhones.push(...placed.slice(k, k + n));
      u.frozenUntilUs = placed[k + n - 1].endUs;
      u.frozenWords++;
      k += n;
    }
    if (renew) {
      u.previous = placed.slice(k);
      u.previousAtUs = endUs;
    } else if (k > 0) {
      u.previous = u.previous.slice(k);
    }
  }
}

function lastEnd(u: Utterance): number {
  return u.phones.length ? u.phones[u.phones.length - 1].endUs : u.startUs;
}

/**
 * How much faster than their typical durations phones may be spoken, for the words one window can hold (the
 * aligner's rate goes to 1 / 0.55 = 1.8x; a margin over it).
 */
const MAX_SPEED = 2.5;

/** The first words whose typical durations add up to at most `us` (at least one). */
function wordsWithin(words: readonly PronouncedWord[], us: number): readonly PronouncedWord[] {
  let total = 0;
  for (let i = 0; i < words.length; i++) {
    for (const p of words[i].phones) total += phoneSpec(p).ms * 1000;
    if (total > us) return words.slice(0, Math.max(1, i));
  }
  return words;
}

function expectedUs(words: readonly PronouncedWord[]): number {
  let ms = 0;
  for (const w of words) for (const p of w.phones) ms += phoneSpec(p).ms;
  return ms * 1000;
}

function validateTimings(t: readonly WordTiming[]): WordTiming[] {
  return t.map((w, i) => {
    if (!(Number.isFinite(w.startUs) && Number.isFinite(w.endUs) && w.endUs > w.startUs)) {
      throw new RangeError(`wordTimings[${i}] must have finite startUs < endUs, got ${w.startUs}..${w.endUs}`);
    }
    return Object.freeze({ word: String(w.word), startUs: w.startUs, endUs: w.endUs });
  });
}

const norm = (w: string) => w.toLowerCase().replace(/[^a-z0-9']/g, '');

/** Phones spread over each timed word in proportion to their typical durations; untimed words are skipped. */
function placeByWordTimings(words: readonly PronouncedWord[], timings: readonly WordTiming[]): TimedPhone[] {
  const out: TimedPhone[] = [];
  let wi = 0;
  for (const t of timings) {
    // In order: the next word that matches (TTS engines may split or normalise words differently).
    let k = wi;
    while (k < words.length && norm(words[k].word) !== norm(t.word)) k++;
    const word = k < words.length ? words[k] : (words[wi] ?? null);
    if (!word) break;
    wi = (k < words.length ? k : wi) + 1;
    const total = word.phones.reduce((a, p) => a + phoneSpec(p).ms, 0);
    let at = t.startUs;
    for (const p of word.phones) {
      const d = ((t.endUs - t.startUs) * phoneSpec(p).ms) / total;
      out.push({ phone: p, startUs: Math.round(at), endUs: Math.round(at + d) });
      at += d;
    }
  }
  return out;
}

/** Cohen-Massaro blending: each target weighted by its phone's dominance, decaying with distance. */
export function coarticulate(phones: readonly TimedPhone[], t: number): VisemeShape {
  let nJ = 0;
  let dJ = 0;
  let nS = 0;
  let dS = 0;
  let nP = 0;
  let dP = 0;
  let nearest = Number.POSITIVE_INFINITY;
  for (const p of phones) {
    const s = phoneSpec(p.phone);
    const ahead = t < p.startUs; // the phone is still to come: anticipation
    const dist = ahead ? p.startUs - t : t > p.endUs ? t - p.endUs : 0;
    nearest = Math.min(nearest, dist);
    const jaw = s.dJaw * Math.exp(-dist / 40_000);
    // Rounding is anticipated long before a rounded sound; closures are crisp.
    const spread = s.dSpread * Math.exp(-dist / (ahead && s.spread < 0 ? 120_000 : 40_000));
    const press = s.dPress * Math.exp(-dist / 15_000);
    nJ += jaw * s.jaw;
    dJ += jaw;
    nS += spread * s.spread;
    dS += spread;
    nP += press * s.press;
    dP += press;
  }
  return {
    jawOpen: dJ > 0 ? nJ / dJ : 1,
    lipSpread: dS > 0 ? nS / dS : 0,
    lipPress: dP > 0 ? nP / dP : 0,
    weight: Math.max(0, 1 - nearest / FADE_US),
  };
}

/** The parts of a mouth drive (same fields as MouthDrive in ../mouth-features.ts). */
export interface MouthValues {
  jawOpen: number;
  lipSpread: number;
  lipPress: number;
}

/**
 * The audio decides when and how much the mouth opens; the text shapes it: the jaw is scaled by the phone's
 * openness, spread/rounding mostly come from the text, closures press the lips even where the audio is silent
 * (a p's closure is silence). Where the text says nothing (weight 0) the audio's drive is returned unchanged.
 */
export function blendVisemes(audio: MouthValues, v: VisemeShape): MouthValues {
  const w = v.weight;
  if (w <= 0) return audio;
  // A closure is quiet: where the audio is loud the text's timing must be off, so its press gives way.
  const pressGate = Math.min(1, Math.max(0, (0.9 - audio.jawOpen) / 0.3));
  const press = Math.max(audio.lipPress * (1 - 0.5 * w), w * v.lipPress * pressGate);
  // Mild: the audio already knows how loud (open) a sound is; the text only tilts it (aa wider, ee narrower).
  const jawScale = 1 + w * (0.75 + 0.3 * v.jawOpen - 1);
  const jaw = Math.min(1, audio.jawOpen * jawScale * (1 - 0.8 * w * v.lipPress));
  // Spread and rounding show while the mouth is active (speaking or closing for a consonant).
  const active = Math.min(1, 4 * audio.jawOpen + press);
  const spread = (1 - w) * audio.lipSpread + w * active * (0.4 * audio.lipSpread + 0.6 * v.lipSpread);
  const clean = (x: number) => (Math.abs(x) < 0.02 ? 0 : x);
  return { jawOpen: clean(jaw), lipSpread: clean(Math.max(-1, Math.min(1, spread))), lipPress: clean(Math.min(1, press)) };
}
