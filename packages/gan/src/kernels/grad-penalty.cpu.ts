import type * as tf from '@tensorflow/tfjs-core';
import type { PenaltyAttrs } from './grad-penalty.kernel';

/*
 * Typed-array kernels (cpu and wasm, through core's fillKernelFunc: no
 * copies) for the gradient penalty's reduction over g, the critic's input
 * gradient of shape [B, ...]:
 *   n_b = sqrt(max(sum_j g_bj^2, TINY)), gap_b = n_b - target (max(., 0) one-sided),
 *   penalty = lambda * sum_b gap_b^2 (divided by B for a mean)
 * and its gradient dg_bj = g_bj (2 lambda dy gap_b / div + dyNorm_b) / n_b,
 * 0 where sum_j g_bj^2 < TINY (the max passes no gradient there), in float64.
 */

/** The floor under the squared norm (the composed form's tf.maximum). */
export const TINY = 1e-30;

type Inputs = (Float32Array | Int32Array | Uint8Array)[];
type Outputs = (Float32Array | Int32Array)[];

/** Sum of v[i]^2 for i in [from, to), four running sums in float64. */
function sumSquares(v: Float32Array, from: number, to: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    s0 += v[i] * v[i];
    s1 += v[i + 1] * v[i + 1];
    s2 += v[i + 2] * v[i + 2];
    s3 += v[i + 3] * v[i + 3];
  }
  for (; i < to; i++) s0 += v[i] * v[i];
  return s0 + s1 + s2 + s3;
}

function gapOf(n: number, target: number, oneSided: boolean): number {
  const gap = n - target;
  return oneSided && gap < 0 ? 0 : gap;
}

/** Inputs: g. Outputs: the reduced penalty (a scalar) and the norms [B]. */
export function fillPenalty([g]: Inputs, [out, norms]: Outputs, attrs: tf.NamedAttrMap, [shape]: number[][]): void {
  const { lambda, target, oneSided, sum } = attrs as unknown as PenaltyAttrs;
  const v = g as Float32Array;
  const batch = shape[0];
  const m = batch > 0 ? v.length / batch : 0;
  let acc = 0;
  for (let b = 0; b < batch; b++) {
    const n = Math.sqrt(Math.max(sumSquares(v, b * m, (b + 1) * m), TINY));
    norms[b] = n;
    const gap = gapOf(n, target, oneSided);
    acc += gap * gap;
  }
  out[0] = lambda * (sum || batch === 0 ? acc : acc / batch);
}

/** Inputs: g, dy (a scalar, for the penalty), dyNorms [B]. Output: dg. */
export function fillPenaltyGrad([g, dy, dyNorms]: Inputs, [dg]: Outputs, attrs: tf.NamedAttrMap, [shape]: number[][]): void {
  const { lambda, target, oneSided, sum } = attrs as unknown as PenaltyAttrs;
  const v = g as Float32Array;
  const out = dg as Float32Array;
  const batch = shape[0];
  const m = batch > 0 ? v.length / batch : 0;
  const s = (2 * lambda * dy[0]) / (sum || batch === 0 ? 1 : batch);
  for (let b = 0; b < batch; b++) {
    const from = b * m;
    const to = from + m;
    const sq = sumSquares(v, from, to);
    let coef = 0;
    if (sq >= TINY) {
      const n = Math.sqrt(sq);
      coef = (s * gapOf(n, target, oneSided) + dyNorms[b]) / n;
    }
    for (let i = from; i < to; i++) out[i] = coef * v[i];
  }
}
