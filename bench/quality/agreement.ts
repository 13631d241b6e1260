// How well the in-process aligner (src/audio/visemes/align.ts, audio features only) agrees with pocketsphinx's
// forced alignment (an acoustic model) on the same clip: phone start differences, ms. Twice: with the whole clip
// known (ahead mode), and streamed 20 ms at a time with a frame taken as soon as its right context is covered
// (live at real time: the words settle as the audio comes).
import { Chunker } from '../../src/audio/chunker.ts';
import { MouthFeatureTrack } from '../../src/audio/mouth-features.ts';
import type { PronunciationDictionary, TimedPhone } from '../../src/audio/visemes/index.ts';
import { FRAME_US } from '../../src/media/types.ts';
import type { RefPhone } from './measure.ts';
import { percentile } from './signal.ts';
import type { SpeechClip } from './speech.ts';

export interface Agreement {
  readonly placed: number;
  readonly startErrP50Ms: number;
  readonly startErrP90Ms: number;
  /** CPU in the aligner: in total, and the worst single mouthAt() call (streamed). */
  readonly alignMs: number;
  readonly worstCallMs?: number;
}

export interface AlignmentAgreement {
  readonly phones: number;
  readonly ahead: Agreement;
  readonly streamed: Agreement;
}

function compare(ref: readonly RefPhone[], mine: readonly TimedPhone[]): { startErrP50Ms: number; startErrP90Ms: number } {
  const errs = ref.flatMap((r, i) => (mine[i] && mine[i].phone === r.phone ? [Math.abs(mine[i].startUs - r.startUs) / 1000] : []));
  return { startErrP50Ms: percentile(errs, 0.5), startErrP90Ms: percentile(errs, 0.9) };
}

export function alignmentAgreement(clip: SpeechClip, ref: readonly RefPhone[], dictionary: PronunciationDictionary): AlignmentAgreement {
  const chunks = (() => {
    const chunker = new Chunker(0, 0);
    return [...chunker.push(clip.samples), ...chunker.flush()];
  })();
  const end = clip.durationS * 1e6 + 1e6;

  const ahead = new MouthFeatureTrack({ historyHops: Number.MAX_SAFE_INTEGER, dictionary });
  ahead.visemes.addText(clip.text, 0);
  for (const c of chunks) ahead.push(c);
  ahead.coverSilenceUntil(end);
  let t = performance.now();
  const aheadPhones = ahead.visemes.phonesBetween(0, Number.MAX_SAFE_INTEGER);
  const aheadMs = performance.now() - t;

  const live = new MouthFeatureTrack({ historyHops: Number.MAX_SAFE_INTEGER, dictionary });
  live.visemes.addText(clip.text, 0);
  let frame = 0;
  let total = 0;
  let worst = 0;
  for (const c of chunks) {
    live.push(c);
    while (frame * FRAME_US + live.rightContextUs <= live.coveredUntilUs) {
      t = performance.now();
      live.mouthAt(frame * FRAME_US);
      const ms = performance.now() - t;
      total += ms;
      worst = Math.max(worst, ms);
      frame++;
    }
  }
  live.coverSilenceUntil(end);
  const livePhones = live.visemes.phonesBetween(0, Number.MAX_SAFE_INTEGER);
  return {
    phones: ref.length,
    ahead: { placed: aheadPhones.length, ...compare(ref, aheadPhones), alignMs: Math.round(aheadMs) },
    streamed: { placed: livePhones.length, ...compare(ref, livePhones), alignMs: Math.round(total), worstCallMs: Math.round(worst) },
  };
}
