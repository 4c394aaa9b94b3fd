import * as tf from '@tensorflow/tfjs-core';
import { accurateSum, defineCarriedGradOp, defineFusedOp, fillKernelFunc, nestedTape, wasmBackendMemory, withComposedOps, type FillKernelSpec } from '@tfjs-losses/core';
import { sigmoidFocalBackwardFill, sigmoidFocalForwardFill, sigmoidFocalSumFill } from './sigmoid-focal.cpu';
import { sigmoidFocalSimd } from './sigmoid-focal.simd';
import { sigmoidFocalSumWasm } from './sigmoid-focal.wasm';
import { sigmoidFocalBackwardWebGPU, sigmoidFocalForwardWebGPU } from './sigmoid-focal.webgpu';
import { logAddExp, logOrZero, logSoftplus } from './stable';

/**
 * Attributes of the elementwise sigmoid focal kernels. `alpha < 0` turns the
 * alpha term off (torchvision's convention).
 */
export interface SigmoidFocalAttrs {
  alpha: number;
  gamma: number;
}

/*
 * Per element, with p = sigmoid(x), q = 1 - p, t the target:
 *
 *   ce = (1 - t) softplus(x) + t softplus(-x)       binary cross-entropy
 *   m  = (1 - t) p + t q                            = 1 - p_t
 *   a  = alpha t + (1 - alpha)(1 - t)  (1 when alpha < 0)
 *   L  = a m^gamma ce
 *
 * m^gamma is exp(gamma log m) with log m = logaddexp(log(1-t) + log p,
 * log t + log q), exact for hard and soft targets at any |x|. The gradient is
 * written by hand so that nothing overflows: with r = ce / m (finite: both
 * vanish together, r -> 1) and w = m^gamma,
 *
 *   dL/dx = a w (gamma r p q (1 - 2t) + p - t)
 *   dL/dt = w ((2 alpha - 1) ce + a (gamma r (1 - 2p) - x))   (no alpha term when alpha < 0)
 */

function logTerms(x: tf.Tensor, t: tf.Tensor) {
  const spPos = tf.softplus(x);
  const spNeg = tf.softplus(tf.neg(x));
  const log1mt = logOrZero(tf.sub(1, t), tf.less(t, 1));
  const logt = logOrZero(t, tf.greater(t, 0));
  // log p = -softplus(-x), log q = -softplus(x)
  const logm = logAddExp(tf.sub(log1mt, spNeg), tf.sub(logt, spPos));
  const ce = tf.add(tf.mul(tf.sub(1, t), spPos), tf.mul(t, spNeg));
  return { spPos, spNeg, log1mt, logt, logm, ce };
}

function alphaT(t: tf.Tensor, alpha: number): tf.Tensor | undefined {
  if (alpha < 0) return undefined;
  // alpha t + (1 - alpha)(1 - t) = (1 - alpha) + (2 alpha - 1) t
  return tf.add(tf.mul(t, 2 * alpha - 1), 1 - alpha);
}

/** Per-element loss from composed ops (no gradient of its own: see {@link composedSigmoidFocal}). */
export function sigmoidFocalForwardComposed(x: tf.Tensor, t: tf.Tensor, { alpha, gamma }: SigmoidFocalAttrs): tf.Tensor {
  return tf.tidy(() => {
    const { logm, ce } = logTerms(x, t);
    let loss = gamma === 0 ? ce : tf.mul(tf.exp(tf.mul(logm, gamma)), ce);
    const a = alphaT(t, alpha);
    if (a) loss = tf.mul(a, loss);
    return loss;
  });
}

/** Gradients (dx, dt) of sum(dy * L) from composed ops, in the stable form above. */
export function sigmoidFocalBackwardComposed(x: tf.Tensor, t: tf.Tensor, dy: tf.Tensor, { alpha, gamma }: SigmoidFocalAttrs): tf.Tensor[] {
  return tf.tidy(() => {
    const { spPos, spNeg, log1mt, logt, logm, ce } = logTerms(x, t);
    const p = tf.exp(tf.neg(spNeg));
    const q = tf.exp(tf.neg(spPos));
    const w = gamma === 0 ? tf.onesLike(x) : tf.exp(tf.mul(logm, gamma));
    const logce = logAddExp(tf.add(log1mt, logSoftplus(x)), tf.add(logt, logSoftplus(tf.neg(x))));
    const gr = tf.mul(tf.exp(tf.sub(logce, logm)), gamma); // gamma * ce / m
    const a = alphaT(t, alpha);
    const oneMinus2t = tf.sub(1, tf.mul(t, 2));
    const oneMinus2p = tf.sub(q, p);
    let dx = tf.mul(w, tf.add(tf.mul(tf.mul(gr, tf.mul(p, q)), oneMinus2t), tf.sub(p, t)));
    let dt = tf.sub(tf.mul(gr, oneMinus2p), x);
    if (a) {
      dx = tf.mul(dx, a);
      dt = tf.add(tf.mul(a, dt), tf.mul(ce, 2 * alpha - 1));
    }
    dt = tf.mul(w, dt);
    return [tf.mul(dx, dy), tf.mul(dt, dy)];
  });
}

