import * as tf from '@tensorflow/tfjs-core';
import { inputs, reduce, type Reduction, type TensorLike } from '@tfjs-losses/core';
import { criticFunction, criticInputGradient, type Critic } from './internal/critic';

/** Options of {@link r1Penalty}. */
export interface R1PenaltyOptions {
  /** Weight gamma of (gamma / 2) E[||grad D(x)||^2]. Default 10. */
  gamma?: number;
  /** Over the batch: 'mean' (default), 'sum', or 'none' (shape [batch]). */
  reduction?: Reduction;
  /** Also return the per-sample gradient norms (for logging). Default false. */
  returnGradNorms?: boolean;
}

/** What {@link r1Penalty} returns with `returnGradNorms: true`. */
export type R1PenaltyResult = {
  penalty: tf.Tensor;
  /** ||grad D(x)||_2 per real sample, shape [batch]. */
  gradNorms: tf.Tensor1D;
};

/**
 * R1 regulariser (Mescheder et al. 2018), a zero-centred penalty on the
 * discriminator's gradient at real data:
 *
 *     R1 = (gamma / 2) E_x[||grad_x D(x)||_2^2]
 *
 * (StyleGAN applies it to the non-saturating loss, often only every 16
 * steps.) Differentiable with respect to the discriminator's variables
 * (second-order), like {@link gradientPenalty}; D's output may have any
 * shape, its sum is differentiated.
 *
 * @param critic D: a function of a tensor, or a `tf.LayersModel` (called as `model.apply(x)`)
 * @param real real samples, shape [batch, ...]
 * @param options `gamma` (10), `reduction` ('mean'), `returnGradNorms` (false)
 * @returns the penalty (a scalar, or [batch] for 'none'); with
 *   `returnGradNorms`, `{ penalty, gradNorms }`
 * @throws LossInputError if `critic` is not callable or returns no tensor, `real` has no batch axis, or gamma < 0
 * @see Mescheder et al., "Which Training Methods for GANs do actually Converge?", ICML 2018
 */
export function r1Penalty(critic: Critic, real: TensorLike, options: R1PenaltyOptions & { returnGradNorms: true }): R1PenaltyResult;
export function r1Penalty(critic: Critic, real: TensorLike, options?: R1PenaltyOptions): tf.Tensor;
export function r1Penalty(critic: Critic, real: TensorLike, options: R1PenaltyOptions = {}): tf.Tensor | R1PenaltyResult {
  const { gamma = 10, reduction = 'mean', returnGradNorms = false } = options;
  return tf.tidy('r1Penalty', () => {
    const arg = inputs('r1Penalty');
    const x = arg.float('real', real, { minRank: 1 });
    if (x.shape[0] === 0) arg.fail('real', 'must hold at least one sample; got batch size 0.');
    arg.nonNegative('gamma', gamma);
    const g = criticInputGradient('r1Penalty', criticFunction('r1Penalty', critic), x);
    const squares = tf.sum(tf.square(tf.reshape(g, [x.shape[0], -1])), 1);
    const penalty = reduce(tf.mul(squares, gamma / 2), reduction, undefined, { fn: 'r1Penalty' });
    return returnGradNorms ? { penalty, gradNorms: tf.sqrt(squares) as tf.Tensor1D } : penalty;
  }) as tf.Tensor | R1PenaltyResult;
}
