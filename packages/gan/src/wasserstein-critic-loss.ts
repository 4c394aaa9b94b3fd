import * as tf from '@tensorflow/tfjs-core';
import type { KerasLoss, ReductionOptions, TensorLike } from '@tfjs-losses/core';
import { combinePair, labelledPair, scorePair } from './internal/scores';

/** Options of {@link wassersteinCriticLoss}. */
export type WassersteinCriticLossOptions = ReductionOptions;

/**
 * Wasserstein GAN critic loss (Arjovsky et al. 2017):
 *
 *     L_C = E[D(G(z))] - E[D(x)]
 *
 * whose negative estimates the Wasserstein-1 distance when D is 1-Lipschitz
 * (enforce that with {@link gradientPenalty}, or use {@link wganGpCriticLoss}).
 *
 * @param realScores D(x), critic scores of real samples, any shape
 * @param fakeScores D(G(z)), critic scores of generated samples, any shape
 * @param options `reduction` ('mean'; 'sum' adds the two sums; 'none'
 *   returns `fake - real` element by element and needs equal shapes)
 * @returns a scalar for 'mean' and 'sum'; the shape of the scores for 'none'
 * @throws LossInputError if an input is not numeric, the reduction is unknown, or shapes differ with 'none'
 * @see Arjovsky et al., "Wasserstein GAN", ICML 2017
 */
export function wassersteinCriticLoss(realScores: TensorLike, fakeScores: TensorLike, options: WassersteinCriticLossOptions = {}): tf.Tensor {
  const { reduction = 'mean' } = options;
  return tf.tidy('wassersteinCriticLoss', () => {
    const { real, fake } = scorePair('wassersteinCriticLoss', realScores, fakeScores, reduction);
    return combinePair(real, fake, { term: 'linear', coef: -1 }, { term: 'linear', coef: 1 }, reduction);
  });
}

/**
 * Keras-style adapter: `yTrue` is 1 for real samples and 0 for generated
 * ones, `yPred` the critic's scores. Returns {@link wassersteinCriticLoss}
 * of the two subsets (`'mean'`). (The Keras habit of `mean(yTrue * yPred)`
 * with labels -1/1 gives half of it on balanced batches.)
 *
 * @returns a loss function of `(yTrue, yPred)`
 * @see wassersteinCriticLoss
 */
export function wassersteinCriticLossKeras(): KerasLoss {
  return (yTrue, yPred) => labelledPair('wassersteinCriticLossKeras', yTrue, yPred, { term: 'linear', coef: -1 }, { term: 'linear', coef: 1 });
}
