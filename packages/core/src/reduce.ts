import * as tf from '@tensorflow/tfjs-core';
import { LossInputError, describeValue, formatShape } from './errors';
import type { Reduction, TensorLike } from './types';

const REDUCTIONS: readonly Reduction[] = ['none', 'mean', 'sum'];

/** Size of the blocks {@link accurateSum} sums on backends that accumulate in float32. */
const BLOCK = 1024;

/** Backends whose `sum` accumulates sequentially in float32 (see TFJS-GAPS.md). */
function needsBlockedSum(): boolean {
  return tf.getBackend() === 'wasm';
}

/**
 * Sum of all elements, or along `axis`, accurate on every backend. wasm's
 * `sum` adds sequentially in float32 (relative error 2e-3 over 1M values);
 * there the reduced axis is split into blocks of 1024 summed separately and
 * then combined, which keeps the error near float32 rounding. Elsewhere it
 * is `tf.sum`.
 */
export function accurateSum(x: tf.Tensor, axis?: number | number[], keepDims = false): tf.Tensor {
  if (!needsBlockedSum()) return tf.sum(x, axis, keepDims);
  return tf.tidy(() => {
    const axes = axis === undefined ? x.shape.map((_, i) => i) : tf.util.parseAxisParam(axis, x.shape);
    let n = 1;
    for (const a of axes) n *= x.shape[a];
    if (n <= BLOCK * 2) return tf.sum(x, axis, keepDims);
    // Move the reduced axes last and flatten them: [outer, n].
    const keep = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...keep, ...axes];
    const moved = perm.every((p, i) => p === i) ? x : tf.transpose(x, perm);
    const outerShape = keep.map((i) => x.shape[i]);
    const outer = outerShape.reduce((a, b) => a * b, 1);
    let flat = tf.reshape(moved, [outer, n]);
    // Repeatedly sum blocks until one value per row remains.
    while ((flat.shape[1] as number) > BLOCK) {
      const cols = flat.shape[1] as number;
      const blocks = Math.ceil(cols / BLOCK);
      const padded = blocks * BLOCK === cols ? flat : tf.pad(flat, [[0, 0], [0, blocks * BLOCK - cols]]);
      flat = tf.sum(tf.reshape(padded, [outer, blocks, BLOCK]), 2);
    }
    const total = tf.sum(flat, 1);
    if (keepDims) return tf.reshape(total, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
    return tf.reshape(total, outerShape);
  });
}

/** Mean of all elements, or along `axis`, with {@link accurateSum}. */
export function accurateMean(x: tf.Tensor, axis?: number | number[], keepDims = false): tf.Tensor {
  return tf.tidy(() => {
    const axes = axis === undefined ? x.shape.map((_, i) => i) : tf.util.parseAxisParam(axis, x.shape);
    let n = 1;
    for (const a of axes) n *= x.shape[a];
    return tf.div(accurateSum(x, axis, keepDims), Math.max(n, 1));
  });
}

/** Options of {@link reduce} beyond the reduction itself. */
export interface ReduceOptions {
  /** Replaces the `'mean'` denominator. */
  avgFactor?: number;
  /**
   * Positions counted in the `'mean'` denominator (1 kept, 0 ignored), for
   * `ignoreIndex`. Must have the loss's shape.
   */
  mask?: tf.Tensor;
  /** The public function's name, for error messages. */
  fn?: string;
}

/**
 * Combines per-element losses.
 *
 * - `'none'`: `losses * weights` (the loss's own shape).
 * - `'sum'`: `sum(weights * losses)`.
 * - `'mean'`: `sum(weights * losses) / denominator`, where the denominator is
 *   `avgFactor` if given, else the number of unmasked positions (every element
 *   without a mask), as Keras and MMDetection define a weighted mean.
 *
 * Weights must broadcast to the loss's shape without growing it. Sums are
 * accurate on every backend ({@link accurateSum}).
 */
export function reduce<T extends tf.Tensor>(losses: T, reduction: 'none', weights?: TensorLike, options?: ReduceOptions): T;
export function reduce(losses: tf.Tensor, reduction?: 'mean' | 'sum', weights?: TensorLike, options?: ReduceOptions): tf.Scalar;
export function reduce(losses: tf.Tensor, reduction?: Reduction, weights?: TensorLike, options?: ReduceOptions): tf.Tensor;
export function reduce(
  losses: tf.Tensor,
  reduction: Reduction = 'mean',
  weights?: TensorLike,
  options: ReduceOptions = {},
): tf.Tensor {
  const { avgFactor, mask, fn = 'reduce' } = options;
  if (!REDUCTIONS.includes(reduction)) {
    throw new LossInputError(fn, 'reduction', `must be one of "none", "mean", "sum"; got ${describeValue(reduction)}.`);
  }
  if (!(losses instanceof tf.Tensor)) {
    throw new LossInputError(fn, 'losses', `must be a tensor; got ${describeValue(losses)}.`);
  }
  if (avgFactor !== undefined && (typeof avgFactor !== 'number' || !(avgFactor > 0))) {
    throw new LossInputError(fn, 'avgFactor', `must be a number > 0; got ${describeValue(avgFactor)}.`);
  }
  if (avgFactor !== undefined && reduction !== 'mean') {
    throw new LossInputError(fn, 'avgFactor', `only applies to reduction "mean"; got reduction ${JSON.stringify(reduction)}.`);
  }
  return tf.tidy(() => {
    let l = losses;
    if (weights !== undefined) {
      const w = weights instanceof tf.Tensor ? weights : tf.tensor(weights as tf.TensorLike);
      let out: number[];
      try {
        out = tf.backend_util.assertAndGetBroadcastShape(w.shape, l.shape);
      } catch {
        out = [];
      }
      if (out.length !== l.rank || !tf.util.arraysEqual(out, l.shape)) {
        throw new LossInputError(fn, 'weights', `must be broadcastable to the unreduced loss ${formatShape(l.shape)}; got ${formatShape(w.shape)}.`);
      }
      l = tf.mul(l, w.dtype === 'float32' ? w : tf.cast(w, 'float32'));
    }
    if (reduction === 'none') return l === losses ? tf.clone(l) : l;
    const total = accurateSum(l);
    if (reduction === 'sum') return total;
    if (avgFactor !== undefined) return tf.div(total, avgFactor);
    if (mask !== undefined) {
      return tf.div(total, tf.maximum(accurateSum(tf.cast(mask, 'float32')), 1));
    }
    return tf.div(total, Math.max(l.size, 1));
  });
}
