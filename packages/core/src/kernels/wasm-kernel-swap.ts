import * as tf from '@tensorflow/tfjs-core';

/** One of tfjs-backend-wasm's kernels replaced by core's, and the stock one kept. */
export interface WasmKernelSwap {
  /** Puts the replacement in place once the backend has registered its own kernel; whether it is in place. */
  install(): boolean;
  /** Puts the stock kernel back (tests compare the two). */
  restore(): void;
  /** The backend's own kernel, once seen (the replacement falls back to it). */
  stock(): tf.KernelFunc | undefined;
}

/**
 * Replaces the wasm backend's `kernelName` with `replacement` on `install()`
 * (safe to call any number of times, and before tfjs-backend-wasm is
 * imported: it then returns false), keeping the stock kernel for
 * `restore()` and for the replacement's own fallbacks.
 */
export function wasmKernelSwap(kernelName: string, replacement: tf.KernelFunc): WasmKernelSwap {
  let stock: tf.KernelFunc | undefined;
  const swapTo = (kernelFunc: tf.KernelFunc) => {
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  };
  return {
    install() {
      const current = tf.getKernel(kernelName, 'wasm');
      if (!current) return false;
      if (current.kernelFunc === replacement) return true;
      stock = current.kernelFunc;
      swapTo(replacement);
      return true;
    },
    restore() {
      const current = tf.getKernel(kernelName, 'wasm');
      if (current?.kernelFunc === replacement && stock) swapTo(stock);
    },
    stock: () => stock,
  };
}
