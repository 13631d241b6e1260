// Thin-plate spline interpolation of 2-D vectors over scattered 2-D points (with a small ridge term so that
// near-duplicate control points do not make the system singular).

export class ThinPlateSpline {
  readonly #cx: Float64Array;
  readonly #cy: Float64Array;
  /** Weights per control point then the affine part (1, x, y), for each output component. */
  readonly #wx: Float64Array;
  readonly #wy: Float64Array;

  /**
   * @param points control points x0, y0, x1, y1, ...
   * @param values vector values at the points, same layout
   * @param smoothing ridge regularisation (0 = exact interpolation)
   */
  constructor(points: ArrayLike<number>, values: ArrayLike<number>, smoothing = 1e-5) {
    const n = points.length / 2;
    if (!Number.isInteger(n) || n < 3) throw new RangeError('a thin-plate spline needs at least 3 control points');
    if (values.length !== points.length) throw new RangeError('points and values must have the same length');
    this.#cx = new Float64Array(n);
    this.#cy = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.#cx[i] = points[2 * i]!;
      this.#cy[i] = points[2 * i + 1]!;
    }
    const m = n + 3;
    const a = new Float64Array(m * m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        a[i * m + j] = i === j ? smoothing : kernel(this.#cx[i]! - this.#cx[j]!, this.#cy[i]! - this.#cy[j]!);
      }
      const p = [1, this.#cx[i]!, this.#cy[i]!];
      for (let k = 0; k < 3; k++) {
        a[i * m + n + k] = p[k]!;
        a[(n + k) * m + i] = p[k]!;
      }
    }
    const bx = new Float64Array(m);
    const by = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      bx[i] = values[2 * i]!;
      by[i] = values[2 * i + 1]!;
    }
    [this.#wx, this.#wy] = solve(a, m, [bx, by]) as [Float64Array, Float64Array];
  }

  /** Evaluates at (x, y); writes the vector into out[0], out[1]. */
  evaluate(x: number, y: number, out: Float64Array): void {
    const n = this.#cx.length;
    const wx = this.#wx;
    const wy = this.#wy;
    let sx = wx[n]! + wx[n + 1]! * x + wx[n + 2]! * y;
    let sy = wy[n]! + wy[n + 1]! * x + wy[n + 2]! * y;
    for (let i = 0; i < n; i++) {
      const k = kernel(x - this.#cx[i]!, y - this.#cy[i]!);
      sx += wx[i]! * k;
      sy += wy[i]! * k;
    }
    out[0] = sx;
    out[1] = sy;
  }
}

function kernel(dx: number, dy: number): number {
  const r2 = dx * dx + dy * dy;
  return r2 < 1e-20 ? 0 : 0.5 * r2 * Math.log(r2); // r^2 log r
}

/** Gaussian elimination with partial pivoting; `a` is destroyed. */
function solve(a: Float64Array, m: number, rhs: Float64Array[]): Float64Array[] {
  const b = rhs.map((r) => Float64Array.from(r));
  for (let col = 0; col < m; col++) {
    let piv = col;
    for (let r = col + 1; r < m; r++) if (Math.abs(a[r * m + col]!) > Math.abs(a[piv * m + col]!)) piv = r;
    if (Math.abs(a[piv * m + col]!) < 1e-14) throw new Error('thin-plate spline system is singular (collinear control points?)');
    if (piv !== col) {
      for (let k = 0; k < m; k++) {
        const t = a[col * m + k]!;
        a[col * m + k] = a[piv * m + k]!;
        a[piv * m + k] = t;
      }
      for (const v of b) {
        const t = v[col]!;
        v[col] = v[piv]!;
        v[piv] = t;
      }
    }
    const d = a[col * m + col]!;
    for (let r = col + 1; r < m; r++) {
      const f = a[r * m + col]! / d;
      if (f === 0) continue;
      for (let k = col; k < m; k++) a[r * m + k] = a[r * m + k]! - f * a[col * m + k]!;
      for (const v of b) v[r] = v[r]! - f * v[col]!;
    }
  }
  for (const v of b) {
    for (let r = m - 1; r >= 0; r--) {
      let s = v[r]!;
      for (let k = r + 1; k < m; k++) s -= a[r * m + k]! * v[k]!;
      v[r] = s / a[r * m + r]!;
    }
  }
  return b;
}
