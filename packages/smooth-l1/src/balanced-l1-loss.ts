import * as tf from '@tensorflow/tfjs-core';
import { inputs, type KerasLoss, type TensorLike, type WeightedReductionOptions } from '@tfjs-losses/core';
import { balancedL1B, balancedL1Reduced } from './internal/elementwise';

/** Options of {@link balancedL1Loss}. */
export interface BalancedL1LossOptions extends WeightedReductionOptions {
  /** Weight of the inner (log) part, default 0.5; must be > 0. */
  alpha?: number;
  /** Slope of the outer (linear) part, default 1.5; must be > 0. */
  gamma?: number;
  /** Where the loss turns linear, default 1; must be > 0. */
  beta?: number;
}

/**
 * Balanced L1 loss (Pang et al., Libra R-CNN, CVPR 2019), as MMDetection's
 * `balanced_l1_loss` computes it. With x = |pred − target| and b = e^(γ/α) − 1:
 *
 *   loss_i = α/b (b x + 1) ln(b x / β + 1) − α x   if x < β
 *            γ x + γ/b − α β                        otherwise
 *
 * The value is continuous at x = β. The slope is too when β = 1 (both sides
 * give γ); for β ≠ 1 MMDetection's inner branch (which scales x by 1/β only
 * inside the log) reaches x = β with slope γ + α((bβ + 1)/(β(b + 1)) − 1),
 * so the gradient jumps there. Gradient 0 where pred equals target.
 * Stable form: the log branch is evaluated at min(x, β) with `log1p`, so it
 * never overflows or wastes precision for small x.
 *
 * @param pred    predictions, any shape
 * @param target  targets, the shape of `pred`
 * @param options `alpha` (0.5), `gamma` (1.5), `beta` (1), `reduction` (`'mean'`), `weights`, `avgFactor`
 * @returns a scalar for `'mean'` and `'sum'`; the shape of `pred` for `'none'`
 * @throws LossInputError if the shapes differ, alpha, gamma or beta is not a finite
 *   number > 0, weights do not broadcast to `pred`, or avgFactor is invalid
 * @see mmdet/models/losses/balanced_l1_loss.py (the reference); arXiv:1904.02701
 */
export function balancedL1Loss(pred: TensorLike, target: TensorLike, options: BalancedL1LossOptions = {}): tf.Tensor {
  const { alpha = 0.5, gamma = 1.5, beta = 1, reduction = 'mean', weights, avgFactor } = options;
  return tf.tidy('balancedL1Loss', () => {
    const fn = 'balancedL1Loss';
    const arg = inputs(fn);
    for (const [name, v] of [['alpha', alpha], ['gamma', gamma], ['beta', beta]] as const) {
      arg.positive(name, v);
      if (!Number.isFinite(v)) arg.fail(name, `must be a finite number > 0; got ${v}.`);
    }
    const b = balancedL1B(alpha, gamma);
    if (!(Math.fround(b) < Infinity)) {
      arg.fail('gamma', `/ alpha must keep e^(gamma / alpha) - 1 within float32; got gamma / alpha = ${gamma / alpha}.`);
    }
    const p = arg.float('pred', pred);
    const t = arg.float('target', target, { shapeOf: ['pred', p] });
    const w = arg.weights(weights, p.shape);
    return balancedL1Reduced(p, t, alpha, gamma, beta, { reduction, weights: w, avgFactor, fn });
  });
}

/**
 * Keras-style adapter: `model.compile({ loss: balancedL1LossKeras() })`.
 * Keras passes `(yTrue, yPred)`; this calls `balancedL1Loss(yPred, yTrue, options)`.
 *
 * @param options as for {@link balancedL1Loss}
 * @returns a `(yTrue, yPred) => tf.Tensor` loss
 */
export function balancedL1LossKeras(options: BalancedL1LossOptions = {}): KerasLoss {
  return (yTrue, yPred) => balancedL1Loss(yPred, yTrue, options);
}
