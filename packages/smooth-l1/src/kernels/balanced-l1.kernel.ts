import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc, wasmBackendMemory } from '@tfjs-losses/core';
import { balancedL1Forward, balancedL1Grad, balancedL1SlopeGrad, balancedL1SlopeGradWasm, balancedL1Sum, balancedL1SumWasm } from './balanced-l1.cpu';
import { balancedL1Simd } from './balanced-l1.simd';
import { smoothL1Simd } from './smooth-l1.simd';
import type { BalancedL1Attrs } from './balanced-l1.constants';
import { balancedL1ForwardWebGPU, balancedL1GradWebGPU } from './balanced-l1.webgpu';

export type { BalancedL1Attrs } from './balanced-l1.constants';

/*
 * Elementwise Balanced L1 as fused kernels: inputs pred and target (one shape,
 * float32), attributes alpha, gamma, beta. The loss kernel's gradient runs the
 * gradient kernel; the gradient kernel's own gradient (second order) is
 * composed from the slope s(x) and its derivative
 * s'(x) = α b / (b x + β) + α b (β − 1) / (b x + β)² for 0 < x < β, 0 beyond
 * and at x = 0 (PyTorch's autograd through |d| gives 0 there).
 */

function slopeTerms(d: tf.Tensor, { alpha, gamma, beta }: BalancedL1Attrs) {
  const b = Math.expm1(gamma / alpha);
  const x = tf.abs(d);
  const inside = tf.less(x, beta);
  const xi = tf.minimum(x, beta);
  const bxb = tf.add(tf.mul(xi, b), beta);
  const innerSlope = tf.sub(tf.add(tf.mul(tf.log1p(tf.mul(tf.div(xi, beta), b)), alpha), tf.div(tf.mul(tf.add(tf.mul(xi, b), 1), alpha), bxb)), alpha);
  const slope = tf.where(inside, innerSlope, tf.fill(x.shape, gamma));
  const innerCurve = tf.add(tf.div(alpha * b, bxb), tf.div(alpha * b * (beta - 1), tf.square(bxb)));
  // 0 at d = 0 too, as PyTorch's autograd through |d| gives there.
  const curve = tf.mul(tf.where(inside, innerCurve, tf.zerosLike(x)), tf.abs(tf.sign(d)));
  return { g: tf.mul(tf.sign(d), slope), curve };
}

/** Gradient kernel: (dy, pred, target) → (d/dpred, d/dtarget) of sum(dy · loss). */
export const balancedL1GradOp = defineFusedOp<BalancedL1Attrs>({
  kernelName: 'TfjsLossesBalancedL1Grad',
  // Its gradient is made of ops with gradients: second order stays fused (PyTorch's value at ties).
  higherOrder: true,
  inputNames: ['dy', 'pred', 'target'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', balancedL1Grad),
    wasm: () => fillKernelFunc('wasm', balancedL1Grad),
    webgpu: () => balancedL1GradWebGPU,
  },
  composed: ([dy, p, t], attrs) =>
    tf.tidy(() => {
      const gp = tf.mul(dy, slopeTerms(tf.sub(p, t), attrs).g);
      return [gp, tf.neg(gp)];
    }),
  gradient: ([uPred, uTarget], [dy, p, t], attrs) => {
    const { g, curve } = slopeTerms(tf.sub(p, t), attrs);
    const w = tf.sub(uPred, uTarget);
    const second = tf.mul(tf.mul(w, dy), curve);
    return [tf.mul(w, g), second, tf.neg(second)];
  },
});

/** Loss kernel: (pred, target) → per-element loss, with the gradient kernel as its gradient. */
export const balancedL1Op = defineFusedOp<BalancedL1Attrs>({
  kernelName: 'TfjsLossesBalancedL1',
  // Its gradient is made of ops with gradients: second order stays fused (PyTorch's value at ties).
  higherOrder: true,
  inputNames: ['pred', 'target'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', balancedL1Forward),
    wasm: () => fillKernelFunc('wasm', balancedL1Forward),
    webgpu: () => balancedL1ForwardWebGPU,
  },
  // Not reached as a fallback (elementwise.ts runs the composed form itself
  // where no kernel runs); it states the op's semantics.
  composed: ([p, t], { alpha, gamma, beta }) =>
    tf.tidy(() => {
      const b = Math.expm1(gamma / alpha);
      const a = tf.abs(tf.sub(p, t));
      const q = tf.minimum(beta, a);
      const inner = tf.sub(tf.mul(tf.add(q, 1 / b), tf.log1p(tf.mul(tf.div(q, beta), b))), q);
      return tf.add(tf.mul(inner, alpha), tf.mul(tf.sub(a, q), gamma));
    }),
  gradient: ([dy], [p, t], attrs) => balancedL1GradOp([dy, p, t], attrs),
});

