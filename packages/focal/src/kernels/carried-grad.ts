import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc, type FillKernelSpec } from '@tfjs-losses/core';
import { scaleFill } from './sigmoid-focal.cpu';

/*
 * Ops whose cpu/wasm kernel returns a scalar loss together with the
 * gradients of that loss (for an upstream gradient of 1) that the same pass
 * computed. The gradients are kept by the tape as saved outputs and the
 * backward step only scales them; the inputs are not saved (on wasm every
 * saved tensor is a copy). The kernel computes the gradients only while a
 * tape records (`withGrad`, set here from `tf.engine().isTapeOn()`): when the
 * tape is off no gradient can be asked for, and when it is on the kept
 * gradients are always there. Everything here is generic; it lives in this
 * package because only the focal losses use it.
 */

const scaleSpec: FillKernelSpec = {
  inputNames: ['values', 'dy'],
  outputShapes: ([v]) => [v],
  fill: scaleFill,
};

/** `values * dy` for a scalar `dy` in one pass on cpu and wasm. */
const scaleOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesFocalScale',
  inputNames: ['values', 'dy'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', scaleSpec),
    wasm: () => fillKernelFunc('wasm', scaleSpec),
  },
  composed: ([v, dy]) => tf.mul(v, dy),
});

/**
 * A kept gradient times the scalar upstream gradient `dy`. When `dy` is 1
 * (the loss is the objective itself) the result shares the kept data (a
 * same-shape reshape aliases on cpu and wasm; a clone copies on wasm).
 */
function scaled(unit: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (dy.dataSync()[0] === 1) return tf.reshape(unit, unit.shape);
  return scaleOp([unit, dy], {})[0];
}

/** What {@link defineCarriedGradOp} needs. */
export interface CarriedGradOpSpec<A extends object> {
  /** Kernel name (starts with `TfjsLosses`). */
  kernelName: string;
  /** Kernel input names, in the order the op receives its tensors. */
  inputNames: string[];
  /**
   * Per input: the index (>= 1) of the kernel output holding its gradient,
   * or 0 for an input without gradient (it gets zeros). Outputs between the
   * value and the gradients are extra results the op returns after the value.
   */
  gradOutputs: number[];
  /**
   * The kernels; they receive the op's attrs plus `withGrad` and must then
   * write every gradient output (else those outputs have shape [0]).
   */
  kernels: { cpu: () => tf.KernelFunc; wasm: () => tf.KernelFunc };
  /** Shape of the zero gradient of input `i` (one with gradOutputs[i] = 0), from the kept gradients. */
  zeroShape?: (i: number, kept: tf.Tensor[]) => number[];
  /** The composed form (other backends, `withComposedOps`): the scalar, differentiated by tfjs. */
  composed: (inputs: tf.Tensor[], attrs: A) => tf.Tensor;
}

/** A callable op from {@link defineCarriedGradOp}. */
export interface CarriedGradOp<A extends object> {
  /** The value, then any extra outputs of the kernel (none on the composed path). */
  (inputs: tf.Tensor[], attrs: A): tf.Tensor[];
  readonly kernelName: string;
  /** True when the kernel (not the composed form) runs on the current backend. */
  isFused(): boolean;
}

/** Defines an op of the kind described at the top of this file. Kernels and gradient register on first use. */
export function defineCarriedGradOp<A extends object>(spec: CarriedGradOpSpec<A>): CarriedGradOp<A> {
  const fused = defineFusedOp<A & { withGrad: boolean }>({
    kernelName: spec.kernelName,
    inputNames: spec.inputNames,
    kernels: spec.kernels,
    composed: (inputs, attrs) => spec.composed(inputs, attrs),
  });
  const outputCount = Math.max(...spec.gradOutputs) + 1;
  const firstGrad = Math.min(...spec.gradOutputs.filter((o) => o > 0));
  const outputsToSave = Array.from({ length: outputCount }, (_, i) => i >= firstGrad);
  let gradientRegistered = false;

  function registerGradient(): void {
    if (tf.getGradient(spec.kernelName)) tf.unregisterGradient(spec.kernelName);
    tf.registerGradient({
      kernelName: spec.kernelName,
      inputsToSave: [],
      outputsToSave,
      // saved = the kept gradient outputs firstGrad..outputCount-1
      gradFunc: (dy, saved) => {
        const d = Array.isArray(dy) ? dy[0] : dy;
        const grads: Record<string, () => tf.Tensor> = {};
        spec.inputNames.forEach((name, i) => {
          const o = spec.gradOutputs[i];
          grads[name] = o > 0 ? () => scaled(saved[o - firstGrad], d) : () => tf.zeros(spec.zeroShape ? spec.zeroShape(i, saved) : [0]);
        });
        return grads;
      },
    });
    gradientRegistered = true;
  }

  const op = ((inputs: tf.Tensor[], attrs: A): tf.Tensor[] => {
    if (!fused.isFused()) return [spec.composed(inputs, attrs)];
    if (!gradientRegistered) registerGradient();
    const outs = fused(inputs, { ...attrs, withGrad: tf.engine().isTapeOn() });
    tf.dispose(outs.slice(firstGrad)); // the tape holds its own references
    return outs.slice(0, firstGrad);
  }) as CarriedGradOp<A>;
  Object.defineProperty(op, 'kernelName', { value: spec.kernelName });
  op.isFused = () => fused.isFused();
  return op;
}
