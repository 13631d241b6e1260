// Shared media types. Every chunk and frame carries a timestamp on the session's
// media timeline (microseconds since the session clock's origin), never wall time.

/** Audio is carried inside the pipeline as mono PCM16 at 48 kHz, in 20 ms chunks. */
export const PIPELINE_SAMPLE_RATE = 48_000;
export const CHUNK_MS = 20;
export const CHUNK_SAMPLES = (PIPELINE_SAMPLE_RATE * CHUNK_MS) / 1000; // 960

export const VIDEO_FPS = 25;
export const FRAME_US = 1_000_000 / VIDEO_FPS; // 40 000 us

/** One 20 ms chunk of mono PCM16 @ 48 kHz. */
export interface AudioChunk {
  /** Media time of the first sample, in microseconds. */
  readonly ptsUs: number;
  /** Exactly CHUNK_SAMPLES samples. */
  readonly samples: Int16Array;
  /** Epoch of the segment this chunk belongs to; bumped by every interruption. */
  readonly epoch: number;
}

/** One video frame in I420 (planar YUV 4:2:0), as the encoder takes it. */
export interface VideoFrame {
  readonly ptsUs: number;
  readonly width: number;
  readonly height: number;
  /** width*height luma bytes followed by two (width/2)*(height/2) chroma planes. */
  readonly i420: Uint8Array;
}

/** An RGB frame as the renderer produces it (interleaved, 3 bytes per pixel). */
export interface RgbFrame {
  readonly ptsUs: number;
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}
