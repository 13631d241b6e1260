// Offline rendering through the same cascade as a live session: the whole audio is known,
// so the mouth track covers it up front and frames are taken in order as they are rendered. With the text of the
// audio, the mouth's visemes (p/b/m closures, rounding, spreading) are aligned to it, as for a live TTS turn.
import { MouthFeatureTrack } from '../audio/mouth-features.ts';
import { loadSharedDictionary, type PronunciationDictionary } from '../audio/visemes/index.ts';
import { Chunker } from '../audio/chunker.ts';
import { FRAME_US, PIPELINE_SAMPLE_RATE } from '../media/types.ts';
import { CascadeScheduler } from './scheduler.ts';
import type { PackStages, RenderOutput } from './types.ts';

export interface OfflineRenderOptions {
  stages: PackStages;
  /** Mono PCM16 at 48 kHz. */
  audio: Int16Array;
  rightContextUs?: number;
  /** What the audio says, from its start: sharpens the mouth with visemes. Without it the mouth is audio-driven. */
  text?: string;
  /** Pronunciations for the text; default: the shared CMU dictionary (letter-to-sound when it is missing). */
  dictionary?: PronunciationDictionary;
  onFrame: (frame: RenderOutput, index: number) => void | Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

export async function renderOffline(opts: OfflineRenderOptions): Promise<{ frames: number }> {
  // The viseme track shows nothing until its dictionary is loaded (live sessions load it at server start): wait for
  // it here, or the first frames of a clip would depend on how fast the file was read.
  const text = opts.text?.trim();
  const dictionary = text ? (opts.dictionary ?? (await loadSharedDictionary())) : opts.dictionary;
  const mouth = new MouthFeatureTrack({ rightContextUs: opts.rightContextUs ?? 40_000, historyHops: Number.MAX_SAFE_INTEGER, dictionary });
  if (text) mouth.visemes.addText(text, 0); // the audio starts at media time 0 (the chunker below)
  const chunker = new Chunker(0, 0);
  for (const c of [...chunker.push(opts.audio), ...chunker.flush()]) mouth.push(c);
  const durationUs = (opts.audio.length * 1_000_000) / PIPELINE_SAMPLE_RATE;
  const total = Math.max(1, Math.ceil(durationUs / FRAME_US));
  mouth.coverSilenceUntil(total * FRAME_US + 1_000_000);
  const scheduler = new CascadeScheduler(opts.stages, mouth, { aheadFrames: 8, nowUs: () => 0 });
  scheduler.start(0);
  try {
    for (let n = 0; n < total; n++) {
      const f = await scheduler.takeWhenReady(n);
      await opts.onFrame(f.frame, n);
      opts.onProgress?.(n + 1, total);
    }
  } finally {
    await scheduler.close();
  }
  return { frames: total };
}
