import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc, type FillKernelSpec } from '@tfjs-losses/core';
import { scaleFill } from './sigmoid-focal.cpu';

const scaleSpec: FillKernelSpec = {
  inputNames: ['values', 'dy'],
  outputShapes: ([v]) => [v],
  fill: scaleFill,
};

/**
 * `values * dy` for a scalar `dy`, one pass on cpu and wasm (tfjs's
 * Multiply there takes its broadcasting path for a scalar operand).
 */
export const focalScaleOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesFocalScale',
  inputNames: ['values', 'dy'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', scaleSpec),
    wasm: () => fillKernelFunc('wasm', scaleSpec),
  },
  composed: ([v, dy]) => tf.mul(v, dy),
});

/**
 * Gradients a forward kernel computed for an upstream gradient of 1, times
 * the actual scalar upstream gradient `dy`. When `dy` is 1 (the loss is the
 * objective itself) they are handed over unchanged (a clone shares the
 * data). Only for cpu and wasm, where `dy` can be read at once.
 */
export function scaledGradients(unit: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  if (dy.size === 1 && dy.dataSync()[0] === 1) return unit.map((g) => tf.clone(g));
  return unit.map((g) => focalScaleOp([g, dy], {})[0]);
}
