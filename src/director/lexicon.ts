// The text expert's reading of a sentence: a small sentiment lexicon per emotion (with negation and intensifiers),
// agreement and disagreement words (nods, shakes), questions (brow raise, tilt), emphasis words and thinking
// phrases. Deliberately small and readable: it is the rule-based default, not a language model.
import type { Emotion } from './types.ts';
import type { Sentence, Token } from './transcript.ts';

const LEXICON: Readonly<Record<string, readonly [Emotion, number]>> = Object.freeze({
  // happy
  happy: ['happy', 1], glad: ['happy', 1], great: ['happy', 0.8], wonderful: ['happy', 1], love: ['happy', 0.9], lovely: ['happy', 0.9],
  fantastic: ['happy', 1], excellent: ['happy', 0.9], awesome: ['happy', 0.9], delighted: ['happy', 1], pleased: ['happy', 0.8],
  enjoy: ['happy', 0.7], enjoyed: ['happy', 0.7], fun: ['happy', 0.7], nice: ['happy', 0.6], good: ['happy', 0.5], thanks: ['happy', 0.6],
  thank: ['happy', 0.6], congratulations: ['happy', 1], celebrate: ['happy', 0.9], beautiful: ['happy', 0.8], perfect: ['happy', 0.8],
  joy: ['happy', 1], agree: ['happy', 0.4], agreed: ['happy', 0.4], exactly: ['happy', 0.3], laugh: ['happy', 0.8], brilliant: ['happy', 0.9], welcome: ['happy', 0.5], proud: ['happy', 0.8], glorious: ['happy', 0.9],
  // sad
  sad: ['sad', 1], sorry: ['sad', 0.8], unfortunately: ['sad', 0.9], regret: ['sad', 0.8], loss: ['sad', 0.9], lost: ['sad', 0.7],
  died: ['sad', 1], death: ['sad', 1], dead: ['sad', 0.9], miss: ['sad', 0.6], lonely: ['sad', 0.9], grief: ['sad', 1], tragic: ['sad', 1],
  hurt: ['sad', 0.7], cry: ['sad', 0.9], crying: ['sad', 0.9], tears: ['sad', 0.9], disappointed: ['sad', 0.8], unhappy: ['sad', 0.9],
  depressed: ['sad', 1], painful: ['sad', 0.8], heartbroken: ['sad', 1], funeral: ['sad', 1], failed: ['sad', 0.6], terrible: ['sad', 0.6],
  passed: ['sad', 0.3], goodbye: ['sad', 0.4], sick: ['sad', 0.5], bad: ['sad', 0.4], worse: ['sad', 0.5], worst: ['sad', 0.6],
  // angry
  angry: ['angry', 1], furious: ['angry', 1], outraged: ['angry', 1], unacceptable: ['angry', 0.9], hate: ['angry', 0.9], annoyed: ['angry', 0.8],
  ridiculous: ['angry', 0.8], stupid: ['angry', 0.7], disgusting: ['angry', 0.9], rage: ['angry', 1], nonsense: ['angry', 0.7], outrageous: ['angry', 1],
  // surprised
  wow: ['surprised', 1], unbelievable: ['surprised', 0.9], incredible: ['surprised', 0.7], surprise: ['surprised', 0.8], surprised: ['surprised', 1],
  shocked: ['surprised', 1], whoa: ['surprised', 1], unexpected: ['surprised', 0.8], suddenly: ['surprised', 0.6], amazing: ['surprised', 0.5],
  // serious
  important: ['serious', 0.8], must: ['serious', 0.5], warning: ['serious', 1], attention: ['serious', 0.7], critical: ['serious', 0.9],
  careful: ['serious', 0.8], danger: ['serious', 1], dangerous: ['serious', 1], serious: ['serious', 0.9], risk: ['serious', 0.8], crucial: ['serious', 0.9],
  urgent: ['serious', 0.9], emergency: ['serious', 1], security: ['serious', 0.6], safety: ['serious', 0.6], responsibility: ['serious', 0.6],
  // calm
  calm: ['calm', 1], relax: ['calm', 1], relaxed: ['calm', 0.9], gently: ['calm', 0.8], slowly: ['calm', 0.6], breathe: ['calm', 0.9],
  peaceful: ['calm', 1], quiet: ['calm', 0.6], rest: ['calm', 0.5], comfortable: ['calm', 0.7], soft: ['calm', 0.5],
  // excited
  excited: ['excited', 1], exciting: ['excited', 1], thrilled: ['excited', 1], hooray: ['excited', 1], yay: ['excited', 1], woohoo: ['excited', 1],
});

