// User instructions in plain English -> constraints the experts must honour ("nod when you agree", "keep a serious
// face", "do not look away", "look around", "smile more"). Rule based: each clause is matched against a small
// grammar of verbs, objects, negations and triggers; what is not understood is kept and reported in the trace.
// A later instruction replaces an earlier one on the same slot (e.g. "smile more" after "keep a serious face").
import type { Emotion, Negative } from './types.ts';
import type { Gaze, GestureKind, HeadMotion } from './experts/types.ts';

export type Trigger = 'agreement' | 'disagreement' | 'question' | 'emphasis';

export type Constraint =
  | { readonly kind: 'emotion'; readonly emotion: Emotion; readonly intensity: number }
  | { readonly kind: 'gaze'; readonly gaze: Gaze }
  | { readonly kind: 'motion'; readonly headMotion: HeadMotion; readonly amplitude: number }
  | { readonly kind: 'gesture'; readonly gesture: GestureKind; readonly trigger: Trigger; readonly strength: number }
  | { readonly kind: 'no-gesture'; readonly gesture: GestureKind }
  | { readonly kind: 'avoid'; readonly what: Negative }
  | { readonly kind: 'allow'; readonly what: Negative }
  | { readonly kind: 'reset' };

export interface InstructionRecord {
  readonly text: string;
  /** Media time from which it applies. */
  readonly atUs: number;
  readonly constraints: readonly Constraint[];
  /** Clauses nothing matched, in the user's words. */
  readonly notUnderstood: readonly string[];
}

/** Constraints on the same slot replace each other; the latest wins. */
export function slotOf(c: Constraint): string {
  switch (c.kind) {
    case 'emotion':
    case 'gaze':
    case 'motion':
    case 'reset':
      return c.kind;
    case 'gesture':
      return `gesture:${c.gesture}:${c.trigger}`;
    case 'no-gesture':
      return `gesture:${c.gesture}`;
    case 'avoid':
    case 'allow':
      return `neg:${c.what}`;
  }
}

const NEG = /\b(do not|does not|never|no|not|stop|avoid|without|quit)\b/;

function triggerOf(clause: string, fallback: Trigger): Trigger {
  if (/\b(disagree|say no|deny|refuse|reject)/.test(clause)) return 'disagreement';
  if (/\b(agree|say yes|approve|confirm|yes)\b/.test(clause)) return 'agreement';
  if (/\b(question|ask|asking|asks)\b/.test(clause)) return 'question';
  if (/\b(emphasi|important|stress|point)/.test(clause)) return 'emphasis';
  return fallback;
}

const EMOTION_WORDS: readonly [RegExp, Emotion, number][] = [
  [/\b(serious|stern|grave|solemn|professional|straight face|poker face)\b/, 'serious', 0.6],
  [/\b(happy|happier|cheerful|joyful|friendly|positive|warm)\b/, 'happy', 0.7],
  [/\b(sad|sadder|melancholic|melancholy|sorrowful|gloomy)\b/, 'sad', 0.7],
  [/\b(angry|annoyed|furious|mad|irritated)\b/, 'angry', 0.6],
  [/\b(surprised|amazed|astonished|shocked)\b/, 'surprised', 0.7],
  [/\b(calm|relaxed|composed|peaceful)\b/, 'calm', 0.6],
  [/\b(excited|enthusiastic|energetic|thrilled)\b/, 'excited', 0.8],
  [/\b(neutral|expressionless)\b/, 'neutral', 0.3],
];

