// The transcript on the media timeline. TTS turns bring text without timings: their words are spread over the
// turn's audio (speech stretches only, by syllables) as it arrives, and over an estimate of what is still to come.
// Recognised (or aligned) words bring their own times. Bounded: words older than the history are dropped.
import { syllableWeight } from '../asr/util.ts';
import type { NormalizedTranscriptPiece, TimedWord } from './inputs.ts';
import type { ProsodyReader } from './prosody.ts';

export interface Token {
  /** Lower case, punctuation stripped. */
  readonly word: string;
  /** As written (case, trailing punctuation kept). */
  readonly raw: string;
  readonly startUs: number;
  readonly endUs: number;
  /** True when the time was spread from text, not measured. */
  readonly estimated: boolean;
}

export interface Sentence {
  readonly tokens: readonly Token[];
  readonly text: string;
  readonly startUs: number;
  readonly endUs: number;
  /** Final punctuation, '' when none (recognised speech). */
  readonly terminal: '.' | '?' | '!' | '';
}

interface Turn {
  readonly segmentId: number;
  firstUs: number | null;
  /** End of the audio received so far. */
  lastUs: number;
  ended: boolean;
  /** A barge-in at this time: nothing from here on is said. */
  cutUs: number;
  text: string;
}

/** Typical TTS pace for the part of a turn whose audio has not arrived yet. */
const SYLLABLES_PER_S = 4.5;
const MAX_TURNS = 64;
/** The turn id of text that came before any audio and without a turn id. */
const PENDING = -1;
const MAX_TIMED_WORDS = 4_000;
/** Recognised words further apart than this start a new sentence. */
const SENTENCE_GAP_US = 700_000;

export class TranscriptTimeline {
  readonly #turns = new Map<number, Turn>();
  #timed: { word: TimedWord; utterance: number }[] = [];
  #utterance = 0;
  #revision = 0;

  /** Bumped whenever the words or their times change. */
  get revision(): number {
    return this.#revision;
  }

