import type * as tf from '@tensorflow/tfjs-core';
import { hostKernelFunc, type HostKernel } from '@tfjs-losses/core';

/*
 * Typed-array kernels for the cpu and wasm backends, written once as "read
 * these float32 inputs, fill these float32 outputs". On cpu they run through
 * core's hostKernelFunc. On wasm they work on views of the wasm heap instead:
 * hostKernelFunc copies every input out of the heap and every output back in,
 * which for these one-pass kernels cost more than the arithmetic (about 3 ms
 * per 4 MB buffer here). Outputs are allocated first, since an allocation can
 * grow the heap and detach views taken before it.
 */

/** Inputs (float32 values) and outputs to fill, in declared order. */
export type FillKernel = (inputs: ArrayLike<number>[], outputs: Float32Array[], attrs: tf.NamedAttrMap, shapes: number[][]) => void;

/** What a kernel reads and writes. */
export interface HostKernelSpec {
  inputNames: string[];
  /** Output shapes from the input shapes. */
  outputShapes: (inputShapes: number[][]) => number[][];
  fill: FillKernel;
}

type WasmBackendLike = {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
};

function cpuKernel(spec: HostKernelSpec): tf.KernelFunc {
  const run: HostKernel = (inputs, attrs) => {
    const shapes = inputs.map((x) => x.shape);
    const outShapes = spec.outputShapes(shapes);
    const outputs = outShapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
    spec.fill(
      inputs.map((x) => x.values),
      outputs,
      attrs,
      shapes,
    );
    return outputs.map((values, i) => ({ values, shape: outShapes[i], dtype: 'float32' as const }));
  };
  return hostKernelFunc('cpu', spec.inputNames, run);
}

function wasmKernel(spec: HostKernelSpec): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const w = backend as unknown as WasmBackendLike;
    const infos = spec.inputNames.map((n) => (inputs as Record<string, tf.TensorInfo>)[n]);
    const shapes = infos.map((x) => x.shape.slice());
    const outInfos = spec.outputShapes(shapes).map((s) => w.makeOutput(s, 'float32'));
    // Views only after every allocation.
    const outViews = outInfos.map((o) => w.typedArrayFromHeap(o) as Float32Array);
    const inViews = infos.map((x) => w.typedArrayFromHeap(x));
    spec.fill(inViews, outViews, attrs ?? {}, shapes);
    return outInfos.length === 1 ? outInfos[0] : outInfos;
  };
}

/** The kernel function of `spec` for the cpu or wasm backend. */
export function hostKernel(backendName: 'cpu' | 'wasm', spec: HostKernelSpec): tf.KernelFunc {
  return backendName === 'cpu' ? cpuKernel(spec) : wasmKernel(spec);
}
