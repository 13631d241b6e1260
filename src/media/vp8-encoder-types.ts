// Types for Vp8Encoder: options, events, output frames and stats.
import type { Vp8EncoderError } from './errors.ts';

export interface Vp8EncoderOptions {
  /** Frame size; must be even (I420). Default 512x512. */
  readonly width?: number;
  readonly height?: number;
  /** Nominal input rate given to ffmpeg/libvpx rate control. Default 25. */
  readonly fps?: number;
  /** Target bitrate in kbit/s. Default 800. */
  readonly bitrateKbps?: number;
  /**
   * Fixed keyframe interval (GOP) in frames. Default 25 = 1 s at 25 fps. ffmpeg cannot be asked
   * for a keyframe at run time, so this also bounds how long a new viewer (or a PLI/FIR after
   * loss) waits for a decodable picture.
   */
  readonly keyframeIntervalFrames?: number;
  /**
   * Input frames held while ffmpeg's stdin is still busy with an earlier frame. Overflow
   * policy: drop-oldest (counted in stats.droppedFrames). Default 4 (160 ms at 25 fps): enough
   * to ride out ffmpeg's start-up (~60-130 ms before it reads the first frame); in steady state
   * the queue stays empty because a frame encodes in a few ms.
   */
  readonly maxQueuedFrames?: number;
  /**
   * Encoded frames held for the frames() consumer. Overflow policy: block (stdout is paused,
   * which backs up into ffmpeg and then into the drop-oldest input queue). Default 8.
   */
  readonly maxOutputFrames?: number;
  /** Default 'ffmpeg' (found on PATH). */
  readonly ffmpegPath?: string;
}

export type NormalizedVp8EncoderOptions = Readonly<Required<Vp8EncoderOptions>>;

export interface EncodedVideoFrame {
  /** The ptsUs of the input frame this was encoded from. */
  readonly ptsUs: number;
  /** One VP8 frame (no IVF header). */
  readonly data: Buffer;
  readonly keyframe: boolean;
}

export interface Vp8EncoderStats {
  readonly framesIn: number;
  readonly framesOut: number;
  readonly keyframes: number;
  /** Input frames dropped by the drop-oldest input queue. */
  readonly droppedFrames: number;
  /** Frames ffmpeg consumed but never emitted (should stay 0; detected through IVF pts). */
  readonly lostInEncoder: number;
  readonly queuedFrames: number;
  readonly inFlightFrames: number;
  /** Wall time from encode() to the encoded frame being available, over frames so far. */
  readonly latencyMs: { readonly last: number; readonly mean: number; readonly max: number };
}

export type Vp8EncoderEvents = {
  /** ffmpeg is missing, failed to start, died, or produced an unreadable stream. Fired once. */
  error: [Vp8EncoderError];
  /** Fired once, after the ffmpeg process has exited. */
  close: [];
};
