// Types of the default avatar pack: detected faces, enrolled avatars, the motion basis.

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** One face found by face-api: pixel coordinates in the analysed image. */
export interface DetectedFace {
  readonly box: Box;
  /** Detector confidence, 0..1. */
  readonly score: number;
  /** 68 points as x0, y0, x1, y1, ... in pixels, iBUG-300W order (0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 lips). */
  readonly landmarks: Float32Array;
  /** 128-d face descriptor (face-api's FaceRecognitionNet); compare with Euclidean distance, ~0.6 = same person. */
  readonly descriptor: Float32Array;
}

export type FaceDetector = 'ssd' | 'tiny';

export interface DetectOptions {
  /** 'ssd' (SSD MobileNet v1, default, ~300 ms, robust) or 'tiny' (TinyFaceDetector, ~70 ms). */
  readonly detector?: FaceDetector;
  /** Minimum detector score, default 0.5. */
  readonly minScore?: number;
}

/** Mouth geometry in the enrolled image, from the outer lip landmarks. */
export interface MouthGeometry {
  readonly cx: number;
  readonly cy: number;
  /** Corner to corner (landmarks 48-54), pixels. */
  readonly width: number;
  /** Outer lip top (51) to bottom (57), pixels. */
  readonly height: number;
}

/** Soft masks over the enrolled image, one byte per pixel (0 = outside, 255 = inside), row-major [H, W]. */
export interface AvatarMasks {
  readonly face: Uint8Array;
  readonly mouth: Uint8Array;
  readonly eyes: Uint8Array;
}

/**
 * Dense motion basis: one backward-warp flow field per coefficient, in GridSample's normalized units
 * (align_corners = 0: x = -1 is the left edge of the image, +1 the right), to be added to the identity grid:
 * grid = identity + sum_k coeff[k] * fields[k]. Layout [K, H, W, 2] with (x, y) innermost.
 */
export interface MotionBasis {
  readonly version: number;
  readonly coefficientNames: readonly string[];
  readonly width: number;
  readonly height: number;
  readonly fields: Float32Array;
  /**
   * The lip seam selector [H, W]: 0 above the line where the lips meet, 1 below it (sharp across the lips,
   * smooth beyond the corners).
   */
  readonly mouthSeam: Float32Array;
  /** The region around the lips where the mouth interior may show, in pixels (integers, inside the image). */
  readonly mouthCrop: Box;
  /**
   * Inside mouthCrop, the upper-lip side's and the lower-lip side's own flow fields, each [K, h, w, 2] in the same
   * full-image units as `fields`. Around the lips the renderer warps the reference and the seam selector with each
   * and layers them: the upper side covers a pixel where its sample is above the seam, the lower side where its
   * sample is below; where neither covers it, the lips have parted and the mouth interior shows.
   */
  readonly upperFields: Float32Array;
  readonly lowerFields: Float32Array;
  /** Inside mouthCrop [h, w], 0..1: where the interior may show at all (fades out at the mouth corners). */
  readonly mouthRegion: Float32Array;
  /**
   * Inside mouthCrop [h, w], 0..1: how much the two-layer lip rendering replaces the single warp (1 between the
   * corners, fading to 0 at the crop's sides so that the two agree at its border).
   */
  readonly mouthLayer: Float32Array;
  /** The lip seam as knots in image pixels (x0, y0, x1, y1, ...), from one outer mouth corner to the other. */
  readonly lipSeam: Float32Array;
  /** Whether the reference already shows teeth between the lips (then no teeth are painted into the interior). */
  readonly teethVisible: boolean;
  /** Inner-lip opening of the reference, in mouth widths (about 0 for a closed mouth). */
  readonly lipGap: number;
}

export interface EnrolledAvatar {
  /** sha256 of the original image bytes, hex, first 16 characters. */
  readonly id: string;
  readonly width: number;
  readonly height: number;
  /** The framed portrait, RGB interleaved, width*height*3 bytes. */
  readonly reference: Uint8Array;
  /** 68 landmarks on the framed portrait (see DetectedFace.landmarks). */
  readonly landmarks: Float32Array;
  readonly descriptor: Float32Array;
  readonly faceBox: Box;
  readonly faceScore: number;
  readonly mouth: MouthGeometry;
  readonly masks: AvatarMasks;
  readonly basis: MotionBasis;
  /** The square crop taken from the source image before resizing, in source pixels. */
  readonly crop: Box;
  readonly source: { readonly width: number; readonly height: number };
}

export interface EnrollOptions {
  /** Output side in pixels (square, even), default 512. */
  readonly size?: number;
  /**
   * 'auto' (default): when the face is small in the picture, crop a square head-and-shoulders region around it;
   * 'none': use the whole picture (centre-cropped to a square).
   */
  readonly framing?: 'auto' | 'none';
  /** Disk cache folder; default `var/avatars/` under the working directory. `false` disables the cache. */
  readonly cacheDir?: string | false;
  /** Detector used to find the face; default 'ssd'. */
  readonly detector?: FaceDetector;
}
