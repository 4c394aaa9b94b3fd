import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc } from '@tfjs-losses/core';
import { balancedL1Forward, balancedL1Grad, balancedL1Sum } from './balanced-l1.cpu';
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

/** Attributes of {@link balancedL1SumOp}: those of the loss and the divisor of the sum. */
export interface BalancedL1SumAttrs extends BalancedL1Attrs {
  /** The sum is divided by it (1 for 'sum', the element count or avgFactor for 'mean'). */
  divisor: number;
}

/**
 * Sum of the loss divided by `divisor` in one kernel (cpu and wasm):
 * (pred, target) → scalar, whose gradient sends dy / divisor straight to the
 * gradient kernel. Where no kernel runs, it is the sum of {@link balancedL1Op}
 * divided by `divisor`.
 */
export const balancedL1SumOp = defineFusedOp<BalancedL1SumAttrs>({
  kernelName: 'TfjsLossesBalancedL1Sum',
  inputNames: ['pred', 'target'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', balancedL1Sum),
    wasm: () => fillKernelFunc('wasm', balancedL1Sum),
  },
  composed: (inputs, { divisor, ...attrs }) => tf.div(tf.sum(balancedL1Op(inputs, attrs)[0]), divisor),
  gradient: ([dy], [p, t], { divisor, alpha, gamma, beta }) => balancedL1GradOp([divisor === 1 ? dy : tf.div(dy, divisor), p, t], { alpha, gamma, beta }),
});
