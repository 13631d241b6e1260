// Aligns a known phone sequence to the audio from the audio features alone: a left-to-right hidden semi-Markov
// model over 10 ms hops, decoded exactly (Viterbi over segment ends). Each phone has an explicit log-normal
// duration around its typical length (scaled to the speaker's rate, measured by a first pass); silence may lead,
// trail, and sit between words (cheaply after punctuation). Emissions are crude class scores: vowels are loud,
// fricatives hiss, stops sit in dips, silence is silent. The energy contour does most of the work (words land in
// speech, closures in dips); the durations share out what lies between. The end is open, so a text whose audio
// has only partly arrived aligns to what is there.
import { phoneSpec, type PhoneClass } from './phonemes.ts';
import type { AudioHop, Phone, PronouncedWord } from './types.ts';

/** A phone placed on hops [start, end) of the aligned range. */
export interface HopPhone {
  readonly phone: Phone;
  readonly start: number;
  readonly end: number;
}

export interface HopAlignment {
  readonly phones: HopPhone[];
  /** True when every phone was placed and the path ended in trailing silence. */
  readonly complete: boolean;
}

/** Trailing silence this long (hops) means the text's audio is over: every phone must have been used. */
const END_SILENCE_HOPS = 30;
/** Spread of the log-normal phone durations (natural log units). */
const DURATION_SIGMA = 0.5;
/** Cost of entering a pause between words, log-probability: after punctuation, elsewhere. */
const PAUSE_AT_PUNCTUATION = Math.log(0.5);
const PAUSE_ELSEWHERE = Math.log(0.03);
/**
 * A reward per placed phone. Emissions are crude and some classes score below others on any audio (a stop is a
 * dip, rarely a perfect one), so with an open end the best path would otherwise leave phones for later and lag.
 */
const PHONE_BONUS = 1.5;
/** How much worse (log-probability) placing every phone may score than leaving some for later, once quiet. */
const COMPLETE_MARGIN = 25;

type Emit = 'silence' | PhoneClass | 'strong-fricative';
const EMITS: readonly Emit[] = ['silence', 'vowel', 'stop', 'fricative', 'strong-fricative', 'affricate', 'nasal', 'liquid', 'glide', 'aspirate'];
const STRONG = new Set<Phone>(['S', 'Z', 'SH', 'ZH']);

/** What the emissions read of one hop; `dip` and `vowel` are relative to the neighbourhood, so any voice works. */
interface Cue {
  /** Speech activity, frication, loudness (0..1). */
  readonly a: number;
  readonly f: number;
  readonly level: number;
  /** How far the vowel bands (F1+F2) sit below their maximum within +-60 ms, 0..1 (10 dB = 1). */
  readonly dip: number;
  /** F1 band over the voicing band: vowels open the F1 region, nasals and closures murmur below it. 0..1. */
  readonly vowel: number;
}

function cues(hops: readonly (AudioHop | undefined)[]): Cue[] {
  const vdb = hops.map((h) => (h ? 10 * Math.log10(10 ** (h.features.f1Db / 10) + 10 ** (h.features.f2Db / 10)) : -120));
  // The F1-over-voicing balance is measured against this voice's median in speech (voices differ by 10 dB).
  const tilt = hops.map((h) => (h ? h.features.f1Db - h.features.lowDb : 0));
  const speech = tilt.filter((_, t) => (hops[t]?.act ?? 0) > 0.5).sort((x, y) => x - y);
  const median = speech.length ? speech[speech.length >> 1] : 0;
  return hops.map((h, t) => {
    let max = -120;
    for (let k = Math.max(0, t - 6); k <= Math.min(hops.length - 1, t + 6); k++) max = Math.max(max, vdb[k]);
    const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
    return {
      a: h?.act ?? 0,
      f: h?.fric ?? 0,
      level: h?.level ?? 0,
      dip: clamp01((max - vdb[t]) / 10),
      vowel: h ? clamp01(0.5 + (tilt[t] - median) / 10) : 0,
    };
  });
}

