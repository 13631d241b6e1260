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
  /** Chunks the playout buffer takes before it is full. */
  capacity = Infinity;
  queue(chunk: AudioChunk, segmentId: number, last: boolean): boolean {
    if (chunk.epoch !== this.#epoch) return true;
    if (this.queued.length >= this.capacity) return false;
    this.queued.push({ chunk, segmentId, last });
    this.#endUs = chunk.ptsUs + 20_000;
    return true;
  }
  beginTurn(segmentId: number): void {
    this.turns.push(segmentId);
  }
  readonly ended: number[] = [];
  endTurn(segmentId: number): void {
    this.ended.push(segmentId);
  }
  readonly texts: string[] = [];
  text(_segmentId: number, text: string): void {
    this.texts.push(text);
  }
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

  it('says the turn is complete even when its last chunks are refused (buffer full), with an error for them', async () => {
    const target = new RecordingTarget();
    target.capacity = 30;
    const { ingest, replies } = ingestWith(target, 48_000);
    await ingest.onBinary(tone(1, 48_000));
    await ingest.onText('{"type":"end_of_turn"}');
    expect(target.queued.length).toBe(30);
    expect(target.queued.some((q) => q.last)).toBe(false); // the chunk marked last was among the refused
    expect(target.ended).toEqual([target.turns[0]]);
    expect(replies.filter((r) => r.type === 'error' && r.code === 'buffer-full').length).toBeGreaterThan(0);
    ingest.close();
    expect(target.ended).toHaveLength(1);
  });

  it('a socket that closes mid-turn: what it sent is queued and its turn completes', async () => {
    const target = new RecordingTarget();
    const { ingest } = ingestWith(target, 48_000);
    await ingest.onBinary(tone(0.5, 48_000));
    expect(target.ended).toHaveLength(0);
    ingest.close();
    expect(target.queued.length).toBe(25);
    expect(target.queued[24]!.last).toBe(true);
    expect(target.ended).toEqual([target.turns[0]]);
  });
});

describe('TtsIngest text bounds', () => {
  it("refuses text past a turn's bound with too-large, and takes it again in the next turn", async () => {
    const target = new RecordingTarget();
    const texts = target.texts;
    const { ingest, replies } = ingestWith(target, 48_000);
    const big = 'word '.repeat(4000); // 20,000 characters, the most one event may carry
    for (let i = 0; i < 4; i++) await ingest.onText(JSON.stringify({ type: 'text', text: big }));
    expect(texts).toHaveLength(3); // 60,000 characters
    expect(replies.filter((r) => r.type === 'error' && r.code === 'too-large')).toHaveLength(1);
    await ingest.onText('{"type":"end_of_turn"}');
    await ingest.onText(JSON.stringify({ type: 'text', text: big }));
    expect(texts).toHaveLength(4);
    ingest.close();
  });
});
