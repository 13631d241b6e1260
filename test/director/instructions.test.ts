// Instructions -> constraints, slots and their override order; the lexicon's reading of sentences.
import { describe, expect, it } from 'vitest';
import { activeConstraints, parseInstruction, readSentence, type Sentence } from '../../src/director/index.ts';

function kinds(text: string): string[] {
  return parseInstruction(text, 0).constraints.map((c) => JSON.stringify(c));
}

describe('parseInstruction', () => {
  it('understands the documented phrases', () => {
    expect(kinds('Nod when you agree')).toEqual([JSON.stringify({ kind: 'gesture', gesture: 'nod', trigger: 'agreement', strength: 0.8 })]);
    expect(kinds('keep a serious face')).toEqual([JSON.stringify({ kind: 'emotion', emotion: 'serious', intensity: 0.6 }), JSON.stringify({ kind: 'avoid', what: 'smile' })]);
    expect(kinds("Don't look away")).toEqual([JSON.stringify({ kind: 'gaze', gaze: 'camera' }), JSON.stringify({ kind: 'avoid', what: 'look-away' })]);
    expect(kinds('look around')).toEqual([JSON.stringify({ kind: 'gaze', gaze: 'around' }), JSON.stringify({ kind: 'allow', what: 'look-away' })]);
    expect(kinds('smile more')[0]).toBe(JSON.stringify({ kind: 'emotion', emotion: 'happy', intensity: 0.9 }));
    expect(kinds('please stay still')[0]).toBe(JSON.stringify({ kind: 'motion', headMotion: 'still', amplitude: 0.15 }));
    expect(kinds('shake your head when you disagree')[0]).toBe(JSON.stringify({ kind: 'gesture', gesture: 'shake', trigger: 'disagreement', strength: 0.8 }));
    expect(kinds('raise your eyebrows when you ask a question')[0]).toBe(JSON.stringify({ kind: 'gesture', gesture: 'brow-raise', trigger: 'question', strength: 0.8 }));
    expect(kinds("don't smile")).toContain(JSON.stringify({ kind: 'avoid', what: 'smile' }));
  });

  it('reports what it did not understand', () => {
    const rec = parseInstruction('juggle three balls, and nod more', 0);
    expect(rec.notUnderstood).toEqual(['juggle three balls']);
    expect(rec.constraints[0]).toMatchObject({ kind: 'gesture', gesture: 'nod', strength: 1 });
  });

  it('later instructions replace earlier ones on the same slot; a reset clears them; future ones wait their time', () => {
    const records = [parseInstruction('keep a serious face, do not look away', 0), parseInstruction('smile more', 1_000_000), parseInstruction('look around', 5_000_000)];
    const at = (t: number) => activeConstraints(records, t).map((a) => a.constraint);
    expect(at(500_000).find((c) => c.kind === 'emotion')).toMatchObject({ emotion: 'serious' });
    expect(at(2_000_000).find((c) => c.kind === 'emotion')).toMatchObject({ emotion: 'happy' });
    expect(at(2_000_000).find((c) => c.kind === 'gaze')).toMatchObject({ gaze: 'camera' });
    expect(at(6_000_000).find((c) => c.kind === 'gaze')).toMatchObject({ gaze: 'around' });
    const reset = [...records, parseInstruction('forget all instructions', 7_000_000)];
    expect(activeConstraints(reset, 8_000_000)).toEqual([]);
  });
});

function sentence(text: string): Sentence {
  const raws = text.split(' ');
  const tokens = raws.map((raw, i) => ({ word: raw.toLowerCase().replace(/[^a-z']/g, ''), raw, startUs: i * 300_000, endUs: i * 300_000 + 250_000, estimated: true }));
  const last = raws[raws.length - 1]!;
  return { tokens, text, startUs: 0, endUs: tokens[tokens.length - 1]!.endUs, terminal: last.endsWith('?') ? '?' : last.endsWith('!') ? '!' : last.endsWith('.') ? '.' : '' };
}

describe('readSentence', () => {
  it('reads sentiment with negation, agreement, disagreement and questions', () => {
    expect(readSentence(sentence('I am so happy today!')).sentiment.emotion).toMatch(/happy|excited/);
    expect(readSentence(sentence('I am not happy about this.')).sentiment.emotion).toBe('sad');
    expect(readSentence(sentence('This is unacceptable and ridiculous.')).sentiment.emotion).toBe('angry');
    expect(readSentence(sentence('The train leaves at nine.')).sentiment.confidence).toBe(0);
    expect(readSentence(sentence('Yes, exactly, I agree.')).agreements.length).toBeGreaterThanOrEqual(3);
    expect(readSentence(sentence('No, I do not agree.')).disagreements.length).toBeGreaterThanOrEqual(1);
    expect(readSentence(sentence('No, I do not agree.')).agreements).toHaveLength(0);
    expect(readSentence(sentence('Turn right at the corner.')).agreements).toHaveLength(0);
    expect(readSentence(sentence('Where did you put it?')).question).toBe(true);
    expect(readSentence(sentence('where did you put it')).question).toBe(true);
    expect(readSentence(sentence('Let me think about it.')).thinking.length).toBe(3);
  });
});
