import type * as tf from '@tensorflow/tfjs-core';
import { hostKernelFunc } from '@tfjs-losses/core';

/**
 * A float32 kernel over typed arrays: output shapes from the input shapes,
 * then `run` fills the outputs (every element: wasm's fresh buffers are not
 * zeroed).
 */
export interface TypedKernel {
  outputShapes(inputShapes: number[][], attrs: tf.NamedAttrMap): number[][];
  run(inputs: Float32Array[], inputShapes: number[][], outputs: Float32Array[], attrs: tf.NamedAttrMap): void;
}

type WasmBackendLike = {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
};

/**
 * A `KernelFunc` for `cpu` (through core's `hostKernelFunc`) or `wasm`. On
 * wasm the kernel reads and writes the backend's heap directly: outputs are
 * allocated first (allocation may grow, and so move, the heap), then every
 * input and output is viewed in place, with no copy in or out (core's
 * generic wrapper copies both ways, which for a 2048x2048 matrix cost more
 * than the loop itself).
 */
export function typedKernelFunc(backendName: 'cpu' | 'wasm', inputNames: string[], kernel: TypedKernel): tf.KernelFunc {
  if (backendName === 'cpu') {
    return hostKernelFunc('cpu', inputNames, (arrays, attrs) => {
      const shapes = arrays.map((a) => a.shape);
      const outShapes = kernel.outputShapes(shapes, attrs);
      const outs = outShapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
      kernel.run(arrays.map((a) => a.values as Float32Array), shapes, outs, attrs);
      return outs.map((values, i) => ({ values, shape: outShapes[i], dtype: 'float32' as const }));
    });
  }
  return ({ inputs, backend, attrs = {} }) => {
    const w = backend as unknown as WasmBackendLike;
    const infos = inputNames.map((n) => (inputs as Record<string, tf.TensorInfo>)[n]);
    const shapes = infos.map((t) => t.shape.slice());
    const outInfos = kernel.outputShapes(shapes, attrs).map((s) => w.makeOutput(s, 'float32'));
    const outs = outInfos.map((t) => w.typedArrayFromHeap(t));
    kernel.run(infos.map((t) => w.typedArrayFromHeap(t)), shapes, outs, attrs);
    return outInfos.length === 1 ? outInfos[0] : outInfos;
  };
}