const NEGATORS = new Set(['not', 'no', 'never', "n't", 'hardly', 'without', 'nothing', 'nobody', "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't", "won't", "can't", 'cannot']);
const INTENSIFIERS = new Set(['very', 'so', 'really', 'extremely', 'totally', 'absolutely', 'incredibly', 'super', 'truly', 'deeply', 'terribly', 'awfully']);
const AGREEMENT = new Set(['yes', 'yeah', 'yep', 'yup', 'right', 'exactly', 'absolutely', 'agree', 'agreed', 'sure', 'indeed', 'correct', 'definitely', 'certainly', 'okay', 'ok', 'true', 'precisely']);
const AGREEMENT_PHRASES = ['of course', "that's right", 'that is right', 'i agree', 'you are right', "you're right", 'good point', 'makes sense'];
const DISAGREEMENT = new Set(['no', 'nope', 'disagree', 'wrong', 'nah']);
const DISAGREEMENT_PHRASES = ['not really', "i don't think so", 'i do not think so', 'not at all', 'no way', "i don't agree", 'i do not agree'];
const EMPHASIS = new Set(['very', 'really', 'absolutely', 'never', 'always', 'must', 'important', 'every', 'everything', 'nothing', 'only', 'extremely', 'totally', 'huge', 'key']);
const QUESTION_STARTS = /^(what|why|how|when|where|who|which|whose|do|does|did|is|are|was|were|can|could|would|will|should|shall|have|has|may|might|isn't|aren't|don't|doesn't|won't|wouldn't)\b/;
const THINKING = ['let me think', 'let me see', 'i wonder', 'hmm', 'hm', 'well let me', 'i guess', 'how should i put it'];

export interface SentimentReading {
  readonly emotion: Emotion;
  readonly intensity: number;
  /** 0 without any sentiment word. */
  readonly confidence: number;
  /** The words that decided it, e.g. ["not happy -> sad"]. */
  readonly evidence: readonly string[];
}

export interface Cue {
  readonly token: Token;
  readonly reason: string;
}

export interface SentenceReading {
  readonly sentiment: SentimentReading;
  readonly agreements: readonly Cue[];
  readonly disagreements: readonly Cue[];
  readonly question: boolean;
  readonly emphasis: readonly Cue[];
  /** Tokens of a thinking phrase at the sentence start, if any. */
  readonly thinking: readonly Token[];
}

export function readSentiment(tokens: readonly Token[], terminal: Sentence['terminal']): SentimentReading {
  const scores = new Map<Emotion, number>();
  const evidence: string[] = [];
  tokens.forEach((t, i) => {
    const entry = LEXICON[t.word];
    if (!entry) return;
    let [emotion, weight] = entry;
    const before = tokens.slice(Math.max(0, i - 3), i).map((x) => x.word);
    const negated = before.some((w) => NEGATORS.has(w) || w.endsWith("n't"));
    if (before.some((w) => INTENSIFIERS.has(w))) weight *= 1.5;
    if (negated) {
      // "not happy" reads sad; "not sad" / "not angry" read as nothing strong.
      if (emotion === 'happy' || emotion === 'excited') {
        evidence.push(`not ${t.word} -> sad`);
        emotion = 'sad';
        weight *= 0.6;
      } else {
        evidence.push(`not ${t.word} -> ignored`);
        return;
      }
    } else evidence.push(`${t.word} -> ${emotion}`);
    scores.set(emotion, (scores.get(emotion) ?? 0) + weight);
  });
  if (terminal === '!' && scores.size > 0) {
    const [top] = [...scores.entries()].sort((a, b) => b[1] - a[1]);
    if (top && top[0] === 'happy') scores.set('excited', (scores.get('excited') ?? 0) + top[1] * 0.6);
  }
  if (scores.size === 0) return { emotion: 'neutral', intensity: 0.3, confidence: 0, evidence };
  const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const [emotion, score] = ranked[0]!;
  const runnerUp = ranked[1]?.[1] ?? 0;
  const intensity = Math.min(1, 0.35 + 0.3 * score + (terminal === '!' ? 0.15 : 0));
  const confidence = Math.min(1, 0.4 + 0.3 * (score - runnerUp));
  return { emotion, intensity, confidence, evidence };
}

