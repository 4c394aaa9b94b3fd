import * as tf from '@tensorflow/tfjs-core';
import { absZeroGrad } from '@tfjs-losses/core';

/** Smallest beta the tensor form divides by (a beta tensor may hold 0: plain L1). */
const TINY_BETA = 1e-30;

/**
 * Per-element smooth L1 of `d = pred - target` with composed ops:
 *
 *   a = |d|,  q = min(beta, a),  loss = (a - q) + q (0.5 q / beta)
 *
 * which is 0.5 d^2 / beta where |d| < beta and |d| - 0.5 beta elsewhere.
 * `min(beta, a)` with beta first passes its gradient to `a` only where
 * a < beta strictly (tfjs's Minimum gradient), as PyTorch's branch does;
 * |d| has gradient 0 at d = 0 ({@link absZeroGrad}). A number beta of 0 is
 * plain L1. A tensor beta (scalar or one value per coordinate, broadcast along
 * the last axis) may hold 0 too: then q = 0 and the quadratic term divides 0
 * by a tiny constant, so no NaN reaches the value or the gradient.
 */
export function smoothL1Composed(p: tf.Tensor, t: tf.Tensor, beta: number | tf.Tensor): tf.Tensor {
  const a = absZeroGrad(tf.sub(p, t));
  if (typeof beta === 'number' && beta === 0) return a;
  const q = tf.minimum(beta, a);
  const denominator = typeof beta === 'number' ? beta : tf.maximum(beta, TINY_BETA);
  // q * (0.5 q / beta): q / beta <= 1, so nothing overflows for a huge beta.
  return tf.add(tf.sub(a, q), tf.mul(q, tf.div(tf.mul(q, 0.5), denominator)));
}

/** The constants of balanced L1: b = e^(gamma / alpha) - 1. */
export function balancedL1B(alpha: number, gamma: number): number {
  return Math.expm1(gamma / alpha);
}

/**
 * Per-element balanced L1 (Libra R-CNN, MMDetection's form) with composed ops:
 *
 *   a = |d|,  q = min(beta, a),  b = e^(gamma / alpha) - 1
 *   loss = alpha ((q + 1/b) log1p(b q / beta) - q) + gamma (a - q)
 *
 * Where a < beta this is MMDetection's inner branch
 * alpha / b (b a + 1) log(b a / beta + 1) - alpha a; elsewhere it equals the
 * outer branch gamma a + gamma / b - alpha beta (the two meet at a = beta).
 * The inner branch is only ever evaluated at q <= beta, so it stays finite
 * for any |d|, and min(beta, a) sends the gradient to it only where a < beta.
 */
export function balancedL1Composed(p: tf.Tensor, t: tf.Tensor, alpha: number, gamma: number, beta: number): tf.Tensor {
  const b = balancedL1B(alpha, gamma);
  const a = absZeroGrad(tf.sub(p, t));
  const q = tf.minimum(beta, a);
  // b (q / beta) rather than (b / beta) q: q / beta <= 1, so a tiny beta cannot overflow it.
  const inner = tf.sub(tf.mul(tf.add(q, 1 / b), tf.log1p(tf.mul(tf.div(q, beta), b))), q);
  return tf.add(tf.mul(inner, alpha), tf.mul(tf.sub(a, q), gamma));
}
