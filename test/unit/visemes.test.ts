import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chunker } from '../../src/audio/chunker.ts';
import { MouthFeatureTrack } from '../../src/audio/mouth-features.ts';
import {
  CMUDICT_PATH,
  PronunciationDictionary,
  VisemeTrack,
  alignHops,
  blendVisemes,
  coarticulate,
  forcedAlign,
  letterToSound,
  type AudioHop,
  type HopFeatures,
  type TimedPhone,
} from '../../src/audio/visemes/index.ts';

const hasDict = existsSync(CMUDICT_PATH);
const hasTools = hasDict && ['espeak-ng', 'sox', 'pocketsphinx_continuous'].every((b) => {
  try {
    execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

describe('pronunciation', () => {
  it.skipIf(!hasDict)('reads the CMU dictionary that Debian ships, with pauses at punctuation and numbers spelt out', async () => {
    const d = await PronunciationDictionary.load();
    expect(d.size).toBeGreaterThan(100_000);
    const words = d.pronounce('Bob moved, 2 blue boats!');
    expect(words.map((w) => w.word)).toEqual(['bob', 'moved', 'two', 'blue', 'boats']);
    expect(words[0].phones).toEqual(['B', 'AA', 'B']);
    expect(words[3].phones).toEqual(['B', 'L', 'UW']);
    expect(words.map((w) => w.pauseAfter)).toEqual([false, true, false, false, true]);
    expect(words.every((w) => !w.guessed)).toBe(true);
  });

  it('guesses words it lacks with letter-to-sound rules that keep closures and rounding', () => {
    const d = PronunciationDictionary.of({ hello: 'HH AH L OW' });
    const [known, guessed] = d.pronounce('hello zoombap');
    expect(known).toMatchObject({ phones: ['HH', 'AH', 'L', 'OW'], guessed: false });
    expect(guessed.guessed).toBe(true);
    expect(guessed.phones).toEqual(['Z', 'UW', 'M', 'B', 'AE', 'P']);
    expect(letterToSound('shop')).toEqual(['SH', 'AA', 'P']);
  });
});

describe('coarticulation and blending', () => {
  const ph = (phone: TimedPhone['phone'], a: number, b: number): TimedPhone => ({ phone, startUs: a * 1000, endUs: b * 1000 });

  it('closes the lips at a b between open vowels and opens them again', () => {
    const seq = [ph('AA', 0, 150), ph('B', 150, 220), ph('AA', 220, 370)];
    expect(coarticulate(seq, 185_000).lipPress).toBeGreaterThan(0.8);
    expect(coarticulate(seq, 75_000).lipPress).toBeLessThan(0.05);
    expect(coarticulate(seq, 185_000).jawOpen).toBeLessThan(0.6);
    expect(coarticulate(seq, 75_000).jawOpen).toBeGreaterThan(0.85);
    // Blended with an audio drive that only dips a little (a voiced b): the lips still close.
    const drive = blendVisemes({ jawOpen: 0.35, lipSpread: 0, lipPress: 0 }, coarticulate(seq, 185_000));
    expect(drive.jawOpen).toBeLessThan(0.1);
    expect(drive.lipPress).toBeGreaterThan(0.8);
    // Where the audio is loud, a b cannot be there (the timing is off): the text's press gives way.
    expect(blendVisemes({ jawOpen: 0.95, lipSpread: 0, lipPress: 0 }, coarticulate(seq, 185_000)).lipPress).toBe(0);
  });

  it('rounds ahead of a rounded vowel (anticipation) and spreads on ee', () => {
    const seq = [ph('S', 0, 100), ph('T', 100, 160), ph('UW', 160, 300), ph('IY', 300, 420)];
    expect(coarticulate(seq, 130_000).lipSpread).toBeLessThan(-0.2); // during the t, before the oo
    expect(coarticulate(seq, 230_000).lipSpread).toBeLessThan(-0.55);
    expect(coarticulate(seq, 380_000).lipSpread).toBeGreaterThan(0.3);
  });

  it('leaves the audio drive alone where the text says nothing, and keeps silence closed', () => {
    const audio = { jawOpen: 0.6, lipSpread: 0.2, lipPress: 0 };
    expect(blendVisemes(audio, { jawOpen: 0, lipSpread: -1, lipPress: 1, weight: 0 })).toBe(audio);
    const silent = { jawOpen: 0, lipSpread: 0, lipPress: 0 };
    expect(blendVisemes(silent, { jawOpen: 1, lipSpread: 0.8, lipPress: 0, weight: 1 })).toEqual(silent);
    const closed = blendVisemes({ ...audio, jawOpen: 0.5 }, { jawOpen: 0.05, lipSpread: 0, lipPress: 1, weight: 1 });
    expect(closed.lipPress).toBe(1);
    expect(closed.jawOpen).toBeLessThan(0.15);
  });
});

/** Synthetic hops: speech where `loud(t)` (t in hops), silence elsewhere. */
function hops(n: number, loud: (t: number) => number, fric: (t: number) => number = () => 0): AudioHop[] {
  const f = (db: number): HopFeatures => ({ db, lowDb: db - 6, f1Db: db, f2Db: db - 10, hiDb: db - 30, f1Hz: 600, zcr: 0.05 });
  return Array.from({ length: n }, (_, t) => {
    const a = loud(t);
    return { features: f(a > 0 ? -20 - 20 * (1 - a) : -120), act: a > 0 ? 1 : 0, fric: fric(t), level: a };
  });
}

describe('aligner (audio features only)', () => {
  it('puts words into the speech and their closures into the dips', () => {
    const d = PronunciationDictionary.of({ papa: 'P AA P AA', mama: 'M AA M AA' });
    // Lead silence 0-30, "papa": vowels 35-55 and 62-80 (a dip 55-62 for the second p), pause 80-140, "mama" 150-200.
    const loud = (t: number) => ((t >= 35 && t < 55) || (t >= 62 && t < 80) ? 1 : t >= 150 && t < 200 ? (t >= 170 && t < 176 ? 0.1 : 1) : 0);
    const res = alignHops(d.pronounce('papa. mama'), hops(240, loud));
    expect(res.complete).toBe(true);
    expect(res.phones.map((p) => p.phone)).toEqual(['P', 'AA', 'P', 'AA', 'M', 'AA', 'M', 'AA']);
    const [, a1, p2, a2, m1, , m2] = res.phones;
    expect(a1.start).toBeGreaterThanOrEqual(33);
    expect(a1.start).toBeLessThanOrEqual(38);
    expect(p2.start).toBeGreaterThanOrEqual(53);
    expect(p2.end).toBeLessThanOrEqual(64);
    expect(a2.end).toBeGreaterThanOrEqual(78);
    expect(a2.end).toBeLessThanOrEqual(82);
    expect(m1.start).toBeGreaterThanOrEqual(140);
    expect(m2.start).toBeGreaterThanOrEqual(164);
    expect(m2.end).toBeLessThanOrEqual(180);
  });

  it('aligns what has arrived of a text whose audio is still coming (open end)', () => {
    const d = PronunciationDictionary.of({ papa: 'P AA P AA', mama: 'M AA M AA' });
    const loud = (t: number) => ((t >= 35 && t < 55) || (t >= 62 && t < 80) ? 1 : 0);
    const res = alignHops(d.pronounce('papa mama'), hops(70, loud));
    expect(res.complete).toBe(false);
    expect(res.phones.length).toBeGreaterThanOrEqual(3);
    expect(res.phones.length).toBeLessThan(8);
    expect(res.phones.at(-1)!.end).toBe(70);
  });

  it.skipIf(!hasTools)('agrees with pocketsphinx forced alignment on real speech within tens of milliseconds', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'facecast-visemes-'));
    try {
      const text = 'Maybe we should move the meeting to Monday morning.';
      execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', path.join(dir, 'a.wav'), text]);
      execFileSync('sox', [path.join(dir, 'a.wav'), '-t', 'raw', '-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer', path.join(dir, 'a.raw'), 'pad', '0.5', '0.8']);
      const buf = readFileSync(path.join(dir, 'a.raw'));
      const samples = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const dict = await PronunciationDictionary.load();
      const ref = await forcedAlign(samples, dict.pronounce(text));
      const mouth = new MouthFeatureTrack({ historyHops: 100_000, dictionary: dict });
      mouth.visemes.addText(text, 0);
      const chunker = new Chunker(0, 0);
      for (const c of [...chunker.push(samples), ...chunker.flush()]) mouth.push(c);
      mouth.coverSilenceUntil(10_000_000);
      const mine = mouth.visemes.phonesBetween(0, 10_000_000);
      expect(mine.map((p) => p.phone)).toEqual(ref.map((p) => p.phone));
      const errs = ref.map((r, i) => Math.abs(r.startUs - mine[i].startUs) / 1000).sort((a, b) => a - b);
      expect(errs[Math.floor(errs.length / 2)]).toBeLessThanOrEqual(40);
      expect(errs[Math.floor(errs.length * 0.8)]).toBeLessThanOrEqual(120);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('VisemeTrack', () => {
  const dictionary = PronunciationDictionary.of({ ma: 'M AA', boo: 'B UW', see: 'S IY' });
  const silentAudio = { hopUs: 10_000, hopAt: () => undefined, coveredUntilUs: () => 0 };

  it('places phones by word timings and continues a text given in pieces', () => {
    const track = new VisemeTrack(silentAudio, { dictionary });
    track.addText('ma', 1_000_000, [{ word: 'ma', startUs: 1_000_000, endUs: 1_300_000 }]);
    expect(track.phonesBetween(0, 10_000_000)).toHaveLength(2);
    // The rest of the turn's text, after the first part was already placed (same start).
    track.addText('boo', 1_000_000, [{ word: 'boo', startUs: 1_300_000, endUs: 1_600_000 }]);
    const phones = track.phonesBetween(0, 10_000_000);
    expect(phones.map((p) => p.phone)).toEqual(['M', 'AA', 'B', 'UW']);
    expect(phones[0].startUs).toBe(1_000_000);
    expect(phones[3].endUs).toBe(1_600_000);
    expect(track.shapeAt(1_320_000)!.lipPress).toBeGreaterThan(0.5);
    expect(track.shapeAt(5_000_000)).toBeNull();
  });

  it('aligns a text longer than one alignment window, window after window, to the audio', () => {
    // 32 words "papa", each spoken 0.5 s (two syllables) then 0.3 s of silence: 25.6 s, past the 12 s window.
    const loud = (t: number) => {
      const inWord = t % 80;
      return (inWord >= 5 && inWord < 25) || (inWord >= 30 && inWord < 48) ? 1 : 0;
    };
    const all = hops(2600, loud);
    const audio = { hopUs: 10_000, hopAt: (k: number) => all[k], coveredUntilUs: () => 26_000_000 };
    const track = new VisemeTrack(audio, { dictionary: PronunciationDictionary.of({ papa: 'P AA P AA' }) });
    track.addText(Array.from({ length: 32 }, () => 'papa').join(' '), 0);
    const phones = track.phonesBetween(0, 30_000_000);
    expect(phones).toHaveLength(128);
    phones.forEach((p, i) => {
      const word = Math.floor(i / 4);
      // Every word's first vowel starts in its own first syllable.
      if (i % 4 === 1) expect(Math.abs(p.startUs - (word * 800_000 + 50_000))).toBeLessThanOrEqual(40_000);
    });
  });

  it('aligns only the words one window can hold: a 20,000-character text over 12 s of audio is one window of work', () => {
    // 15 words "papa" of audio (0.8 s each), then silence; the text goes on for 4000 words (20,000 characters).
    const loud = (t: number) => {
      const inWord = t % 80;
      return t < 1200 && ((inWord >= 5 && inWord < 25) || (inWord >= 30 && inWord < 48)) ? 1 : 0;
    };
    const all = hops(1200, loud);
    const audio = { hopUs: 10_000, hopAt: (k: number) => all[k], coveredUntilUs: () => 12_000_000 };
    const track = new VisemeTrack(audio, { dictionary: PronunciationDictionary.of({ papa: 'P AA P AA' }) });
    const text = Array.from({ length: 4000 }, () => 'papa').join(' ');
    expect(text.length).toBeGreaterThanOrEqual(19_999);
    track.addText(text, 0);
    const phones = track.phonesBetween(0, 12_000_000);
    // One window's work: the phones that 12 s of speech can hold, not the text's 16,000 phones x 1200 hops.
    expect(track.work.windows).toBe(1);
    expect(track.work.cells).toBeLessThan(300 * 1200);
    expect(phones.length).toBeGreaterThanOrEqual(56); // the 15 spoken words (14 whole at least)
    phones.slice(0, 56).forEach((p, i) => {
      if (i % 4 === 1) expect(Math.abs(p.startUs - (Math.floor(i / 4) * 800_000 + 50_000))).toBeLessThanOrEqual(40_000);
    });
  });

  it('forgets the future on truncate and rejects bad input', () => {
    const track = new VisemeTrack(silentAudio, { dictionary });
    track.addText('ma boo', 0, [
      { word: 'ma', startUs: 0, endUs: 300_000 },
      { word: 'boo', startUs: 300_000, endUs: 600_000 },
    ]);
    track.addText('see', 2_000_000, [{ word: 'see', startUs: 2_000_000, endUs: 2_300_000 }]);
    track.truncate(350_000);
    expect(track.phonesBetween(0, 10_000_000).every((p) => p.endUs <= 350_000)).toBe(true);
    expect(track.shapeAt(2_100_000)).toBeNull();
    expect(() => track.addText('ma', Number.NaN)).toThrow(RangeError);
    expect(() => track.addText('ma', 0, [{ word: 'ma', startUs: 5, endUs: 5 }])).toThrow(RangeError);
  });
});
