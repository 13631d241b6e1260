// The Director entity in real time: plans ahead of playback, never blocking, versioned, interrupt, close, live mode.
import { describe, expect, it } from 'vitest';
import { defaultExperts, Director, DirectorClosedError, DirectorInputError, type Expert, type Plan } from '../../src/director/index.ts';
import { TypedEmitter } from '../../src/util/typed-emitter.ts';
import type { AudioChunk } from '../../src/media/types.ts';
import type { RecognitionResult, RecognizerEvents, RecognizerStats, SpeechRecognizer } from '../../src/asr/index.ts';
import { chunks, concat, silence, sleep, speech, until } from './fixtures.ts';

const TEXT = 'Hello there. Yes, I agree, this is great news! Do you want to hear more about it?';

/** Playback time that runs with the wall clock from the moment it is created. */
function wallClock(): () => number {
  const t0 = performance.now();
  return () => Math.round((performance.now() - t0) * 1000);
}

describe('Director in real time', () => {
  it('publishes version-numbered plans ahead of playback while TTS audio arrives 3x faster than real time', async () => {
    const now = wallClock();
    const d = new Director({ lookaheadMs: 3_000, tickMs: 20, replanIntervalMs: 200 }, { nowUs: now });
    const plans: Plan[] = [];
    d.on('plan', (p) => plans.push(p));
    d.start();
    const audio = concat(speech('espeak', TEXT), silence(0.5));
    const cs = chunks(audio);
    d.transcript({ text: TEXT, segmentId: 1 });
    const coverage: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < cs.length; i++) {
      d.audio(cs[i]!, { segmentId: 1, last: i === cs.length - 1 });
      // 3x real time: a 20 ms chunk every 6.7 ms.
      const due = t0 + ((i + 1) * 20) / 3;
      if (performance.now() < due) await sleep(due - performance.now());
      if (i % 15 === 0 && plans.length > 0) coverage.push(d.latestPlan!.endUs - now());
    }
    await sleep(300);
    coverage.push(d.latestPlan!.endUs - now());
    await d.close();
    expect(plans.length).toBeGreaterThan(3);
    for (let i = 1; i < plans.length; i++) expect(plans[i]!.version).toBeGreaterThan(plans[i - 1]!.version);
    // Always at least half the look-ahead planned beyond playback.
    expect(Math.min(...coverage)).toBeGreaterThan(1_500_000);
    // The words got into the plans: the gestures of the agreement and the question are there.
    const last = plans[plans.length - 1]!;
    const everything = plans.flatMap((p) => p.shots);
    expect(everything.some((s) => s.gestures.some((g) => g.kind === 'nod'))).toBe(true);
    expect(last.source).toBe('rules');
  });

  it('never blocks the caller: inputs return at once even when a round is slow', async () => {
    // An expert that takes 60 ms per proposal: rounds are slow, but they run in the background loop only.
    const slow: Expert = {
      name: 'visual',
      propose: () => {
        const until = performance.now() + 60;
        while (performance.now() < until);
        return { expert: 'visual', cuts: [], claims: [], gestures: [], avoid: [], notes: ['slow'] };
      },
      critique: () => ({ expert: 'visual', changes: [], notes: [] }),
    };
    const d = new Director({ tickMs: 5 }, { nowUs: () => 0, experts: [slow, ...defaultExperts().filter((e) => e.name !== 'visual')] });
    const cs = chunks(speech('espeak', TEXT));
    d.transcript({ text: 'warm up', segmentId: 9 }); // first-call costs (schema, regexes) out of the way
    d.instruction('warm up');
    d.start();
    const times: number[] = [];
    const time = (fn: () => void) => {
      const t = performance.now();
      fn();
      times.push(performance.now() - t);
    };
    for (const [i, c] of cs.entries()) {
      time(() => d.audio(c, { segmentId: 1 }));
      if (i === 10) time(() => d.transcript({ text: TEXT, segmentId: 1 }));
      if (i === 20) time(() => d.instruction('nod when you agree and keep a serious face'));
      if (i % 5 === 0) time(() => d.shotAt(1_000_000));
      if (i % 25 === 0) await sleep(20); // let the loop run rounds in between
    }
    await until(() => d.metrics.rounds >= 2);
    expect(d.metrics.planLatencyMs.p50).toBeGreaterThan(55);
    expect(Math.max(...times)).toBeLessThan(20);
    await d.close();
  });

  it('interrupt cuts the plan at once and the next round listens', async () => {
    let now = 0;
    const d = new Director({ lookaheadMs: 6_000 }, { nowUs: () => now });
    d.transcript({ text: TEXT, segmentId: 1 });
    const cs = chunks(speech('espeak', TEXT));
    cs.forEach((c, i) => d.audio(c, { segmentId: 1, last: i === cs.length - 1 }));
    const first = d.planNow();
    expect(first.shots[0]!.description).toMatch(/^Says/);
    now = 1_000_000;
    d.interrupt(now);
    // Synchronously: nothing planned after the cut carries gestures any more.
    const held = d.shotAt(2_500_000);
    expect(held).toBeDefined();
    expect(held!.gestures.every((g) => g.atUs < now)).toBe(true);
    const after = d.planNow('interrupt');
    expect(after.version).toBeGreaterThan(first.version);
    expect(after.shots.every((s) => !s.description.startsWith('Says') || s.endUs <= now)).toBe(true);
    expect(after.shots.flatMap((s) => s.gestures)).toHaveLength(0);
    await d.close();
  });

  it('close is idempotent and ends the background loop; inputs after close are ignored', async () => {
    const d = new Director({ tickMs: 10 }, { nowUs: () => 0 });
    d.start();
    await until(() => d.metrics.plansPublished > 0);
    await Promise.all([d.close(), d.close()]);
    const n = d.metrics.rounds;
    d.transcript({ text: 'ignored', segmentId: 1 });
    await sleep(50);
    expect(d.metrics.rounds).toBe(n);
    expect(() => d.planNow()).toThrow(DirectorClosedError);
    expect(() => d.start()).toThrow(DirectorClosedError);
  });

  it('rejects bad input with a named error and keeps the trace bounded', () => {
    const d = new Director({ maxTrace: 5 }, { nowUs: () => 0 });
    expect(() => d.transcript({ text: '' })).toThrow(DirectorInputError);
    expect(() => d.transcript({ text: 'x', words: [{ word: 'x', startUs: 10, endUs: 5 }] })).toThrow(DirectorInputError);
    for (let i = 0; i < 12; i++) d.planNow();
    const trace = d.trace();
    expect(trace).toHaveLength(5);
    expect(trace[4]!.round).toBe(12);
    void d.close();
  });

  it('live mode: plans the unknown future from the voice so far, and takes words from a recogniser', async () => {
    let now = 0;
    const rec = new FakeRecognizer();
    const d = new Director({ lookaheadMs: 4_000 }, { nowUs: () => now, recognizer: rec });
    const audio = speech('espeak', 'Yes, exactly, I agree with that.');
    const cs = chunks(audio);
    for (const c of cs) d.audio(c); // live: no segment id
    now = cs.length * 20_000;
    const beforeWords = d.planNow();
    expect(rec.pushed).toBe(cs.length);
    // Everything after the audio heard so far is a planned future.
    const future = beforeWords.shots.filter((s) => s.startUs >= now);
    expect(future.length).toBeGreaterThan(0);
    expect(future[0]!.description).toMatch(/^Upcoming/);
    // The recogniser reports the words (after they were spoken): the next round plans with them.
    const span = cs.length * 20_000;
    rec.say([
      { word: 'yes', startUs: 100_000, endUs: 300_000, confidence: 1 },
      { word: 'exactly', startUs: 350_000, endUs: 800_000, confidence: 1 },
      { word: 'i', startUs: 900_000, endUs: 950_000, confidence: 1 },
      { word: 'agree', startUs: 1_000_000, endUs: span - 200_000, confidence: 1 },
    ]);
    now = 0; // replan the same span to see the words' effect
    const withWords = d.planNow();
    expect(withWords.shots.some((s) => s.gestures.some((g) => g.kind === 'nod'))).toBe(true);
    expect(d.metrics.recognizer?.name).toBe('fake');
    await d.close();
    expect(rec.closed).toBe(true);
  });
});

class FakeRecognizer extends TypedEmitter<RecognizerEvents> implements SpeechRecognizer {
  readonly name = 'fake';
  pushed = 0;
  closed = false;
  readonly stats: RecognizerStats = { results: 0, words: 0, pushedS: 0, droppedSegments: 0, errors: 0, lastLatencyMs: 0, medianLatencyMs: 0 };
  push(_chunk: AudioChunk): void {
    this.pushed++;
  }
  flush(): void {}
  interrupt(): void {}
  say(words: RecognitionResult['words']): void {
    this.stats.results++;
    this.emit('result', { words, text: words.map((w) => w.word).join(' '), latencyMs: 0 });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
