import * as tf from '@tensorflow/tfjs-core';
import { inputs, type Reduction, type TensorLike } from '@tfjs-losses/core';
import type { Critic } from './internal/critic';
import { penaltyPoints, penaltyTerms, reducedPenaltyTerms, type GradientPenaltyMode } from './internal/penalty';

export type { GradientPenaltyMode } from './internal/penalty';

/** Options of {@link gradientPenalty}. */
export interface GradientPenaltyOptions {
  /** Weight of the penalty. Default 10 (the WGAN-GP paper). */
  lambda?: number;
  /** The gradient norm the critic is pushed toward. Default 1. */
  target?: number;
  /**
   * Mixing weights of `x_hat = eps real + (1 - eps) fake`, shape `[batch]`
   * (or one number for all samples). Default: drawn from U[0, 1] per sample
   * on every call. Give it for reproducible results.
   */
  epsilon?: TensorLike | number;
  /**
   * `'interpolated'` (default, WGAN-GP): at `x_hat`; `'real'`: at the real
   * samples; `'fake'`: at the generated samples.
   */
  mode?: GradientPenaltyMode;
  /**
   * Penalise only norms above `target`: `max(0, ||g|| - target)^2` (the
   * one-sided penalty of the WGAN-GP paper's appendix, WGAN-LP). Default false.
   */
  oneSided?: boolean;
  /** Over the batch: 'mean' (default, E[...]), 'sum', or 'none' (shape [batch]). */
  reduction?: Reduction;
  /** Also return the per-sample gradient norms (for logging). Default false. */
  returnGradNorms?: boolean;
}

/** What {@link gradientPenalty} returns with `returnGradNorms: true`. */
export type GradientPenaltyResult = {
  /** The penalty, as without `returnGradNorms`. */
  penalty: tf.Tensor;
  /** ||grad D(x_hat)||_2 per sample, shape [batch]. */
  gradNorms: tf.Tensor1D;
};

/**
 * Gradient penalty of WGAN-GP (Gulrajani et al. 2017, Algorithm 1):
 *
 *     x_hat = eps real + (1 - eps) fake,  eps ~ U[0, 1] per sample
 *     GP = lambda E[(||grad_x D(x_hat)||_2 - target)^2]
 *
 * The norm is taken over all axes but the first (the batch); when D returns
 * several scores per sample (a PatchGAN map) the gradient is that of their
 * sum, as the reference implementations do. `mode` moves the evaluation
 * point to the real or generated samples, `oneSided` penalises only norms
 * above `target`.
 *
 * The result is differentiable with respect to the critic's variables
 * (second-order gradients, e.g. inside `optimizer.minimize` or
 * `tf.variableGrads`) and to `real` and `fake`. `@tfjs-losses/core` makes
 * tfjs's second-order gradients exact for the ops listed in this package's
 * README; ops outside that list may give wrong critic gradients.
 *
 * @param critic D: a function of a tensor, or a `tf.LayersModel` (called as `model.apply(x)`)
 * @param real real samples, shape [batch, ...]
 * @param fake generated samples, the shape of `real` for 'interpolated'
 * @param options `lambda` (10), `target` (1), `epsilon` (U[0, 1] per
 *   sample), `mode` ('interpolated'), `oneSided` (false), `reduction`
 *   ('mean'), `returnGradNorms` (false)
 * @returns the penalty (a scalar, or [batch] for 'none'); with
 *   `returnGradNorms`, `{ penalty, gradNorms }`
 * @throws LossInputError if `critic` is not callable or returns no tensor,
 *   shapes differ, `epsilon` is not of shape [batch], `lambda` < 0, or an
 *   option is unknown
 * @see Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017
 */
export function gradientPenalty(critic: Critic, real: TensorLike, fake: TensorLike, options: GradientPenaltyOptions & { returnGradNorms: true }): GradientPenaltyResult;
export function gradientPenalty(critic: Critic, real: TensorLike, fake: TensorLike, options?: GradientPenaltyOptions): tf.Tensor;
export function gradientPenalty(critic: Critic, real: TensorLike, fake: TensorLike, options: GradientPenaltyOptions = {}): tf.Tensor | GradientPenaltyResult {
  const { lambda = 10, target = 1, epsilon, mode = 'interpolated', oneSided = false, reduction = 'mean', returnGradNorms = false } = options;
  return tf.tidy('gradientPenalty', () => {
    const arg = inputs('gradientPenalty');
    const { x } = penaltyPoints(arg, real, fake, mode, epsilon);
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum']);
    const [penalty, gradNorms] =
      reduction === 'none'
        ? penaltyTerms(arg, 'gradientPenalty', critic, x, lambda, target, oneSided)
        : reducedPenaltyTerms(arg, 'gradientPenalty', critic, x, lambda, target, oneSided, reduction);
    return returnGradNorms ? { penalty, gradNorms } : penalty;
  }) as tf.Tensor | GradientPenaltyResult;
}
