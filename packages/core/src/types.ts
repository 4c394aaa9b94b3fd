import type * as tf from '@tensorflow/tfjs-core';

/** Anything a loss accepts as a tensor: a tensor, nested arrays or a typed array. */
export type TensorLike = tf.Tensor | tf.TensorLike;

/** How per-element (or per-sample) losses are combined. */
export type Reduction = 'none' | 'mean' | 'sum';

/** `tf.Scalar` for `'mean'` and `'sum'`, the unreduced tensor for `'none'`. */
export type Reduced<R extends Reduction, T extends tf.Tensor = tf.Tensor> = R extends 'none'
  ? T
  : tf.Scalar;

/** The options every reducing loss shares. */
export interface ReductionOptions<R extends Reduction = Reduction> {
  /** `'mean'` (default), `'sum'` or `'none'`. */
  reduction?: R;
}

/** Options of per-element losses. */
export interface WeightedReductionOptions<R extends Reduction = Reduction>
  extends ReductionOptions<R> {
  /** Weights broadcastable to the unreduced loss. */
  weights?: TensorLike;
  /** Replaces the `'mean'` denominator (detection code divides by the number of positives). */
  avgFactor?: number;
}

/** A Keras-style loss: `(yTrue, yPred) => scalar`, for `model.compile({ loss })`. */
export type KerasLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;
