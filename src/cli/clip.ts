// One offline clip, the same cascade and director as a live session: an enrolled avatar,
// the whole audio and (optionally) its text and instructions in, frames out. Used by
// `facecast render`, the quality benchmark and the director's rendered-output tests.
import { renderOffline } from '../cascade/offline.ts';
import type { RenderOutput } from '../cascade/types.ts';
import { Chunker } from '../audio/chunker.ts';
import { createDefaultStages } from '../packs/default/cascade-stages.ts';
import type { PlanLayer } from '../cascade/types.ts';
import type { DefaultRenderer, EnrolledAvatar } from '../packs/default/index.ts';
import { Director, conditioningLayer, portraitInputFromAvatar } from '../director/index.ts';

export interface ClipOptions {
  avatar: EnrolledAvatar;
  renderer: DefaultRenderer;
  /** Mono PCM16 @ 48 kHz. */
  audio: Int16Array;
  /**
   * Transcript of the audio (TTS mode): the director reads it and the mouth's visemes are aligned to it. Without it
   * the director plans from the audio alone and the mouth is audio-driven.
   */
  text?: string;
  instructions?: readonly string[];
  /** Seeds the idle motion. */
  seed?: number;
  onFrame: (frame: RenderOutput, index: number) => void | Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

export interface ClipResult {
  frames: number;
  /** The director's rounds (proposals, merge, critiques, final plan). */
  trace: unknown[];
  instructions: unknown[];
}

/** How far ahead of the frame being rendered the director has planned. */
const PLAN_AHEAD_US = 2_000_000;

export async function renderClip(o: ClipOptions): Promise<ClipResult> {
  let simNowUs = 0;
  const director = new Director({}, { nowUs: () => simNowUs, portrait: portraitInputFromAvatar(o.avatar) });
  try {
    const understood = (o.instructions ?? []).map((text) => director.instruction(text, 0));
    if (o.text) director.transcript({ text: o.text, segmentId: 1, final: true });
    const chunker = new Chunker(0, 0);
    const chunks = [...chunker.push(o.audio), ...chunker.flush()];
    chunks.forEach((c, i) => director.audio(c, { segmentId: o.text ? 1 : undefined, last: i === chunks.length - 1 }));
    director.endOfSpeech();
    const layer = conditioningLayer(director, { idle: false });
    let plannedUntilUs = -1;
    // Rendering is in time order: step the director's clock just ahead of it, as playback would.
    const plan: PlanLayer = (ptsUs) => {
      if (ptsUs + PLAN_AHEAD_US / 2 > plannedUntilUs && ptsUs >= simNowUs) {
        simNowUs = ptsUs;
        director.planNow();
        plannedUntilUs = director.latestPlan?.endUs ?? ptsUs + PLAN_AHEAD_US;
      }
      return layer(ptsUs);
    };
    const stages = createDefaultStages(o.renderer, { seed: o.seed ?? 1, plan });
    const { frames } = await renderOffline({ stages, audio: o.audio, text: o.text, onFrame: o.onFrame, onProgress: o.onProgress });
    return { frames, trace: director.trace(50) as unknown[], instructions: understood };
  } finally {
    await director.close();
  }
}
