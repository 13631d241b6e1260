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

/**
 * How open one eye looks, from pixels: the share of the eye outline (landmarks o..o+5: 36 the image-left eye, 42
 * the other) that is white of the eye or dark iris/lashes rather than skin (`dark`: iris, pupil and lashes only).
 * face-api's own eye points barely move when an eye closes, so a blink is told by this instead. A pale lid can
 * pass for the white of the eye; the iris cannot, so `dark` separates a closed eye better on fair skin.
 */
export function openEyeFraction(rgb: Uint8Array, width: number, l: Float32Array, o: number, dark = false): number {
  const pts = [0, 1, 2, 3, 4, 5].map((k) => ({ x: l[2 * (o + k)]!, y: l[2 * (o + k) + 1]! }));
  const height = rgb.length / 3 / width;
  let n = 0;
  let eye = 0;
  const y0 = Math.max(0, Math.floor(Math.min(...pts.map((p) => p.y))));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...pts.map((p) => p.y))));
  const x0 = Math.max(0, Math.floor(Math.min(...pts.map((p) => p.x))));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...pts.map((p) => p.x))));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let inside = false;
      for (let i = 0, j = 5; i < 6; j = i++) {
        const a = pts[i]!;
        const b = pts[j]!;
        if (a.y > y !== b.y > y && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
      }
      if (!inside) continue;
      const k = 3 * (y * width + x);
      const [r, g, b] = [rgb[k]!, rgb[k + 1]!, rgb[k + 2]!];
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      const sat = (Math.max(r, g, b) - Math.min(r, g, b)) / Math.max(1, r, g, b);
      n++;
      if (luma < 90 || (!dark && sat < 0.2 && luma > 150)) eye++;
    }
  }
  return eye / Math.max(1, n);
}

/** Both eyes' dark (iris, pupil, lashes) openEyeFraction, averaged: compare a frame's with the portrait's. */
export function eyesOpenFraction(rgb: Uint8Array, width: number, l: Float32Array): number {
  return (openEyeFraction(rgb, width, l, 36, true) + openEyeFraction(rgb, width, l, 42, true)) / 2;
}
