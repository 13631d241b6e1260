// Pocketsphinx for real on flite speech (voice kal): most words of known sentences, increasing word times that land
// where the sentences are on the media timeline.
import { describe, expect, it } from 'vitest';
import { PocketsphinxRecognizer, type RecognizedWord } from '../../src/asr/index.ts';
import { chunks, concat, silence, speech, until, wordErrorRate } from '../director/fixtures.ts';

const WARM_UP = 'Good morning everyone, welcome to the show.';
const FIRST = 'Please open the window and close the door before you leave.';
const SECOND = 'I think we should meet again next week to talk about the plan.';

describe('PocketsphinxRecognizer', () => {
  it('is installed (Debian pocketsphinx + pocketsphinx-en-us)', () => {
    expect(PocketsphinxRecognizer.available()).toBe(true);
  });

  it('recognises most words of known sentences with increasing timings on the media clock', async () => {
    const parts = [silence(1), speech('flite', WARM_UP, ['-voice', 'kal']), silence(1), speech('flite', FIRST, ['-voice', 'kal']), silence(1), speech('flite', SECOND, ['-voice', 'kal']), silence(1)];
    const startUs = 5_000_000; // a session already 5 s in
    const spans: { startUs: number; endUs: number }[] = [];
    let at = startUs;
    for (const p of parts) {
      spans.push({ startUs: at, endUs: at + (p.length / 48_000) * 1e6 });
      at += (p.length / 48_000) * 1e6;
    }
    const rec = new PocketsphinxRecognizer();
    const words: RecognizedWord[] = [];
    rec.on('result', (r) => words.push(...r.words));
    const errors: Error[] = [];
    rec.on('error', (e) => errors.push(e));
    for (const c of chunks(concat(...parts), startUs)) rec.push(c);
    await until(() => rec.stats.results >= 3, 30_000);
    await rec.close();
    await rec.close(); // idempotent
    expect(errors).toEqual([]);
    const within = (s: { startUs: number; endUs: number }) => words.filter((w) => w.startUs >= s.startUs - 300_000 && w.endUs <= s.endUs + 300_000);
    const hyp = (s: { startUs: number; endUs: number }) => within(s).map((w) => w.word).join(' ');
    const werFirst = wordErrorRate(FIRST, hyp(spans[3]!));
    const werSecond = wordErrorRate(SECOND, hyp(spans[5]!));
    const werWarmUp = wordErrorRate(WARM_UP, hyp(spans[1]!));
    // Measured 0.09 and 0 ("we'd open the window ...", "i think we should meet again next week ..."); 0.57 on the
    // first utterance of the session ("mm good morning everybody and welcome to the shop") while the decoder's
    // cepstral mean adapts. 0.3 leaves room on the sentences that count.
    expect(werFirst).toBeLessThanOrEqual(0.3);
    expect(werSecond).toBeLessThanOrEqual(0.3);
    expect(werWarmUp).toBeLessThanOrEqual(0.8);
    for (let i = 1; i < words.length; i++) {
      expect(words[i]!.startUs).toBeGreaterThanOrEqual(words[i - 1]!.endUs - 1);
      expect(words[i]!.endUs).toBeGreaterThanOrEqual(words[i]!.startUs);
    }
    // Nothing was heard in the silences.
    const inside = (s: { startUs: number; endUs: number }) => words.filter((w) => (w.startUs + w.endUs) / 2 > s.startUs + 200_000 && (w.startUs + w.endUs) / 2 < s.endUs - 200_000);
    expect(inside(spans[0]!).length + inside(spans[2]!).length + inside(spans[4]!).length + inside(spans[6]!).length).toBe(0);
    expect(words[0]!.startUs).toBeGreaterThan(spans[1]!.startUs - 200_000);
  });
});