  add(piece: NormalizedTranscriptPiece): void {
    this.#revision++;
    if (piece.words && piece.words.length > 0) {
      const utterance = ++this.#utterance;
      for (const word of piece.words) this.#timed.push({ word, utterance });
      this.#timed.sort((a, b) => a.word.startUs - b.word.startUs);
      if (this.#timed.length > MAX_TIMED_WORDS) this.#timed.splice(0, this.#timed.length - MAX_TIMED_WORDS);
      return;
    }
    // Text without a turn id belongs to the turn still playing in, or waits for the next turn's audio.
    const open = [...this.#turns.values()].filter((t) => !t.ended && t.segmentId !== PENDING);
    const id = piece.segmentId ?? open[open.length - 1]?.segmentId ?? PENDING;
    const turn = this.#turn(id);
    turn.text = turn.text ? `${turn.text} ${piece.text.trim()}` : piece.text.trim();
  }

  /** A chunk of a TTS turn's audio arrived at ptsUs..endUs. */
  audio(segmentId: number, ptsUs: number, endUs: number, last: boolean): void {
    const pending = this.#turns.get(PENDING);
    const isNew = !this.#turns.has(segmentId);
    const turn = this.#turn(segmentId);
    if (isNew && pending) {
      turn.text = pending.text;
      this.#turns.delete(PENDING);
    }
    if (turn.firstUs === null) {
      turn.firstUs = ptsUs;
      this.#revision++;
    }
    turn.lastUs = Math.max(turn.lastUs, endUs);
    if (last) {
      turn.ended = true;
      this.#revision++;
    }
  }

  /** Barge-in: nothing at or after atUs will be said. */
  interrupt(atUs: number): void {
    this.#revision++;
    this.#timed = this.#timed.filter((t) => t.word.startUs < atUs);
    for (const [id, turn] of this.#turns) {
      if (turn.firstUs === null || turn.firstUs >= atUs) this.#turns.delete(id);
      // Words keep the times they would have had; those from the cut on are dropped when spread.
      else turn.cutUs = Math.min(turn.cutUs, atUs);
    }
  }

  /** Sentences overlapping [startUs, endUs), oldest first. */
  sentences(startUs: number, endUs: number, prosody: ProsodyReader | null): Sentence[] {
    const out: Sentence[] = [];
    for (const turn of this.#turns.values()) {
      if (turn.firstUs === null || !turn.text || turn.firstUs >= endUs || turn.cutUs <= startUs || (turn.ended && turn.lastUs <= startUs)) continue;
      for (const s of splitSentences(this.#spread(turn, prosody))) if (s.endUs > startUs && s.startUs < endUs) out.push(s);
    }
    const timed = this.#timed;
    let group: Token[] = [];
    let utterance = -1;
    const flush = () => {
      if (group.length === 0) return;
      const s = sentenceOf(group);
      if (s.endUs > startUs && s.startUs < endUs) out.push(s);
      group = [];
    };
    for (const { word, utterance: u } of timed) {
      const prev = group[group.length - 1];
      if (prev && (u !== utterance || word.startUs - prev.endUs > SENTENCE_GAP_US)) flush();
      utterance = u;
      group.push({ word: normalize(word.word), raw: word.word, startUs: word.startUs, endUs: word.endUs, estimated: false });
      if (/[.?!]$/.test(word.word)) flush();
    }
    flush();
    return out.sort((a, b) => a.startUs - b.startUs);
  }

  /** Drop what playback has left behind (keeps memory bounded in long sessions). */
  prune(beforeUs: number): void {
    for (const [id, turn] of this.#turns) {
      if ((turn.ended && turn.lastUs < beforeUs) || turn.cutUs < beforeUs) this.#turns.delete(id);
    }
    const i = this.#timed.findIndex((t) => t.word.endUs >= beforeUs);
    if (i > 0) this.#timed.splice(0, i);
    else if (i < 0) this.#timed = [];
  }

  #turn(id: number): Turn {
    let turn = this.#turns.get(id);
    if (!turn) {
      turn = { segmentId: id, firstUs: null, lastUs: 0, ended: false, cutUs: Infinity, text: '' };
      this.#turns.set(id, turn);
      if (this.#turns.size > MAX_TURNS) this.#turns.delete(this.#turns.keys().next().value!);
    }
    return turn;
  }

  /** Words of a turn spread over its speech by syllables. */
  #spread(turn: Turn, prosody: ProsodyReader | null): Token[] {
    const raws = turn.text.split(/\s+/).filter((w) => normalize(w).length > 0);
    const weights = raws.map((w) => syllableWeight(normalize(w)));
    const total = weights.reduce((a, b) => a + b, 0);
    const first = turn.firstUs!;
    const expectedEnd = first + (total / SYLLABLES_PER_S) * 1e6;
    const end = turn.ended ? turn.lastUs : Math.max(turn.lastUs, expectedEnd);
    // Speech stretches: the turn's span minus measured pauses (only where audio is known).
    const pauses = prosody ? prosody.pauses(first, turn.lastUs) : [];
    const stretches: [number, number][] = [];
    let at = first;
    for (const p of pauses) {
      if (p.startUs > at) stretches.push([at, p.startUs]);
      at = Math.max(at, p.endUs);
    }
    if (end > at) stretches.push([at, end]);
    const speechUs = stretches.reduce((s, [a, b]) => s + (b - a), 0);
    if (speechUs <= 0 || total === 0) return [];
    const timeAt = (w: number): number => {
      let left = (w / total) * speechUs;
      for (const [a, b] of stretches) {
        if (left <= b - a) return a + left;
        left -= b - a;
      }
      return end;
    };
    const tokens: Token[] = [];
    let acc = 0;
    raws.forEach((raw, i) => {
      const startUs = Math.round(timeAt(acc));
      acc += weights[i]!;
      const endUs = Math.round(timeAt(acc - 1e-6));
      if (startUs >= turn.cutUs) return; // cut by an interrupt
      tokens.push({ word: normalize(raw), raw, startUs, endUs: Math.max(endUs, startUs + 1), estimated: true });
    });
    return tokens;
  }
}

export function normalize(word: string): string {
  return word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '').replace(/^'+|'+$/g, '');
}

function splitSentences(tokens: Token[]): Sentence[] {
  const out: Sentence[] = [];
  let group: Token[] = [];
  for (const t of tokens) {
    group.push(t);
    if (/[.?!]["')\]]*$/.test(t.raw)) {
      out.push(sentenceOf(group));
      group = [];
    }
  }
  if (group.length > 0) out.push(sentenceOf(group));
  return out;
}

function sentenceOf(tokens: Token[]): Sentence {
  const last = tokens[tokens.length - 1]!.raw.replace(/["')\]]+$/, '');
  const terminal = last.endsWith('?') ? '?' : last.endsWith('!') ? '!' : last.endsWith('.') ? '.' : '';
  return Object.freeze({
    tokens: Object.freeze([...tokens]),
    text: tokens.map((t) => t.raw).join(' '),
    startUs: tokens[0]!.startUs,
    endUs: tokens[tokens.length - 1]!.endUs,
    terminal,
  });
}
