// Renders a clip through the real offline cascade (or a control) and runs face-api on the frames as they come.
// Controls: 'frozen' (neutral coefficients every frame), 'random' (random mouth coefficients every frame),
// 'misaligned' (the real cascade driven by the audio delayed 300 ms, measured against the original audio).
import { createHash } from 'node:crypto';
import { renderOffline } from '../../src/cascade/offline.ts';
import type { RenderOutput } from '../../src/cascade/types.ts';
import { FRAME_US, PIPELINE_SAMPLE_RATE } from '../../src/media/types.ts';
import { createDefaultStages } from '../../src/packs/default/cascade-stages.ts';
import { DefaultRenderer, coefficientVector, detectFaces, type DetectedFace, type FaceDetector } from '../../src/packs/default/index.ts';
import { eyesOpenFraction } from '../../test/support/face-measures.ts';
import { i420ToRgb, thumbnail } from './frames.ts';
import { aperture, type Calibration, type FrameFace } from './measure.ts';

export type Drive = 'real' | 'text' | 'frozen' | 'random' | 'misaligned';
export const MISALIGN_US = 300_000;

export interface RenderClipOptions {
  readonly renderer: DefaultRenderer;
  readonly audio: Int16Array;
  readonly drive: Drive;
  /** The words spoken ('text' drive: visemes from the text, aligned to the audio). */
  readonly text?: string;
  /** Landmarks on every `every`-th frame (1: every frame, needed for the jitter; 0: none). */
  readonly every?: number;
  readonly detector?: FaceDetector;
  /** Frames that also get SSD landmarks + a descriptor (identity). */
  readonly identityAt?: (n: number) => boolean;
  /** Frames to keep a thumbnail of (`thumb` pixels a side). */
  readonly thumbAt?: (n: number) => boolean;
  readonly thumb?: number;
  /** The square the thumbnails show (default: the whole frame). */
  readonly thumbRegion?: { x: number; y: number; size: number };
  readonly seed?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** The portrait's landmarks and eyesOpenFraction: identity samples report their eyes' openness against it. */
  readonly restLandmarks?: Float32Array;
  readonly restEyesOpen?: number;
}

/** Landmarks of the frame nearest to n (within 2 frames) that has them. */
function nearestLandmarks(faces: readonly FrameFace[], n: number): Float32Array | undefined {
  let best: FrameFace | undefined;
  for (const f of faces) if (f.landmarks && Math.abs(f.index - n) <= 2 && (!best || Math.abs(f.index - n) < Math.abs(best.index - n))) best = f;
  return best?.landmarks ?? undefined;
}

export interface RenderedClip {
  readonly frames: number;
  readonly faces: FrameFace[];
  readonly identity: FrameFace[];
  readonly thumbs: Map<number, Uint8Array>;
  readonly renderS: number;
  readonly detectS: number;
}

