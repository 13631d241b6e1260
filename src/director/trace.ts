// Rounds in plain words, for the trace API: every proposal, the merge, every critique (what was applied and what
// was refused, and why), each shot's negative reasons, the final plan. Bounded ring (policy: drop-oldest).
import { SOURCE_WORDS } from './priorities.ts';
import type { RoundOutput, CritiqueOutcome } from './rounds.ts';
import type { ExpertName, Proposal } from './experts/types.ts';
import { seconds, spanWords } from './experts/util.ts';
import type { RoundTrace } from './director-types.ts';

export function proposalWords(p: Proposal): RoundTrace['proposals'][ExpertName] {
  return {
    notes: [...p.notes],
    claims: p.claims.map((c) => `${c.field} = ${typeof c.value === 'number' ? c.value.toFixed(2) : c.value} over ${spanWords(c)} from ${SOURCE_WORDS[c.source]} (confidence ${c.confidence.toFixed(2)}): ${c.reason}`),
    gestures: p.gestures.map((g) => `${g.kind} at ${seconds(g.atUs)}, strength ${g.strength.toFixed(2)}, from ${SOURCE_WORDS[g.source]}: ${g.reason}`),
    avoid: p.avoid.map((a) => `avoid ${a.what} over ${spanWords(a)} from ${SOURCE_WORDS[a.source]}: ${a.reason}`),
    cuts: p.cuts.map((c) => `${c.hard ? 'hard' : 'soft'} cut at ${seconds(c.atUs)} from ${SOURCE_WORDS[c.source]}: ${c.reason}`),
  };
}

export function critiqueWords(outcomes: readonly CritiqueOutcome[]): RoundTrace['critiques'] {
  return outcomes.map(({ critique, outcomes: o }) => ({
    expert: critique.expert,
    applied: o.filter((x) => x.applied).map((x) => x.words),
    refused: o.filter((x) => !x.applied).map((x) => x.words),
    notes: [...critique.notes],
  }));
}

export function proposalsWords(out: Pick<RoundOutput, 'proposals'>): RoundTrace['proposals'] {
  const empty = { notes: [], claims: [], gestures: [], avoid: [], cuts: [] };
  const byExpert: Record<ExpertName, RoundTrace['proposals'][ExpertName]> = { audio: empty, visual: empty, text: empty };
  for (const p of out.proposals) byExpert[p.expert] = proposalWords(p);
  return byExpert;
}

export class TraceRing {
  readonly #entries: RoundTrace[] = [];
  constructor(readonly capacity: number) {}

  push(entry: RoundTrace): void {
    this.#entries.push(entry);
    if (this.#entries.length > this.capacity) this.#entries.splice(0, this.#entries.length - this.capacity);
  }

  /** Newest last; a deep copy, so callers cannot disturb later updates (chat outcomes arrive after the round). */
  list(limit = this.capacity): RoundTrace[] {
    return structuredClone(this.#entries.slice(-limit));
  }
}