const backwardSpec: FillKernelSpec = {
  inputNames: ['logits', 'targets', 'dy'],
  outputShapes: ([x]) => [x, x],
  fill: sigmoidFocalBackwardFill,
};

const forwardSpec: FillKernelSpec = {
  inputNames: ['logits', 'targets'],
  outputShapes: ([x]) => [x],
  fill: sigmoidFocalForwardFill,
};

/**
 * Backward as its own op: fused where a kernel exists, composed elsewhere.
 * Inputs logits, targets and dy, where dy has the loss's shape or is a scalar.
 */
export const sigmoidFocalBackward = defineFusedOp<SigmoidFocalAttrs>({
  kernelName: 'TfjsLossesSigmoidFocalGrad',
  inputNames: ['logits', 'targets', 'dy'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', backwardSpec),
    wasm: () => fillKernelFunc('wasm', backwardSpec),
    webgpu: () => sigmoidFocalBackwardWebGPU,
  },
  composed: ([x, t, dy], attrs) => sigmoidFocalBackwardComposed(x, t, dy, attrs),
});

/**
 * Composed forward with the hand-written gradient attached. Under nested
 * gradient tapes the gradient itself is built from composed ops (the fused
 * backward kernel has no gradient of its own), so it can be differentiated
 * again.
 */
function composedSigmoidFocal([x, t]: tf.Tensor[], attrs: SigmoidFocalAttrs): tf.Tensor {
  const nested = nestedTape();
  const f = tf.customGrad(((xi: tf.Tensor, ti: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi, ti]);
    return {
      value: sigmoidFocalForwardComposed(xi, ti, attrs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const backward = () => sigmoidFocalBackward([saved[0], saved[1], dy], attrs);
        return nested ? withComposedOps(backward) : backward();
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, t) as tf.Tensor;
}

/**
 * The elementwise sigmoid focal loss as one op: inputs logits and targets of
 * one shape (float32), output the per-element loss.
 */
export const sigmoidFocalOp = defineFusedOp<SigmoidFocalAttrs>({
  kernelName: 'TfjsLossesSigmoidFocal',
  inputNames: ['logits', 'targets'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', forwardSpec),
    wasm: () => fillKernelFunc('wasm', forwardSpec),
    webgpu: () => sigmoidFocalForwardWebGPU,
  },
  composed: composedSigmoidFocal,
  gradient: ([dy], [x, t], attrs) => sigmoidFocalBackward([x, t, dy], attrs),
});

/** Attributes of {@link sigmoidFocalSumOp}. */
export interface SigmoidFocalSumAttrs extends SigmoidFocalAttrs {
  /** The sum is divided by this (1 for 'sum', the element count or avgFactor for 'mean'). */
  divisor: number;
}

const sumSpec: FillKernelSpec = {
  inputNames: ['logits', 'targets'],
  outputShapes: ([x], attrs) => [[], [], attrs.withGrad ? x : [0], attrs.withGrad ? x : [0]],
  outputDtypes: ['float32', 'int32', 'float32', 'float32'],
  fill: sigmoidFocalSumFill,
};

/**
 * The sum of the per-element losses divided by `divisor`: inputs logits and
 * targets; returns the scalar and, where the kernel runs, the int32 flat
 * index of the first target outside [0, 1] (-1 if none). On cpu and wasm one kernel that, while a
 * gradient is being recorded, also computes both gradients in the same pass
 * (it has every intermediate at hand); the backward step only scales them
 * (core's `defineCarriedGradOp`). Elsewhere the elementwise op, a sum and a division.
 */
export const sigmoidFocalSumOp = defineCarriedGradOp<SigmoidFocalSumAttrs>({
  kernelName: 'TfjsLossesSigmoidFocalSum',
  inputNames: ['logits', 'targets'],
  gradOutputs: [2, 3],
  kernels: {
    cpu: () => fillKernelFunc('cpu', sumSpec),
    wasm: () => fillKernelFunc('wasm', sigmoidFocalSumWasm(sumSpec, sigmoidFocalSimd(wasmBackendMemory()))),
  },
  composed: ([x, t], { alpha, gamma, divisor }) => {
    const total = accurateSum(sigmoidFocalOp([x, t], { alpha, gamma })[0]);
    return divisor === 1 ? total : tf.div(total, divisor);
  },
});
