// Offline rendering through the same cascade as a live session: the whole audio is known,
// so the mouth track covers it up front and frames are taken in order as they are rendered.
import { MouthFeatureTrack } from '../audio/mouth-features.ts';
import { Chunker } from '../audio/chunker.ts';
import { FRAME_US, PIPELINE_SAMPLE_RATE } from '../media/types.ts';
import { CascadeScheduler } from './scheduler.ts';
import type { PackStages, RenderOutput } from './types.ts';

export interface OfflineRenderOptions {
  stages: PackStages;
  /** Mono PCM16 at 48 kHz. */
  audio: Int16Array;
  rightContextUs?: number;
  onFrame: (frame: RenderOutput, index: number) => void | Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

export async function renderOffline(opts: OfflineRenderOptions): Promise<{ frames: number }> {
  const mouth = new MouthFeatureTrack({ rightContextUs: opts.rightContextUs ?? 40_000, historyHops: Number.MAX_SAFE_INTEGER });
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
