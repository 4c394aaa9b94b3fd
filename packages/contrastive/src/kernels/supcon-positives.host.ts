import type { FillKernelSpec } from '@tfjs-losses/core';

/**
 * Class index of every contrast row r (view-major: sample r mod N), from the
 * sample labels `[N]`; the classes are numbered in order of appearance.
 */
function rowClasses(labels: Int32Array, rows: number): { cls: Int32Array; classes: number; size: Float64Array } {
  const n = labels.length;
  const index = new Map<number, number>();
  const sampleCls = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let k = index.get(labels[i]);
    if (k === undefined) {
      k = index.size;
      index.set(labels[i], k);
    }
    sampleCls[i] = k;
  }
  const cls = new Int32Array(rows);
  const size = new Float64Array(index.size);
  for (let r = 0; r < rows; r++) {
    cls[r] = sampleCls[r % n];
    size[cls[r]] += 1;
  }
  return { cls, classes: index.size, size };
}

/** Σ over each class of `w_r · c_r` (w = 1 when absent), in float64: `[classes, d]`. */
function classSums(c: Float32Array, w: Float32Array | undefined, cls: Int32Array, classes: number, d: number): Float64Array {
  const sums = new Float64Array(classes * d);
  for (let r = 0; r < cls.length; r++) {
    const o = cls[r] * d;
    const wr = w ? w[r] : 1;
    const co = r * d;
    for (let k = 0; k < d; k++) sums[o + k] += wr * c[co + k];
  }
  return sums;
}

function positivesForward(
  c: Float32Array, labels: Int32Array, lse: Float32Array,
  value: Float32Array, coefA: Float32Array, coefB: Float32Array,
  rows: number, d: number, invT: number, ratio: number,
): void {
  const { cls, classes, size } = rowClasses(labels, rows);
  const sums = classSums(c, undefined, cls, classes, d);
  for (let r = 0; r < rows; r++) {
    const o = cls[r] * d;
    const co = r * d;
    // Σ_{p ∈ P(r)} s_rp = invT · c_r · (class sum − c_r)
    let dot = 0;
    for (let k = 0; k < d; k++) dot += c[co + k] * (sums[o + k] - c[co + k]);
    const count = size[cls[r]] - 1;
    // The authors divide by 1 where |P| < 1e-6 (then the lse term has weight 0).
    const denom = count < 1e-6 ? 1 : count;
    const a = count / denom;
    value[r] = ratio * (a * lse[r] - (invT * dot) / denom);
    coefA[r] = ratio * a;
    coefB[r] = ratio / denom;
  }
}

function positivesBackward(
  c: Float32Array, labels: Int32Array, w: Float32Array, h: Float32Array, dc: Float32Array,
  rows: number, d: number, invT: number,
): void {
  const { cls, classes } = rowClasses(labels, rows);
  const sums = classSums(c, undefined, cls, classes, d);
  const weighted = classSums(c, h, cls, classes, d);
  for (let r = 0; r < rows; r++) {
    const o = cls[r] * d;
    const co = r * d;
    const hr = h[r];
    for (let k = 0; k < d; k++) {
      const own = c[co + k];
      // (H·M·c)_r + (M·H·c)_r, M the positives (same class, r itself left out)
      const mc = hr * (sums[o + k] - own) + (weighted[o + k] - hr * own);
      dc[co + k] = invT * (w[co + k] - mc);
    }
  }
}

/**
 * SupCon's per-anchor value from the log-sum-exp, in D-space: with P(r)
 * the other rows of r's class (labels of sample r mod N),
 *
 *   value_r = ratio · (a_r · lse_r − invT · c_r·(Σ_{p∈P(r)} c_p) / denom_r)
 *
 * with |P(r)| = class size − 1, denom_r = |P(r)| (1 when 0) and a_r =
 * |P(r)| / denom_r. Also outputs `ratio · a` and `ratio / denom`, the row
 * factors of the gradient. Inputs `c [R, D]`, `labels [N]` int32, `lse [R]`;
 * attrs `invT`, `ratio`.
 */
export const supconPositivesHost: FillKernelSpec = {
  inputNames: ['c', 'labels', 'lse'],
  outputShapes: ([[rows]]) => [[rows], [rows], [rows]],
  fill: ([c, labels, lse], [value, coefA, coefB], attrs, [[rows, d]]) =>
    positivesForward(
      c as Float32Array, labels as Int32Array, lse as Float32Array,
      value as Float32Array, coefA as Float32Array, coefB as Float32Array,
      rows, d, attrs.invT as number, attrs.ratio as number,
    ),
};

/**
 * `∂c = invT · (W − H·M·c − M·H·c)` with `W = K·c` (the softmax part, from
 * the symmetric fold), `h [R]` the positives' row factors and M the
 * positive mask (symmetric: same class, diagonal left out), in D-space
 * through per-class sums. Inputs `c [R, D]`, `labels [N]`, `w [R, D]`,
 * `h [R]`; attr `invT`.
 */
export const supconPositivesGradHost: FillKernelSpec = {
  inputNames: ['c', 'labels', 'w', 'h'],
  outputShapes: ([shape]) => [shape],
  fill: ([c, labels, w, h], [dc], attrs, [[rows, d]]) =>
    positivesBackward(
      c as Float32Array, labels as Int32Array, w as Float32Array, h as Float32Array, dc as Float32Array,
      rows, d, attrs.invT as number,
    ),
};
