import * as tf from '@tensorflow/tfjs-core';
import { inputs, type ArgChecker, type KerasLoss, type TensorLike, type WeightedReductionOptions } from '@tfjs-losses/core';
import { smoothL1Reduced } from './internal/elementwise';

/** Options of {@link smoothL1Loss}. */
export interface SmoothL1LossOptions extends WeightedReductionOptions {
  /**
   * Where the loss turns from quadratic to linear (default 1). 0 gives plain
   * L1, as in PyTorch; negative values are rejected.
   */
  beta?: number;
}

/** Checks a smooth L1 beta: a finite number >= 0. */
export function checkBeta(arg: ArgChecker, beta: unknown, name = 'beta'): number {
  const b = arg.number(name, beta, { min: 0 });
  if (!Number.isFinite(b)) arg.fail(name, `must be a finite number >= 0; got ${b}.`);
  return b;
}

/**
 * The body shared by {@link smoothL1Loss} and `DynamicSmoothL1Loss.call`: checks
 * the tensors and options under the name `fn`, then computes and reduces. Call
 * it inside a `tf.tidy`. `beta` is already checked (a number) or a scalar
 * tensor held by a stateful loss.
 */
export function smoothL1Body(
  fn: string,
  pred: TensorLike,
  target: TensorLike,
  beta: number | tf.Tensor,
  options: WeightedReductionOptions,
): tf.Tensor {
  const { reduction = 'mean', weights, avgFactor } = options;
  const arg = inputs(fn);
  const p = arg.float('pred', pred);
  const t = arg.float('target', target, { shapeOf: ['pred', p] });
  const w = arg.weights(weights, p.shape);
  return smoothL1Reduced(p, t, beta, { reduction, weights: w, avgFactor, fn });
}

/**
 * Smooth L1 loss (Fast R-CNN; PyTorch's `smooth_l1_loss`). With d = pred − target:
 *
 *   loss_i = 0.5 d_i² / beta   if |d_i| < beta
 *            |d_i| − 0.5 beta  otherwise
 *
 * `beta = 0` is exactly L1 (|d|, gradient sign(d)), with no NaN from the unused
 * quadratic branch. The gradient is d / beta inside, sign(d) outside, and 0
 * where pred equals target, as in PyTorch. Optional `weights` multiply the
 * per-element loss; `'mean'` divides sum(w·loss) by the number of elements, or
 * by `avgFactor` when given (MMDetection's convention).
 *
 * @param pred    predictions, any shape
 * @param target  targets, the shape of `pred`
 * @param options `beta` (default 1), `reduction` (default `'mean'`), `weights`, `avgFactor`
 * @returns a scalar for `'mean'` and `'sum'`; the shape of `pred` for `'none'`
 * @throws LossInputError if the shapes differ, beta is negative or not finite,
 *   weights do not broadcast to `pred`, or avgFactor is not > 0 or comes without `'mean'`
 * @see torch.nn.functional.smooth_l1_loss (the reference)
 */
export function smoothL1Loss(pred: TensorLike, target: TensorLike, options: SmoothL1LossOptions = {}): tf.Tensor {
  const { beta = 1, ...rest } = options;
  return tf.tidy('smoothL1Loss', () => {
    const b = checkBeta(inputs('smoothL1Loss'), beta);
    return smoothL1Body('smoothL1Loss', pred, target, b, rest);
  });
}

/**
 * Keras-style adapter: `model.compile({ loss: smoothL1LossKeras({ beta: 0.5 }) })`.
 * Keras passes `(yTrue, yPred)`; this calls `smoothL1Loss(yPred, yTrue, options)`.
 *
 * @param options as for {@link smoothL1Loss}
 * @returns a `(yTrue, yPred) => tf.Tensor` loss
 */
export function smoothL1LossKeras(options: SmoothL1LossOptions = {}): KerasLoss {
  return (yTrue, yPred) => smoothL1Loss(yPred, yTrue, options);
}
