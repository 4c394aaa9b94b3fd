import type * as tf from '@tensorflow/tfjs-core';
import { wasmKernelSwap } from './wasm-kernel-swap';

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
  if (x.dtype === 'string') return (swap.stock() as tf.KernelFunc)({ inputs, backend, attrs: {} });
  (backend as unknown as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

const swap = wasmKernelSwap('Identity', sharedIdentity);

/**
 * Replaces the wasm backend's Identity kernel with {@link sharedIdentity}
 * once tfjs-backend-wasm has registered its own (importing that package
 * does). Safe to call any number of times; returns whether the shared kernel
 * is in place. Core calls it on import, from `setupBackend` and when a fused
 * op first runs on wasm.
 */
export function shareWasmIdentity(): boolean {
  return swap.install();
}

/** Puts tfjs-backend-wasm's copying Identity back (tests compare the two). */
export function restoreWasmIdentity(): void {
  swap.restore();
}
