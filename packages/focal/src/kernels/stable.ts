import * as tf from '@tensorflow/tfjs-core';

/**
 * A finite stand-in for log(0). Added to finite log-values it stays
 * dominant, exp() of it is 0, and unlike -Infinity it never makes
 * `0 * inf = NaN` in a gradient.
 */
export const LOG_ZERO = -1e30;

/** Smallest value passed to `log` (a normal float32; webgpu flushes denormals). */
const TINY = 1e-37;

/** log(v) where `positive` holds, else {@link LOG_ZERO}. Never evaluates log(0). */
export function logOrZero(v: tf.Tensor, positive: tf.Tensor): tf.Tensor {
  return tf.where(positive, tf.log(tf.maximum(v, TINY)), tf.fill(v.shape, LOG_ZERO));
}

/** log(exp(a) + exp(b)), stable for any finite a, b (including LOG_ZERO). */
export function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.add(tf.maximum(a, b), tf.log1p(tf.exp(tf.neg(tf.abs(tf.sub(a, b))))));
}

/** log(softplus(z)), finite for every z (softplus(z) ~ exp(z) below -15). */
export function logSoftplus(z: tf.Tensor): tf.Tensor {
  return tf.where(tf.less(z, -15), z, tf.log(tf.maximum(tf.softplus(z), TINY)));
}

/**
 * One-hot rows as float32. tfjs-backend-wasm 4.22's OneHot writes int32 bits
 * whatever dtype is asked for, so the float form is a cast of the int one.
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.cast(tf.oneHot(indices as tf.Tensor1D, depth), 'float32');
}
