// Paralinguistics measured from the audio itself: level, pitch (YIN), syllable nuclei (energy peaks on voiced
// frames), pauses, emphasis and final pitch rises. Frames are 10 ms on the media clock; the tracker keeps a bounded
// history (policy: drop-oldest) and answers summaries for any span it holds.
import { Downsampler, SPEECH_SAMPLE_RATE } from '../asr/downsample.ts';
import type { AudioChunk } from '../media/types.ts';
import { yinPitch } from './yin.ts';

export const PROSODY_FRAME_US = 10_000;
const FRAME_SAMPLES = (SPEECH_SAMPLE_RATE * PROSODY_FRAME_US) / 1e6; // 160
/** YIN window and search range: 25 ms, 70..400 Hz. */
const YIN_WINDOW = 400;
const TAU_MAX = Math.ceil(SPEECH_SAMPLE_RATE / 70);
const ANALYSIS = YIN_WINDOW + TAU_MAX;
const MIN_PAUSE_US = 250_000;

export interface ProsodyFrame {
  readonly ptsUs: number;
  /** RMS level, dBFS (-100 for digital silence). */
  readonly db: number;
  /** Fundamental frequency, Hz; 0 when unvoiced. */
  readonly f0: number;
  /** Above the tracked noise floor by enough to be speech. */
  readonly speech: boolean;
}

export interface Nucleus {
  readonly atUs: number;
  readonly db: number;
  readonly f0: number;
}

export interface ProsodySummary {
  readonly startUs: number;
  readonly endUs: number;
  /** Time with speech, pauses of 250 ms or more excluded, s. */
  readonly speechS: number;
  /** Mean level over speech frames, dBFS (-100 without speech). */
  readonly meanDb: number;
  /** Median F0 over voiced frames, Hz (0 without voicing). */
  readonly f0MedianHz: number;
  /** 10th to 90th percentile of F0, semitones. */
  readonly f0RangeSt: number;
  /** Syllable nuclei per second of speech. */
  readonly syllableRate: number;
  readonly nuclei: readonly Nucleus[];
  readonly pauses: readonly { startUs: number; endUs: number }[];
  /** Stressed nuclei: louder and/or higher than their neighbours; strength 0..1. */
  readonly emphasis: readonly { atUs: number; strength: number }[];
  /** Voiced runs that end with a pitch rise of 2 semitones or more (question-like), at the run's end. */
  readonly rises: readonly number[];
}

/** The session's speaker so far, for relative measures. */
export interface ProsodyBaseline {
  readonly speechS: number;
  readonly meanDb: number;
  readonly f0MedianHz: number;
}

export interface ProsodyReader {
  summarize(startUs: number, endUs: number): ProsodySummary;
  /** Only the pauses (cheap). */
  pauses(startUs: number, endUs: number): readonly { startUs: number; endUs: number }[];
  readonly baseline: ProsodyBaseline;
  /** Media time up to which audio has been analysed. */
  readonly knownUntilUs: number;
  frames(startUs: number, endUs: number): readonly ProsodyFrame[];
}

export class ProsodyTracker implements ProsodyReader {
  readonly #capacity: number;
  #frames: ProsodyFrame[] = [];
  readonly #down = new Downsampler();
  #ring = new Float32Array(ANALYSIS);
  #nextPts = -1;
  #floorDb = -60;
  #knownUntilUs = 0;
  // Running baseline over all speech seen (exponential, ~30 s memory).
  #baseDb = -100;
  #baseF0 = 0;
  #baseSpeechS = 0;

  /** capacityS: seconds of frames kept (drop-oldest). */
  constructor(capacityS = 120) {
    this.#capacity = Math.round((capacityS * 1e6) / PROSODY_FRAME_US);
  }

  get knownUntilUs(): number {
    return this.#knownUntilUs;
  }

