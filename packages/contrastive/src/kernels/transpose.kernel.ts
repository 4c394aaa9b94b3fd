import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc, wasmBackendMemory } from '@tfjs-losses/core';
import { transposeHost, transposeWasm } from './transpose.host';
import { transposeSimd } from './transpose.simd';

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
    wasm: () => fillKernelFunc('wasm', transposeWasm(transposeSimd(wasmBackendMemory()))),
  },
  composed: ([x]) => tf.transpose(x),
});
