import type * as tf from '@tensorflow/tfjs-core';
import { expF64, log1pF64 } from '@tfjs-losses/core';

/*
 * Typed-array kernels (cpu and wasm backends, through core's fillKernelFunc),
 * a row at a time in float64, one exp per logit.
 *
 * For a row z with label y and a reference r, so = sum over the classes
 * k != y of exp(z_k - r) and L = log(so) + r - z_y = log((1 - p_y) / p_y), so
 *
 *   log p_y = -softplus(L),   log(1 - p_y) = L - softplus(L)
 *
 * with no cancellation anywhere. The reference is z_y itself (then the one
 * pass over the row is all it takes) unless that makes `so` overflow or come
 * near underflow (a logit gap beyond ~460); then the row is redone with r =
 * the largest of the other logits, where 1 <= so <= C. Labels outside
 * [0, C) mark ignored rows (loss 0, gradient 0).
 *
 * With g_y = -alpha_y w ((1 - p_y) - gamma p_y log p_y) dy, w = (1 - p_y)^gamma,
 * the row's gradient is g_y at y and -g_y exp(z_k - r) / so elsewhere.
 */

/** Rows whose `so` lies outside this range are redone with the other classes' maximum as reference. */
const SO_MIN = 1e-200;
const SO_MAX = 1e200;

/**
 * Sum over k != y of exp(z[base + k] - r), each term also left in
 * `exps[k]`. Two loops so that the label's column costs no test per class.
 */
function sumOthers(z: Float32Array, base: number, C: number, y: number, r: number, exps: Float64Array): number {
  let so = 0;
  for (let k = 0; k < y; k++) {
    const ek = expF64(z[base + k] - r);
    exps[k] = ek;
    so += ek;
  }
  for (let k = y + 1; k < C; k++) {
    const ek = expF64(z[base + k] - r);
    exps[k] = ek;
    so += ek;
  }
  return so;
}

/**
 * The focal terms of one row from so = Σ_{k != y} exp(z_k - r) and
 * gap = r - z_y: with L = log((1 - p_y) / p_y) = log(so) + gap,
 * log p_y = -softplus(L) and log(1 - p_y) = L - softplus(L), both without
 * cancellation. Writes out[0] = the row's loss -a (1 - p_y)^gamma log p_y
 * and, when `withGrad`, out[1] = its derivative with respect to z_y (the
 * other logits' derivatives are -out[1] exp(z_k - r) / so).
 */
export function focalRowTerms(so: number, gap: number, a: number, gamma: number, withGrad: boolean, out: Float64Array): void {
  const L = Math.log(so) + gap;
  const sp = (L > 0 ? L : 0) + log1pF64(expF64(-Math.abs(L)));
  const logpt = -sp;
  const log1mpt = L - sp;
  const oneMinusP = expF64(log1mpt);
  const w = gamma === 2 ? oneMinusP * oneMinusP : gamma === 0 ? 1 : expF64(gamma * log1mpt);
  out[0] = -a * w * logpt;
  if (withGrad) out[1] = -a * w * (oneMinusP - gamma * expF64(logpt) * logpt);
}

/**
 * One pass over the rows of logits `z` [N, C] with `labels` [N] and class
 * weights `alpha` [C]. Writes the per-row loss into `loss` and the gradient
 * of sum(dy * loss) into `grad` [N, C] (each skipped when null), with dy =
 * `dy[n]` (or 1 when `dy` is null) times `gradScale`. Returns the sum of the
 * losses (float64). Every element of the given outputs is written.
 */
function softmaxFocalPass(
  z: Float32Array,
  labels: Int32Array,
  alpha: Float32Array,
  N: number,
  C: number,
  gamma: number,
  loss: Float32Array | null,
  grad: Float32Array | null,
  dy: Float32Array | null,
  gradScale: number,
): number {
  const exps = new Float64Array(C);
  const terms = new Float64Array(2);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const y = labels[n];
    const base = n * C;
    if (!(y >= 0 && y < C) || C === 1) {
      // Ignored row, or one class (p_y = 1): loss 0, gradient 0.
      if (loss !== null) loss[n] = 0;
      if (grad !== null) grad.fill(0, base, base + C);
      continue;
    }
    const zy = z[base + y];
    let r = zy;
    let so = sumOthers(z, base, C, y, r, exps);
    if (!(so >= SO_MIN && so <= SO_MAX)) {
      r = -Infinity;
      for (let k = 0; k < C; k++) if (k !== y && z[base + k] > r) r = z[base + k];
      so = sumOthers(z, base, C, y, r, exps);
    }
    focalRowTerms(so, r - zy, alpha[y], gamma, grad !== null, terms);
    const li = terms[0];
    total += li;
    if (loss !== null) loss[n] = li;
    if (grad !== null) {
      const gy = terms[1] * (dy === null ? 1 : dy[n]) * gradScale;
      const s = -gy / so;
      for (let k = 0; k < C; k++) grad[base + k] = exps[k] * s;
      grad[base + y] = gy;
    }
  }
  return total;
}

/** The summing kernel's inputs: logits z [N, C], labels [N], alpha [C]. */
export interface Rows {
  z: Float32Array;
  labels: Int32Array;
  alpha: Float32Array;
  N: number;
  C: number;
}

function rowsOf(inputs: ArrayLike<number>[], shapes: number[][]): Rows {
  const [N, C] = shapes[0];
  return { z: inputs[0] as Float32Array, labels: inputs[1] as Int32Array, alpha: inputs[2] as Float32Array, N, C };
}

/** Per-row loss. Inputs: logits [N, C], labels [N], alpha [C]; output the loss [N]. */
export function softmaxFocalForwardFill(inputs: ArrayLike<number>[], outputs: ArrayLike<number>[], attrs: tf.NamedAttrMap, shapes: number[][]): void {
  const { z, labels, alpha, N, C } = rowsOf(inputs, shapes);
  softmaxFocalPass(z, labels, alpha, N, C, attrs.gamma as number, outputs[0] as Float32Array, null, null, 1);
}

/**
 * Sum of the per-row losses divided by `divisor`, and, when `withGrad`, its
 * gradient d/dlogits [N, C] for an upstream gradient of 1 (else an empty
 * second output). Inputs: logits [N, C], labels [N], alpha [C].
 */
export function softmaxFocalSumFill(inputs: ArrayLike<number>[], outputs: ArrayLike<number>[], attrs: tf.NamedAttrMap, shapes: number[][]): void {
  const { z, labels, alpha, N, C } = rowsOf(inputs, shapes);
  const divisor = attrs.divisor as number;
  const grad = attrs.withGrad ? (outputs[1] as Float32Array) : null;
  const sum = softmaxFocalPass(z, labels, alpha, N, C, attrs.gamma as number, null, grad, null, 1 / divisor);
  (outputs[0] as Float32Array)[0] = sum / divisor;
}

/** d/dlogits of sum(dy * loss). Inputs: logits [N, C], labels [N], alpha [C], dy [N]. */
export function softmaxFocalBackwardFill(inputs: ArrayLike<number>[], outputs: ArrayLike<number>[], attrs: tf.NamedAttrMap, shapes: number[][]): void {
  const { z, labels, alpha, N, C } = rowsOf(inputs, shapes);
  softmaxFocalPass(z, labels, alpha, N, C, attrs.gamma as number, null, outputs[0] as Float32Array, inputs[3] as Float32Array, 1);
}
