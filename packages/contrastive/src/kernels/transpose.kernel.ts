import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc } from '@tfjs-losses/core';
import { transposeHost } from './transpose.host';

/**
 * Transpose of a large float32 matrix (the softmax P in the backward pass):
 * a tiled typed-array kernel on `cpu` and `wasm`, `tf.transpose` elsewhere.
 * A forward primitive used inside a custom gradient.
 */
export const transposeMatrixOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesTransposeMatrix',
  inputNames: transposeHost.inputNames,
  kernels: {
    cpu: () => fillKernelFunc('cpu', transposeHost),
    wasm: () => fillKernelFunc('wasm', transposeHost),
  },
  composed: ([x]) => tf.transpose(x),
});
