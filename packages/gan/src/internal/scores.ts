import * as tf from '@tensorflow/tfjs-core';
import { accurateSum, inputs, type ArgChecker, type Reduction, type TensorLike } from '@tfjs-losses/core';
import { scoreMean, scorePairMean, scoreTerm, type ScoreTerm } from '../kernels/score-mean.kernel';

const REDUCTIONS: readonly Reduction[] = ['none', 'mean', 'sum'];

/** Checked real and fake scores of a discriminator loss, as float32 tensors. */
export interface ScorePair {
  arg: ArgChecker;
  real: tf.Tensor;
  fake: tf.Tensor;
}

/**
 * Converts and checks `(realScores, fakeScores)`. The two may differ in shape
 * (batches of real and generated samples need not be the same size) except
 * for `reduction: 'none'`, which adds the two terms element by element.
 */
export function scorePair(fn: string, realScores: TensorLike, fakeScores: TensorLike, reduction: unknown): ScorePair {
  const arg = inputs(fn);
  const real = arg.float('realScores', realScores);
  arg.oneOf('reduction', reduction, REDUCTIONS);
  const fake = arg.float('fakeScores', fakeScores, reduction === 'none' ? { shapeOf: ['realScores', real] } : {});
  return { arg, real, fake };
}

/** A per-score term: which, with its target or coefficient. */
export type TermSpec = { term: ScoreTerm; target?: number; coef?: number };

/**
 * `mean(realTerm) + mean(fakeTerm)` ('mean'), the sum of both sums ('sum'),
 * or `realTerm + fakeTerm` element by element ('none').
 */
export function combinePair(real: tf.Tensor, fake: tf.Tensor, realTerm: TermSpec, fakeTerm: TermSpec, reduction: Reduction): tf.Tensor {
  if (reduction === 'none') return tf.add(termOf(real, realTerm), termOf(fake, fakeTerm));
  const full = ({ term, target = 0, coef = 1 }: TermSpec) => ({ term, target, coef });
  return scorePairMean(real, fake, full(realTerm), full(fakeTerm), reduction);
}

/** The per-element term. */
export function termOf(x: tf.Tensor, { term, target = 0, coef = 1 }: TermSpec): tf.Tensor {
  return scoreTerm(x, { term, target, coef });
}

/** The term reduced ('none' keeps it per element). */
export function reduceTerm(x: tf.Tensor, spec: TermSpec, reduction: Reduction): tf.Tensor {
  if (reduction === 'none') return termOf(x, spec);
  return scoreMean(x, spec.term, reduction, spec.target, spec.coef);
}

/**
 * The Keras form of a discriminator loss: `yTrue` marks real samples (> 0.5)
 * and generated ones (<= 0.5), `yPred` holds the scores of both. Returns
 * mean(realTerm over real samples) + mean(fakeTerm over generated samples),
 * the value of the paired function on the two subsets; an empty subset adds 0.
 */
export function labelledPair(
  fn: string,
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  realTerm: TermSpec,
  fakeTerm: TermSpec,
): tf.Tensor {
  return tf.tidy(fn, () => {
    const arg = inputs(fn);
    const scores = arg.float('yPred', yPred);
    const labels = arg.float('yTrue', yTrue, { shapeOf: ['yPred', scores] });
    const isReal = tf.cast(tf.greater(labels, 0.5), 'float32');
    const isFake = tf.sub(1, isReal);
    const part = (term: tf.Tensor, mask: tf.Tensor) => tf.div(accurateSum(tf.mul(term, mask)), tf.maximum(accurateSum(mask), 1));
    return tf.add(part(termOf(scores, realTerm), isReal), part(termOf(scores, fakeTerm), isFake));
  });
}