/**
 * Gradient from stored slopes (cpu and wasm): (dy, slope, pred, target) →
 * (dy · slope, −dy · slope), where slope is the gradient of the loss with
 * respect to pred at (pred, target), as {@link balancedL1SumOp} stores it.
 * pred and target are read only by its own gradient (second order), which
 * is {@link balancedL1GradOp}'s; slope counts as a constant there, since its
 * dependence on pred and target is what that gradient already covers.
 */
export const balancedL1SlopeGradOp = defineFusedOp<BalancedL1Attrs>({
  kernelName: 'TfjsLossesBalancedL1SlopeGrad',
  // Its gradient is made of ops with gradients: second order stays fused (PyTorch's value at ties).
  higherOrder: true,
  inputNames: ['dy', 'slope', 'pred', 'target'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', balancedL1SlopeGrad),
    wasm: () => fillKernelFunc('wasm', balancedL1SlopeGradWasm(smoothL1Simd(wasmBackendMemory()))),
  },
  composed: ([dy, slope]) =>
    tf.tidy(() => {
      const gp = tf.mul(dy, slope);
      return [gp, tf.neg(gp)];
    }),
  gradient: ([uPred, uTarget], [dy, slope, p, t], attrs) => {
    const { curve } = slopeTerms(tf.sub(p, t), attrs);
    const w = tf.sub(uPred, uTarget);
    const second = tf.mul(tf.mul(w, dy), curve);
    return [tf.mul(w, slope), undefined, second, tf.neg(second)];
  },
});

/** Attributes of {@link balancedL1SumOp}: those of the loss, the divisor of the sum, and whether to store slopes. */
export interface BalancedL1SumAttrs extends BalancedL1Attrs {
  /** The sum is divided by it (1 for 'sum', the element count or avgFactor for 'mean'). */
  divisor: number;
  /**
   * Also output the slope of every element (pred's shape; else shape [0]):
   * set it when a gradient may follow, so that the gradient reuses the
   * forward pass's log1p instead of computing it again.
   */
  withSlope: boolean;
}

/**
 * Sum of the loss divided by `divisor` in one kernel (cpu and wasm):
 * (pred, target) → (scalar, slopes). Its gradient multiplies the stored
 * slopes by dy / divisor ({@link balancedL1SlopeGradOp}), or runs the
 * gradient kernel when no slopes were stored. Where no kernel runs, it is the
 * sum of {@link balancedL1Op} divided by `divisor`.
 */
export const balancedL1SumOp = defineFusedOp<BalancedL1SumAttrs>({
  kernelName: 'TfjsLossesBalancedL1Sum',
  // Its gradient is made of ops with gradients: second order stays fused (PyTorch's value at ties).
  higherOrder: true,
  inputNames: ['pred', 'target'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', balancedL1Sum),
    wasm: () => fillKernelFunc('wasm', balancedL1SumWasm(balancedL1Simd(wasmBackendMemory()))),
  },
  composed: ([p, t], { divisor, withSlope, ...attrs }) =>
    tf.tidy(() => [
      tf.div(tf.sum(balancedL1Op([p, t], attrs)[0]), divisor),
      withSlope ? slopeTerms(tf.sub(p, t), attrs).g : tf.zeros([0]),
    ]),
  saveOutputs: [false, true],
  gradient: ([dy], [p, t, slope], { divisor, alpha, gamma, beta }) => {
    // No dy: only the slopes lead to the differentiated value (second order
    // through the slope gradient, which treats them as constants).
    if (dy == null) return [undefined, undefined];
    const scaled = divisor === 1 ? dy : tf.div(dy, divisor);
    const attrs = { alpha, gamma, beta };
    return slope.size === p.size ? balancedL1SlopeGradOp([scaled, slope, p, t], attrs) : balancedL1GradOp([scaled, p, t], attrs);
  },
});
