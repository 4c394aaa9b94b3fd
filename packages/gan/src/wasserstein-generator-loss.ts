import * as tf from '@tensorflow/tfjs-core';
import { inputs, type KerasLoss, type ReductionOptions, type TensorLike } from '@tfjs-losses/core';
import { reduceTerm } from './internal/scores';

/** Options of {@link wassersteinGeneratorLoss}. */
export type WassersteinGeneratorLossOptions = ReductionOptions;

/**
 * Wasserstein GAN generator loss (Arjovsky et al. 2017):
 *
 *     L_G = -E[D(G(z))]
 *
 * @param fakeScores D(G(z)), critic scores of generated samples, any shape
 * @param options `reduction` ('mean')
 * @returns a scalar for 'mean' and 'sum'; the shape of `fakeScores` for 'none'
 * @throws LossInputError if the scores are not numeric or the reduction is unknown
 * @see Arjovsky et al., "Wasserstein GAN", ICML 2017
 */
export function wassersteinGeneratorLoss(fakeScores: TensorLike, options: WassersteinGeneratorLossOptions = {}): tf.Tensor {
  const { reduction = 'mean' } = options;
  return tf.tidy('wassersteinGeneratorLoss', () => {
    const arg = inputs('wassersteinGeneratorLoss');
    const fake = arg.float('fakeScores', fakeScores);
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum']);
    return reduceTerm(fake, { term: 'linear', coef: -1 }, reduction);
  });
}

/**
 * Keras-style adapter: `(yTrue, yPred) => wassersteinGeneratorLoss(yPred)`; `yTrue` is ignored.
 *
 * @param options as for {@link wassersteinGeneratorLoss}
 * @returns a loss function of `(yTrue, yPred)`
 * @see wassersteinGeneratorLoss
 */
export function wassersteinGeneratorLossKeras(options: WassersteinGeneratorLossOptions = {}): KerasLoss {
  return (_yTrue, yPred) => wassersteinGeneratorLoss(yPred, options);
}
