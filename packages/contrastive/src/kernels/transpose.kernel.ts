import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp } from '@tfjs-losses/core';
import { transposeHost } from './transpose.host';
import { typedKernelFunc } from './typed-kernel';

/**
 * Transpose of a large float32 matrix (the softmax P in the backward pass):
 * a tiled typed-array kernel on `cpu` and `wasm`, `tf.transpose` elsewhere.
 * A forward primitive used inside a custom gradient.
 */
export const transposeMatrixOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesTransposeMatrix',
  inputNames: ['x'],
  kernels: {
    cpu: () => typedKernelFunc('cpu', ['x'], transposeHost),
    wasm: () => typedKernelFunc('wasm', ['x'], transposeHost),
  },
  composed: ([x]) => tf.transpose(x),
});
