import * as tf from '@tensorflow/tfjs-core';
import { defineCarriedGradOp, defineFusedOp, fillKernelFunc, wasmBackendMemory } from '@tfjs-losses/core';
import { smoothL1Forward, smoothL1Grad, smoothL1Sum } from './smooth-l1.cpu';
import { smoothL1Simd } from './smooth-l1.simd';
import { smoothL1CarriedSum, smoothL1GradWasm, smoothL1SumWasm } from './smooth-l1.wasm';
import { smoothL1ForwardWebGPU, smoothL1GradWebGPU } from './smooth-l1.webgpu';

/*
 * Elementwise smooth L1 as fused kernels. Inputs: pred, target (one shape,
 * float32) and beta (float32, length 1 or the size of pred's last axis). With
 * d = pred − target, a = |d|:
 *
 *   loss  = a · (0.5 a / beta) if a < beta, a − 0.5 beta otherwise; a if beta = 0
 *   g     = d / beta           if a < beta, sign(d) otherwise (0 at d = 0)
 *   g'    = 1 / beta           if a < beta, 0 otherwise
 *
 * The loss kernel's gradient runs the gradient kernel (dy · g and −dy · g in one
 * pass on cpu and wasm); the gradient kernel's own gradient (second order) is
 * composed from g and g'. g' = 1 / beta at d = 0 too, as PyTorch's
 * smooth_l1_loss double backward gives (the composed ops, differentiating
 * through |d|, give 0 at that single point).
 */

const TINY = 1e-30;

function slopes(d: tf.Tensor, beta: tf.Tensor): { inside: tf.Tensor; g: tf.Tensor } {
  const inside = tf.logicalAnd(tf.greater(beta, 0), tf.less(tf.abs(d), beta));
  const g = tf.where(inside, tf.div(d, tf.maximum(beta, TINY)), tf.sign(d));
  return { inside, g };
}

/** Gradient kernel: (dy, pred, target, beta) → (d/dpred, d/dtarget) of sum(dy · loss). */
export const smoothL1GradOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesSmoothL1Grad',
  // Its gradient is made of ops with gradients: second order stays fused (PyTorch's value at ties).
  higherOrder: true,
  inputNames: ['dy', 'pred', 'target', 'beta'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', smoothL1Grad),
    wasm: () => fillKernelFunc('wasm', smoothL1GradWasm(smoothL1Simd(wasmBackendMemory()))),
    webgpu: () => smoothL1GradWebGPU,
  },
  composed: ([dy, p, t, beta]) =>
    tf.tidy(() => {
      const gp = tf.mul(dy, slopes(tf.sub(p, t), beta).g);
      return [gp, tf.neg(gp)];
    }),
  gradient: ([uPred, uTarget], [dy, p, t, beta]) => {
    // Outputs dy·g(d) and −dy·g(d): with w = uPred − uTarget the cotangents are
    // w·g for dy and ±w·dy·g'(d) for pred and target.
    const d = tf.sub(p, t);
    const { inside, g } = slopes(d, beta);
    const w = tf.sub(uPred, uTarget);
    const curvature = tf.where(inside, tf.div(1, tf.maximum(beta, TINY)), tf.zerosLike(d));
    const second = tf.mul(tf.mul(w, dy), curvature);
    return [tf.mul(w, g), second, tf.neg(second), undefined];
  },
});

/** Loss kernel: (pred, target, beta) → per-element loss, with the gradient kernel as its gradient. */
export const smoothL1Op = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesSmoothL1',
  // Its gradient is made of ops with gradients: second order stays fused (PyTorch's value at ties).
  higherOrder: true,
  inputNames: ['pred', 'target', 'beta'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', smoothL1Forward),
    wasm: () => fillKernelFunc('wasm', smoothL1Forward),
    webgpu: () => smoothL1ForwardWebGPU,
  },
  // Never used as the fallback (elementwise.ts calls the composed form itself
  // where no kernel runs); kept as the op's reference semantics.
  composed: ([p, t, beta]) =>
    tf.tidy(() => {
      const a = tf.abs(tf.sub(p, t));
      const q = tf.minimum(beta, a);
      return tf.add(tf.sub(a, q), tf.mul(q, tf.div(tf.mul(q, 0.5), tf.maximum(beta, TINY))));
    }),
  gradient: ([dy], [p, t, beta]) => {
    const [gPred, gTarget] = smoothL1GradOp([dy, p, t, beta], {});
    return [gPred, gTarget, undefined];
  },
});

/** Attributes of {@link smoothL1SumOp}. */
export interface SmoothL1SumAttrs {
  /** The sum is divided by it (1 for 'sum', the element count or avgFactor for 'mean'). */
  divisor: number;
}

/**
 * Sum of the loss divided by `divisor`, in one kernel (cpu and wasm):
 * (pred, target, beta) → scalar, in float64 rounded once. Its gradient sends
 * dy / divisor straight to the gradient kernel, which skips tfjs's Sum
 * gradient (a broadcasting multiply, the slowest op on cpu). Where no kernel
 * runs, it is the sum of {@link smoothL1Op} divided by `divisor`.
 */
export const smoothL1SumOp = defineFusedOp<SmoothL1SumAttrs>({
  kernelName: 'TfjsLossesSmoothL1Sum',
  // Its gradient is made of ops with gradients: second order stays fused (PyTorch's value at ties).
  higherOrder: true,
  inputNames: ['pred', 'target', 'beta'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', smoothL1Sum),
    wasm: () => fillKernelFunc('wasm', smoothL1SumWasm(smoothL1Simd(wasmBackendMemory()))),
  },
  composed: (inputs, { divisor }) => tf.div(tf.sum(smoothL1Op(inputs, {})[0]), divisor),
  gradient: ([dy], [p, t, beta], { divisor }) => {
    const [gPred, gTarget] = smoothL1GradOp([divisor === 1 ? dy : tf.div(dy, divisor), p, t, beta], {});
    return [gPred, gTarget, undefined];
  },
});

/** Attributes of {@link smoothL1CarriedSumOp}. */
export interface SmoothL1CarriedSumAttrs extends SmoothL1SumAttrs {
  /** Length of the beta input (its zero gradient). */
  betaLength: number;
}

/**
 * {@link smoothL1SumOp} with carried gradients (core's
 * `defineCarriedGradOp`): while a tape records, the cpu and wasm kernels
 * also write both input gradients for an upstream gradient of 1, and the
 * backward step hands them over (or scales them by dy). On wasm, with every
 * beta in [2^-62, 1], one SIMD pass computes the sum and the gradients
 * (`sumGrad` in smooth-l1.simd.ts), reading the inputs once instead of
 * twice; otherwise the two passes of the sum and gradient kernels. Under
 * nested tapes (second order), on other backends and under
 * `withComposedOps` it is {@link smoothL1SumOp}.
 */
export const smoothL1CarriedSumOp = defineCarriedGradOp<SmoothL1CarriedSumAttrs>({
  kernelName: 'TfjsLossesSmoothL1SumCarried',
  inputNames: ['pred', 'target', 'beta'],
  gradOutputs: [1, 2, 0],
  kernels: {
    cpu: () => fillKernelFunc('cpu', smoothL1CarriedSum(null)),
    wasm: () => fillKernelFunc('wasm', smoothL1CarriedSum(smoothL1Simd(wasmBackendMemory()))),
  },
  zeroShape: (_i, _kept, { betaLength }) => [betaLength],
  composed: (inputs, { divisor }) => smoothL1SumOp(inputs, { divisor })[0],
});
