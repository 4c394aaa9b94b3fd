import * as tf from '@tensorflow/tfjs-core';
import { describeValue, formatShape, inputs, reduce, type ArgChecker, type KerasLoss, type TensorLike, type WeightedReductionOptions } from '@tfjs-losses/core';
import { softmaxFocalDistribution, softmaxFocalOp, softmaxFocalSumOp } from './kernels/softmax-focal.kernel';
import { oneHotFloat } from './kernels/stable';

/** Options of {@link softmaxFocalLoss}. */
export interface SoftmaxFocalLossOptions extends WeightedReductionOptions {
  /**
   * Class weight: a number (every class) or one number per class, `alpha_t`
   * being the weight of the true class. Must be >= 0. Default: none (1).
   */
  alpha?: number | number[];
  /** Focusing exponent of the modulating factor `(1 - p_t)^gamma`, >= 0. Default 2. */
  gamma?: number;
  /**
   * Label whose positions are ignored: loss 0, gradient 0, and left out of the
   * 'mean' denominator. May lie outside [0, C) (e.g. -100 or 255). Default: none.
   */
  ignoreIndex?: number;
  /**
   * Mixes the one-hot target with the uniform distribution,
   * `y = (1 - labelSmoothing) onehot + labelSmoothing / C`, and sums the focal
   * term of every class weighted by `y` (Keras' `CategoricalFocalCrossentropy`).
   * In [0, 1]. Default 0.
   */
  labelSmoothing?: number;
}

/** Shared checks of alpha, gamma and labelSmoothing; returns alpha as a [C] tensor. */
function classWeights(arg: ArgChecker, alpha: number | number[] | undefined, C: number): tf.Tensor {
  if (alpha === undefined) return tf.ones([C]);
  if (typeof alpha === 'number') return tf.fill([C], arg.number('alpha', alpha, { min: 0 }));
  if (!Array.isArray(alpha) && !ArrayBuffer.isView(alpha)) {
    arg.fail('alpha', `must be a number or an array of ${C} numbers (one per class); got ${typeof alpha}.`);
  }
  return tf.tensor1d(arg.numberArray('alpha', alpha, { length: C, min: 0 }), 'float32');
}

function checkScalars(arg: ArgChecker, reduction: unknown, gamma: unknown, labelSmoothing: unknown): void {
  arg.oneOf('reduction', reduction, ['none', 'mean', 'sum']);
  arg.nonNegative('gamma', gamma);
  arg.number('labelSmoothing', labelSmoothing, { min: 0, max: 1 });
}

/**
 * Softmax focal loss (Lin et al. 2017), the multiclass form: for logits `z`
 * over C classes and the true class `y`,
 *
 *     p_t = softmax(z)_y,  FL = -alpha_t (1 - p_t)^gamma log p_t
 *
 * with `alpha_t = alpha` (a number), `alpha[y]` (an array) or 1 (no alpha).
 * At `gamma = 0` without alpha it is exactly softmax cross-entropy. With
 * `labelSmoothing` the target becomes `y = (1 - ls) onehot + ls / C` and the
 * loss `sum_k y_k (-alpha_k (1 - p_k)^gamma log p_k)`.
 *
 * Stable at any logit size: `log p_t` from log-softmax and `log(1 - p_t)` as
 * the logsumexp of the other classes minus the logsumexp of all, so
 * `(1 - p_t)^gamma = exp(gamma log(1 - p_t))` and its gradient stay finite
 * even when `p_t` rounds to 1 and `gamma < 1`.
 *
 * @param logits raw scores `[..., C]`, float
 * @param labels class indices `[...]` (the shape of `logits` without its last
 *   axis), int32 or whole floats, in [0, C) or equal to `ignoreIndex`
 * @param options `alpha` (none), `gamma` (2), `ignoreIndex` (none),
 *   `reduction` ('mean'), `weights` (broadcastable to `labels`), `avgFactor`
 *   (replaces the 'mean' denominator), `labelSmoothing` (0)
 * @returns a scalar for 'mean' and 'sum'; the shape of `labels` for 'none'
 * @throws LossInputError if labels do not have the shape of `logits` without
 *   its last axis or lie outside [0, C), gamma < 0, alpha is negative or an
 *   array whose length is not C, labelSmoothing is outside [0, 1], weights do
 *   not broadcast, or avgFactor is invalid
 * @see Lin et al., Focal Loss for Dense Object Detection (ICCV 2017), eq. 5;
 *   reference: the PyTorch implementation in this package's fixtures/generate.py
 */
