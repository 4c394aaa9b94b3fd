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

/** What {@link fillKernelFunc} runs: outputs sized from the inputs, then filled in place. */
export interface FillKernelSpec {
  /** Input names, in the order `fill` receives them. */
  inputNames: string[];
  /** Output shapes from the input shapes and attrs. */
  outputShapes(inputShapes: number[][], attrs: tf.NamedAttrMap): number[][];
  /** Output dtypes (default: every output float32). */
  outputDtypes?: ('float32' | 'int32')[];
  /**
   * Reads `inputs` and writes every element of every output: on wasm the
   * outputs are fresh heap memory, not zeroed. Must not allocate tensors.
   */
  fill(
    inputs: (Float32Array | Int32Array | Uint8Array)[],
    outputs: (Float32Array | Int32Array)[],
    attrs: tf.NamedAttrMap,
    inputShapes: number[][],
  ): void;
}

/**
 * Wraps a fill-in-place typed-array kernel as a `KernelFunc` for `cpu` or
 * `wasm` without copying. On `cpu` the inputs are the backend's own arrays
 * and the outputs are handed over as they are. On `wasm` every input and
 * output is a view of the backend's heap; the outputs are allocated before
 * any view is taken, because an allocation can grow the heap and detach
 * earlier views. ({@link hostKernelFunc} copies inputs out of and outputs
 * into the wasm heap, which for a one-pass kernel over a few MB costs more
 * than the arithmetic.)
 */
export function fillKernelFunc(backendName: HostBackendName, spec: FillKernelSpec): tf.KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const infos = spec.inputNames.map((n) => (inputs as Record<string, tf.TensorInfo>)[n]);
    const shapes = infos.map((t) => t.shape.slice());
    const outShapes = spec.outputShapes(shapes, attrs);
    const dtypes = outShapes.map((_, i) => spec.outputDtypes?.[i] ?? 'float32');
    let outInfos: tf.TensorInfo[];
    if (backendName === 'cpu') {
      const b = backend as unknown as CpuLike;
      const outs = outShapes.map((s, i) => {
        const n = s.reduce((a, c) => a * c, 1);
        return dtypes[i] === 'int32' ? new Int32Array(n) : new Float32Array(n);
      });
      const ins = infos.map((t) => b.readSync(t.dataId) as Float32Array | Int32Array | Uint8Array);
      spec.fill(ins, outs, attrs, shapes);
      outInfos = outs.map((values, i) => b.makeTensorInfo(outShapes[i], dtypes[i], values));
    } else {
      const w = backend as unknown as WasmLike & { typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array };
      outInfos = outShapes.map((s, i) => w.makeOutput(s, dtypes[i]));
      const outs = outInfos.map((t) => w.typedArrayFromHeap(t) as Float32Array | Int32Array);
      const ins = infos.map((t) => w.typedArrayFromHeap(t));
      spec.fill(ins, outs, attrs, shapes);
    }
    return outInfos.length === 1 ? outInfos[0] : outInfos;
  };
}