/** The offline cascade with a mouth track that also knows the text (renderOffline has no text input). */
export async function renderClip(o: RenderClipOptions): Promise<RenderedClip> {
  const { renderer, audio } = o;
  const W = renderer.width;
  const H = renderer.height;
  const every = o.every ?? 1;
  const total = Math.max(1, Math.ceil((audio.length * 1e6) / PIPELINE_SAMPLE_RATE / FRAME_US));
  const faces: FrameFace[] = [];
  const identity: FrameFace[] = [];
  const thumbs = new Map<number, Uint8Array>();
  let detectMs = 0;
  const t0 = performance.now();
  // The detector is deterministic: identical frames (a still face in silence) are analysed once.
  const seen = new Map<string, DetectedFace | undefined>();
  const detect = async (rgb: Uint8Array, detector: FaceDetector): Promise<DetectedFace | undefined> => {
    const key = `${detector}:${createHash('sha1').update(rgb).digest('hex')}`;
    if (seen.has(key)) return seen.get(key);
    let found = (await detectFaces(rgb, W, H, { detector }))[0];
    // Each detector misses a face now and then (a blink, a turned head) that the other finds: use the other then.
    if (!found) found = (await detectFaces(rgb, W, H, { detector: detector === 'tiny' ? 'ssd' : 'tiny' }))[0];
    if (seen.size > 2000) seen.clear();
    seen.set(key, found);
    return found;
  };

  const onFrame = async (frame: RenderOutput, n: number) => {
    o.onProgress?.(n + 1, total);
    const wantSeries = every > 0 && n % every === 0;
    const wantId = o.identityAt?.(n) ?? false;
    const wantThumb = (o.thumbAt?.(n) ?? false) && !!o.thumb;
    if (!wantSeries && !wantId && !wantThumb) return;
    const t = performance.now();
    const rgb = i420ToRgb(frame.i420, W, H);
    const tUs = n * FRAME_US;
    if (wantSeries) {
      const found = await detect(rgb, o.detector ?? 'tiny');
      faces.push({ index: n, tUs, landmarks: found?.landmarks ?? null, descriptor: found?.descriptor ?? null });
    }
    if (wantThumb) thumbs.set(n, await thumbnail(rgb, W, H, o.thumb!, o.thumbRegion));
    if (wantId) {
      const found = await detect(rgb, 'ssd');
      // The eyes' pixels, where the face is: its own landmarks, else the nearest frame's, else the portrait's.
      const near = found?.landmarks ?? nearestLandmarks(faces, n) ?? o.restLandmarks;
      const eyesOpen = near && o.restEyesOpen ? eyesOpenFraction(rgb, W, near) / o.restEyesOpen : undefined;
      identity.push({ index: n, tUs, landmarks: found?.landmarks ?? null, descriptor: found?.descriptor ?? null, eyesOpen });
    }
    detectMs += performance.now() - t;
  };

  if (o.drive === 'real' || o.drive === 'misaligned') {
    let driving = audio;
    if (o.drive === 'misaligned') {
      const shift = Math.round((MISALIGN_US * PIPELINE_SAMPLE_RATE) / 1e6);
      driving = new Int16Array(audio.length);
      driving.set(audio.subarray(0, audio.length - shift), shift);
    }
    await renderOffline({ stages: createDefaultStages(renderer, { seed: o.seed }), audio: driving, onFrame });
  } else if (o.drive === 'text') {
    if (!o.text) throw new Error("the 'text' drive needs the text");
    await renderOffline({ stages: createDefaultStages(renderer, { seed: o.seed }), audio, text: o.text, onFrame });
  } else {
    let seed = o.seed ?? 7;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const neutral = await renderer.render(coefficientVector({}));
    for (let n = 0; n < total; n++) {
      const out = o.drive === 'frozen' ? neutral : await renderer.render(coefficientVector({ jawOpen: rand(), lipSpread: 2 * rand() - 1, lipPress: rand() }));
      await onFrame({ width: W, height: H, i420: out.i420 }, n);
    }
  }
  const totalS = (performance.now() - t0) / 1000;
  return { frames: total, faces, identity, thumbs, renderS: totalS - detectMs / 1000, detectS: detectMs / 1000 };
}

/** Apertures of the neutral render and of jawOpen = 1, measured the way the series are (tiny, SSD fallback). */
export async function calibrate(renderer: DefaultRenderer): Promise<Calibration> {
  const measure = async (jawOpen: number) => {
    const out = await renderer.render(coefficientVector({ jawOpen }));
    const rgb = i420ToRgb(out.i420, renderer.width, renderer.height);
    const found = (await detectFaces(rgb, renderer.width, renderer.height, { detector: 'tiny' }))[0] ?? (await detectFaces(rgb, renderer.width, renderer.height, { detector: 'ssd' }))[0];
    if (!found) throw new Error(`no face found on the jawOpen=${jawOpen} render of ${renderer.avatarId}`);
    return aperture(found.landmarks);
  };
  return { neutral: await measure(0), open: await measure(1) };
}
