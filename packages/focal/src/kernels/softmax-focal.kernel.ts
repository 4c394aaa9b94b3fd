import * as tf from '@tensorflow/tfjs-core';
import { accurateSum, defineCarriedGradOp, defineFusedOp, fillKernelFunc, wasmBackendMemory, type FillKernelSpec } from '@tfjs-losses/core';
import { softmaxFocalBackwardFill, softmaxFocalForwardFill, softmaxFocalSumFill } from './softmax-focal.cpu';
import { softmaxFocalSimd } from './softmax-focal.simd';
import { softmaxFocalSumWasm } from './softmax-focal.wasm';
import { softmaxFocalBackwardWebGPU, softmaxFocalForwardWebGPU } from './softmax-focal.webgpu';
import { LOG_ZERO, oneHotFloat } from './stable';

/** Attributes of the softmax focal kernels. */
export interface SoftmaxFocalAttrs {
  gamma: number;
}

/*
 * Per row of logits z [C] with label y (a label outside [0, C) marks an
 * ignored row: loss 0, gradient 0) and per-class weights alpha [C]:
 *
 *   log p_y     = z_y - logsumexp(z)
 *   log(1 - p_y) = logsumexp(z_k, k != y) - logsumexp(z)     (no cancellation)
 *   L = -alpha_y exp(gamma log(1 - p_y)) log p_y
 *
 * With s = softmax(z), s' = softmax over the classes other than y (0 at y),
 * w = (1 - p_y)^gamma:
 *
 *   dL/dz_k = -alpha_y w (gamma log p_y (s'_k - s_k) + [k = y] - s_k)
 */

function rowTerms(x: tf.Tensor, labels: tf.Tensor) {
  const C = x.shape[1] as number;
  const logp = tf.logSoftmax(x);
  const onehot = oneHotFloat(labels, C);
  const logpt = tf.sum(tf.mul(logp, onehot), 1);
  // log(1 - p_y): logsumexp of log p over the other classes.
  const others = tf.add(logp, tf.mul(onehot, LOG_ZERO));
  const log1mpt = tf.logSumExp(others, 1);
  return { logp, onehot, logpt, others, log1mpt };
}

/** alpha[label] for valid rows, 0 for ignored ones. */
function alphaRows(labels: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  const C = alpha.shape[0] as number;
  const valid = tf.logicalAnd(tf.greaterEqual(labels, 0), tf.less(labels, C));
  const safe = tf.where(valid, labels, tf.zerosLike(labels));
  return tf.mul(tf.gather(alpha, safe), tf.cast(valid, 'float32'));
}

/** Per-row loss [N] from composed ops, differentiated by tfjs. */
export function softmaxFocalForwardComposed(x: tf.Tensor, labels: tf.Tensor, alpha: tf.Tensor, { gamma }: SoftmaxFocalAttrs): tf.Tensor {
  return tf.tidy(() => {
    const { logpt, log1mpt } = rowTerms(x, labels);
    const scaled = tf.mul(alphaRows(labels, alpha), logpt);
    const loss = gamma === 0 ? scaled : tf.mul(tf.exp(tf.mul(log1mpt, gamma)), scaled);
    return tf.neg(loss);
  });
}

/** dL/dlogits [N, C] for upstream dy [N], from composed ops in the closed form above. */
export function softmaxFocalBackwardComposed(x: tf.Tensor, labels: tf.Tensor, alpha: tf.Tensor, dy: tf.Tensor, { gamma }: SoftmaxFocalAttrs): tf.Tensor {
  return tf.tidy(() => {
    const { logp, onehot, logpt, others, log1mpt } = rowTerms(x, labels);
    const s = tf.exp(logp);
    // s'_k = p_k / (1 - p_y) for k != y; 0 at y (others holds LOG_ZERO there).
    const sOthers = tf.exp(tf.minimum(tf.sub(others, tf.expandDims(log1mpt, 1)), 0));
    const w = gamma === 0 ? tf.onesLike(logpt) : tf.exp(tf.mul(log1mpt, gamma));
    const inner = tf.add(tf.mul(tf.sub(sOthers, s), tf.expandDims(tf.mul(logpt, gamma), 1)), tf.sub(onehot, s));
    const scale = tf.mul(tf.mul(tf.neg(alphaRows(labels, alpha)), w), dy);
    return tf.mul(inner, tf.expandDims(scale, 1));
  });
}

const backwardSpec: FillKernelSpec = {
  inputNames: ['logits', 'labels', 'alpha', 'dy'],
  outputShapes: ([x]) => [x],
  fill: softmaxFocalBackwardFill,
};

const forwardSpec: FillKernelSpec = {
  inputNames: ['logits', 'labels', 'alpha'],
  outputShapes: ([x]) => [[x[0]]],
  fill: softmaxFocalForwardFill,
};