export function readSentence(s: Sentence): SentenceReading {
  const tokens = s.tokens;
  const words = tokens.map((t) => t.word);
  const text = words.join(' ');
  const agreements: Cue[] = [];
  const disagreements: Cue[] = [];
  const phraseAt = (phrase: string): number => {
    const p = phrase.split(' ');
    for (let i = 0; i + p.length <= words.length; i++) if (p.every((w, k) => words[i + k] === w)) return i;
    return -1;
  };
  const negatedAt = (i: number) => tokens.slice(Math.max(0, i - 2), i).some((t) => NEGATORS.has(t.word) || t.word.endsWith("n't"));
  // Tokens inside a matched phrase are not read again on their own.
  const covered = new Set<number>();
  const cover = (i: number, phrase: string) => phrase.split(' ').forEach((_, k) => covered.add(i + k));
  for (const phrase of DISAGREEMENT_PHRASES) {
    const i = phraseAt(phrase);
    if (i >= 0) {
      disagreements.push({ token: tokens[i]!, reason: `"${phrase}" disagrees` });
      cover(i, phrase);
    }
  }
  for (const phrase of AGREEMENT_PHRASES) {
    const i = phraseAt(phrase);
    if (i >= 0 && !negatedAt(i) && !covered.has(i)) {
      agreements.push({ token: tokens[i]!, reason: `"${phrase}" agrees` });
      cover(i, phrase);
    }
  }
  tokens.forEach((t, i) => {
    if (covered.has(i)) return;
    if (AGREEMENT.has(t.word)) {
      // "right" and "sure" agree only at a clause start or alone ("right, ...", "sure!"), not in "the right way".
      const ambiguous = t.word === 'right' || t.word === 'sure' || t.word === 'true' || t.word === 'okay' || t.word === 'ok';
      const standsAlone = i === 0 || /[,.!?]$/.test(t.raw) || /[,.!?]$/.test(tokens[i - 1]?.raw ?? '');
      if (negatedAt(i)) disagreements.push({ token: t, reason: `"not ${t.word}" disagrees` });
      else if (!ambiguous || standsAlone) agreements.push({ token: t, reason: `"${t.word}" agrees` });
    }
    if (DISAGREEMENT.has(t.word)) {
      // A bare "no" agrees with nothing only at a clause start ("No, ..."), not in "no problem".
      if (t.word !== 'no' || i === 0 || /[,.!?]$/.test(t.raw)) disagreements.push({ token: t, reason: `"${t.word}" disagrees` });
    }
  });
  const question = s.terminal === '?' || (s.terminal === '' && QUESTION_STARTS.test(text));
  const emphasis = tokens
    .filter((t, i) => EMPHASIS.has(t.word) || (t.raw.length > 2 && t.raw === t.raw.toUpperCase() && /\p{L}/u.test(t.raw) && i > 0))
    .map((t) => ({ token: t, reason: `"${t.raw}" carries emphasis` }));
  let thinking: Token[] = [];
  for (const phrase of THINKING) {
    if (phraseAt(phrase) === 0) thinking = tokens.slice(0, phrase.split(' ').length);
  }
  return { sentiment: readSentiment(tokens, s.terminal), agreements, disagreements, question, emphasis, thinking };
}
