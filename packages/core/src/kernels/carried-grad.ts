import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp } from './fused';
import { fillKernelFunc, type FillKernelSpec } from './typed-array-kernel';

/*
 * "Carried gradients": ops whose cpu/wasm kernel returns a scalar loss
 * together with the gradients of that loss for an upstream gradient of 1,
 * computed in the same pass over the inputs. The tape keeps those gradient
 * outputs (not the inputs), and the backward step only scales them by the
 * upstream gradient dy, or, when dy is exactly 1 (the loss is the objective
 * itself), hands them over without a copy. The kernel computes the
 * gradients only while a tape records (attr `withGrad`, from
 * `tf.engine().isTapeOn()`): with the tape off no gradient can be asked
 * for, and with it on the kept gradients are always there.
 *
 * The kept gradients are constants to the tape, so a gradient of the
 * gradient cannot go through them: under nested gradient tapes (and on
 * backends without a kernel, and under `withComposedOps`) the op runs its
 * `composed` form, which may itself be a fused op with a differentiable
 * gradient.
 */

function scaleFill(inputs: (Float32Array | Int32Array | Uint8Array)[], outputs: (Float32Array | Int32Array)[]): void {
  const v = inputs[0] as Float32Array;
  const s = (inputs[1] as Float32Array)[0];
  const out = outputs[0] as Float32Array;
  const n = v.length;
  for (let i = 0; i < n; i++) out[i] = v[i] * s;
}

const scaleSpec: FillKernelSpec = {
  inputNames: ['values', 'dy'],
  outputShapes: ([v]) => [v],
  fill: scaleFill,
};

/** `values * dy` for a scalar `dy` in one pass on cpu and wasm. */
const scaleOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesCarriedScale',
  inputNames: ['values', 'dy'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', scaleSpec),
    wasm: () => fillKernelFunc('wasm', scaleSpec),
  },
  composed: ([v, dy]) => tf.mul(v, dy),
});

/**
 * A kept gradient times the scalar upstream gradient `dy` (cpu and wasm
 * only, where a sync read is cheap). When `dy` is 1 the result shares the
 * kept data: a same-shape reshape aliases on cpu and wasm.
 */
function scaled(unit: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (dy.dataSync()[0] === 1) return tf.reshape(unit, unit.shape);
  return scaleOp([unit, dy], {})[0];
}

interface TapeNodeLike {
  outputs: { id: number; size: number; shape: number[]; dtype: tf.DataType }[];
}

let standInId = -1;

/**
 * Takes the kept-gradient outputs of the tape node just recorded for `value`
 * out of the backward pass. tfjs makes a zero upstream gradient (a
 * JavaScript array of the output's size, copied into the backend) for every
 * output of a node that leads nowhere, and the kept gradients never lead
 * anywhere: that is two input-sized allocations per backward step, which
 * cost more than the pass the carried gradients save. The node's outputs
 * from `first` on become empty stand-ins that no gradient reaches (their
 * zero gradients are empty). The node's output list is the array the
 * engine's gradient closure holds (tfjs-core 4.22 `addTapeNode`); nodes are
 * found on `engine.state.activeTape` by their first output.
 */
function trimTapeNode(value: tf.Tensor, first: number): void {
  const tape = (tf.engine().state as unknown as { activeTape?: TapeNodeLike[] }).activeTape;
  if (!tape) return;
  for (let n = tape.length - 1; n >= 0; n--) {
    const outputs = tape[n].outputs;
    if (outputs[0]?.id !== value.id) continue;
    for (let i = first; i < outputs.length; i++) outputs[i] = { id: standInId--, size: 0, shape: [0], dtype: outputs[i].dtype };
    return;
  }
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
   * The cpu and wasm kernels. They receive the op's attrs plus `withGrad`;
   * when it is true they must write every gradient output (for dy = 1); when
   * it is false the gradient outputs are never read, so they should give them
   * shape [0] (no memory, nothing to write).
   */
  kernels: { cpu: () => tf.KernelFunc; wasm: () => tf.KernelFunc };
  /**
   * Shape of the zero gradient of input `i` (one with gradOutputs[i] = 0),
   * from the kept gradients or the attrs (the inputs are not kept); [0] if absent.
   */
  zeroShape?: (i: number, kept: tf.Tensor[], attrs: A) => number[];
  /**
   * What runs where the kernel does not (other backends, `withComposedOps`,
   * nested gradient tapes): the scalar, differentiated by tfjs.
   */
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

/**
 * Defines a carried-gradient op (see the top of this file): a scalar-valued
 * op whose cpu/wasm kernel also writes its input gradients while a tape
 * records. Kernels and gradient are registered on first use.
 */
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
      gradFunc: (dy, saved, attrs) => {
        const d = Array.isArray(dy) ? dy[0] : dy;
        const grads: Record<string, () => tf.Tensor> = {};
        spec.inputNames.forEach((name, i) => {
          const o = spec.gradOutputs[i];
          grads[name] = o > 0 ? () => scaled(saved[o - firstGrad], d) : () => tf.zeros(spec.zeroShape ? spec.zeroShape(i, saved, attrs as unknown as A) : [0]);
        });
        return grads;
      },
    });
    gradientRegistered = true;
  }

  const op = ((inputs: tf.Tensor[], attrs: A): tf.Tensor[] => {
    if (!fused.isFused()) return [spec.composed(inputs, attrs)];
    if (!gradientRegistered) registerGradient();
    const withGrad = tf.engine().isTapeOn();
    const outs = fused(inputs, { ...attrs, withGrad }).slice();
    if (withGrad) trimTapeNode(outs[0], firstGrad);
    tf.dispose(outs.slice(firstGrad)); // the tape holds its own references
    return outs.slice(0, firstGrad);
  }) as CarriedGradOp<A>;
  Object.defineProperty(op, 'kernelName', { value: spec.kernelName });
  op.isFused = () => fused.isFused();
  return op;
}
