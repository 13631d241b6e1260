// The negative director (KlingAvatar 2.0): per shot, what must NOT happen, with the reason in words. It pools the
// experts' "avoid" claims, adds what the shot's own content implies (no smile on sad or serious content, no frown on
// happy content, no fast motion in a calm shot), and removes what the shot itself asks for (a gaze away lifts
// "look-away", a planned shake lifts "head-shake") or what an instruction explicitly allowed.
import { activeConstraints } from './instructions.ts';
import { SOURCE_WORDS, outranks, type Source } from './priorities.ts';
import type { Negative } from './types.ts';
import { NEGATIVES } from './types.ts';
import type { DraftShot, PlanContext } from './experts/types.ts';
import { quote } from './experts/util.ts';

const WORDS: Readonly<Record<Negative, string>> = Object.freeze({
  'look-away': 'looking away from the camera',
  'exaggerated-mouth': 'an exaggerated mouth',
  'frozen-face': 'a frozen face',
  smile: 'smiling',
  frown: 'frowning',
  'head-shake': 'shaking the head',
  'fast-head-motion': 'fast head motion',
  'closed-eyes': 'closed eyes',
});

export interface NegativeStoryline {
  readonly avoid: Negative[];
  readonly description: string;
  /** One line per item: why it is there; and what was lifted and why. */
  readonly reasons: readonly string[];
}

export function negativeFor(shot: Readonly<DraftShot>, ctx: Pick<PlanContext, 'instructions'>): NegativeStoryline {
  const why = new Map<Negative, { reason: string; source: Source }>();
  const add = (n: Negative, reason: string, source: Source) => {
    const had = why.get(n);
    if (!had || outranks(source, had.source)) why.set(n, { reason, source });
  };
  for (const a of shot.avoid) add(a.what, a.reason || SOURCE_WORDS[a.source], a.source);
  const e = shot.emotion.value;
  const es = shot.emotion.source;
  if (e === 'sad') add('smile', 'a smile during sad content', es);
  if (e === 'serious' || e === 'angry') add('smile', `a smile on a ${e} face`, es);
  if (e === 'happy' || e === 'excited') add('frown', `a frown on a ${e} face`, es);
  if (e === 'calm') add('fast-head-motion', 'a calm shot', es);
  if (shot.headMotion.value === 'still') add('fast-head-motion', 'a still shot', shot.headMotion.source);
  if (shot.gaze.value === 'camera' && shot.gaze.source === 'instruction') add('look-away', shot.gaze.reason, 'instruction');
  add('frozen-face', 'the face must stay alive (blinks, breath, small motion)', 'default');

  // Lifting an item needs as much authority as the item has: "don't smile" from the user outlives happy words.
  const lifted: string[] = [];
  const lift = (n: Negative, reason: string, source: Source) => {
    const had = why.get(n);
    if (had && outranks(source, had.source)) {
      why.delete(n);
      lifted.push(`not avoiding ${WORDS[n]}: ${reason}`);
    }
  };
  for (const { constraint: c, from } of activeConstraints(ctx.instructions, shot.startUs)) {
    if (c.kind === 'allow') lift(c.what, `instruction ${quote(from.text)} allows it`, 'instruction');
  }
  if (shot.gaze.value !== 'camera') lift('look-away', `the shot looks ${shot.gaze.value}`, shot.gaze.source);
  const shake = shot.gestures.find((g) => g.kind === 'shake');
  if (shake) lift('head-shake', 'the shot shakes the head', shake.source);
  const smile = shot.gestures.find((g) => g.kind === 'smile');
  if (e === 'happy' || e === 'excited') lift('smile', 'the shot is happy', es);
  if (smile) lift('smile', 'the shot smiles', smile.source);
  if (e === 'angry' || e === 'sad' || e === 'serious') lift('frown', `a ${e} face draws its brows`, es);

  const avoid = NEGATIVES.filter((n) => why.has(n));
  const reasons = [...avoid.map((n) => `avoid ${WORDS[n]}: ${why.get(n)!.reason}`), ...lifted];
  const description = avoid.length ? `Avoid ${avoid.map((n) => `${WORDS[n]} (${why.get(n)!.reason})`).join('; ')}.` : 'Nothing to avoid.';
  return { avoid, description: description.length > 500 ? `${description.slice(0, 497)}...` : description, reasons };
}
