import * as tf from '@tensorflow/tfjs-core';
import { inputs, type KerasLoss, type ReductionOptions, type TensorLike } from '@tfjs-losses/core';
import { reduceTerm } from './internal/scores';

/** Options of {@link lsganGeneratorLoss}. */
export interface LsganGeneratorLossOptions extends ReductionOptions {
  /** The score the generator wants D to give its samples. Default 1. */
  c?: number;
}

/**
 * Least-squares GAN generator loss (Mao et al. 2017, eq. 2):
 *
 *     L_G = 0.5 E[(D(G(z)) - c)^2]
 *
 * with the paper's factor 1/2 (CycleGAN's code trains G without it: multiply
 * by 2 to match it).
 *
 * @param fakeScores D(G(z)), scores of generated samples, any shape
 * @param options `c` (1), `reduction` ('mean')
 * @returns a scalar for 'mean' and 'sum'; the shape of `fakeScores` for 'none'
 * @throws LossInputError if the scores are not numeric, `c` is not a number or the reduction is unknown
 * @see Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017
 */
export function lsganGeneratorLoss(fakeScores: TensorLike, options: LsganGeneratorLossOptions = {}): tf.Tensor {
  const { c = 1, reduction = 'mean' } = options;
  return tf.tidy('lsganGeneratorLoss', () => {
    const arg = inputs('lsganGeneratorLoss');
    const fake = arg.float('fakeScores', fakeScores);
    arg.number('c', c);
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum']);
    return reduceTerm(fake, { term: 'square', target: c }, reduction);
  });
}

/**
 * Keras-style adapter: `(yTrue, yPred) => lsganGeneratorLoss(yPred)`. `yTrue`
 * is ignored (the target is `c`), so a combined generator-then-discriminator
 * model can be compiled with it.
 *
 * @param options as for {@link lsganGeneratorLoss}
 * @returns a loss function of `(yTrue, yPred)`
 * @see lsganGeneratorLoss
 */
export function lsganGeneratorLossKeras(options: LsganGeneratorLossOptions = {}): KerasLoss {
  return (_yTrue, yPred) => lsganGeneratorLoss(yPred, options);
}
