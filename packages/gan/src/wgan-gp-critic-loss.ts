import * as tf from '@tensorflow/tfjs-core';
import { inputs, withReluMasksOffTape, type TensorLike } from '@tfjs-losses/core';
import type { GradientPenaltyOptions } from './gradient-penalty';
import { criticFunction, criticScores, type Critic } from './internal/critic';
import { reducedPenaltyTerms, penaltyPoints } from './internal/penalty';
import { scorePairMean } from './kernels/score-mean.kernel';

/** Options of {@link wganGpCriticLoss}: those of `gradientPenalty` but the reduction. */
export type WganGpCriticLossOptions = Omit<GradientPenaltyOptions, 'reduction'>;

/** What {@link wganGpCriticLoss} returns with `returnGradNorms: true`. */
export type WganGpCriticLossResult = {
  /** The critic loss plus the penalty (the value minimised). */
  loss: tf.Scalar;
  /** E[D(G(z))] - E[D(x)], whose negative estimates the Wasserstein distance. */
  criticLoss: tf.Scalar;
  /** The gradient penalty. */
  penalty: tf.Scalar;
  /** ||grad D(x_hat)||_2 per sample, shape [batch]. */
  gradNorms: tf.Tensor1D;
};

/**
 * The WGAN-GP critic loss (Gulrajani et al. 2017, Algorithm 1, line 7):
 *
 *     L = E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)||_2 - target)^2]
 *
 * with x_hat as in {@link gradientPenalty} (the same options). The critic is
 * called on `real`, on `fake` and on `x_hat`; the result is differentiable
 * with respect to its variables, so it can be minimised directly:
 * `optimizer.minimize(() => wganGpCriticLoss(critic, real, fake), false, criticVars)`.
 *
 * @param critic D: a function of a tensor, or a `tf.LayersModel` (called as `model.apply(x)`)
 * @param real real samples, shape [batch, ...]
 * @param fake generated samples, the shape of `real` for mode 'interpolated'
 * @param options `lambda` (10), `target` (1), `epsilon` (U[0, 1] per sample),
 *   `mode` ('interpolated'), `oneSided` (false), `returnGradNorms` (false)
 * @returns the scalar loss; with `returnGradNorms`, `{ loss, criticLoss, penalty, gradNorms }`
 * @throws LossInputError as {@link gradientPenalty}
 * @see Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017
 */
export function wganGpCriticLoss(critic: Critic, real: TensorLike, fake: TensorLike, options: WganGpCriticLossOptions & { returnGradNorms: true }): WganGpCriticLossResult;
export function wganGpCriticLoss(critic: Critic, real: TensorLike, fake: TensorLike, options?: WganGpCriticLossOptions): tf.Scalar;
export function wganGpCriticLoss(critic: Critic, real: TensorLike, fake: TensorLike, options: WganGpCriticLossOptions = {}): tf.Scalar | WganGpCriticLossResult {
  const { lambda = 10, target = 1, epsilon, mode = 'interpolated', oneSided = false, returnGradNorms = false } = options;
  return tf.tidy('wganGpCriticLoss', () => {
    const fn = 'wganGpCriticLoss';
    const arg = inputs(fn);
    const { r, f, x } = penaltyPoints(arg, real, fake, mode, epsilon);
    const d = criticFunction(fn, critic);
    const fakeScores = criticScores(fn, d, f);
    const realScores = criticScores(fn, d, r);
    // E[D(G(z))] - E[D(x)]: one kernel for both means (and one for both gradients).
    const criticLoss = scorePairMean(realScores, fakeScores, { term: 'linear', target: 0, coef: -1 }, { term: 'linear', target: 0, coef: 1 }, 'mean') as tf.Scalar;
    // ReLU masks of the critic's input gradient stay off the tape: exact
    // (their derivative is 0), and every critic variable still reaches the
    // loss through the scores above; it saves a matMul per ReLU layer.
    const [penalty, gradNorms] = withReluMasksOffTape(() => reducedPenaltyTerms(arg, fn, d, x, lambda, target, oneSided, 'mean'));
    const loss = tf.add(criticLoss, penalty) as tf.Scalar;
    return returnGradNorms ? { loss, criticLoss, penalty, gradNorms } : loss;
  }) as tf.Scalar | WganGpCriticLossResult;
}
