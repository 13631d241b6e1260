// Text -> phones with the CMU pronouncing dictionary that Debian's pocketsphinx-en-us ships (BSD-2, see
// models/README.md), and a small letter-to-sound fallback for words it lacks (names, typos) or when the package is
// not installed. Loading parses 134k lines: load() does it in slices so a server's frame clock never stalls, and
// the words are packed (packed-words.ts) so that they cost the garbage collector nothing afterwards.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { moduleLogger } from '../../log.ts';
import { isPhone } from './phonemes.ts';
import { PackedWordsBuilder, type PackedWords } from './packed-words.ts';
import type { Phone, PronouncedWord } from './types.ts';

const log = moduleLogger('audio/visemes/cmudict');

export const CMUDICT_PATH = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';

export class PronunciationDictionary {
  readonly #words: PackedWords;

  private constructor(words: PackedWords) {
    this.#words = words;
  }

  get size(): number {
    return this.#words.size;
  }

  /** Parses the dictionary, yielding to the event loop every few thousand lines. */
  static async load(path = CMUDICT_PATH): Promise<PronunciationDictionary> {
    const text = await readFile(path, 'utf8');
    const words = new PackedWordsBuilder();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i += 5000) {
      for (let j = i; j < Math.min(lines.length, i + 5000); j++) addLine(words, lines[j]);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return new PronunciationDictionary(words.build());
  }

  static loadSync(path = CMUDICT_PATH): PronunciationDictionary {
    const words = new PackedWordsBuilder();
    for (const line of readFileSync(path, 'utf8').split('\n')) addLine(words, line);
    return new PronunciationDictionary(words.build());
  }

  /** A dictionary of only the given entries (tests, or when the Debian file is missing). */
  static of(entries: Record<string, string>): PronunciationDictionary {
    const words = new PackedWordsBuilder();
    for (const [w, p] of Object.entries(entries)) addLine(words, `${w} ${p}`);
    return new PronunciationDictionary(words.build());
  }

  /** The first pronunciation of a word (lower case), if the dictionary has it. */
  lookup(word: string): readonly Phone[] | undefined {
    return this.#words.get(word.toLowerCase());
  }

  /** Splits a text into words and pronounces each; punctuation marks where a pause may fall. */
  pronounce(text: string): PronouncedWord[] {
    const out: PronouncedWord[] = [];
    for (const token of text.split(/\s+/)) {
      const pauseAfter = /[,.;:!?)\u2014\u2013"]+$/.test(token) || token === '-' || token === '--';
      const parts = token
        .toLowerCase()
        .replace(/[\u2019\u2018]/g, "'")
        .split(/[^a-z0-9']+/)
        .map((p) => p.replace(/^'+|'+$/g, ''))
        .filter((p) => p.length > 0);
      parts.forEach((part, i) => {
        for (const word of /^[0-9]+$/.test(part) ? spellDigits(part) : [part]) {
          const known = this.lookup(word);
          out.push({ word, phones: known ?? letterToSound(word), guessed: !known, pauseAfter: false });
        }
        if (i === parts.length - 1 && pauseAfter && out.length) out[out.length - 1] = { ...out[out.length - 1], pauseAfter: true };
      });
    }
    return out;
  }
}

function addLine(words: PackedWordsBuilder, line: string): void {
  const sp = line.indexOf(' ');
  if (sp <= 0) return;
  const key = line.slice(0, sp);
  if (key.endsWith(')')) return; // "read(2)": alternates; the first pronunciation is kept
  const phones = line.slice(sp + 1).trim().split(/\s+/);
  if (phones.every(isPhone)) words.add(key, phones);
}

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
function spellDigits(s: string): string[] {
  return [...s].map((d) => DIGITS[Number(d)]);
}

// Letter-to-sound, longest match first. Crude, but it puts closures, rounding and spreading roughly where they are.
const RULES: readonly [string, readonly Phone[]][] = (
  [
    ['tch', 'CH'], ['igh', 'AY'], ['sch', 'S K'], ['ch', 'CH'], ['sh', 'SH'], ['th', 'TH'], ['ph', 'F'], ['wh', 'W'],
    ['ng', 'NG'], ['ck', 'K'], ['qu', 'K W'], ['ee', 'IY'], ['ea', 'IY'], ['oo', 'UW'], ['ou', 'AW'], ['ow', 'OW'],
    ['ai', 'EY'], ['ay', 'EY'], ['oa', 'OW'], ['oi', 'OY'], ['oy', 'OY'], ['au', 'AO'], ['aw', 'AO'], ['ie', 'IY'],
    ['er', 'ER'], ['ir', 'ER'], ['ur', 'ER'], ['ar', 'AA R'], ['or', 'AO R'], ['a', 'AE'], ['b', 'B'], ['d', 'D'],
    ['e', 'EH'], ['f', 'F'], ['g', 'G'], ['h', 'HH'], ['i', 'IH'], ['j', 'JH'], ['k', 'K'], ['l', 'L'], ['m', 'M'],
    ['n', 'N'], ['o', 'AA'], ['p', 'P'], ['q', 'K'], ['r', 'R'], ['s', 'S'], ['t', 'T'], ['u', 'AH'], ['v', 'V'],
    ['w', 'W'], ['x', 'K S'], ['z', 'Z'],
  ] as const
).map(([g, p]) => [g, p.split(' ') as Phone[]]);

export function letterToSound(word: string): Phone[] {
  const w = word.toLowerCase().replace(/[^a-z]/g, '');
  const out: Phone[] = [];
  let i = 0;
  while (i < w.length) {
    const c = w[i];
    if (i > 0 && c === w[i - 1] && !'aeiou'.includes(c)) {
      i++; // doubled consonant: one sound
      continue;
    }
    if (c === 'e' && i === w.length - 1 && i > 1) break; // final silent e
    if (c === 'c') {
      out.push('aeiy'.includes(w[i + 1] ?? '') && w[i + 1] !== 'a' ? 'S' : 'K');
      i++;
      continue;
    }
    if (c === 'y') {
      out.push(i === 0 ? 'Y' : 'IY');
      i++;
      continue;
    }
    const rule = RULES.find(([g]) => w.startsWith(g, i));
    if (!rule) {
      i++;
      continue;
    }
    out.push(...rule[1]);
    i += rule[0].length;
  }
  return out;
}

let shared: PronunciationDictionary | undefined;
let loading: Promise<PronunciationDictionary> | undefined;

/** The shared CMU dictionary if it is loaded (see loadSharedDictionary). */
export function sharedDictionary(): PronunciationDictionary | undefined {
  return shared;
}

/**
 * Loads the shared dictionary once (about 0.3 s, in slices). When the Debian file is missing, an empty dictionary
 * is used and every word goes through the letter-to-sound fallback.
 */
export function loadSharedDictionary(path = CMUDICT_PATH): Promise<PronunciationDictionary> {
  loading ??= PronunciationDictionary.load(path)
    .catch((err: unknown) => {
      log.warn({ err, path }, 'CMU dictionary not readable: letter-to-sound only (install pocketsphinx-en-us)');
      return PronunciationDictionary.of({});
    })
    .then((d) => {
      shared = d;
      log.debug({ words: d.size }, 'pronunciation dictionary loaded');
      return d;
    });
  return loading;
}
