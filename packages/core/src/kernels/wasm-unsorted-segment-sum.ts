import * as tf from '@tensorflow/tfjs-core';
import { hostKernelFunc } from './typed-array-kernel';

/**
 * tfjs-backend-wasm 4.22 has no UnsortedSegmentSum, so `tf.gather`'s gradient
 * fails there (tfjs issue 8082). This typed-array kernel fills the gap; it is
 * registered only when the wasm backend has none of its own.
 */
export function registerWasmUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: hostKernelFunc('wasm', ['x', 'segmentIds'], ([x, ids], attrs) => {
      const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
      const inner = x.shape.slice(ids.shape.length).reduce((a, b) => a * b, 1);
      const outShape = [numSegments, ...x.shape.slice(ids.shape.length)];
      const isInt = x.dtype === 'int32';
      const out = isInt ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      const xv = x.values;
      const idv = ids.values;
      for (let i = 0; i < idv.length; i++) {
        const s = idv[i];
        if (s < 0 || s >= numSegments) continue;
        const src = i * inner;
        const dst = s * inner;
        for (let j = 0; j < inner; j++) out[dst + j] += xv[src + j];
      }
      return [{ values: out, shape: outShape, dtype: isInt ? 'int32' : 'float32' }];
    }),
  });
}
