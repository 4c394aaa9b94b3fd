import * as tf from '@tensorflow/tfjs-core';
import { accurateMean, accurateSum, defineFusedOp, fillKernelFunc, wasmBackendMemory, type BackendKernels, type FillKernelSpec } from '@tfjs-losses/core';
import { fillPenalty, fillPenaltyGrad, TINY } from './grad-penalty.cpu';
import { simdPenalty, type SimdPenalty } from './grad-penalty.simd';

/** Attributes of the penalty kernels. */
export interface PenaltyAttrs {
  lambda: number;
  target: number;
  /** Penalise only norms above the target. */
  oneSided: boolean;
  /** Sum over the batch instead of the mean. */
  sum: boolean;
}

/** g reshaped to [B, rest]: per-sample rows. */
function rows(g: tf.Tensor): tf.Tensor2D {
  return tf.reshape(g, [g.shape[0], -1]);
}

/** ||g_b||, with a zero gradient at a zero norm (the max floors the squares). */
function norms(g: tf.Tensor): tf.Tensor1D {
  return tf.sqrt(tf.maximum(tf.sum(tf.square(rows(g)), 1), TINY)) as tf.Tensor1D;
}

function gaps(n: tf.Tensor, { target, oneSided }: PenaltyAttrs): tf.Tensor {
  const gap = tf.sub(n, target);
  return oneSided ? tf.relu(gap) : gap;
}

/** The composed form from tfjs ops, differentiated by tfjs: [penalty, norms]. */
function composedPenalty(g: tf.Tensor, attrs: PenaltyAttrs): tf.Tensor[] {
  const n = norms(g);
  const perSample = tf.mul(tf.square(gaps(n, attrs)), attrs.lambda);
  return [attrs.sum ? accurateSum(perSample) : accurateMean(perSample), n];
}

/** The gradient from tfjs ops (differentiable again): g_b (2 lambda dy gap_b / div + dyNorm_b) / n_b. */
function penaltyGradient(g: tf.Tensor, dy: tf.Tensor, dyNorms: tf.Tensor | null, attrs: PenaltyAttrs): tf.Tensor {
  const batch = g.shape[0];
  const squares = tf.sum(tf.square(rows(g)), 1);
  const n = tf.sqrt(tf.maximum(squares, TINY));
  let dn = tf.mul(gaps(n, attrs), tf.mul(dy, (2 * attrs.lambda) / (attrs.sum ? 1 : Math.max(batch, 1))));
  if (dyNorms) dn = tf.add(dn, dyNorms);
  const coef = tf.mul(tf.div(dn, n), tf.cast(tf.greaterEqual(squares, TINY), 'float32'));
  return tf.reshape(tf.mul(rows(g), tf.reshape(coef, [batch, 1])), g.shape);
}

/** cpu: the JavaScript loops; wasm: the SIMD loops of grad-penalty.simd.ts on the backend's heap (JavaScript if unavailable). */
function hostKernels(spec: (simd: SimdPenalty | null) => FillKernelSpec): BackendKernels {
  return { cpu: () => fillKernelFunc('cpu', spec(null)), wasm: () => fillKernelFunc('wasm', spec(simdPenalty(wasmBackendMemory()))) };
}

/** dg as one kernel; used only where no tape records the backward pass. */
const penaltyGradOp = defineFusedOp<PenaltyAttrs>({
  kernelName: 'TfjsLossesGanPenaltyGrad',
  inputNames: ['g', 'dy', 'dyNorms'],
  kernels: hostKernels((simd) => ({ inputNames: ['g', 'dy', 'dyNorms'], outputShapes: ([g]) => [g], fill: fillPenaltyGrad(simd) })),
  composed: ([g, dy, dyNorms], attrs) => penaltyGradient(g, dy, dyNorms, attrs),
});

/**
 * The penalty's reduction over the critic's input gradient g as one kernel
 * on cpu and wasm: [lambda mean_b (||g_b|| - target)^2 (or the sum), ||g_b||].
 * Its gradient is one kernel too, unless the backward pass is itself
 * differentiated: then it is made of tfjs ops.
 */
const penaltyOp = defineFusedOp<PenaltyAttrs>({
  kernelName: 'TfjsLossesGanPenalty',
  inputNames: ['g'],
  kernels: hostKernels((simd) => ({ inputNames: ['g'], outputShapes: ([g]) => [[], [g[0]]], fill: fillPenalty(simd) })),
  composed: ([g], attrs) => composedPenalty(g, attrs),
  gradient: ([dy, dyNorms], [g], attrs) => {
    const dyPenalty = dy ?? tf.zeros([]);
    if (tf.engine().state.gradientDepth > 0) return [penaltyGradient(g, dyPenalty, dyNorms ?? null, attrs)];
    return penaltyGradOp([g, dyPenalty, dyNorms ?? tf.zeros([g.shape[0]])], attrs);
  },
});

/**
 * `lambda E_b[(||g_b|| - target)^2]` (or the sum over the batch) and the
 * per-sample norms, for g of shape [B, ...].
 */
export function reducedPenalty(g: tf.Tensor, lambda: number, target: number, oneSided: boolean, reduction: 'mean' | 'sum'): [penalty: tf.Scalar, norms: tf.Tensor1D] {
  const [penalty, n] = penaltyOp([g], { lambda, target, oneSided, sum: reduction === 'sum' });
  return [penalty as tf.Scalar, n as tf.Tensor1D];
}
