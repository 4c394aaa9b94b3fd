import type * as tf from '@tensorflow/tfjs-core';
import type { KerasLoss, TensorLike } from '@tfjs-losses/core';
import { distanceLossKeras, twoSidedDistanceLoss, type CycleDistanceOptions } from './internal/distance';

/** Options of {@link cycleConsistencyLoss}. */
export interface CycleConsistencyLossOptions extends CycleDistanceOptions {
  /** Weight of the X -> Y -> X cycle. Default 1 (CycleGAN uses 10). */
  lambdaX?: number;
  /** Weight of the Y -> X -> Y cycle. Default 1 (CycleGAN uses 10). */
  lambdaY?: number;
}

/**
 * Cycle-consistency loss of CycleGAN (Zhu et al. 2017, eq. 2), for mappings
 * G: X -> Y and F: Y -> X:
 *
 *     L_cyc = lambdaX E|F(G(x)) - x| + lambdaY E|G(F(y)) - y|
 *
 * Each E is the mean over all elements of its side (the two domains may have
 * different shapes). `distance` swaps |.| for the squared error or smooth L1.
 *
 * @param realX x, a batch from domain X, any shape
 * @param reconstructedX F(G(x)), the shape of `realX`
 * @param realY y, a batch from domain Y, any shape
 * @param reconstructedY G(F(y)), the shape of `realY`
 * @param options `lambdaX` (1), `lambdaY` (1), `distance` ('l1'), `beta` (1)
 * @returns a scalar
 * @throws LossInputError if a reconstruction's shape differs from its
 *   original, a weight is negative, or `distance` is unknown
 * @see Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
 *   Adversarial Networks", ICCV 2017; the authors' PyTorch code uses L1Loss
 *   times lambda_A = lambda_B = 10
 */
export function cycleConsistencyLoss(
  realX: TensorLike,
  reconstructedX: TensorLike,
  realY: TensorLike,
  reconstructedY: TensorLike,
  options: CycleConsistencyLossOptions = {},
): tf.Scalar {
  return twoSidedDistanceLoss('cycleConsistencyLoss', ['realX', 'reconstructedX', 'realY', 'reconstructedY'], [realX, reconstructedX, realY, reconstructedY], options);
}

/** Options of {@link cycleConsistencyLossKeras}. */
export interface CycleConsistencyLossKerasOptions extends CycleDistanceOptions {
  /** Weight of the cycle. Default 1. */
  lambda?: number;
}

/**
 * Keras-style adapter for one cycle: `(yTrue, yPred) => lambda E|yPred - yTrue|`,
 * for a model whose output is the reconstruction F(G(x)) and whose target is x.
 *
 * @param options `lambda` (1), `distance` ('l1'), `beta` (1)
 * @returns a loss function of `(yTrue, yPred)`
 * @see cycleConsistencyLoss
 */
export function cycleConsistencyLossKeras(options: CycleConsistencyLossKerasOptions = {}): KerasLoss {
  return distanceLossKeras('cycleConsistencyLossKeras', options);
}
