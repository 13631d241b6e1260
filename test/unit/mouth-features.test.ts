import { describe, expect, it } from 'vitest';
import { MouthFeatureTrack, type MouthDrive } from '../../src/audio/mouth-features.ts';
import { PronunciationDictionary } from '../../src/audio/visemes/index.ts';
import { CHUNK_SAMPLES } from '../../src/media/types.ts';

const SR = 48_000;

function chunk(ptsUs: number, amp: number) {
  const samples = Int16Array.from({ length: CHUNK_SAMPLES }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 220 * i) / SR)));
  return { ptsUs, samples, epoch: 0 };
}

/** A synthetic sound as a function of absolute sample index, cut into 20 ms chunks from 0. */
function pushSignal(track: MouthFeatureTrack, seconds: number, at: (n: number) => number): void {
  for (let k = 0; k < (seconds * 1000) / 20; k++) {
    const samples = Int16Array.from({ length: CHUNK_SAMPLES }, (_, i) => Math.max(-32768, Math.min(32767, Math.round(at(k * CHUNK_SAMPLES + i)))));
    track.push({ ptsUs: k * 20_000, samples, epoch: 0 });
  }
}

/** A vowel-like sound: a 120 Hz buzz plus two formant-like partials. */
const vowel = (f1: number, f2: number, amp: number) => (n: number) =>
  amp * (0.3 * Math.sin((2 * Math.PI * 120 * n) / SR) + Math.sin((2 * Math.PI * f1 * n) / SR) + 0.6 * Math.sin((2 * Math.PI * f2 * n) / SR));

let seed = 11;
const noise = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
/** Hiss: white noise differenced twice (energy mostly above 4 kHz), like an s. */
function hiss(amp: number): (n: number) => number {
  let a = 0;
  let b = 0;
  return () => {
    const x = noise();
    const d1 = x - a;
    const d2 = d1 - b;
    a = x;
    b = d1;
    return amp * d2;
  };
}

const frames = (track: MouthFeatureTrack, fromMs: number, toMs: number): MouthDrive[] => {
  const out: MouthDrive[] = [];
  for (let t = fromMs; t < toMs; t += 40) out.push(track.mouthAt(t * 1000));
  return out;
};

