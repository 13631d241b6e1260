// Every TTS turn ends exactly once: when its audio is complete and what the playout buffer accepted of it has played
// (also when its last chunks were refused, or none were accepted), or interrupted by an interrupt or the session's
// end. Never twice, never without an end.
import { describe, expect, it } from 'vitest';
import { TurnTracker } from '../../src/session/turns.ts';
import type { IngestReply } from '../../signaling/ingest-protocol.ts';

function tracker(): { turns: TurnTracker; replies: IngestReply[] } {
  const replies: IngestReply[] = [];
  return { turns: new TurnTracker((us) => us / 1000), replies };
}

const finished = (replies: IngestReply[], segmentId: number) => replies.filter((r) => r.type === 'playback_finished' && r.segmentId === segmentId);

describe('TurnTracker', () => {
  it('ends a turn when its last accepted chunk plays, not before', () => {
    const { turns, replies } = tracker();
    turns.begin(1, (r) => replies.push(r));
    for (let i = 0; i < 5; i++) turns.accepted(1, i * 20_000);
    turns.complete(1, 0);
    for (let i = 0; i < 4; i++) turns.played(1, i * 20_000, i * 20_000);
    expect(finished(replies, 1)).toHaveLength(0);
    turns.played(1, 80_000, 80_000);
    expect(finished(replies, 1)).toEqual([expect.objectContaining({ positionMs: 100, interrupted: false })]);
    turns.interruptAll(100_000);
    expect(finished(replies, 1)).toHaveLength(1);
  });

  it('ends a turn whose last chunks were refused when what was accepted has played', () => {
    const { turns, replies } = tracker();
    turns.begin(2, (r) => replies.push(r));
    turns.accepted(2, 0);
    turns.accepted(2, 20_000);
    // The chunks from 40 ms on (and the one marked last) were refused: buffer full.
    turns.played(2, 0, 0);
    turns.played(2, 20_000, 20_000);
    turns.complete(2, 30_000);
    expect(finished(replies, 2)).toEqual([expect.objectContaining({ positionMs: 40, interrupted: false })]);
  });

  it('ends a turn with no accepted audio at once, and an unfinished one at an interrupt, once each', () => {
    const { turns, replies } = tracker();
    turns.begin(3, (r) => replies.push(r));
    turns.complete(3, 0);
    expect(finished(replies, 3)).toEqual([expect.objectContaining({ positionMs: 0, interrupted: false })]);
    turns.begin(4, (r) => replies.push(r));
    turns.accepted(4, 0);
    turns.interruptAll(10_000);
    turns.played(4, 0, 20_000);
    turns.complete(4, 20_000);
    expect(finished(replies, 4)).toEqual([expect.objectContaining({ interrupted: true })]);
    expect(turns.open).toBe(0);
  });
});