function emission(e: Emit, c: Cue): number {
  const { a, f, level, dip, vowel } = c;
  switch (e) {
    case 'silence':
      return -8 * a;
    case 'vowel':
      return -5 * (1 - a) - 3 * f + 0.5 * level - 0.5 * dip + vowel;
    case 'liquid':
    case 'glide':
      return -4 * (1 - a) - 2 * f;
    case 'nasal':
      return -3 * (1 - a) - 2 * f - vowel;
    case 'stop':
      return -1 - 0.5 * level;
    case 'strong-fricative':
    case 'affricate':
      return -3 * (1 - f) - 0.5 * level;
    case 'fricative':
      return -1.5 * (1 - f) - 0.5 * level;
    case 'aspirate':
      return -1 - 0.5 * level;
  }
}

/** Per emission class, prefix sums over hops: the score of a segment [s, t) is sum[t] - sum[s]. */
function prefixSums(hops: readonly (AudioHop | undefined)[]): Map<Emit, Float64Array> {
  const cs = cues(hops);
  const out = new Map<Emit, Float64Array>();
  for (const e of EMITS) {
    const sum = new Float64Array(hops.length + 1);
    for (let t = 0; t < hops.length; t++) sum[t + 1] = sum[t] + emission(e, cs[t]);
    out.set(e, sum);
  }
  return out;
}

interface Unit {
  readonly phone: Phone;
  readonly emit: Emit;
  /** Typical duration, hops. */
  readonly mu: number;
  readonly maxHops: number;
  /** Index of the word this phone ends, or -1 when it is not a word's last phone. */
  readonly endsWord: number;
  readonly firstOfWord: number;
}

function units(words: readonly PronouncedWord[], rate: number): Unit[] {
  const out: Unit[] = [];
  words.forEach((w, wi) =>
    w.phones.forEach((p, pi) => {
      const spec = phoneSpec(p);
      const mu = Math.max(1, (rate * spec.ms) / 10);
      out.push({
        phone: p,
        emit: STRONG.has(p) ? 'strong-fricative' : spec.cls,
        mu,
        maxHops: Math.max(3, Math.ceil(mu * 3.5)),
        endsWord: pi === w.phones.length - 1 ? wi : -1,
        firstOfWord: pi === 0 ? wi : -1,
      });
    }),
  );
  return out;
}

/**
 * Aligns the words' phones to hops[0..n) (undefined hops are silence). Twice: the first pass measures the
 * speaking rate (aligned over typical durations), the second uses durations scaled to it.
 */
export function alignHops(words: readonly PronouncedWord[], hops: readonly (AudioHop | undefined)[]): HopAlignment {
  const sums = prefixSums(hops);
  const first = decode(words, hops.length, sums, 1);
  if (first.phones.length < 8) return first;
  let typical = 0;
  let actual = 0;
  for (const p of first.phones) {
    typical += phoneSpec(p.phone).ms / 10;
    actual += p.end - p.start;
  }
  const rate = Math.min(1.8, Math.max(0.55, actual / typical));
  return Math.abs(rate - 1) < 0.05 ? first : decode(words, hops.length, sums, rate);
}

