import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc } from '@tfjs-losses/core';
import { EXCLUDED } from '../internal/excluded';
import { rowSoftmaxHost } from './row-softmax.host';
import { rowSoftmaxWasm } from './row-softmax.wasm';

/** Attributes of {@link rowSoftmaxOp}. */
export interface RowSoftmaxAttrs {
  /** Drop the entries (i, i), i < min(n, m): self-similarity. */
  excludeDiagonal: boolean;
  /**
   * Row i's target column is (i + targetShift) mod m (−1: no target). The
   * third output is then lse_i − s_i,target: a cross-entropy with that
   * target, taken from the same logits so that it cancels exactly.
   */
  targetShift?: number;
}

/**
 * `[n, 2]` int32 (row, target column) pairs, the target column of row i
 * being (i + shift) mod m, or undefined for no target (shift < 0). For
 * `gatherND` and `tensorScatterUpdate` in the composed forms: no `[n, m]`
 * one-hot temporaries.
 */
export function targetIndices(n: number, m: number, shift: number | undefined): tf.Tensor | undefined {
  if (shift === undefined || shift < 0) return undefined;
  const t = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    t[2 * i] = i;
    t[2 * i + 1] = (i + shift) % m;
  }
  return tf.tensor2d(t, [n, 2], 'int32');
}

/**
 * The composed form (webgpu, and the oracle of the cpu and wasm kernels). Every
 * op is one that is fast on wasm: `TensorScatterUpdate` writes the excluded
 * diagonal, `Softmax` (one XNNPACK kernel there, ~30x faster than `Exp` on a
 * million values) gives p, and the log-sum-exp comes without another
 * exponential: the largest p of a row is exp(0)/Σ, so lse = max − log(max p).
 */
function composed([logits, bias]: tf.Tensor[], { excludeDiagonal, targetShift }: RowSoftmaxAttrs): tf.Tensor[] {
  const [n, m] = logits.shape;
  let s = logits;
  if (excludeDiagonal) {
    const k = Math.min(n, m);
    const idx = tf.range(0, k, 1, 'int32');
    s = tf.tensorScatterUpdate(s, tf.stack([idx, idx], 1), tf.fill([k], EXCLUDED));
  }
  if (bias.rank > 0) s = tf.add(s, bias);
  const rowMax = tf.max(s, 1);
  const p = tf.softmax(s);
  const lse = tf.sub(rowMax, tf.log(tf.max(p, 1)));
  const target = targetIndices(n, m, targetShift);
  const picked = target ? tf.sub(lse, tf.gatherND(s, target)) : lse;
  return [lse, p, picked];
}

/**
 * Masked row softmax of `logits [n, m]` plus an additive `bias` (`[]` for
 * none, `[m]` or `[n, m]`; 0 keeps an entry, EXCLUDED drops it). Returns
 * `[lse [n], p [n, m], picked [n]]`: the log-sum-exp over the kept entries,
 * their softmax (exactly 0 where dropped) and, with a target column,
 * lse − s_target (else lse again). A forward primitive: it runs inside a
 * custom gradient and has no gradient of its own.
 */
export const rowSoftmaxOp = defineFusedOp<RowSoftmaxAttrs>({
  kernelName: 'TfjsLossesRowSoftmax',
  inputNames: rowSoftmaxHost.inputNames,
  kernels: { cpu: () => fillKernelFunc('cpu', rowSoftmaxHost), wasm: rowSoftmaxWasm },
  composed,
});