/** Backward as its own op: fused where a kernel exists, composed elsewhere. */
export const softmaxFocalBackward = defineFusedOp<SoftmaxFocalAttrs>({
  kernelName: 'TfjsLossesSoftmaxFocalGrad',
  inputNames: ['logits', 'labels', 'alpha', 'dy'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', backwardSpec),
    wasm: () => fillKernelFunc('wasm', backwardSpec),
    webgpu: () => softmaxFocalBackwardWebGPU,
  },
  composed: ([x, labels, alpha, dy], attrs) => softmaxFocalBackwardComposed(x, labels, alpha, dy, attrs),
});

/**
 * The softmax focal loss of rows as one op: logits [N, C] float32, labels [N]
 * int32 (outside [0, C) = ignored), alpha [C] float32; output the loss [N].
 */
export const softmaxFocalOp = defineFusedOp<SoftmaxFocalAttrs>({
  kernelName: 'TfjsLossesSoftmaxFocal',
  inputNames: ['logits', 'labels', 'alpha'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', forwardSpec),
    wasm: () => fillKernelFunc('wasm', forwardSpec),
    webgpu: () => softmaxFocalForwardWebGPU,
  },
  composed: ([x, labels, alpha], attrs) => softmaxFocalForwardComposed(x, labels, alpha, attrs),
  gradient: ([dy], [x, labels, alpha], attrs) => [softmaxFocalBackward([x, labels, alpha, dy], attrs)[0], undefined, undefined],
});

/** Attributes of {@link softmaxFocalSumOp}. */
export interface SoftmaxFocalSumAttrs extends SoftmaxFocalAttrs {
  /** The sum is divided by this (1 for 'sum', the row count or avgFactor for 'mean'). */
  divisor: number;
}

const sumSpec: FillKernelSpec = {
  inputNames: ['logits', 'labels', 'alpha'],
  outputShapes: ([x], attrs) => [[], attrs.withGrad ? x : [0]],
  fill: softmaxFocalSumFill,
};

/**
 * The sum of the per-row losses divided by `divisor`, as one op with a
 * scalar output (same inputs as {@link softmaxFocalOp}). On cpu and wasm one
 * kernel that, while a gradient is being recorded, also computes d/dlogits
 * in the same pass (the exponentials it needs are at hand); the backward
 * step only scales it (core's `defineCarriedGradOp`). Elsewhere the per-row op, a sum
 * and a division.
 */
export const softmaxFocalSumOp = defineCarriedGradOp<SoftmaxFocalSumAttrs>({
  kernelName: 'TfjsLossesSoftmaxFocalSum',
  inputNames: ['logits', 'labels', 'alpha'],
  gradOutputs: [1, 0, 0],
  kernels: {
    cpu: () => fillKernelFunc('cpu', sumSpec),
    // the SIMD loops of softmax-focal.simd.ts where WebAssembly SIMD runs on the backend's memory
    wasm: () => fillKernelFunc('wasm', softmaxFocalSumWasm(sumSpec, softmaxFocalSimd(wasmBackendMemory()))),
  },
  // labels [N] and alpha [C] from the kept gradient [N, C]
  zeroShape: (i, [grad]) => [grad.shape[i - 1]],
  composed: ([x, labels, alpha], { gamma, divisor }) => {
    const total = accurateSum(softmaxFocalOp([x, labels, alpha], { gamma })[0]);
    return divisor === 1 ? total : tf.div(total, divisor);
  },
});

/**
 * The loss against target distributions y [N, C] (rows summing to 1):
 * sum_k y_k (-alpha_k (1 - p_k)^gamma log p_k), composed ops only. Used for
 * label smoothing and by the Keras adapter with one-hot or soft targets.
 *
 * log(1 - p_k) is log1p(-p_k) for every class but the row's largest, where
 * p_k <= 1/2 keeps it accurate; for the largest it is the logsumexp over the
 * other classes.
 */
export function softmaxFocalDistribution(x: tf.Tensor, y: tf.Tensor, alpha: tf.Tensor, gamma: number): tf.Tensor {
  return tf.tidy(() => {
    const C = x.shape[1] as number;
    const logp = tf.logSoftmax(x);
    const isMaxF = oneHotFloat(tf.argMax(x, 1), C);
    const isMax = tf.cast(isMaxF, 'bool');
    // Where the class is the maximum, feed log1p a harmless value (p = e^-1) so
    // that the unused branch has a finite gradient.
    const safeLogp = tf.where(isMax, tf.fill(logp.shape, -1), logp);
    const logOneMinusOther = tf.log1p(tf.neg(tf.exp(safeLogp)));
    const logOneMinusMax = tf.logSumExp(tf.add(logp, tf.mul(isMaxF, LOG_ZERO)), 1, true);
    const log1mp = tf.where(isMax, tf.broadcastTo(logOneMinusMax, logp.shape), logOneMinusOther);
    const weighted = tf.mul(alpha, logp);
    const perClass = gamma === 0 ? weighted : tf.mul(tf.exp(tf.mul(log1mp, gamma)), weighted);
    return tf.neg(tf.sum(tf.mul(y, perClass), 1));
  });
}
