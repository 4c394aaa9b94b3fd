import * as tf from '@tensorflow/tfjs-core';
import { accurateMean, defineFusedOp, fillKernelFunc, wasmBackendMemory, type BackendKernels, type FillKernelSpec } from '@tfjs-losses/core';
import { meanDistanceFill, meanDistanceGradFill } from './distance.cpu';
import { simdDistance, type SimdDistance } from './distance.simd';
import { meanDistanceGradWebGPU } from './distance.webgpu';

/** How a reconstruction is compared with its original. */
export type CycleDistance = 'l1' | 'l2' | 'smoothL1';

/** Attributes of the mean-distance kernels. */
export interface MeanDistanceAttrs {
  distance: CycleDistance;
  beta: number;
  /** One weight per pair of inputs. */
  weights: number[];
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
 * d mean(dist(a, b)) / da times `scale` (dy times the pair's weight):
 * sign(d) / N (l1, 0 at d = 0, as PyTorch), 2 d / N (l2), clip(d / beta,
 * -1, 1) / N (smooth L1). The gradient for b is its negative. Made of tfjs
 * ops, so it differentiates again.
 */
function gradientA(a: tf.Tensor, b: tf.Tensor, scale: tf.Tensor, { distance, beta }: MeanDistanceAttrs): tf.Tensor {
  const d = tf.sub(a, b);
  const s = tf.div(scale, Math.max(a.size, 1));
  if (distance === 'l2') return tf.mul(d, tf.mul(s, 2));
  if (distance === 'l1' || beta === 0) return tf.mul(signOf(d), s);
  return tf.mul(tf.clipByValue(tf.div(d, beta), -1, 1), s);
}

/** The value of the weighted sum over pairs, from tfjs ops. */
function weightedValue(xs: tf.Tensor[], attrs: MeanDistanceAttrs): tf.Tensor {
  let total: tf.Tensor | undefined;
  for (let k = 0; 2 * k < xs.length; k++) {
    const term = tf.mul(meanDistanceValue(xs[2 * k], xs[2 * k + 1], attrs), attrs.weights[k]);
    total = total ? tf.add(total, term) : term;
  }
  return total as tf.Tensor;
}

/** The gradients (da0, db0, da1, db1, ...) from tfjs ops. */
function weightedGradients(xs: tf.Tensor[], dy: tf.Tensor, attrs: MeanDistanceAttrs): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (let k = 0; 2 * k < xs.length; k++) {
    const da = gradientA(xs[2 * k], xs[2 * k + 1], tf.mul(dy, attrs.weights[k]), attrs);
    out.push(da, tf.neg(da));
  }
  return out;
}

/**
 * The composed form: the value from tfjs ops and the closed-form gradients
 * (fewer kernels than differentiating the value's ops; on webgpu the
 * gradient kernel, one dispatch per gradient, where the backward pass is
 * not itself differentiated).
 */
function composedMeanDistance(xs: tf.Tensor[], attrs: MeanDistanceAttrs, gradients: (saved: tf.Tensor[], dy: tf.Tensor) => tf.Tensor[]): tf.Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ts = args as tf.Tensor[];
    save(ts);
    return {
      value: weightedValue(ts, attrs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradients(saved, dy),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...xs) as tf.Tensor;
}

/** True while an outer tape records the backward pass (a gradient of a gradient). */
function backwardIsRecorded(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/** cpu: the JavaScript loops; wasm: the SIMD loops of distance.simd.ts on the backend's heap (JavaScript if unavailable). */
function hostKernels(spec: (simd: SimdDistance | null) => FillKernelSpec): BackendKernels {
  return {
    cpu: () => fillKernelFunc('cpu', spec(null)),
    wasm: () => fillKernelFunc('wasm', spec(simdDistance(wasmBackendMemory()))),
  };
}

/** Input names of the kernels for `pairs` pairs. */
function pairNames(pairs: number): string[] {
  return Array.from({ length: pairs }, (_, k) => [`a${k}`, `b${k}`]).flat();
}

/** The fused op for `pairs` pairs: the weighted sum of means and, in one more kernel, all gradients. */
function defineMeanDistance(pairs: number, suffix: string) {
  const names = pairNames(pairs);
  const gradOp = defineFusedOp<MeanDistanceAttrs>({
    kernelName: `TfjsLossesCycleMeanDistance${suffix}Grad`,
    inputNames: [...names, 'dy'],
    kernels: {
      ...hostKernels((simd) => ({ inputNames: [...names, 'dy'], outputShapes: (shapes) => shapes.slice(0, -1), fill: meanDistanceGradFill(simd) })),
      webgpu: () => meanDistanceGradWebGPU,
    },
    composed: (xs, attrs) => weightedGradients(xs.slice(0, -1), xs[xs.length - 1], attrs),
  });
  // One kernel for every gradient, unless the backward pass is itself differentiated: then tfjs ops.
  const gradients = (saved: tf.Tensor[], dy: tf.Tensor, attrs: MeanDistanceAttrs): tf.Tensor[] =>
    backwardIsRecorded() ? weightedGradients(saved, dy, attrs) : gradOp([...saved, dy], attrs);
  return defineFusedOp<MeanDistanceAttrs>({
    kernelName: `TfjsLossesCycleMeanDistance${suffix}`,
    inputNames: names,
    kernels: hostKernels((simd) => ({ inputNames: names, outputShapes: () => [[]], fill: meanDistanceFill(simd) })),
    composed: (xs, attrs) => composedMeanDistance(xs, attrs, (saved, dy) => gradients(saved, dy, attrs)),
    gradient: ([dy], saved, attrs) => gradients(saved, dy, attrs),
  });
}

const onePair = defineMeanDistance(1, '');
const twoPairs = defineMeanDistance(2, 'Pair');

/**
 * weight mean(dist(a, b)), a scalar: one kernel on cpu and wasm (and one for
 * both gradients), the composed form elsewhere.
 */
export function meanDistance(a: tf.Tensor, b: tf.Tensor, distance: CycleDistance, beta: number, weight = 1): tf.Tensor {
  return onePair([a, b], { distance, beta, weights: [weight] })[0];
}

/**
 * wa mean(dist(a, b)) + wc mean(dist(c, d)), a scalar: one kernel on cpu
 * and wasm, and one more for all four gradients.
 */
export function meanDistance2(a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, distance: CycleDistance, beta: number, wa: number, wc: number): tf.Tensor {
  return twoPairs([a, b, c, d], { distance, beta, weights: [wa, wc] })[0];
}
