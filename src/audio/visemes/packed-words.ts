// Words -> phones, packed in a few typed arrays and one string rather than a Map of 126k keys and arrays.
// Why: as a Map the CMU dictionary is ~1M small heap objects (31 MB), and every full GC of the server's main
// thread marks them all: 18 ms a collection instead of 3 (measured), stalls the frame pacer feels and browsers'
// jitter buffers answer with more delay. Packed, the collector has nothing to walk. Lookup is a binary search.
import { PHONES } from './phonemes.ts';
import type { Phone } from './types.ts';

const PHONE_LIST = [...PHONES.keys()];
const PHONE_CODE = new Map(PHONE_LIST.map((p, i) => [p, i]));

/** Collects entries (in any order) and packs them; a later entry for the same word does not replace the first. */
export class PackedWordsBuilder {
  #keys: string[] = [];
  #phones: (readonly Phone[])[] = [];
  #sorted = true;

  add(word: string, phones: readonly Phone[]): void {
    const last = this.#keys[this.#keys.length - 1];
    if (last !== undefined && word <= last) this.#sorted = false;
    this.#keys.push(word);
    this.#phones.push(phones);
  }

  build(): PackedWords {
    let order = this.#keys.map((_, i) => i);
    if (!this.#sorted) {
      // Stable by index, so the first entry of a word wins, as it does in a Map built with "set if absent".
      order.sort((a, b) => (this.#keys[a] < this.#keys[b] ? -1 : this.#keys[a] > this.#keys[b] ? 1 : a - b));
      order = order.filter((i, k) => k === 0 || this.#keys[i] !== this.#keys[order[k - 1]]);
    }
    const keyStart = new Uint32Array(order.length + 1);
    const phoneStart = new Uint32Array(order.length + 1);
    let keyLen = 0;
    let phoneLen = 0;
    order.forEach((i, k) => {
      keyStart[k] = keyLen;
      phoneStart[k] = phoneLen;
      keyLen += this.#keys[i].length;
      phoneLen += this.#phones[i].length;
    });
    keyStart[order.length] = keyLen;
    phoneStart[order.length] = phoneLen;
    const phones = new Uint8Array(phoneLen);
    let at = 0;
    for (const i of order) for (const p of this.#phones[i]) phones[at++] = PHONE_CODE.get(p)!;
    // One flat string: V8 keeps it as a single object.
    const keys = order.map((i) => this.#keys[i]).join('');
    this.#keys = [];
    this.#phones = [];
    return new PackedWords(keys, keyStart, phones, phoneStart);
  }
}

export class PackedWords {
  readonly #keys: string;
  readonly #keyStart: Uint32Array;
  readonly #phones: Uint8Array;
  readonly #phoneStart: Uint32Array;

  constructor(keys: string, keyStart: Uint32Array, phones: Uint8Array, phoneStart: Uint32Array) {
    this.#keys = keys;
    this.#keyStart = keyStart;
    this.#phones = phones;
    this.#phoneStart = phoneStart;
  }

  get size(): number {
    return this.#keyStart.length - 1;
  }

  get(word: string): Phone[] | undefined {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const key = this.#keys.slice(this.#keyStart[mid], this.#keyStart[mid + 1]);
      if (key === word) {
        const out: Phone[] = [];
        for (let j = this.#phoneStart[mid]; j < this.#phoneStart[mid + 1]; j++) out.push(PHONE_LIST[this.#phones[j]]);
        return out;
      }
      if (key < word) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}
