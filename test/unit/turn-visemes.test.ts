// A TTS turn's text reaches the mouth's visemes at the media time of the turn's first audio, as the session feeds
// them (src/session/session.ts: beginTurn, text, queue, endTurn, interrupt).
import { describe, expect, it } from 'vitest';
import { MouthFeatureTrack } from '../../src/audio/mouth-features.ts';
import { PronunciationDictionary } from '../../src/audio/visemes/index.ts';
import { CHUNK_MS, CHUNK_SAMPLES, type AudioChunk } from '../../src/media/types.ts';
import { TurnVisemes, type VisemeSink } from '../../src/session/turn-visemes.ts';

function recorder(): VisemeSink & { added: [string, number][] } {
  const added: [string, number][] = [];
  return { added, addText: (text, startUs) => void added.push([text, startUs]) };
}

describe('TurnVisemes', () => {
  it('holds text that comes before the audio and places it at the first chunk; later pieces share that start', () => {
    const sink = recorder();
    const turns = new TurnVisemes(sink);
    turns.begin(7);
    turns.text(7, 'Hello there.');
    expect(sink.added).toEqual([]);
    turns.audio(7, 3_000_000, false);
    turns.audio(7, 3_020_000, false);
    turns.text(7, 'How are you?');
    turns.audio(7, 3_040_000, true);
    expect(sink.added).toEqual([
      ['Hello there.', 3_000_000],
      ['How are you?', 3_000_000],
    ]);
    expect(turns.openTurns).toBe(0);
  });

  it('drops the text of a turn that ends without audio, or that an interrupt ends before its audio', () => {
    const sink = recorder();
    const turns = new TurnVisemes(sink);
    turns.begin(1);
    turns.text(1, 'never said');
    turns.end(1);
    turns.audio(1, 1_000_000, false);
    turns.begin(2);
    turns.text(2, 'cut off');
    turns.interrupt();
    turns.audio(2, 2_000_000, false); // a stale chunk: the session drops these, but nothing may be placed anyway
    expect(sink.added).toEqual([]);
    expect(turns.openTurns).toBe(0);
  });

  it('never places a turn before one already placed (it would cut it), except after an interrupt', () => {
    const sink = recorder();
    const turns = new TurnVisemes(sink);
    turns.begin(1);
    turns.begin(2);
    turns.text(2, 'second');
    turns.audio(2, 5_000_000, false);
    turns.text(1, 'first');
    turns.audio(1, 4_000_000, true);
    expect(sink.added).toEqual([['second', 5_000_000]]);
    // A turn queued for 5 s is interrupted at 2 s; the next one starts at 2.1 s, before it.
    turns.interrupt();
    turns.begin(3);
    turns.text(3, 'third');
    turns.audio(3, 2_100_000, false);
    expect(sink.added.at(-1)).toEqual(['third', 2_100_000]);
  });

  it('drives a real mouth track: phones land on the turn, and an interrupt drops the visemes after its time', () => {
    const dictionary = PronunciationDictionary.of({ mama: 'M AA M AA', papa: 'P AA P AA' });
    const mouth = new MouthFeatureTrack({ dictionary });
    const turns = new TurnVisemes(mouth.visemes);
    const startUs = 3_000_000;
    // "mama papa": four loud syllables with quiet closures between, from 3 s on (the queue's end in a session).
    const loud = (ms: number) => ms % 250 >= 60 && ms % 250 < 220 && ms < 1000;
    turns.begin(4);
    turns.text(4, 'mama papa');
    for (let k = 0; k < 80; k++) {
      const samples = new Int16Array(CHUNK_SAMPLES);
      for (let i = 0; i < CHUNK_SAMPLES; i++) {
        const ms = k * CHUNK_MS + i / 48;
        samples[i] = loud(ms) ? Math.round(9000 * Math.sin((2 * Math.PI * 600 * i) / 48_000)) : 0;
      }
      const chunk: AudioChunk = { ptsUs: startUs + k * CHUNK_MS * 1000, samples, epoch: 0 };
      mouth.push(chunk);
      turns.audio(4, chunk.ptsUs, k === 79);
    }
    const phones = mouth.visemes.phonesBetween(0, 10_000_000);
    expect(phones.map((p) => p.phone)).toEqual(['M', 'AA', 'M', 'AA', 'P', 'AA', 'P', 'AA']);
    expect(phones[0].startUs).toBeGreaterThanOrEqual(startUs);
    expect(phones.at(-1)!.endUs).toBeLessThanOrEqual(startUs + 1_200_000);
    // Barge-in at 3.5 s, as AvatarSession.interrupt does it: the mouth (visemes included) and the waiting texts.
    mouth.truncate(3_500_000);
    turns.interrupt();
    expect(mouth.visemes.phonesBetween(3_500_000, 10_000_000)).toEqual([]);
    expect(mouth.visemes.phonesBetween(0, 3_500_000).length).toBeGreaterThan(0);
  });
});
