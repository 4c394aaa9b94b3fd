import * as tf from '@tensorflow/tfjs-core';
import { accurateMean, defineFusedOp, hostKernelFunc } from '@tfjs-losses/core';
import { meanDistanceGradHost, meanDistanceHost } from './mean-distance.cpu';

/** How a reconstruction is compared with its original. */
export type CycleDistance = 'l1' | 'l2' | 'smoothL1';

/** Attributes of the mean-distance kernel. */
export interface MeanDistanceAttrs {
  distance: CycleDistance;
  beta: number;
}

/** Mean over all elements of the distance of a and b, from tfjs ops (not differentiated: see below). */
function meanDistanceValue(a: tf.Tensor, b: tf.Tensor, { distance, beta }: MeanDistanceAttrs): tf.Tensor {
  const d = tf.sub(a, b);
  if (distance === 'l2') return accurateMean(tf.square(d));
  const ad = tf.abs(d);
  if (distance === 'l1' || beta === 0) return accurateMean(ad);
  // With m = min(|d|, beta), m (|d| - m / 2) / beta is d^2 / (2 beta) below beta and |d| - beta / 2 above.
  const m = tf.minimum(ad, beta);
  return tf.div(accurateMean(tf.mul(m, tf.sub(ad, tf.mul(m, 0.5)))), beta);
}

/**
 * sign(d), 0 at 0, from two multiplications by 2^127 and a clip: every
 * nonzero float32 (subnormals too) reaches |x| >= 1. tfjs-backend-wasm's
 * Sign kernel is about 20 times slower than these three ops.
 */
function signOf(d: tf.Tensor): tf.Tensor {
  const big = 2 ** 127;
  return tf.clipByValue(tf.mul(tf.mul(d, big), big), -1, 1);
}

/**
 * d mean(dist(a, b)) / da, times dy: sign(d) / N (l1, 0 at d = 0, as
 * PyTorch), 2 d / N (l2), clip(d / beta, -1, 1) / N (smooth L1). The
 * gradient for b is its negative. Made of tfjs ops, so it differentiates again.
 */
function gradientA(a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor, { distance, beta }: MeanDistanceAttrs): tf.Tensor {
  const d = tf.sub(a, b);
  const scale = tf.div(dy, Math.max(a.size, 1));
  if (distance === 'l2') return tf.mul(d, tf.mul(scale, 2));
  if (distance === 'l1' || beta === 0) return tf.mul(signOf(d), scale);
  return tf.mul(tf.clipByValue(tf.div(d, beta), -1, 1), scale);
}

/**
 * The composed form: the value from tfjs ops and the closed-form gradient
 * above (fewer kernels than differentiating the value's ops).
 */
function composedMeanDistance(a: tf.Tensor, b: tf.Tensor, attrs: MeanDistanceAttrs): tf.Tensor {
  const op = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    return {
      value: meanDistanceValue(x, y, attrs),
      gradFunc: (dy: tf.Tensor, [sx, sy]: tf.Tensor[]) => {
        const da = gradientA(sx, sy, dy, attrs);
        return [da, tf.neg(da)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as tf.Tensor;
}

/**
 * The gradients (da, db) as one kernel on cpu. Used only where no
 * tape records the backward pass: it has no gradient of its own.
 */
const meanDistanceGradOp = defineFusedOp<MeanDistanceAttrs>({
  kernelName: 'TfjsLossesCycleMeanDistanceGrad',
  inputNames: ['a', 'b', 'dy'],
  kernels: { cpu: () => hostKernelFunc('cpu', ['a', 'b', 'dy'], meanDistanceGradHost) },
  composed: ([a, b, dy], attrs) => {
    const da = gradientA(a, b, dy, attrs);
    return [da, tf.neg(da)];
  },
});

/** True while an outer tape records the backward pass (a gradient of a gradient). */
function backwardIsRecorded(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/**
 * `mean(dist(a, b))` as one kernel on cpu (a single pass in float64), the
 * composed form on wasm and webgpu. On cpu its gradient is one kernel too,
 * unless the backward pass is itself differentiated: then it is made of tfjs ops.
 */
export const meanDistanceOp = defineFusedOp<MeanDistanceAttrs>({
  kernelName: 'TfjsLossesCycleMeanDistance',
  inputNames: ['a', 'b'],
  // wasm: its SIMD elementwise kernels beat a JavaScript loop over copies of
  // the inputs, so it runs the composed form, as webgpu does.
  kernels: { cpu: () => hostKernelFunc('cpu', ['a', 'b'], meanDistanceHost) },
  composed: ([a, b], attrs) => composedMeanDistance(a, b, attrs),
  gradient: ([dy], [a, b], attrs) => {
    if (!backwardIsRecorded()) return meanDistanceGradOp([a, b, dy], attrs);
    const da = gradientA(a, b, dy, attrs);
    return [da, tf.neg(da)];
  },
});
