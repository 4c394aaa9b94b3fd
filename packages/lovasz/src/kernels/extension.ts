import * as tf from '@tensorflow/tfjs-core';
import { accurateSum, defineFusedOp } from '@tfjs-losses/core';
import { jaccardWeightsWebGPU } from './jaccard-weights.webgpu';

/**
 * The step after the sort: from the sorted errors [R, N], their positions
 * (`order`, int32 [R, N]), the running foreground count `cumFg` [R, N] and
 * the row totals `fgTotal` [R, 1], each entry's Jaccard step
 * J_k − J_{k−1} (0 where its error is <= 0), back in the original order.
 * One WGSL pass on webgpu; tfjs ops elsewhere.
 */
const jaccardWeights = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesLovaszJaccardWeights',
  inputNames: ['sortedErrors', 'order', 'cumFg', 'fgTotal'],
  kernels: { webgpu: () => jaccardWeightsWebGPU },
  composed: ([sorted, order, cumFg, total]) => {
    const [rows, n] = sorted.shape;
    const cumOther = tf.sub(tf.range(1, n + 1, 1, 'float32'), cumFg);
    const jaccard = tf.sub(1, tf.div(tf.sub(total, cumFg), tf.add(total, cumOther)));
    const prev = n === 1 ? tf.zeros([rows, 1]) : tf.concat([tf.zeros([rows, 1]), tf.slice(jaccard, [0, 0], [rows, n - 1])], 1);
    const w = tf.mul(tf.sub(jaccard, prev), tf.step(sorted));
    const flatIdx = tf.reshape(tf.add(order, tf.reshape(tf.range(0, rows * n, n, 'int32'), [rows, 1])), [rows * n, 1]);
    return tf.reshape(tf.scatterND(flatIdx, tf.reshape(w, [rows * n]), [rows * n]), [rows, n]);
  },
});

/**
 * Forward pass, outside any gradient tape: per-row loss and the weights
 * (gradient of each row's loss with respect to its errors, original order).
 */
function forward(errors: tf.Tensor, fg: tf.Tensor): { loss: tf.Tensor; weights: tf.Tensor } {
  const [rows, n] = errors.shape;
  // topk of a whole row sorts it: decreasing error, ties by position (every backend).
  const { values: sorted, indices } = tf.topk(errors, n, true);
  const flatIdx = tf.reshape(tf.add(indices, tf.reshape(tf.range(0, rows * n, n, 'int32'), [rows, 1])), [rows * n]);
  const fgSorted = tf.reshape(tf.gather(tf.reshape(fg, [rows * n]), flatIdx), [rows, n]);
  const total = tf.sum(fg, 1, true);
  const weights = jaccardWeights([sorted, indices, tf.cumsum(fgSorted, 1), total], {})[0];
  // Entries with error <= 0 (the excluded ones among them) weigh 0.
  const loss = accurateSum(tf.mul(tf.relu(errors), weights), 1);
  return { loss, weights };
}

/** True when the WGSL step runs (webgpu with fused kernels enabled). */
export function jaccardWeightsIsFused(): boolean {
  return jaccardWeights.isFused();
}

/**
 * The Lovasz extension of the Jaccard loss for each row of `errors` [R, N]
 * with foreground indicator `fg` [R, N] (float 0/1), from tfjs ops:
 *
 *   sort the row by decreasing error (ties by position), F = Σ fg,
 *   J_k = 1 − (F − f_k) / (F + b_k),  loss = Σ_k max(e_(k), 0) (J_k − J_{k−1}).
 *
 * Entries with a negative error are left out (ignored pixels: they sort
 * last and weigh nothing; give them fg = 0). Returns the per-row loss [R].
 * Differentiable with respect to `errors`; the Jaccard steps are constants
 * of the sort (as in the authors' code), and the sort, inside a custom
 * gradient, never enters the tape.
 */
export function lovaszExtension(errors: tf.Tensor, fg: tf.Tensor): tf.Tensor {
  const f = tf.customGrad(((e: tf.Tensor, save: tf.GradSaveFunc) => {
    const { loss, weights } = forward(e, fg);
    save([weights]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.expandDims(dy, 1), saved[0]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(errors) as tf.Tensor;
}
