import * as tf from '@tensorflow/tfjs-core';
import { inputs, type KerasLoss, type ReductionOptions, type TensorLike } from '@tfjs-losses/core';
import { reduceTerm } from './internal/scores';

/** Options of {@link hingeGeneratorLoss}. */
export type HingeGeneratorLossOptions = ReductionOptions;

/**
 * Generator loss of hinge GANs (SNGAN, SAGAN, BigGAN):
 *
 *     L_G = -E[D(G(z))]
 *
 * The same value as {@link wassersteinGeneratorLoss}; both names exist so
 * that code reads like the paper it follows.
 *
 * @param fakeScores D(G(z)), scores of generated samples, any shape
 * @param options `reduction` ('mean')
 * @returns a scalar for 'mean' and 'sum'; the shape of `fakeScores` for 'none'
 * @throws LossInputError if the scores are not numeric or the reduction is unknown
 * @see Miyato et al., "Spectral Normalization for GANs", ICLR 2018
 */
export function hingeGeneratorLoss(fakeScores: TensorLike, options: HingeGeneratorLossOptions = {}): tf.Tensor {
  const { reduction = 'mean' } = options;
  return tf.tidy('hingeGeneratorLoss', () => {
    const arg = inputs('hingeGeneratorLoss');
    const fake = arg.float('fakeScores', fakeScores);
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum']);
    return reduceTerm(fake, { term: 'linear', coef: -1 }, reduction);
  });
}

/**
 * Keras-style adapter: `(yTrue, yPred) => hingeGeneratorLoss(yPred)`; `yTrue` is ignored.
 *
 * @param options as for {@link hingeGeneratorLoss}
 * @returns a loss function of `(yTrue, yPred)`
 * @see hingeGeneratorLoss
 */
export function hingeGeneratorLossKeras(options: HingeGeneratorLossOptions = {}): KerasLoss {
  return (_yTrue, yPred) => hingeGeneratorLoss(yPred, options);
}
