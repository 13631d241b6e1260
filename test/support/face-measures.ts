// Measures of pose and expression from face-api's 68 landmarks on rendered frames: an
// independent check of what the renderer produced (never its own coefficients).
export interface FaceMeasures {
  /** Nose tip across the face outline: 0 centred, +/- toward the image right/left (fraction of face width). */
  yaw: number;
  /** Nose tip between the eye line and the chin (fraction); changes as the head pitches. */
  pitch: number;
  /** Mouth corners' height relative to the eyes, in inter-ocular distances (more = more smile; speech-robust). */
  smile: number;
  /** Height of the eye line in the frame, pixels: a nod pivots at the neck and moves it. */
  eyesY: number;
  /** Brows above the eyes, in inter-ocular distances. */
  brow: number;
}

export function faceMeasures(lm: Float32Array): FaceMeasures {
  const p = (i: number) => ({ x: lm[2 * i], y: lm[2 * i + 1] });
  const mean = (idx: number[]) => idx.map(p).reduce((a, b) => ({ x: a.x + b.x / idx.length, y: a.y + b.y / idx.length }), { x: 0, y: 0 });
  const leftEye = mean([36, 37, 38, 39, 40, 41]);
  const rightEye = mean([42, 43, 44, 45, 46, 47]);
  const iod = Math.hypot(rightEye.x - leftEye.x, rightEye.y - leftEye.y);
  const eyes = { x: (leftEye.x + rightEye.x) / 2, y: (leftEye.y + rightEye.y) / 2 };
  const nose = p(30);
  const chin = p(8);
  const left = p(0);
  const right = p(16);
  const corners = mean([48, 54]);
  const brows = mean([17, 18, 19, 20, 21, 22, 23, 24, 25, 26]);
  return {
    yaw: (nose.x - (left.x + right.x) / 2) / Math.max(1, right.x - left.x),
    pitch: (nose.y - eyes.y) / Math.max(1, chin.y - eyes.y),
    smile: (eyes.y - corners.y) / iod,
    eyesY: eyes.y,
    brow: (eyes.y - brows.y) / iod,
  };
}

/** Std of x after removing its moving average over `w` samples: fast motion only (nods, not sway). */
export function fastMotion(x: readonly number[], w: number): number {
  const h = Math.floor(w / 2);
  const resid = x.map((v, i) => {
    const win = x.slice(Math.max(0, i - h), Math.min(x.length, i + h + 1));
    return v - win.reduce((a, b) => a + b, 0) / win.length;
  });
  return std(resid);
}

export function std(x: readonly number[]): number {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
}
