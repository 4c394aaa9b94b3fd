import type { FillKernelSpec } from '@tfjs-losses/core';
import { EXCLUDED } from '../internal/excluded';

/** A logit at or below this (with its bias) is a dropped entry. */
export const DROPPED = EXCLUDED / 2;

function rowSoftmax(
  x: Float32Array, b: Float32Array, lse: Float32Array, p: Float32Array, picked: Float32Array,
  n: number, m: number, biasRank: number, excludeDiagonal: boolean, shift: number,
): void {
  const biasRows = biasRank === 2;
  const hasBias = biasRank > 0;
  p.fill(0);
  for (let i = 0; i < n; i++) {
    const row = i * m;
    const brow = biasRows ? row : 0;
    let max = -Infinity;
    for (let j = 0; j < m; j++) {
      const v = hasBias ? x[row + j] + b[brow + j] : x[row + j];
      if (v > max && v > DROPPED && !(excludeDiagonal && j === i)) max = v;
    }
    if (max === -Infinity) {
      // No kept entry (p stays 0); NaN logits also end here and stay NaN.
      lse[i] = Number.isNaN(x[row]) ? Number.NaN : EXCLUDED;
      picked[i] = lse[i];
      continue;
    }
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const v = hasBias ? x[row + j] + b[brow + j] : x[row + j];
      if (v <= DROPPED || (excludeDiagonal && j === i)) continue;
      const e = Math.exp(v - max);
      p[row + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = row; j < row + m; j++) p[j] *= inv;
    const value = max + Math.log(sum);
    lse[i] = value;
    if (shift < 0) {
      picked[i] = value;
    } else {
      const t = (i + shift) % m;
      picked[i] = value - (hasBias ? x[row + t] + b[brow + t] : x[row + t]);
    }
  }
}

/**
 * Typed-array kernel of the masked row softmax, for the `cpu` backend (whose
 * broadcasting binary ops cost about 70 ns per element): one pass per row.
 *
 * Inputs: `logits [n, m]`, `bias` (`[]` for none, `[m]` or `[n, m]`, 0 keeps,
 * EXCLUDED drops). Attr `excludeDiagonal` drops (i, i). Outputs:
 * `lse [n]`, the log-sum-exp over the kept entries (EXCLUDED for a row with
 * none), `p [n, m]`, their softmax (0 at dropped entries), and `picked [n]`,
 * lse − s at the target column (i + targetShift) mod m (lse without one).
 */
export const rowSoftmaxHost: FillKernelSpec = {
  inputNames: ['logits', 'bias'],
  outputShapes: ([[n, m]]) => [[n], [n, m], [n]],
  fill: ([x, b], [lse, p, picked], attrs, [[n, m], biasShape]) =>
    rowSoftmax(
      x as Float32Array, b as Float32Array, lse as Float32Array, p as Float32Array, picked as Float32Array,
      n, m, biasShape.length, Boolean(attrs.excludeDiagonal), (attrs.targetShift as number | undefined) ?? -1,
    ),
};