export function softmaxFocalLoss(logits: TensorLike, labels: TensorLike, options: SoftmaxFocalLossOptions = {}): tf.Tensor {
  const { alpha, gamma = 2, ignoreIndex, reduction = 'mean', weights, avgFactor, labelSmoothing = 0 } = options;
  return tf.tidy('softmaxFocalLoss', () => {
    const arg = inputs('softmaxFocalLoss');
    const x = arg.float('logits', logits, { minRank: 1 });
    const C = x.shape[x.rank - 1];
    if (C < 1) arg.fail('logits', `must have at least one class on its last axis; got shape ${formatShape(x.shape)}.`);
    const lossShape = x.shape.slice(0, -1);
    if (ignoreIndex !== undefined) arg.number('ignoreIndex', ignoreIndex, { integer: true });
    const y = arg.int('labels', labels, {
      shape: lossShape,
      min: 0,
      max: C - 1,
      allow: ignoreIndex === undefined ? [] : [ignoreIndex],
    });
    checkScalars(arg, reduction, gamma, labelSmoothing);
    const alphaVec = classWeights(arg, alpha, C);
    const w = arg.weights(weights, lossShape);

    const N = lossShape.reduce((a, b) => a * b, 1);
    const x2 = x.rank === 2 ? x : tf.reshape(x, [N, C]);
    const y1 = y.rank === 1 ? y : tf.reshape(y, [N]);
    if (w === undefined && reduction !== 'none' && ignoreIndex === undefined && labelSmoothing === 0 && C > 1) {
      // Unweighted 'sum' and 'mean' over every row: one summing op (see its note).
      if (avgFactor !== undefined && (typeof avgFactor !== 'number' || !(avgFactor > 0))) {
        arg.fail('avgFactor', `must be a number > 0; got ${describeValue(avgFactor)}.`);
      }
      if (avgFactor !== undefined && reduction !== 'mean') {
        arg.fail('avgFactor', `only applies to reduction "mean"; got reduction ${JSON.stringify(reduction)}.`);
      }
      const divisor = reduction === 'sum' ? 1 : (avgFactor ?? Math.max(N, 1));
      return softmaxFocalSumOp([x2, y1, alphaVec], { gamma, divisor })[0];
    }
    const valid = ignoreIndex === undefined ? undefined : tf.notEqual(y1, ignoreIndex);
    // Ignored rows get label -1, which the op treats as "no loss, no gradient".
    const safe = valid ? tf.where(valid, y1, tf.fill([N], -1, 'int32')) : y1;
    let perRow: tf.Tensor;
    if (C === 1) {
      // One class: p_t = 1, the loss and its gradient are 0 (tf.oneHot needs depth >= 2).
      perRow = tf.mul(tf.sum(x2, 1), 0);
    } else if (labelSmoothing > 0) {
      const target = tf.add(tf.mul(oneHotFloat(safe, C), 1 - labelSmoothing), labelSmoothing / C);
      perRow = softmaxFocalDistribution(x2, target, alphaVec, gamma);
      if (valid) perRow = tf.mul(perRow, tf.cast(valid, 'float32'));
    } else {
      [perRow] = softmaxFocalOp([x2, safe, alphaVec], { gamma });
    }
    const perPosition = tf.reshape(perRow, lossShape);
    const mask = valid ? tf.reshape(valid, lossShape) : undefined;
    return reduce(perPosition, reduction, w, { avgFactor, mask, fn: 'softmaxFocalLoss' });
  });
}

/**
 * Keras-style adapter for `model.compile({ loss: softmaxFocalLossKeras() })`
 * in `@tensorflow/tfjs-layers`. `yPred` are logits `[..., C]` (a model ending
 * in a linear layer, like Keras' `from_logits=True`). `yTrue` is either
 *
 * - one-hot or soft targets with the shape of `yPred` (what tfjs-layers
 *   passes): the loss is `sum_k y_k (-alpha_k (1 - p_k)^gamma log p_k)`,
 *   which for one-hot rows equals {@link softmaxFocalLoss} with the argmax as
 *   label (Keras' `CategoricalFocalCrossentropy`), or
 * - class indices with the shape of `yPred` without its last axis (or with a
 *   last axis of 1): {@link softmaxFocalLoss} itself.
 *
 * `ignoreIndex` applies to class indices only.
 *
 * @param options as for {@link softmaxFocalLoss}
 * @returns a loss function of `(yTrue, yPred)`
 * @throws LossInputError (when called) if `yTrue` fits neither form
 * @see softmaxFocalLoss
 */
export function softmaxFocalLossKeras(options: SoftmaxFocalLossOptions = {}): KerasLoss {
  return (yTrue, yPred) => {
    if (yTrue.rank === yPred.rank - 1) return softmaxFocalLoss(yPred, yTrue, options);
    if (yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === 1 && yPred.shape[yPred.rank - 1] !== 1) {
      return tf.tidy(() => softmaxFocalLoss(yPred, tf.squeeze(yTrue, [yTrue.rank - 1]), options));
    }
    return softmaxFocalFromTargets(yPred, yTrue, options);
  };
}

/** The soft-target form behind {@link softmaxFocalLossKeras}. */
function softmaxFocalFromTargets(logits: tf.Tensor, targets: tf.Tensor, options: SoftmaxFocalLossOptions): tf.Tensor {
  const { alpha, gamma = 2, ignoreIndex, reduction = 'mean', weights, avgFactor, labelSmoothing = 0 } = options;
  return tf.tidy('softmaxFocalLossKeras', () => {
    const arg = inputs('softmaxFocalLossKeras');
    const x = arg.float('yPred', logits, { minRank: 1 });
    const C = x.shape[x.rank - 1];
    const t = arg.float('yTrue', targets, { shapeOf: ['yPred', x] });
    if (ignoreIndex !== undefined) arg.fail('ignoreIndex', 'applies to class-index targets only; got one-hot or soft targets.');
    checkScalars(arg, reduction, gamma, labelSmoothing);
    const alphaVec = classWeights(arg, alpha, C);
    const lossShape = x.shape.slice(0, -1);
    const w = arg.weights(weights, lossShape);
    const N = lossShape.reduce((a, b) => a * b, 1);
    let y = tf.reshape(t, [N, C]);
    if (labelSmoothing > 0) y = tf.add(tf.mul(y, 1 - labelSmoothing), labelSmoothing / C);
    const x2 = tf.reshape(x, [N, C]);
    const perRow = C === 1 ? tf.mul(tf.sum(tf.mul(x2, y), 1), 0) : softmaxFocalDistribution(x2, y, alphaVec, gamma);
    return reduce(tf.reshape(perRow, lossShape), reduction, w, { avgFactor, fn: 'softmaxFocalLossKeras' });
  });
}
