import * as tf from '@tensorflow/tfjs-core';
import { inputs, reduce, type KerasLoss, type TensorLike, type WeightedReductionOptions } from '@tfjs-losses/core';

/** Options of {@link ctcLoss}. */
export type CtcLossOptions = WeightedReductionOptions;

/**
 * CTC loss. The generator starts every package with squared error,
 *
 *   loss_i = (pred_i - target_i)^2,
 *
 * so the wiring (validation, reduction, tests on every backend, fixture,
 * README, changeset) works from the first commit: replace the math with the
 * new loss and regenerate the fixture.
 *
 * @param pred    predictions, any shape
 * @param target  targets, shape of `pred`
 * @returns scalar for 'mean'/'sum'; shape of `pred` for 'none'
 * @throws LossInputError if shapes differ
 */
export function ctcLoss(pred: TensorLike, target: TensorLike, options: CtcLossOptions = {}): tf.Tensor {
  const { reduction = 'mean', weights, avgFactor } = options;
  return tf.tidy('ctcLoss', () => {
    const arg = inputs('ctcLoss');
    const p = arg.float('pred', pred);
    const t = arg.float('target', target, { shapeOf: ['pred', p] });
    const perElement = tf.squaredDifference(p, t);
    return reduce(perElement, reduction, weights, { avgFactor, fn: 'ctcLoss' });
  });
}

/** Keras-style adapter: `model.compile({ loss: ctcLossKeras() })`. */
export function ctcLossKeras(options: CtcLossOptions = {}): KerasLoss {
  return (yTrue, yPred) => ctcLoss(yPred, yTrue, options);
}
