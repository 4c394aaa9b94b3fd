import * as tf from '@tensorflow/tfjs-core';
import { canReadSync, describeValue, inputs, reduce, type ArgChecker, type KerasLoss, type TensorLike, type WeightedReductionOptions } from '@tfjs-losses/core';
import { sigmoidFocalOp, sigmoidFocalSumOp } from './kernels/sigmoid-focal.kernel';

/** Options of {@link sigmoidFocalLoss}. */
export interface SigmoidFocalLossOptions extends WeightedReductionOptions {
  /**
   * Weight of the positive class, `alpha t + (1 - alpha)(1 - t)`; a negative
   * value turns the term off (torchvision's convention). At most 1. Default 0.25.
   */
  alpha?: number;
  /** Focusing exponent of the modulating factor `(1 - p_t)^gamma`, >= 0. Default 2. */
  gamma?: number;
  /**
   * Squeezes targets toward 0.5 first: `t (1 - labelSmoothing) + 0.5 labelSmoothing`
   * (Keras' `BinaryFocalCrossentropy`). In [0, 1]. Default 0.
   */
  labelSmoothing?: number;
}

/**
 * Throws a `LossInputError` when a target lies outside [0, 1]. Reads the
 * values where that is possible without waiting (plain arrays always; tensors
 * on backends that read synchronously, see `canReadSync`).
 */
function checkProbabilities(arg: ArgChecker, name: string, value: TensorLike, t: tf.Tensor): void {
  if (t.size === 0 || (value instanceof tf.Tensor && !canReadSync())) return;
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 1)) arg.fail(name, `values must lie in [0, 1]; got ${v} at flat index ${i}.`);
  }
}

/**
 * Sigmoid focal loss (Lin et al. 2017), the loss of RetinaNet's classifier:
 *
 *     p = sigmoid(x),  p_t = p t + (1 - p)(1 - t),  alpha_t = alpha t + (1 - alpha)(1 - t)
 *     FL(x, t) = alpha_t (1 - p_t)^gamma BCE(x, t)
 *
 * with BCE the binary cross-entropy with logits. `alpha < 0` drops
 * `alpha_t`; `gamma = 0` with `alpha < 0` is exactly BCE. Targets are
 * probabilities (hard 0/1 labels or soft values).
 *
 * Stable at any |x|: BCE from softplus, and `(1 - p_t)^gamma` as
 * `exp(gamma log(1 - p_t))` with the logarithm formed from log-sigmoids,
 * so values and gradients stay finite for saturated logits and any
 * `gamma >= 0` (torchvision's gradient is NaN there for gamma < 1).
 *
 * @param logits  raw scores, any shape, float
 * @param targets probabilities in [0, 1], the shape of `logits`
 * @param options `alpha` (0.25), `gamma` (2), `reduction` ('mean'),
 *   `weights` (broadcastable to `logits`), `avgFactor` (replaces the 'mean'
 *   denominator), `labelSmoothing` (0)
 * @returns a scalar for 'mean' and 'sum'; the shape of `logits` for 'none'
 * @throws LossInputError if the shapes differ, a target is outside [0, 1],
 *   gamma < 0, alpha > 1, labelSmoothing outside [0, 1], weights do not
 *   broadcast, or avgFactor <= 0 or is given without 'mean'
 * @see torchvision.ops.sigmoid_focal_loss (the reference; its default
 *   reduction is 'none', ours 'mean')
 */
export function sigmoidFocalLoss(logits: TensorLike, targets: TensorLike, options: SigmoidFocalLossOptions = {}): tf.Tensor {
  const { alpha = 0.25, gamma = 2, reduction = 'mean', weights, avgFactor, labelSmoothing = 0 } = options;
  return tf.tidy('sigmoidFocalLoss', () => {
    const arg = inputs('sigmoidFocalLoss');
    const x = arg.float('logits', logits);
    const t0 = arg.float('targets', targets, { shapeOf: ['logits', x] });
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum']);
    arg.number('alpha', alpha, { max: 1 });
    arg.nonNegative('gamma', gamma);
    arg.number('labelSmoothing', labelSmoothing, { min: 0, max: 1 });
    const w = arg.weights(weights, x.shape);
    // The summing kernel checks the targets in its own pass (see below).
    const checkedByKernel = w === undefined && reduction !== 'none' && labelSmoothing === 0 && sigmoidFocalSumOp.isFused();
    if (!checkedByKernel) checkProbabilities(arg, 'targets', targets, t0);
    const t = labelSmoothing > 0 ? tf.add(tf.mul(t0, 1 - labelSmoothing), 0.5 * labelSmoothing) : t0;
    if (w === undefined && reduction !== 'none') {
      // Unweighted 'sum' and 'mean' go through the summing op (see its note).
      if (avgFactor !== undefined && (typeof avgFactor !== 'number' || !(avgFactor > 0))) {
        arg.fail('avgFactor', `must be a number > 0; got ${describeValue(avgFactor)}.`);
      }
      if (avgFactor !== undefined && reduction !== 'mean') {
        arg.fail('avgFactor', `only applies to reduction "mean"; got reduction ${JSON.stringify(reduction)}.`);
      }
      const divisor = reduction === 'sum' ? 1 : (avgFactor ?? Math.max(x.size, 1));
      const [total, badIndex] = sigmoidFocalSumOp([x, t], { alpha, gamma, divisor });
      const bad = checkedByKernel ? badIndex.dataSync()[0] : -1;
      if (bad >= 0) arg.fail('targets', `values must lie in [0, 1]; got ${t0.dataSync()[bad]} at flat index ${bad}.`);
      return total;
    }
    const [perElement] = sigmoidFocalOp([x, t], { alpha, gamma });
    return reduce(perElement, reduction, w, { avgFactor, fn: 'sigmoidFocalLoss' });
  });
}

/**
 * Keras-style adapter for `model.compile({ loss: sigmoidFocalLossKeras() })`
 * in `@tensorflow/tfjs-layers`: `(yTrue, yPred) => sigmoidFocalLoss(yPred, yTrue, options)`.
 * `yPred` are logits (a model ending in a linear layer, like Keras'
 * `from_logits=True`); `yTrue` are probabilities of the same shape.
 *
 * @param options as for {@link sigmoidFocalLoss}
 * @returns a loss function of `(yTrue, yPred)`
 * @see sigmoidFocalLoss
 */
export function sigmoidFocalLossKeras(options: SigmoidFocalLossOptions = {}): KerasLoss {
  return (yTrue, yPred) => sigmoidFocalLoss(yPred, yTrue, options);
}
