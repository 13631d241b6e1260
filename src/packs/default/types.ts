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

/** Which side of a coefficient drives a field: 'both' weight = c, 'positive' = max(c, 0), 'negative' = max(-c, 0). */
export type FieldSide = 'both' | 'positive' | 'negative';

export interface BasisField {
  /** Index into the coefficient list. */
  readonly coefficient: number;
  readonly side: FieldSide;
}

/**
 * A regular grid of sample points over a pixel box: node (j, i) sits at (box.x + j * (box.width - 1) / (cols - 1),
 * box.y + i * (box.height - 1) / (rows - 1)), so bilinear resampling with aligned corners maps nodes to pixels.
 */
export interface Lattice {
  readonly box: Box;
  readonly cols: number;
  readonly rows: number;
}

/**
 * The motion basis of one portrait: backward-warp fields in GridSample's normalized units (align_corners = 0:
 * x = -1 is the left edge of the image, +1 the right; a displacement of 2/W is one pixel), to be added to the
 * position they are sampled at.
 *
 * The picture is three layers (layers.ts): the head (above the jaw line), the torso and a background plate. Two
 * groups of fields move them (coefficients.ts):
 *  - pose fields (head yaw/pitch/roll, sway, breathing), in OUTPUT space on half-resolution lattices over where
 *    each layer can be seen, one set for the head layer and one for the torso layer;
 *  - face fields (mouth, eyes, brows), in REFERENCE space on a half-resolution lattice over the face, applied to the
 *    head layer in the head's own frame: the head layer shows reference(q + face(q)), q = p + headPose(p).
 * Around the lips a full-resolution two-layer rendering with a mouth interior takes over (the mouth fields below).
 */
export interface MotionBasis {
  readonly version: number;
  readonly coefficientNames: readonly string[];
  readonly width: number;
  readonly height: number;
  /** The output pixels that can change at all (even x, y, width, height: whole I420 chroma blocks). */
  readonly renderBox: Box;

  /** Pose fields (8): which coefficient and side each is. */
  readonly poseFields: readonly BasisField[];
  /** Over the output pixels the head layer can reach (inside renderBox), about every second pixel. */
  readonly headLattice: Lattice;
  /** Head-layer pose fields, planar [F, 2, rows, cols] (the dx plane, then the dy plane). */
  readonly headPose: Float32Array;
  /** Over the output pixels where the torso layer moves or can move to (inside renderBox). */
  readonly torsoLattice: Lattice;
  /** Torso-layer pose fields, planar [F, 2, rows, cols]. */
  readonly torsoPose: Float32Array;

  /** Face fields: which coefficient (and side) each is. */
  readonly faceFields: readonly BasisField[];
  /** In reference space over the face, every second pixel. */
  readonly faceLattice: Lattice;
  /** Face fields, planar [F, 2, rows, cols] (the dx plane, then the dy plane); the blinks are zero here. */
  readonly face: Float32Array;

  /** The blinks, at full resolution (a lid edge is sharp): which coefficient each field is. */
  readonly eyeFields: readonly BasisField[];
  /** In reference space over both eyes, every pixel. */
  readonly eyeLattice: Lattice;
  /** Blink fields (the upper lids sliding down), planar [F, 2, rows, cols]. */
  readonly eyes: Float32Array;
  /** Over eyeLattice [rows, cols]: 1 on the upper lids and away from the eyes, 0 on the eyes (1 outside the box). */
  readonly eyeLid: Float32Array;
  /** Over eyeLattice, RGB [rows, cols, 3]: what a closing upper lid shows (no crease; eyes.ts lidTexture). */
  readonly eyeLidTexture: Uint8Array;
  /** The full-resolution window the eyes are rendered in. */
  readonly eyeWindow: FeatureWindow;

  /** The lip seam selector [H, W] (reference space): 0 above the line where the lips meet, 1 below. */
  readonly mouthSeam: Float32Array;
  /** The region around the lips where the mouth interior may show (reference pixels, integers, inside the image). */
  readonly mouthCrop: Box;
  /**
   * Inside mouthCrop, per face field, the upper-lip side's and the lower-lip side's own fields, planar
   * [F, 4, h, w] (upper dx, upper dy, lower dx, lower dy). Around the lips the renderer warps the reference and the
   * seam selector with each and layers them: the upper side covers a pixel where its sample is above the seam, the
   * lower side where its sample is below; where neither covers it the lips have parted and the interior shows.
   */
  readonly mouthSides: Float32Array;
  /** Inside mouthCrop [h, w], 0..1: where the interior may show at all (fades out at the mouth corners). */
  readonly mouthRegion: Float32Array;
  /** Inside mouthCrop [h, w], 0..1: how much the two-layer lips replace the single warp (0 at the crop's sides). */
  readonly mouthLayer: Float32Array;
  /** The full-resolution window the mouth is rendered in (it follows the head; see FeatureWindow). */
  readonly mouthWindow: FeatureWindow;
  /** The lip seam as knots in image pixels (x0, y0, x1, y1, ...), from one outer mouth corner to the other. */
  readonly lipSeam: Float32Array;
  /** Whether the reference already shows teeth between the lips (then no teeth are painted into the interior). */
  readonly teethVisible: boolean;
  /** Inner-lip opening of the reference, in mouth widths (about 0 for a closed mouth). */
  readonly lipGap: number;

  /** Layers (reference space): head and torso alpha [H, W], the torso's colour and the background plate [H, W, 3]. */
  readonly headAlpha: Float32Array;
  readonly torsoAlpha: Float32Array;
  readonly torsoColour: Uint8Array;
  readonly plate: Uint8Array;
  /** Whether the person was segmented by colour (false: a shape drawn from the landmarks). */
  readonly segmented: boolean;
}

/**
 * A small full-resolution window that follows a feature (mouth, eyes) as the head moves: per frame it is placed at
 * home + round(sum of pose weight x motion), kept inside `view`, and the feature is rendered sharp in it.
 */
export interface FeatureWindow {
  readonly width: number;
  readonly height: number;
  /** Top-left corner at rest (output pixels, integers). */
  readonly home: Point;
  /** Every place the window may take (output pixels, inside renderBox). */
  readonly view: Box;
  /** Per pose field, where the feature's centre goes at full strength (forward, pixels), [F, 2]. */
  readonly motion: Float32Array;
  /** Head-layer pose fields at full resolution over view, [F, h, w, 2] (GridSample units). */
  readonly pose: Float32Array;
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
