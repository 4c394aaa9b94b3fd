import type * as tf from '@tensorflow/tfjs-core';

/** Backends whose tensors live in CPU memory and can run a JS kernel. */
export type HostBackendName = 'cpu' | 'wasm';

/** An input handed to a {@link HostKernel}: its values and shape. */
export interface HostArray {
  values: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: tf.DataType;
}

/** An output of a {@link HostKernel}. */
export interface HostOutput {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/** A kernel over typed arrays: inputs in kernel order, attrs as given to `runKernel`. */
export type HostKernel = (inputs: HostArray[], attrs: tf.NamedAttrMap) => HostOutput[];

type CpuLike = {
  readSync(id: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
};
type WasmLike = {
  readSync(id: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
};

/**
 * Wraps a typed-array kernel as a tfjs `KernelFunc` for the `cpu` or `wasm`
 * backend: reads each input's values from the backend, runs `fn`, and hands
 * the outputs back in that backend's memory.
 */
export function hostKernelFunc(backendName: HostBackendName, inputNames: string[], fn: HostKernel): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const arrays: HostArray[] = inputNames.map((n) => {
      const t = (inputs as Record<string, tf.TensorInfo>)[n];
      const values = (backend as unknown as CpuLike).readSync(t.dataId) as HostArray['values'];
      return { values, shape: t.shape.slice(), dtype: t.dtype };
    });
    const outs = fn(arrays, attrs ?? {});
    const infos = outs.map((o) => {
      if (backendName === 'cpu') return (backend as unknown as CpuLike).makeTensorInfo(o.shape, o.dtype, o.values);
      const w = backend as unknown as WasmLike;
      const info = w.makeOutput(o.shape, o.dtype);
      if (o.values.length > 0) w.typedArrayFromHeap(info).set(o.values);
      return info;
    });
    return infos.length === 1 ? infos[0] : infos;
  };
}
