import * as tf from '@tensorflow/tfjs-core';
import { LossInputError, absZeroGrad, describeValue, reduce, type Reduction } from '@tfjs-losses/core';
import { balancedL1Op, balancedL1SumOp } from '../kernels/balanced-l1.kernel';
import { smoothL1CarriedSumOp, smoothL1Op } from '../kernels/smooth-l1.kernel';

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

/**
 * Per-element smooth L1: the fused kernel where one runs on the current
 * backend (cpu, wasm, webgpu), else {@link smoothL1Composed}. A tensor beta
 * is a scalar or has one value per coordinate (pred's last axis).
 */
export function smoothL1Elementwise(p: tf.Tensor, t: tf.Tensor, beta: number | tf.Tensor): tf.Tensor {
  if (!smoothL1Op.isFused()) return smoothL1Composed(p, t, beta);
  return smoothL1Op([p, t, betaTensor(beta)], {})[0];
}

/** Per-element Balanced L1: the fused kernel where one runs, else {@link balancedL1Composed}. */
export function balancedL1Elementwise(p: tf.Tensor, t: tf.Tensor, alpha: number, gamma: number, beta: number): tf.Tensor {
  if (!balancedL1Op.isFused()) return balancedL1Composed(p, t, alpha, gamma, beta);
  return balancedL1Op([p, t], { alpha, gamma, beta })[0];
}

/** How a loss is reduced; `weights` already checked against the loss shape. */
export interface ReduceSpec {
  reduction: Reduction;
  weights?: tf.Tensor;
  avgFactor?: number;
  /** The public function's name, for messages. */
  fn: string;
}

/** The checks of core's `reduce`, with its messages, for the path that bypasses it. */
function checkReduceSpec({ reduction, avgFactor, fn }: ReduceSpec): void {
  if (!['none', 'mean', 'sum'].includes(reduction)) {
    throw new LossInputError(fn, 'reduction', `must be one of "none", "mean", "sum"; got ${describeValue(reduction)}.`);
  }
  if (avgFactor !== undefined && (typeof avgFactor !== 'number' || !(avgFactor > 0))) {
    throw new LossInputError(fn, 'avgFactor', `must be a number > 0; got ${describeValue(avgFactor)}.`);
  }
  if (avgFactor !== undefined && reduction !== 'mean') {
    throw new LossInputError(fn, 'avgFactor', `only applies to reduction "mean"; got reduction ${JSON.stringify(reduction)}.`);
  }
}

/** What the one-kernel sums divide by: 1 for 'sum'; avgFactor or the element count for 'mean'. */
function divisorOf(size: number, { reduction, avgFactor }: ReduceSpec): number {
  return reduction === 'sum' ? 1 : avgFactor ?? Math.max(size, 1);
}

/**
 * Reduced smooth L1. Without weights, 'mean' and 'sum' run the one-kernel sum
 * (the division included, and the gradients carried while a tape records)
 * where it exists (cpu, wasm); everything else is the per-element loss and
 * core's `reduce`.
 */
export function smoothL1Reduced(p: tf.Tensor, t: tf.Tensor, beta: number | tf.Tensor, spec: ReduceSpec): tf.Tensor {
  checkReduceSpec(spec);
  if (spec.weights === undefined && spec.reduction !== 'none' && smoothL1CarriedSumOp.isFused()) {
    const b = betaTensor(beta);
    return smoothL1CarriedSumOp([p, t, b], { divisor: divisorOf(p.size, spec), betaLength: b.size })[0];
  }
  return reduce(smoothL1Elementwise(p, t, beta), spec.reduction, spec.weights, { avgFactor: spec.avgFactor, fn: spec.fn });
}

/** Reduced Balanced L1, as {@link smoothL1Reduced}. */
export function balancedL1Reduced(p: tf.Tensor, t: tf.Tensor, alpha: number, gamma: number, beta: number, spec: ReduceSpec): tf.Tensor {
  checkReduceSpec(spec);
  if (spec.weights === undefined && spec.reduction !== 'none' && balancedL1SumOp.isFused()) {
    // The slopes are stored only when a gradient may follow (a tape is recording).
    const withSlope = tf.engine().state.gradientDepth > 0;
    return balancedL1SumOp([p, t], { alpha, gamma, beta, divisor: divisorOf(p.size, spec), withSlope })[0];
  }
  return reduce(balancedL1Elementwise(p, t, alpha, gamma, beta), spec.reduction, spec.weights, { avgFactor: spec.avgFactor, fn: spec.fn });
}

/** beta as the kernels take it: float32 of length 1 or one per coordinate. */
function betaTensor(beta: number | tf.Tensor): tf.Tensor {
  return typeof beta === 'number' ? tf.tensor1d([beta], 'float32') : tf.reshape(beta, [-1]);
}