  get baseline(): ProsodyBaseline {
    return { speechS: this.#baseSpeechS, meanDb: this.#baseDb, f0MedianHz: this.#baseF0 };
  }

  push(chunk: AudioChunk): void {
    if (chunk.ptsUs !== this.#nextPts) {
      // A jump on the timeline (a new turn, a gap): the pitch window starts over.
      this.#ring.fill(0);
      this.#down.reset();
    }
    this.#nextPts = chunk.ptsUs + (chunk.samples.length / 48_000) * 1e6;
    const pcm = this.#down.process(chunk.samples);
    const n = pcm.length;
    this.#ring.copyWithin(0, n);
    for (let i = 0; i < n; i++) this.#ring[ANALYSIS - n + i] = pcm[i] / 32768;
    const f0 = yinPitch(this.#ring, YIN_WINDOW, Math.floor(SPEECH_SAMPLE_RATE / 400), TAU_MAX, SPEECH_SAMPLE_RATE);
    for (let k = 0; k * FRAME_SAMPLES < n; k++) {
      let acc = 0;
      const end = Math.min(n, (k + 1) * FRAME_SAMPLES);
      for (let i = k * FRAME_SAMPLES; i < end; i++) acc += pcm[i] * pcm[i];
      const rms = Math.sqrt(acc / Math.max(1, end - k * FRAME_SAMPLES)) / 32768;
      const db = rms > 1e-5 ? 20 * Math.log10(rms) : -100;
      this.#floorDb = db < this.#floorDb ? db : this.#floorDb + 0.02;
      const speech = db > Math.max(this.#floorDb + 12, -55);
      const frame = { ptsUs: chunk.ptsUs + k * PROSODY_FRAME_US, db, f0: speech ? f0 : 0, speech };
      this.#add(frame);
    }
    this.#knownUntilUs = Math.max(this.#knownUntilUs, this.#nextPts);
  }

  /** Forget audio at and after atUs (barge-in drops the queued future). */
  truncate(atUs: number): void {
    this.#frames = this.#frames.filter((f) => f.ptsUs < atUs);
    this.#knownUntilUs = Math.min(this.#knownUntilUs, atUs);
    this.#nextPts = -1;
  }

  frames(startUs: number, endUs: number): readonly ProsodyFrame[] {
    const lo = lowerBound(this.#frames, startUs);
    const hi = lowerBound(this.#frames, endUs);
    return this.#frames.slice(lo, hi);
  }

  summarize(startUs: number, endUs: number): ProsodySummary {
    return summarizeFrames(this.frames(startUs, endUs), startUs, endUs);
  }

  pauses(startUs: number, endUs: number): { startUs: number; endUs: number }[] {
    return findPauses(this.frames(startUs, endUs)).pauses;
  }

  #add(frame: ProsodyFrame): void {
    const last = this.#frames[this.#frames.length - 1];
    if (last && frame.ptsUs <= last.ptsUs) {
      // Out of order (a new turn placed before queued audio ends cannot happen; a re-send can): keep order.
      this.#frames = this.#frames.filter((f) => f.ptsUs < frame.ptsUs);
    }
    this.#frames.push(frame);
    if (this.#frames.length > this.#capacity) this.#frames.splice(0, this.#frames.length - this.#capacity);
    if (frame.speech) {
      const a = 1 / 3000; // ~30 s of speech frames
      this.#baseSpeechS += PROSODY_FRAME_US / 1e6;
      this.#baseDb = this.#baseDb === -100 ? frame.db : this.#baseDb + a * (frame.db - this.#baseDb);
      if (frame.f0 > 0) this.#baseF0 = this.#baseF0 === 0 ? frame.f0 : this.#baseF0 * Math.pow(frame.f0 / this.#baseF0, a * 3);
    }
  }
}

function findPauses(frames: readonly ProsodyFrame[]): { pauses: { startUs: number; endUs: number }[]; pausedFrames: number } {
  const pauses: { startUs: number; endUs: number }[] = [];
  let runStart = -1;
  let pausedFrames = 0;
  for (let i = 0; i <= frames.length; i++) {
    const silent = i < frames.length && !frames[i]!.speech;
    if (silent && runStart < 0) runStart = i;
    if (!silent && runStart >= 0) {
      const a = frames[runStart]!.ptsUs;
      const b = i < frames.length ? frames[i]!.ptsUs : frames[i - 1]!.ptsUs + PROSODY_FRAME_US;
      if (b - a >= MIN_PAUSE_US) {
        pauses.push({ startUs: a, endUs: b });
        pausedFrames += i - runStart;
      }
      runStart = -1;
    }
  }
  return { pauses, pausedFrames };
}

export function summarizeFrames(frames: readonly ProsodyFrame[], startUs: number, endUs: number): ProsodySummary {
  const { pauses, pausedFrames } = findPauses(frames);
  const speechFrames = frames.filter((f) => f.speech);
  const voiced = speechFrames.filter((f) => f.f0 > 0).map((f) => f.f0).sort((a, b) => a - b);
  const speechS = ((frames.length - pausedFrames) * PROSODY_FRAME_US) / 1e6;
  const meanDb = speechFrames.length ? 10 * Math.log10(speechFrames.reduce((s, f) => s + Math.pow(10, f.db / 10), 0) / speechFrames.length) : -100;
  const f0MedianHz = voiced.length ? voiced[Math.floor(voiced.length / 2)]! : 0;
  const f0RangeSt = voiced.length >= 5 ? 12 * Math.log2(voiced[Math.floor(voiced.length * 0.9)]! / voiced[Math.floor(voiced.length * 0.1)]!) : 0;
  const nuclei = findNuclei(frames);
  const syllableRate = speechS > 0.2 ? nuclei.length / speechS : 0;
  return {
    startUs,
    endUs,
    speechS,
    meanDb,
    f0MedianHz,
    f0RangeSt,
    syllableRate,
    nuclei,
    pauses,
    emphasis: findEmphasis(nuclei),
    rises: findRises(frames),
  };
}

/** Syllable nuclei: peaks of the smoothed level on voiced speech, separated by a dip of 2 dB or more. */
function findNuclei(frames: readonly ProsodyFrame[]): Nucleus[] {
  const n = frames.length;
  if (n < 3) return [];
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = frames[Math.max(0, i - 1)]!.db;
    const b = frames[i]!.db;
    const c = frames[Math.min(n - 1, i + 1)]!.db;
    s[i] = (a + 2 * b + c) / 4;
  }
  const loud = [...s].filter((_, i) => frames[i]!.speech).sort((a, b) => a - b);
  if (loud.length === 0) return [];
  const floor = loud[Math.floor(loud.length * 0.95)]! - 25;
  const peaks: number[] = [];
  for (let i = 1; i < n - 1; i++) {
    if (!(s[i] >= s[i - 1] && s[i] > s[i + 1] && s[i] > floor && frames[i]!.speech)) continue;
    let voiced = false;
    for (let j = Math.max(0, i - 2); j <= Math.min(n - 1, i + 2); j++) if (frames[j]!.f0 > 0) voiced = true;
    if (!voiced) continue;
    const prev = peaks[peaks.length - 1];
    if (prev !== undefined) {
      let dip = Infinity;
      for (let j = prev; j <= i; j++) dip = Math.min(dip, s[j]);
      if (Math.min(s[prev], s[i]) - dip < 2) {
        if (s[i] > s[prev]) peaks[peaks.length - 1] = i;
        continue;
      }
    }
    peaks.push(i);
  }
  return peaks.map((i) => ({ atUs: frames[i]!.ptsUs, db: s[i], f0: nearestF0(frames, i) }));
}

function nearestF0(frames: readonly ProsodyFrame[], i: number): number {
  for (let d = 0; d <= 3; d++) {
    const a = frames[i - d]?.f0 ?? 0;
    if (a > 0) return a;
    const b = frames[i + d]?.f0 ?? 0;
    if (b > 0) return b;
  }
  return 0;
}

/** A nucleus 3 dB louder or 2 semitones higher than the median of its neighbours (+-1.5 s) is stressed. */
function findEmphasis(nuclei: readonly Nucleus[]): { atUs: number; strength: number }[] {
  const out: { atUs: number; strength: number }[] = [];
  for (const nu of nuclei) {
    const around = nuclei.filter((o) => Math.abs(o.atUs - nu.atUs) <= 1_500_000 && o !== nu);
    if (around.length < 2) continue;
    const dbs = around.map((o) => o.db).sort((a, b) => a - b);
    const f0s = around.map((o) => o.f0).filter((f) => f > 0).sort((a, b) => a - b);
    const dDb = nu.db - dbs[Math.floor(dbs.length / 2)]!;
    const dSt = nu.f0 > 0 && f0s.length ? 12 * Math.log2(nu.f0 / f0s[Math.floor(f0s.length / 2)]!) : 0;
    const score = Math.max(dDb / 3, dSt / 2);
    if (score >= 1) out.push({ atUs: nu.atUs, strength: Math.min(1, 0.4 + 0.2 * (score - 1)) });
  }
  return out;
}

/** Ends of voiced runs whose last 300 ms rise by 2 semitones or more. */
function findRises(frames: readonly ProsodyFrame[]): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < frames.length) {
    if (!frames[i]!.speech) {
      i++;
      continue;
    }
    let j = i;
    while (j < frames.length && frames[j]!.speech) j++;
    const run = frames.slice(i, j).filter((f) => f.f0 > 0);
    if (run.length >= 10 && j < frames.length) {
      const endUs = run[run.length - 1]!.ptsUs;
      const tail = run.filter((f) => f.ptsUs >= endUs - 300_000);
      if (tail.length >= 5) {
        const head = tail.slice(0, Math.ceil(tail.length / 3)).map((f) => f.f0);
        const last = tail.slice(-Math.ceil(tail.length / 3)).map((f) => f.f0);
        const rise = 12 * Math.log2(median(last) / median(head));
        if (rise >= 2) out.push(endUs);
      }
    }
    i = j;
  }
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function lowerBound(frames: readonly ProsodyFrame[], us: number): number {
  let lo = 0;
  let hi = frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.ptsUs < us) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
