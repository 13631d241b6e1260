// The TTS ingest takes a whole turn in one message (as TTS services send it) without holding the event loop: the
// audio is resampled, chunked and queued in slices with the loop turning between them, so the pacers' ticks run. An
// interrupt overtakes the audio still waiting or being sliced: none of that audio plays, and audio after it starts
// a new turn. The target here records what the session would get.
import { describe, expect, it } from 'vitest';
import { TtsIngest, type TtsTarget } from '../../src/ingest/tts.ts';
import type { AudioChunk } from '../../src/media/types.ts';
import type { IngestReply } from '../../signaling/ingest-protocol.ts';

class RecordingTarget implements TtsTarget {
  readonly sessionId = 'test-session';
  readonly queued: { chunk: AudioChunk; segmentId: number; last: boolean }[] = [];
  readonly turns: number[] = [];
  interrupts = 0;
  #epoch = 0;
  #endUs = 0;
  nextTurnStartUs(): number {
    return this.#endUs;
  }
  earliestPtsUs(): number {
    return 0;
  }
  epoch(): number {
    return this.#epoch;
  }
  queue(chunk: AudioChunk, segmentId: number, last: boolean): boolean {
    if (chunk.epoch !== this.#epoch) return true;
    this.queued.push({ chunk, segmentId, last });
    this.#endUs = chunk.ptsUs + 20_000;
    return true;
  }
  beginTurn(segmentId: number): void {
    this.turns.push(segmentId);
  }
  endEmptyTurn(): void {}
  text(): void {}
  instruction(): void {}
  interrupt(): { droppedUs: number } {
    this.interrupts++;
    this.#epoch++;
    this.#endUs = 0;
    return { droppedUs: 0 };
  }
}

/** PCM16 bytes of a 440 Hz tone. */
function tone(seconds: number, rate: number): Uint8Array {
  const s = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < s.length; i++) s[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return new Uint8Array(s.buffer);
}

function ingestWith(target: RecordingTarget, sampleRate: 24_000 | 48_000): { ingest: TtsIngest; replies: IngestReply[] } {
  const replies: IngestReply[] = [];
  const ingest = new TtsIngest(target, { encoding: 'pcm16', sampleRate }, (r) => replies.push(r));
  return { ingest, replies };
}

describe('TtsIngest', () => {
  it('queues a whole 20 s turn sent as one message in full, in order, while the event loop keeps turning', async () => {
    const target = new RecordingTarget();
    const { ingest } = ingestWith(target, 24_000);
    // A ticker that runs whenever the loop turns: how many chunks were queued between two of its turns.
    const steps: number[] = [];
    let last = 0;
    let ticking = true;
    const tick = (): void => {
      steps.push(target.queued.length - last);
      last = target.queued.length;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await ingest.onBinary(tone(20, 24_000));
    await ingest.onText(JSON.stringify({ type: 'end_of_turn' }));
    ticking = false;
    expect(target.queued.length).toBe(1000); // 20 s of 20 ms chunks, the last padded
    expect(target.queued.every((q, i) => q.chunk.ptsUs === i * 20_000)).toBe(true);
    expect(target.queued.filter((q) => q.last).length).toBe(1);
    expect(target.queued[999]!.last).toBe(true);
    // The loop turned all along: never more than a slice (100 ms, 5 chunks) and the held-back chunk between turns.
    expect(steps.length).toBeGreaterThan(150);
    expect(Math.max(...steps)).toBeLessThanOrEqual(6);
    ingest.close();
  });

  it('an interrupt overtakes the audio still being sliced and waiting: none of it plays; audio after it is a new turn', async () => {
    const target = new RecordingTarget();
    const { ingest, replies } = ingestWith(target, 48_000);
    const first = ingest.onBinary(tone(10, 48_000));
    const second = ingest.onBinary(tone(10, 48_000)); // waits behind the first
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    await ingest.onText('{"type":"interrupt"}');
    const before = target.queued.length;
    expect(target.interrupts).toBe(1);
    expect(replies.some((r) => r.type === 'interrupted')).toBe(true);
    await Promise.all([first, second]);
    // What was queued before the interrupt is the session's to drop (a stale epoch); nothing was queued after it.
    expect(target.queued.length).toBe(before);
    expect(before).toBeLessThan(500);
    // The next audio is a new turn, on the new epoch, from the start of the timeline.
    await ingest.onBinary(tone(1, 48_000));
    await ingest.onText('{"type":"end_of_turn"}');
    const after = target.queued.slice(before);
    expect(after.length).toBe(50);
    expect(target.turns.length).toBe(2);
    expect(after.every((q) => q.segmentId === target.turns[1] && q.chunk.epoch === 1)).toBe(true);
    ingest.close();
  });
});
