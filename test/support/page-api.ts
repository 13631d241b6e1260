// The demo page's test hooks (client-demo/src/main.ts exposes them as window.facecast).
import type { Page } from 'playwright-core';

// The capture types are the page's own: one definition for the page and its tests.
export type { AudioCapture, AudioLevelCapture, FrameCapture, Region } from '../../client-demo/src/capture.ts';
import type { AudioCapture, AudioLevelCapture, FrameCapture, Region } from '../../client-demo/src/capture.ts';

interface FacecastHooks {
  state: string;
  error: string | null;
  viewerUrl: string | null;
  start(): Promise<void>;
  stop(): void;
  captureFrames(o: { fps: number; durationMs: number; region?: Region }): Promise<FrameCapture>;
  captureAudio(ms: number, source?: 'received' | 'microphone'): Promise<AudioCapture>;
  captureAudioLevels(ms: number, periodMs?: number): Promise<AudioLevelCapture>;
  receiverStats(): Promise<Record<'audio' | 'video', Record<string, unknown> | null>>;
  receiverHeaderExtensions(): Record<'audio' | 'video', string[]>;
  /** The overlay's figures (client-demo/src/stats.ts). */
  readonly stats: { audioJitterBufferMs: number | null; videoJitterBufferMs: number | null };
}

declare global {
  interface Window {
    facecast: FacecastHooks;
  }
}

export async function waitLive(page: Page, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(() => window.facecast?.state === 'live' || window.facecast?.state === 'error', undefined, { timeout: timeoutMs });
  const { state, error } = await page.evaluate(() => ({ state: window.facecast.state, error: window.facecast.error }));
  if (state !== 'live') throw new Error(`page did not go live: ${error}`);
}

export interface Recording {
  frames: FrameCapture;
  audio: AudioCapture;
  /** The received audio's level as played out (the receiver's source: RFC 6464 levels from the server), every 5 ms. */
  levels: AudioLevelCapture;
  /** Video frames decoded by the page during the recording (getVideoPlaybackQuality). */
  decodedFrames: number;
  durationMs: number;
  /** performance.timeOrigin of the page: add it to page times for wall-clock ms. */
  timeOrigin: number;
}

/** Records the mouth region and the received audio for durationMs. */
export async function record(page: Page, region: Region, durationMs: number): Promise<Recording> {
  return page.evaluate(
    async ({ region, durationMs }) => {
      const video = document.querySelector('video') as HTMLVideoElement;
      const q0 = video.getVideoPlaybackQuality().totalVideoFrames;
      const t0 = performance.now();
      const [frames, audio, levels] = await Promise.all([
        window.facecast.captureFrames({ fps: 25, durationMs, region }),
        window.facecast.captureAudio(durationMs),
        window.facecast.captureAudioLevels(durationMs),
      ]);
      return { frames, audio, levels, decodedFrames: video.getVideoPlaybackQuality().totalVideoFrames - q0, durationMs: performance.now() - t0, timeOrigin: performance.timeOrigin };
    },
    { region, durationMs },
  );
}