/** Parses one instruction (any number of clauses). Pure. */
export function parseInstruction(text: string, atUs: number): InstructionRecord {
  const constraints: Constraint[] = [];
  const notUnderstood: string[] = [];
  const normalized = text
    .toLowerCase()
    .replace(/[’`]/g, "'")
    .replace(/\b(don't|dont)\b/g, 'do not')
    .replace(/\b(doesn't|doesnt)\b/g, 'does not')
    .replace(/\bnever ever\b/g, 'never');
  const clauses = normalized.split(/[,.;!\n]+|\band\b|\bbut\b|\bthen\b|\balso\b/).map((c) => c.trim()).filter((c) => c.length > 0);
  for (const clause of clauses) {
    const found = parseClause(clause);
    if (found.length === 0) notUnderstood.push(clause);
    constraints.push(...found);
  }
  return Object.freeze({ text, atUs, constraints: Object.freeze(constraints), notUnderstood: Object.freeze(notUnderstood) });
}

function parseClause(c: string): Constraint[] {
  const out: Constraint[] = [];
  const negated = NEG.test(c);
  if (/\b(forget|ignore|clear|reset|drop)\b.*\b(instructions?|directions?|everything)\b|\bback to normal\b/.test(c)) return [{ kind: 'reset' }];
  // Gaze.
  if (/\blook(ing)? around\b|\blet (your )?eyes wander\b/.test(c)) {
    out.push({ kind: 'gaze', gaze: 'around' }, { kind: 'allow', what: 'look-away' });
  } else if (/\blook(ing)? away\b/.test(c)) {
    if (negated) out.push({ kind: 'gaze', gaze: 'camera' }, { kind: 'avoid', what: 'look-away' });
    else out.push({ kind: 'gaze', gaze: /\bright\b/.test(c) ? 'away-right' : 'away-left' }, { kind: 'allow', what: 'look-away' });
  } else if (/\b(eye contact|look(ing)? at (me|us|the camera|the viewer|the audience|the lens)|eyes on (me|the camera))\b/.test(c)) {
    out.push({ kind: 'gaze', gaze: 'camera' }, { kind: 'avoid', what: 'look-away' });
  } else if (/\blook(ing)? (to the |towards the )?(left|right|up|down)\b/.test(c) && !negated) {
    const dir = /\bleft\b/.test(c) ? 'away-left' : /\bright\b/.test(c) ? 'away-right' : /\bup\b/.test(c) ? 'up' : 'down';
    out.push({ kind: 'gaze', gaze: dir }, { kind: 'allow', what: 'look-away' });
  }
  // Gestures.
  if (/\bnod/.test(c)) {
    if (negated && !/\bwhen(ever)?\b.*\b(not|do not)\b/.test(c)) out.push({ kind: 'no-gesture', gesture: 'nod' });
    else out.push({ kind: 'gesture', gesture: 'nod', trigger: triggerOf(c, 'emphasis'), strength: /\b(more|a lot|often|strong)/.test(c) ? 1 : 0.8 });
  }
  if (/\bshak(e|ing) (your |the )?head\b|\bhead ?shak/.test(c)) {
    if (negated && !/\bwhen\b/.test(c)) out.push({ kind: 'no-gesture', gesture: 'shake' }, { kind: 'avoid', what: 'head-shake' });
    else out.push({ kind: 'gesture', gesture: 'shake', trigger: triggerOf(c, 'disagreement'), strength: 0.8 }, { kind: 'allow', what: 'head-shake' });
  }
  if (/\btilt/.test(c)) {
    if (negated) out.push({ kind: 'no-gesture', gesture: 'tilt' });
    else out.push({ kind: 'gesture', gesture: 'tilt', trigger: triggerOf(c, 'question'), strength: 0.8 });
  }
  if (/\b(raise|lift|raising|lifting) (your |the )?(eye)?brows?\b/.test(c)) {
    if (negated) out.push({ kind: 'no-gesture', gesture: 'brow-raise' });
    else out.push({ kind: 'gesture', gesture: 'brow-raise', trigger: triggerOf(c, 'question'), strength: 0.8 });
  }
  // Smiles and emotions.
  if (/\bsmil(e|es|ing)\b/.test(c)) {
    if (negated) out.push({ kind: 'avoid', what: 'smile' }, { kind: 'no-gesture', gesture: 'smile' });
    else out.push({ kind: 'emotion', emotion: 'happy', intensity: /\b(more|a lot|big|wide)\b/.test(c) ? 0.9 : 0.7 }, { kind: 'allow', what: 'smile' }, { kind: 'gesture', gesture: 'smile', trigger: 'emphasis', strength: 0.7 });
  }
  if (/\bfrown/.test(c)) {
    if (negated) out.push({ kind: 'avoid', what: 'frown' });
    else out.push({ kind: 'emotion', emotion: 'serious', intensity: 0.8 }, { kind: 'allow', what: 'frown' });
  }
  if (!out.some((x) => x.kind === 'emotion')) {
    for (const [re, emotion, intensity] of EMOTION_WORDS) {
      if (!re.test(c)) continue;
      if (negated) out.push({ kind: 'emotion', emotion: emotion === 'happy' || emotion === 'excited' ? 'neutral' : 'calm', intensity: 0.4 });
      else out.push({ kind: 'emotion', emotion, intensity });
      if (emotion === 'serious' && !negated) out.push({ kind: 'avoid', what: 'smile' });
      if (emotion === 'serious' && negated) out.push({ kind: 'allow', what: 'smile' });
      break;
    }
  }
  // Motion.
  if (/\b(stay|keep|hold) (your head |the head |very )?still\b|\bdo not move\b|\b(less|no|fewer) (head )?(motion|movement|moving)\b|\bmove less\b|\bsteady\b/.test(c)) {
    out.push({ kind: 'motion', headMotion: 'still', amplitude: 0.15 }, { kind: 'avoid', what: 'fast-head-motion' });
  } else if (/\b(livelier|lively|animated|expressive|dynamic)\b|\bmore (head )?(motion|movement|moving)\b|\bmove (a lot|more)\b/.test(c) && !negated) {
    out.push({ kind: 'motion', headMotion: 'lively', amplitude: 0.9 }, { kind: 'allow', what: 'fast-head-motion' });
  } else if (/\b(slow|slower|gentle|gently|smooth) ?(head )?(motion|movement|moves)?\b/.test(c)) {
    out.push({ kind: 'avoid', what: 'fast-head-motion' });
  }
  // Eyes and mouth.
  if (/\b(eyes open|close (your )?eyes|closing (your )?eyes|closed eyes)\b/.test(c)) {
    out.push(negated || /\beyes open\b/.test(c) ? { kind: 'avoid', what: 'closed-eyes' } : { kind: 'allow', what: 'closed-eyes' });
  }
  if (/\b(exaggerat\w*|over-?articulat\w*|big|huge) (the |your )?(mouth|lips|lip movements?|mouth movements?)\b|\bsubtle (lips|mouth)\b/.test(c)) {
    out.push({ kind: 'avoid', what: 'exaggerated-mouth' });
  }
  if (/\b(frozen|stiff|robotic|wooden|statue)\b/.test(c) && (negated || /\bless\b/.test(c))) out.push({ kind: 'avoid', what: 'frozen-face' });
  return out;
}

/** The constraints in force at a media time: instructions given by then, later ones replacing earlier slots. */
export function activeConstraints(records: readonly InstructionRecord[], atUs: number): { constraint: Constraint; from: InstructionRecord }[] {
  const slots = new Map<string, { constraint: Constraint; from: InstructionRecord }>();
  for (const rec of records) {
    if (rec.atUs > atUs) continue;
    for (const c of rec.constraints) {
      if (c.kind === 'reset') {
        slots.clear();
        continue;
      }
      slots.set(slotOf(c), { constraint: c, from: rec });
    }
  }
  return [...slots.values()];
}
