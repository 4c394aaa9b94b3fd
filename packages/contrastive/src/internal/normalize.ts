import * as tf from '@tensorflow/tfjs-core';

/** eps² of `F.normalize(x, eps = 1e-12)`: the squared norm is clamped here. */
export const EPS_SQ = 1e-24;

/**
 * `x / max(‖x‖₂, 1e-12)` along the last axis, as PyTorch's
 * `F.normalize(x, dim=-1)`, written as `x · rsqrt(max(Σx², 1e-24))` so that a
 * zero vector gives a zero vector with a finite gradient (no `sqrt(0)` in the
 * backward pass). `scale` (a number or a scalar tensor) multiplies the result
 * on the small `[..., 1]` factor instead of on the whole tensor.
 */
export function l2Normalize(x: tf.Tensor, scale?: number | tf.Tensor): tf.Tensor {
  const sq = tf.sum(tf.square(x), -1, true);
  let factor = tf.rsqrt(tf.maximum(sq, EPS_SQ));
  if (scale !== undefined) factor = tf.mul(factor, scale);
  return tf.mul(x, factor);
}
