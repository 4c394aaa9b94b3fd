import * as tf from '@tensorflow/tfjs-core';
import type { KerasLoss, ReductionOptions, TensorLike } from '@tfjs-losses/core';
import { combinePair, labelledPair, scorePair } from './internal/scores';

/** Options of {@link lsganDiscriminatorLoss}. */
export interface LsganDiscriminatorLossOptions extends ReductionOptions {
  /** Target score of generated samples. Default 0. */
  a?: number;
  /** Target score of real samples. Default 1. */
  b?: number;
}

/**
 * Least-squares GAN discriminator loss (Mao et al. 2017, eq. 2):
 *
 *     L_D = 0.5 E[(D(x) - b)^2] + 0.5 E[(D(G(z)) - a)^2]
 *
 * with the paper's 0/1 coding by default (a = 0, b = 1). Each expectation is
 * the mean over its own tensor, so the two batches may differ in size.
 * CycleGAN's code halves the discriminator loss once more; this function
 * does not.
 *
 * @param realScores D(x), raw scores of real samples, any shape (one per sample or a PatchGAN map)
 * @param fakeScores D(G(z)), scores of generated samples, any shape
 * @param options `a` (0), `b` (1), `reduction` ('mean'; 'sum' adds the two
 *   sums; 'none' returns the per-element sum of both terms and needs equal shapes)
 * @returns a scalar for 'mean' and 'sum'; the shape of the scores for 'none'
 * @throws LossInputError if an input is not numeric, `a` or `b` is not a
 *   number, the reduction is unknown, or shapes differ with 'none'
 * @see Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017
 */
export function lsganDiscriminatorLoss(realScores: TensorLike, fakeScores: TensorLike, options: LsganDiscriminatorLossOptions = {}): tf.Tensor {
  const { a = 0, b = 1, reduction = 'mean' } = options;
  return tf.tidy('lsganDiscriminatorLoss', () => {
    const { arg, real, fake } = scorePair('lsganDiscriminatorLoss', realScores, fakeScores, reduction);
    arg.number('a', a);
    arg.number('b', b);
    return combinePair(real, fake, { term: 'square', target: b }, { term: 'square', target: a }, reduction);
  });
}

/**
 * Keras-style adapter for training a discriminator with `model.fit`:
 * `yTrue` is 1 for real samples and 0 for generated ones, `yPred` the
 * discriminator's scores. Returns the value of {@link lsganDiscriminatorLoss}
 * on the real and generated subsets (`'mean'`).
 *
 * @param options `a` and `b` as for {@link lsganDiscriminatorLoss}
 * @returns a loss function of `(yTrue, yPred)`
 * @see lsganDiscriminatorLoss
 */
export function lsganDiscriminatorLossKeras(options: Omit<LsganDiscriminatorLossOptions, 'reduction'> = {}): KerasLoss {
  const { a = 0, b = 1 } = options;
  return (yTrue, yPred) =>
    labelledPair('lsganDiscriminatorLossKeras', yTrue, yPred, { term: 'square', target: b }, { term: 'square', target: a });
}