function decode(words: readonly PronouncedWord[], M: number, sums: Map<Emit, Float64Array>, rate: number): HopAlignment {
  const U = units(words, rate);
  const N = U.length;
  if (M === 0 || N === 0) return { phones: [], complete: N === 0 };
  const NEG = Number.NEGATIVE_INFINITY;
  const W = M + 1;
  const sil = sums.get('silence')!;
  // E[u*W + t]: best score with phone u ending exactly at hop t; D: its duration; F: 1 when it came from a pause.
  const E = new Float64Array(N * W).fill(NEG);
  const D = new Int16Array(N * W);
  const F = new Uint8Array(N * W);
  // P[w*W + t]: best score in the pause after word w, up to hop t; PS: where that pause started.
  const P = new Float64Array(words.length * W).fill(NEG);
  const PS = new Int32Array(words.length * W);
  // Per phone, two arrays make the inner loop a few loads and adds: the best way to start at each hop (from the
  // lead silence, the previous phone, or the pause before this word), and the duration scores.
  const start = new Float64Array(W);
  const startViaPause = new Uint8Array(W);
  const dur = new Float64Array(64);
  for (let u = 0; u < N; u++) {
    const unit = U[u];
    const s = sums.get(unit.emit)!;
    const wPrev = unit.firstOfWord > 0 ? unit.firstOfWord - 1 : -1;
    const pauseCost = wPrev >= 0 && words[wPrev].pauseAfter ? PAUSE_AT_PUNCTUATION : PAUSE_ELSEWHERE;
    const direct = wPrev >= 0 ? Math.log(1 - Math.exp(pauseCost)) : 0;
    for (let st = 0; st < W; st++) {
      let from = u === 0 ? sil[st] : E[(u - 1) * W + st] + direct;
      let via = 0;
      if (wPrev >= 0 && P[wPrev * W + st] > from) {
        from = P[wPrev * W + st];
        via = 1;
      }
      start[st] = from;
      startViaPause[st] = via;
    }
    const maxD = Math.min(unit.maxHops, dur.length - 1);
    for (let d = 1; d <= maxD; d++) {
      const z = Math.log(d / unit.mu) / DURATION_SIGMA;
      dur[d] = -0.5 * z * z + PHONE_BONUS;
    }
    for (let t = 1; t <= M; t++) {
      let best = NEG;
      let bestD = 0;
      const st0 = t - Math.min(maxD, t);
      const st_ = s[t];
      for (let st = t - 1; st >= st0; st--) {
        const from = start[st];
        if (from === NEG) continue;
        const v = from + st_ - s[st] + dur[t - st];
        if (v > best) {
          best = v;
          bestD = t - st;
        }
      }
      E[u * W + t] = best;
      D[u * W + t] = bestD;
      F[u * W + t] = bestD > 0 ? startViaPause[t - bestD] : 0;
    }
    if (unit.endsWord >= 0 && unit.endsWord < words.length - 1) {
      // The pause after this word: enter from the phone's end, stay any number of silent hops.
      const w = unit.endsWord;
      for (let t = 1; t <= M; t++) {
        const enter = E[u * W + t - 1] + pauseCost;
        const stay = P[w * W + t - 1];
        const fromEnter = enter >= stay;
        P[w * W + t] = (fromEnter ? enter : stay) + sil[t] - sil[t - 1];
        PS[w * W + t] = fromEnter ? t - 1 : PS[w * W + t - 1];
      }
    }
  }
  // The end: either every phone then trailing silence, or (the text's audio still coming, or a pause inside it)
  // wherever the audio so far is best explained: a phone under way, or a pause after a word. No forcing: placing
  // the rest of the text in silence costs more than leaving it for the audio still to come.
  let trailingSilence = 0;
  for (let t = M - 1; t >= 0 && sil[t + 1] - sil[t] > -0.8; t--) trailingSilence++;
  let endUnit = N - 1;
  let endT = M;
  let bestEnd = NEG;
  for (let u = 0; u < N - 1; u++) {
    if (E[u * W + M] > bestEnd) {
      bestEnd = E[u * W + M];
      endUnit = u;
    }
  }
  for (let w = 0; w < words.length - 1; w++) {
    if (P[w * W + M] > bestEnd) {
      bestEnd = P[w * W + M];
      // The pause ends the path: back to the word's last phone.
      endT = PS[w * W + M];
      endUnit = U.findIndex((x) => x.endsWord === w);
    }
  }
  // Once the audio has gone quiet, the whole text is favoured: a few phones squeezed in cost little, a whole
  // sentence still to come (a pause inside the turn) costs far more than the margin.
  let completeScore = NEG;
  let completeT = M;
  for (let t = 1; t <= M; t++) {
    const v = E[(N - 1) * W + t] + sil[M] - sil[t];
    if (v > completeScore) {
      completeScore = v;
      completeT = t;
    }
  }
  const margin = trailingSilence >= END_SILENCE_HOPS ? COMPLETE_MARGIN : 0;
  const complete = completeScore > NEG && completeScore + margin >= bestEnd;
  if (complete) {
    bestEnd = completeScore;
    endUnit = N - 1;
    endT = completeT;
  }
  if (bestEnd === NEG) return { phones: [], complete: false };
  const out: HopPhone[] = [];
  let t = endT;
  for (let u = endUnit; u >= 0; u--) {
    const d = D[u * W + t];
    const start = t - d;
    out.push({ phone: U[u].phone, start, end: t });
    if (u > 0 && F[u * W + t] === 1) {
      const w = U[u].firstOfWord - 1;
      t = PS[w * W + start];
    } else {
      t = start;
    }
  }
  out.reverse();
  return { phones: out, complete: complete && trailingSilence >= END_SILENCE_HOPS && out.length === N };
}
