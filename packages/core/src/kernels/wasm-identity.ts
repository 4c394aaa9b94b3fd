import * as tf from '@tensorflow/tfjs-core';

type WasmBackendLike = { incRef(dataId: tf.DataId): void };

/**
 * Identity that shares its input's storage, as tfjs's `cpu` backend does:
 * one more reference on the data instead of a copy. tfjs never writes into
 * a tensor's data after creating it (`Variable.assign` swaps the data), so
 * sharing is safe. tfjs-backend-wasm 4.22's Identity copies, and the engine
 * runs Identity for every tensor a gradient saves: a fused loss over two
 * 1M-element inputs paid two 4 MB copies per call for nothing.
 */
const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const x = (inputs as { x: tf.TensorInfo }).x;
  if (x.dtype === 'string') return stockIdentity!({ inputs, backend, attrs: {} });
  (backend as unknown as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

let stockIdentity: tf.KernelFunc | undefined;

/**
 * Replaces the wasm backend's Identity kernel with {@link sharedIdentity}
 * once tfjs-backend-wasm has registered its own (importing that package
 * does). Safe to call any number of times; returns whether the shared kernel
 * is in place. Core calls it on import, from `setupBackend` and when a fused
 * op first runs on wasm.
 */
export function shareWasmIdentity(): boolean {
  const current = tf.getKernel('Identity', 'wasm');
  if (!current) return false;
  if (current.kernelFunc === sharedIdentity) return true;
  stockIdentity = current.kernelFunc;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: sharedIdentity });
  return true;
}

/** Puts tfjs-backend-wasm's copying Identity back (tests compare the two). */
export function restoreWasmIdentity(): void {
  const current = tf.getKernel('Identity', 'wasm');
  if (!current || current.kernelFunc !== sharedIdentity || !stockIdentity) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: stockIdentity });
}
