import type * as tf from '@tensorflow/tfjs-core';
import type { KerasLoss, TensorLike } from '@tfjs-losses/core';
import { distanceLossKeras, twoSidedDistanceLoss, type CycleDistanceOptions } from './internal/distance';

/** Options of {@link identityLoss}. */
export interface IdentityLossOptions extends CycleDistanceOptions {
  /** Weight of E|F(x) - x|. Default 1; CycleGAN uses 0.5 lambda_A = 5. */
  lambdaX?: number;
  /** Weight of E|G(y) - y|. Default 1; CycleGAN uses 0.5 lambda_B = 5. */
  lambdaY?: number;
}

/**
 * CycleGAN's identity loss (Zhu et al. 2017, section 5.2, after Taigman et
 * al. 2017): a mapping fed a sample of its own target domain should leave it
 * unchanged. For G: X -> Y and F: Y -> X,
 *
 *     L_idt = lambdaX E|F(x) - x| + lambdaY E|G(y) - y|
 *
 * CycleGAN weights it by half the cycle weight: with the usual
 * lambda_A = lambda_B = 10 and `lambda_identity = 0.5`, pass
 * `{ lambdaX: 5, lambdaY: 5 }` (the defaults, 1, leave the weighting to you).
 *
 * @param realX x, a batch from domain X
 * @param identityX F(x), the shape of `realX`
 * @param realY y, a batch from domain Y
 * @param identityY G(y), the shape of `realY`
 * @param options `lambdaX` (1), `lambdaY` (1), `distance` ('l1'), `beta` (1)
 * @returns a scalar
 * @throws LossInputError if a mapped batch's shape differs from its
 *   original, a weight is negative, or `distance` is unknown
 * @see Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
 *   Adversarial Networks", ICCV 2017 (the authors' code: `loss_idt_A =
 *   L1(G_A(real_B), real_B) * lambda_B * lambda_identity`)
 */
export function identityLoss(
  realX: TensorLike,
  identityX: TensorLike,
  realY: TensorLike,
  identityY: TensorLike,
  options: IdentityLossOptions = {},
): tf.Scalar {
  return twoSidedDistanceLoss('identityLoss', ['realX', 'identityX', 'realY', 'identityY'], [realX, identityX, realY, identityY], options);
}

/** Options of {@link identityLossKeras}. */
export interface IdentityLossKerasOptions extends CycleDistanceOptions {
  /** Weight. Default 1 (CycleGAN: 0.5 lambda = 5). */
  lambda?: number;
}

/**
 * Keras-style adapter for one mapping: `(yTrue, yPred) => lambda E|yPred - yTrue|`,
 * for a model fed samples of its own target domain (`yTrue` is the input).
 *
 * @param options `lambda` (1), `distance` ('l1'), `beta` (1)
 * @returns a loss function of `(yTrue, yPred)`
 * @see identityLoss
 */
export function identityLossKeras(options: IdentityLossKerasOptions = {}): KerasLoss {
  return distanceLossKeras('identityLossKeras', options);
}
