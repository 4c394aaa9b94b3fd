import * as tf from '@tensorflow/tfjs-core';
import { formatShape, inputs, type KerasLoss, type TensorLike } from '@tfjs-losses/core';
import { lovaszHingeOp } from './kernels/lovasz-hinge.kernel';

/** Options of {@link lovaszHinge}. */
export interface LovaszHingeOptions {
  /** Compute the loss per image and average over images (default `true`). */
  perImage?: boolean;
  /** Label value whose pixels are left out of the loss. */
  ignoreIndex?: number;
  /**
   * Average the hinge on (logits, labels) with the hinge on
   * (−logits, 1 − labels), so both classes are treated alike (default `false`).
   */
  symmetric?: boolean;
}

/**
 * Lovasz hinge loss (Berman, Rannen Triki and Blaschko, CVPR 2018): a convex
 * surrogate of the binary Jaccard (IoU) loss of the foreground, on raw scores.
 *
 * With signs s_i = 2 y_i − 1 and hinge errors e_i = 1 − x_i s_i over the valid
 * pixels, sorted decreasingly (e_(1) ≥ e_(2) ≥ ...), F the number of
 * foreground pixels, and f_k, b_k the numbers of foreground and background
 * pixels among the first k sorted ones:
 *
 *   J_k = 1 − (F − f_k) / (F + b_k),   loss = Σ_k max(e_(k), 0) (J_k − J_{k−1})
 *
 * averaged over images when `perImage`. `symmetric` gives
 * (loss(x, y) + loss(−x, 1 − y)) / 2; both terms share the errors, and
 * ignored pixels stay ignored in both. The Jaccard gradient is a constant of
 * the sort, as in the authors' code; ties are ordered by pixel position.
 * An image whose pixels are all ignored contributes 0 (and stays in the
 * mean); a batch with no valid pixel gives 0.
 *
 * @param logits  raw scores `[B, H, W]` (any `[B, ...]`: each image is flattened)
 * @param labels  `[B, H, W]` of 0 (background) and 1 (foreground), or `ignoreIndex`
 * @param options see {@link LovaszHingeOptions}
 * @returns the loss, a scalar
 * @throws LossInputError if labels do not have the shape of logits, hold
 *   values other than 0, 1 and `ignoreIndex`, or logits are empty
 * @see Berman et al., "The Lovász-Softmax loss", CVPR 2018, and the authors'
 *   `lovasz_hinge` (github.com/bermanmaxim/LovaszSoftmax), our reference
 */
export function lovaszHinge(logits: TensorLike, labels: TensorLike, options: LovaszHingeOptions = {}): tf.Scalar {
  const { perImage = true, ignoreIndex, symmetric = false } = options;
  return tf.tidy('lovaszHinge', () => {
    const arg = inputs('lovaszHinge');
    arg.oneOf('perImage', perImage, [true, false]);
    arg.oneOf('symmetric', symmetric, [true, false]);
    if (ignoreIndex !== undefined) arg.number('ignoreIndex', ignoreIndex, { integer: true });
    const x = arg.float('logits', logits, { minRank: perImage ? 2 : 1 });
    if (x.size === 0) arg.fail('logits', `must hold at least one pixel; got shape ${formatShape(x.shape)}.`);
    const y = arg.int('labels', labels, {
      shapeOf: ['logits', x],
      min: 0,
      max: 1,
      allow: ignoreIndex === undefined ? [] : [ignoreIndex],
    });
    const images = perImage ? x.shape[0] : 1;
    const pixels = x.size / images;
    return lovaszHingeOp(tf.reshape(x, [images, pixels]), tf.reshape(y, [images, pixels]), {
      symmetric,
      hasIgnore: ignoreIndex !== undefined,
      ignoreIndex: ignoreIndex ?? 0,
    }) as tf.Scalar;
  });
}

/**
 * Keras-style adapter: `model.compile({ loss: lovaszHingeKeras() })`.
 * A trailing channel axis of size 1 (`[B, H, W, 1]`, a one-channel
 * output) is dropped from both `yTrue` and `yPred`.
 */
export function lovaszHingeKeras(options: LovaszHingeOptions = {}): KerasLoss {
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const drop = (t: tf.Tensor) => (t.rank === 4 && t.shape[3] === 1 ? tf.squeeze(t, [3]) : t);
      return lovaszHinge(drop(yPred), drop(yTrue), options);
    });
}
