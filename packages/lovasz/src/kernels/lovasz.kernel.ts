import * as tf from '@tensorflow/tfjs-core';
import { accurateSum, defineFusedOp, hostKernelFunc } from '@tfjs-losses/core';
import { lovaszHost } from './lovasz.cpu';

/** Kernel name in tfjs's global registry. */
export const LOVASZ_EXTENSION = 'TfjsLossesLovaszExtension';

/**
 * Forward pass of the composed form, outside any gradient tape: the per-row
 * loss and the weights (the gradient with respect to the errors, in the
 * original order). Same contract as {@link lovaszHost}.
 */
function composedForward(errors: tf.Tensor, fg: tf.Tensor): { loss: tf.Tensor; weights: tf.Tensor } {
  const [rows, n] = errors.shape;
  // topk of the whole row is a sort: decreasing error, ties by position.
  const { values: sorted, indices } = tf.topk(errors, n, true);
  const flatIdx = tf.reshape(tf.add(indices, tf.reshape(tf.range(0, rows * n, n, 'int32'), [rows, 1])), [rows * n]);
  const fgSorted = tf.reshape(tf.gather(tf.reshape(fg, [rows * n]), flatIdx), [rows, n]);
  const total = tf.sum(fg, 1, true);
  const cumFg = tf.cumsum(fgSorted, 1);
  const cumOther = tf.sub(tf.range(1, n + 1, 1, 'float32'), cumFg);
  const jaccard = tf.sub(1, tf.div(tf.sub(total, cumFg), tf.add(total, cumOther)));
  const prev = n === 1 ? tf.zeros([rows, 1]) : tf.concat([tf.zeros([rows, 1]), tf.slice(jaccard, [0, 0], [rows, n - 1])], 1);
  const g = tf.sub(jaccard, prev);
  // Entries with error <= 0 (and the excluded, negative ones) weigh nothing.
  const w = tf.mul(g, tf.step(sorted));
  const loss = accurateSum(tf.mul(tf.relu(sorted), g), 1);
  const weights = tf.reshape(tf.scatterND(tf.reshape(flatIdx, [rows * n, 1]), tf.reshape(w, [rows * n]), [rows * n]), [rows, n]);
  return { loss, weights };
}

/** The composed form: tfjs ops, with the sort kept off the gradient tape. */
function composed([errors, fg]: tf.Tensor[]): tf.Tensor {
  const f = tf.customGrad(((e: tf.Tensor, save: tf.GradSaveFunc) => {
    const { loss, weights } = composedForward(e, fg);
    save([weights]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.expandDims(dy, 1), saved[0]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(errors) as tf.Tensor;
}

const op = defineFusedOp<Record<string, never>>({
  kernelName: LOVASZ_EXTENSION,
  inputNames: ['errors', 'fg'],
  kernels: {
    cpu: () => hostKernelFunc('cpu', ['errors', 'fg'], lovaszHost),
    wasm: () => hostKernelFunc('wasm', ['errors', 'fg'], lovaszHost),
  },
  composed,
  saveOutputs: [false, true],
  gradient: (dys, saved) => [tf.mul(tf.expandDims(dys[0], 1), saved[2]), undefined],
});

/**
 * The Lovasz extension of the Jaccard loss for each row of `errors` [R, N]
 * with foreground indicator `fg` [R, N] (float 0/1); entries with a negative
 * error are left out (ignored pixels). Returns the per-row loss [R].
 * Differentiable with respect to `errors` only; the Jaccard gradient is a
 * constant of the sort, as in the authors' code.
 */
export function lovaszExtension(errors: tf.Tensor, fg: tf.Tensor): tf.Tensor {
  const [loss, ...rest] = op([errors, fg], {});
  // The fused kernel also returns the weights; its gradient keeps its own copy.
  tf.dispose(rest);
  return loss;
}

/** True when the fused kernel runs on the current backend. */
export function lovaszExtensionIsFused(): boolean {
  return op.isFused();
}
