import type * as tf from '@tensorflow/tfjs-core';
import { viewsInMemory } from '@tfjs-losses/core';
import type { PenaltyAttrs } from './grad-penalty.kernel';
import type { SimdPenalty } from './grad-penalty.simd';

/*
 * Typed-array kernels (cpu and wasm, through core's fillKernelFunc: no
 * copies) for the gradient penalty's reduction over g, the critic's input
 * gradient of shape [B, ...]:
 *   n_b = sqrt(max(sum_j g_bj^2, TINY)), gap_b = n_b - target (max(., 0) one-sided),
 *   penalty = lambda * sum_b gap_b^2 (divided by B for a mean)
 * and its gradient dg_bj = g_bj (2 lambda dy gap_b / div + dyNorm_b) / n_b,
 * 0 where sum_j g_bj^2 < TINY (the max passes no gradient there), in float64.
 * On wasm the row loops run in grad-penalty.simd.ts (whole 4-float groups,
 * in the backend's heap) when it is available; the rest of a row here.
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

type Fill = (inputs: Inputs, outputs: Outputs, attrs: tf.NamedAttrMap, shapes: number[][]) => void;

/** Whether the SIMD loops can address every array (all views of their memory). */
function inHeap(simd: SimdPenalty | null, arrays: Float32Array[]): simd is SimdPenalty {
  return simd !== null && viewsInMemory(simd, arrays);
}

/** Sum of v[i]^2 for i in [from, to): the SIMD loop over whole groups, then the tail. */
function rowSumSquares(simd: SimdPenalty | null, v: Float32Array, from: number, to: number): number {
  if (simd === null) return sumSquares(v, from, to);
  const n4 = (to - from) >> 2;
  return simd.sumSquares(v.byteOffset + from * 4, n4) + sumSquares(v, from + n4 * 4, to);
}

/** Inputs: g. Outputs: the reduced penalty (a scalar) and the norms [B]. */
export function fillPenalty(simd: SimdPenalty | null): Fill {
  return ([g], [out, norms], attrs, [shape]) => {
    const { lambda, target, oneSided, sum } = attrs as unknown as PenaltyAttrs;
    const v = g as Float32Array;
    const loops = inHeap(simd, [v]) ? simd : null;
    const batch = shape[0];
    const m = batch > 0 ? v.length / batch : 0;
    let acc = 0;
    for (let b = 0; b < batch; b++) {
      const n = Math.sqrt(Math.max(rowSumSquares(loops, v, b * m, (b + 1) * m), TINY));
      norms[b] = n;
      const gap = gapOf(n, target, oneSided);
      acc += gap * gap;
    }
    out[0] = lambda * (sum || batch === 0 ? acc : acc / batch);
  };
}

/** Inputs: g, dy (a scalar, for the penalty), dyNorms [B]. Output: dg. */
export function fillPenaltyGrad(simd: SimdPenalty | null): Fill {
  return ([g, dy, dyNorms], [dg], attrs, [shape]) => {
    const { lambda, target, oneSided, sum } = attrs as unknown as PenaltyAttrs;
    const v = g as Float32Array;
    const out = dg as Float32Array;
    const loops = inHeap(simd, [v, out]) ? simd : null;
    const batch = shape[0];
    const m = batch > 0 ? v.length / batch : 0;
    const s = (2 * lambda * dy[0]) / (sum || batch === 0 ? 1 : batch);
    for (let b = 0; b < batch; b++) {
      const from = b * m;
      const to = from + m;
      const sq = rowSumSquares(loops, v, from, to);
      let coef = 0;
      if (sq >= TINY) {
        const n = Math.sqrt(sq);
        coef = (s * gapOf(n, target, oneSided) + dyNorms[b]) / n;
      }
      let i = from;
      if (loops !== null) {
        const n4 = m >> 2;
        loops.scale(v.byteOffset + from * 4, out.byteOffset + from * 4, n4, coef);
        i += n4 * 4;
      }
      for (; i < to; i++) out[i] = coef * v[i];
    }
  };
}
