import * as tf from '@tensorflow/tfjs-core';
import { LossInputError, describeValue } from '@tfjs-losses/core';

/** A critic (discriminator) written as a function of a batch of samples. */
export type CriticFunction = (x: tf.Tensor) => tf.Tensor;

/** Anything with an `apply(x)` returning a tensor, such as a `tf.LayersModel`. */
export interface CriticModel {
  apply(inputs: tf.Tensor, kwargs?: Record<string, unknown>): unknown;
}

/**
 * The critic D of a gradient penalty: a function of a tensor, or an object
 * whose `apply(x)` gives the scores (a `tf.LayersModel` or `tf.layers.Layer`,
 * called as `model.apply(x)`). Its output may have any shape (one score per
 * sample, or a PatchGAN map); the penalty differentiates the sum of it.
 */
export type Critic = CriticFunction | CriticModel;

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor || (typeof v === 'object' && v !== null && 'dataId' in v && 'shape' in v && 'dtype' in v);
}

/** Checks that `critic` is callable; returns it as a function. */
export function criticFunction(fn: string, critic: unknown): CriticFunction {
  if (typeof critic === 'function') return critic as CriticFunction;
  if (typeof critic === 'object' && critic !== null && typeof (critic as CriticModel).apply === 'function') {
    const model = critic as CriticModel;
    return (x) => model.apply(x) as tf.Tensor;
  }
  throw new LossInputError(fn, 'critic', `must be a function of a tensor or an object with apply(x) (a tf.LayersModel); got ${describeValue(critic)}.`);
}

/** D(x), checked to be one float32 tensor. */
export function criticScores(fn: string, critic: CriticFunction, x: tf.Tensor): tf.Tensor {
  const out: unknown = critic(x);
  if (!isTensor(out)) {
    throw new LossInputError(fn, 'critic', `must return one tensor of scores; got ${Array.isArray(out) ? `an array of length ${out.length}` : describeValue(out)}.`);
  }
  if (out.dtype !== 'float32') {
    throw new LossInputError(fn, 'critic', `must return float32 scores; got dtype ${out.dtype}.`);
  }
  return out;
}

/**
 * Gradient of sum(D(x)) with respect to x, kept differentiable with respect
 * to the critic's variables and to x (second-order gradients), as the
 * references do with `create_graph=True`.
 */
export function criticInputGradient(fn: string, critic: CriticFunction, x: tf.Tensor): tf.Tensor {
  const scoreSum = (xx: tf.Tensor): tf.Scalar => tf.sum(criticScores(fn, critic, xx));
  try {
    return tf.grad(scoreSum)(x);
  } catch (e) {
    if (e instanceof Error && /Cannot compute gradient of y=f\(x\)/.test(e.message)) {
      throw new LossInputError(fn, 'critic', 'must compute its output from its input with tfjs ops; got an output that does not depend on the input.');
    }
    throw e;
  }
}

/**
 * Per-sample Euclidean norm over all axes but the first, shape [batch].
 * Its gradient at a zero norm is 0, as in PyTorch (`sqrt` alone gives NaN).
 */
export function perSampleNorm(g: tf.Tensor): tf.Tensor1D {
  const batch = g.shape[0];
  const squares = tf.sum(tf.square(tf.reshape(g, [batch, -1])), 1);
  return tf.sqrt(tf.maximum(squares, 1e-30)) as tf.Tensor1D;
}

/** Per-sample squared Euclidean norm over all axes but the first, shape [batch]. */
export function perSampleSquaredNorm(g: tf.Tensor): tf.Tensor1D {
  return tf.sum(tf.square(tf.reshape(g, [g.shape[0], -1])), 1) as tf.Tensor1D;
}