describe('MouthFeatureTrack', () => {
  it('opens the jaw with speech-level audio and keeps it shut in silence', () => {
    const track = new MouthFeatureTrack({ rightContextUs: 40_000 });
    for (let k = 0; k < 50; k++) track.push(chunk(k * 20_000, k >= 20 && k < 35 ? 8000 : 3));
    expect(track.mouthAt(200_000).jawOpen).toBeLessThan(0.05);
    expect(track.mouthAt(560_000).jawOpen).toBeGreaterThan(0.5);
    expect(track.mouthAt(900_000).jawOpen).toBeLessThan(0.05);
    expect(track.coveredUntilUs).toBe(1_000_000);
  });

  it('looks at most its right context ahead (declared latency)', () => {
    const track = new MouthFeatureTrack({ rightContextUs: 40_000 });
    for (let k = 0; k < 50; k++) track.push(chunk(k * 20_000, k >= 30 ? 8000 : 0));
    // Sound starts at 600 ms: a frame at 500 ms must not move, one at 580 ms may.
    expect(track.mouthAt(500_000)).toEqual({ jawOpen: 0, lipSpread: 0, lipPress: 0 });
    expect(track.mouthAt(580_000).jawOpen).toBeGreaterThan(0);
  });

  it('gives a frame the same drive whether or not audio past its right context has arrived (live = offline)', () => {
    const sound = vowel(700, 1200, 6000);
    const modulated = (n: number) => sound(n) * (0.5 + 0.5 * Math.sin((2 * Math.PI * 4 * n) / SR)) * (n > SR * 0.3 ? 1 : 0);
    const full = new MouthFeatureTrack();
    pushSignal(full, 2, modulated);
    for (const tMs of [400, 640, 1000, 1360]) {
      const live = new MouthFeatureTrack();
      // Only what covers the frame's right context: chunks up to t + 40 ms.
      pushSignal(live, (tMs + 40) / 1000, modulated);
      expect(live.coveredUntilUs).toBeGreaterThanOrEqual(tMs * 1000 + live.rightContextUs);
      expect(live.mouthAt(tMs * 1000)).toEqual(full.mouthAt(tMs * 1000));
    }
  });

  it('is closed and exactly still in silence, also over a noise floor', () => {
    const track = new MouthFeatureTrack();
    const speech = vowel(650, 1100, 7000);
    // Speech 0.5-1.5 s, then a faint noise floor (a quiet room) for 2 s.
    pushSignal(track, 3.5, (n) => (n > 0.5 * SR && n < 1.5 * SR ? speech(n) : 20 * noise()));
    expect(Math.max(...frames(track, 700, 1300).map((d) => d.jawOpen))).toBeGreaterThan(0.4);
    const quiet = frames(track, 1800, 3400);
    for (const d of quiet) expect(d).toEqual({ jawOpen: 0, lipSpread: 0, lipPress: 0 });
  });

  it('follows syllables but not 10 ms level flicker (no jitter)', () => {
    const track = new MouthFeatureTrack();
    const v = vowel(700, 1200, 8000);
    // 0-2 s: a 4 Hz syllable pattern (20 dB deep). 2-4 s: the same vowel with its gain flickering +-1.6 dB per 10 ms.
    const gains = Array.from({ length: 400 }, () => 1 + 0.4 * noise());
    pushSignal(track, 4, (n) => (n < 2 * SR ? v(n) * (0.55 + 0.45 * Math.sin((2 * Math.PI * 4 * n) / SR)) : v(n) * gains[Math.floor(n / 480) % 400]));
    const syll = frames(track, 300, 1900).map((d) => d.jawOpen);
    expect(Math.max(...syll) - Math.min(...syll)).toBeGreaterThan(0.5);
    const flicker = frames(track, 2400, 3900).map((d) => d.jawOpen);
    const steps = flicker.slice(1).map((x, i) => Math.abs(x - flicker[i]));
    expect(Math.max(...steps)).toBeLessThan(0.06);
    expect(Math.min(...flicker)).toBeGreaterThan(0.5);
  });

  it('spreads the lips for a front vowel and rounds them for a back vowel, for this voice', () => {
    const track = new MouthFeatureTrack();
    const ee = vowel(300, 2300, 7000);
    const oo = vowel(320, 800, 7000);
    // Alternating 400 ms of each, so the voice's own mean is learnt.
    pushSignal(track, 4.8, (n) => (Math.floor(n / (0.4 * SR)) % 2 === 0 ? ee(n) : oo(n)));
    const at = (ms: number) => track.mouthAt(ms * 1000).lipSpread;
    for (const start of [1600, 2400, 3200, 4000]) {
      // [start, start+400) is ee, [start+400, start+800) is oo.
      expect(at(start + 250) - at(start + 650)).toBeGreaterThan(0.4);
      expect(at(start + 250)).toBeGreaterThan(0);
      expect(at(start + 650)).toBeLessThan(0);
    }
  });

  it('keeps the jaw low on a hiss (s) at the same level as an open vowel', () => {
    const track = new MouthFeatureTrack();
    const v = vowel(700, 1200, 5000);
    const s = hiss(12_000);
    pushSignal(track, 2, (n) => (n < SR ? v(n) : s(n)));
    const rms = (from: number, to: number, f: (n: number) => number) => {
      let acc = 0;
      for (let n = from; n < to; n++) acc += f(n) ** 2;
      return Math.sqrt(acc / (to - from));
    };
    // The two sounds are within 6 dB of each other, so the level alone would open the jaw alike.
    expect(Math.abs(20 * Math.log10(rms(0, SR, v) / rms(0, SR, hiss(12_000))))).toBeLessThan(6);
    const jawV = track.mouthAt(700_000).jawOpen;
    const jawS = track.mouthAt(1_700_000).jawOpen;
    expect(jawS).toBeLessThan(0.6 * jawV);
    expect(track.mouthAt(1_700_000).lipSpread).toBeGreaterThan(0.2);
  });

  it('presses the lips in a short dip between voiced stretches (a b/p closure), not in a pause', () => {
    const track = new MouthFeatureTrack();
    const v = vowel(650, 1100, 8000);
    // vowel 0.3-0.7 s, 80 ms closure, vowel 0.78-1.2 s, then a pause.
    pushSignal(track, 2.2, (n) => ((n > 0.3 * SR && n < 0.7 * SR) || (n > 0.78 * SR && n < 1.2 * SR) ? v(n) : 0));
    // Once the right context hears the voice come back (frames from ~740 ms), the closure is certain.
    const closure = Math.max(...[720, 740, 760].map((ms) => track.mouthAt(ms * 1000).lipPress));
    expect(closure).toBeGreaterThan(0.3);
    expect(track.mouthAt(740_000).jawOpen).toBeLessThan(track.mouthAt(500_000).jawOpen * 0.6);
    expect(track.mouthAt(500_000).lipPress).toBe(0);
    for (const d of frames(track, 1500, 2100)) expect(d).toEqual({ jawOpen: 0, lipSpread: 0, lipPress: 0 });
  });

  it('truncate forgets the future (interruption)', () => {
    const track = new MouthFeatureTrack();
    for (let k = 0; k < 50; k++) track.push(chunk(k * 20_000, 8000));
    track.truncate(400_000);
    expect(track.coveredUntilUs).toBe(400_000);
    expect(track.mouthAt(600_000).jawOpen).toBe(0);
    expect(track.mouthAt(200_000).jawOpen).toBeGreaterThan(0.3);
  });

  it('with the text known, closes the lips on b/m and rounds on oo where the audio alone would not', () => {
    const dictionary = PronunciationDictionary.of({ ma: 'M AA', boo: 'B UW' });
    const withText = new MouthFeatureTrack({ dictionary });
    const audioOnly = new MouthFeatureTrack({ dictionary });
    // A vowel-like sound 0.5-1.3 s, said as "ma boo" (word timings), with only a shallow 9 dB dip at the b
    // (voiced: too shallow for the audio alone to call it a closure).
    const v = vowel(600, 1300, 7000);
    const at = (n: number) => (n > 0.5 * SR && n < 1.3 * SR ? v(n) * (n > 0.89 * SR && n < 0.95 * SR ? 0.35 : 1) : 0);
    withText.visemes.addText('ma boo', 500_000, [
      { word: 'ma', startUs: 500_000, endUs: 900_000 },
      { word: 'boo', startUs: 900_000, endUs: 1_300_000 },
    ]);
    pushSignal(withText, 2, at);
    pushSignal(audioOnly, 2, at);
    // M: 500-~550 ms; B: 900-~950 ms; UW: ~950-1300 ms.
    expect(withText.mouthAt(920_000).lipPress).toBeGreaterThan(0.5);
    expect(audioOnly.mouthAt(920_000).lipPress).toBeLessThan(0.1);
    expect(withText.mouthAt(920_000).jawOpen).toBeLessThan(0.5 * audioOnly.mouthAt(920_000).jawOpen);
    expect(withText.mouthAt(1_150_000).lipSpread).toBeLessThan(-0.2);
    expect(withText.mouthAt(1_150_000).lipSpread).toBeLessThan(audioOnly.mouthAt(1_150_000).lipSpread - 0.2);
    // Silence stays still with text: long after the words, nothing moves.
    expect(withText.mouthAt(1_700_000)).toEqual({ jawOpen: 0, lipSpread: 0, lipPress: 0 });
    // An interruption drops the text's future with the audio's.
    withText.truncate(800_000);
    expect(withText.mouthAt(920_000)).toEqual({ jawOpen: 0, lipSpread: 0, lipPress: 0 });
  });
});
