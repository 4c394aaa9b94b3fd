import * as tf from '@tensorflow/tfjs-core';
import type { KerasLoss, ReductionOptions, TensorLike } from '@tfjs-losses/core';
import { combinePair, labelledPair, scorePair } from './internal/scores';

/** Options of {@link hingeDiscriminatorLoss}. */
export type HingeDiscriminatorLossOptions = ReductionOptions;

/**
 * Hinge discriminator loss (Lim & Ye 2017; used by SNGAN, SAGAN, BigGAN):
 *
 *     L_D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]
 *
 * Each expectation is the mean over its own tensor. At the hinge (D(x) = 1
 * or D(G(z)) = -1) the gradient is 0, as PyTorch's `relu` gives.
 *
 * @param realScores D(x), raw scores of real samples, any shape
 * @param fakeScores D(G(z)), scores of generated samples, any shape
 * @param options `reduction` ('mean'; 'sum' adds the two sums; 'none' returns
 *   the per-element sum of both terms and needs equal shapes)
 * @returns a scalar for 'mean' and 'sum'; the shape of the scores for 'none'
 * @throws LossInputError if an input is not numeric, the reduction is unknown, or shapes differ with 'none'
 * @see Lim & Ye, "Geometric GAN", 2017; Miyato et al., "Spectral Normalization for GANs", ICLR 2018
 */
export function hingeDiscriminatorLoss(realScores: TensorLike, fakeScores: TensorLike, options: HingeDiscriminatorLossOptions = {}): tf.Tensor {
  const { reduction = 'mean' } = options;
  return tf.tidy('hingeDiscriminatorLoss', () => {
    const { real, fake } = scorePair('hingeDiscriminatorLoss', realScores, fakeScores, reduction);
    return combinePair(real, fake, { term: 'hingeBelow' }, { term: 'hingeAbove' }, reduction);
  });
}

/**
 * Keras-style adapter: `yTrue` is 1 for real samples and 0 for generated
 * ones, `yPred` the scores. Returns {@link hingeDiscriminatorLoss} of the
 * two subsets (`'mean'`), not Keras' `hinge` (which halves it for balanced
 * batches).
 *
 * @returns a loss function of `(yTrue, yPred)`
 * @see hingeDiscriminatorLoss
 */
export function hingeDiscriminatorLossKeras(): KerasLoss {
  return (yTrue, yPred) => labelledPair('hingeDiscriminatorLossKeras', yTrue, yPred, { term: 'hingeBelow' }, { term: 'hingeAbove' });
}
