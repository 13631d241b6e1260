import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PackedWordsBuilder } from '../../src/audio/visemes/packed-words.ts';
import { CMUDICT_PATH, PronunciationDictionary } from '../../src/audio/visemes/index.ts';

describe('packed words', () => {
  it('finds every word whatever the order it was added in, keeps the first of a repeated word, misses the rest', () => {
    const b = new PackedWordsBuilder();
    b.add('papa', ['P', 'AA', 'P', 'AA']);
    b.add('a', ['AH']);
    b.add('mama', ['M', 'AA', 'M', 'AA']);
    b.add("don't", ['D', 'OW', 'N', 'T']);
    b.add('a', ['EY']);
    const w = b.build();
    expect(w.size).toBe(4);
    expect(w.get('a')).toEqual(['AH']);
    expect(w.get('mama')).toEqual(['M', 'AA', 'M', 'AA']);
    expect(w.get('papa')).toEqual(['P', 'AA', 'P', 'AA']);
    expect(w.get("don't")).toEqual(['D', 'OW', 'N', 'T']);
    for (const missing of ['', 'b', 'mam', 'mamas', 'zzz', 'pa']) expect(w.get(missing)).toBeUndefined();
    expect(new PackedWordsBuilder().build().get('a')).toBeUndefined();
  });

  // The reason for packing: the dictionary lives on the server's main thread, where each full collection walks
  // the heap's objects. As a Map it was 31 MB of small objects and made a full GC 6x slower (18 ms vs 3).
  it.skipIf(!existsSync(CMUDICT_PATH))('holds the 126k-word CMU dictionary in a few MB of heap', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const d = PronunciationDictionary.loadSync();
    gc();
    const grew = process.memoryUsage().heapUsed - before;
    expect(d.size).toBeGreaterThan(100_000);
    expect(d.lookup('zebra')).toEqual(['Z', 'IY', 'B', 'R', 'AH']);
    expect(grew).toBeLessThan(10e6);
  });
});
