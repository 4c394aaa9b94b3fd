import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc, wasmBackendMemory } from '@tfjs-losses/core';
import { EPS_SQ } from '../internal/eps';
import { l2NormalizeGradHost, l2NormalizeHost, l2NormalizeWasm } from './l2-normalize.host';
import { l2NormalizeSimd } from './l2-normalize.simd';

/** Attributes of {@link l2NormalizeOp}. */
export interface L2NormalizeAttrs {
  /** Multiplies the normalized rows (a temperature's inverse; 1 for none). */
  scale: number;
}

/** `x · rsqrt(max(Σx², 1e-24))`: a zero row gives zeros with a finite gradient. */
function composedNormalize([x]: tf.Tensor[], { scale }: L2NormalizeAttrs): tf.Tensor {
  const factor = tf.rsqrt(tf.maximum(tf.sum(tf.square(x), -1, true), EPS_SQ));
  return tf.mul(x, scale === 1 ? factor : tf.mul(factor, scale));
}

/** `∂x` of {@link composedNormalize}: s·r·dy − s·r³·(x·dy)·x, the second term 0 where clamped. */
function composedGrad([dy, x]: tf.Tensor[], { scale }: L2NormalizeAttrs): tf.Tensor {
  const ss = tf.sum(tf.square(x), -1, true);
  const r = tf.rsqrt(tf.maximum(ss, EPS_SQ));
  const a = tf.mul(r, scale);
  const kept = tf.cast(tf.greater(ss, EPS_SQ), 'float32');
  const c = tf.mul(tf.mul(tf.mul(a, tf.square(r)), tf.sum(tf.mul(x, dy), -1, true)), kept);
  return tf.sub(tf.mul(dy, a), tf.mul(x, c));
}

/**
 * `∂x` of {@link l2NormalizeOp} from `[dy, x]`. A first-order primitive:
 * it has no gradient of its own.
 */
export const l2NormalizeGradOp = defineFusedOp<L2NormalizeAttrs>({
  kernelName: 'TfjsLossesL2NormalizeGrad',
  inputNames: l2NormalizeGradHost.inputNames,
  kernels: {
    cpu: () => fillKernelFunc('cpu', l2NormalizeGradHost),
    wasm: () => fillKernelFunc('wasm', l2NormalizeWasm(l2NormalizeSimd(wasmBackendMemory())).grad),
  },
  composed: composedGrad,
});

/**
 * `scale · x / max(‖x‖₂, 1e-12)` along the last axis (PyTorch's
 * `F.normalize`, times a constant): one kernel forward and one backward on
 * `cpu` and `wasm` (WebAssembly SIMD loops there for row lengths that are
 * multiples of 4), where the composed form takes five kernels forward and
 * about ten backward. Elsewhere the composed form, differentiated by tfjs.
 */
export const l2NormalizeOp = defineFusedOp<L2NormalizeAttrs>({
  kernelName: 'TfjsLossesL2Normalize',
  inputNames: l2NormalizeHost.inputNames,
  kernels: {
    cpu: () => fillKernelFunc('cpu', l2NormalizeHost),
    wasm: () => fillKernelFunc('wasm', l2NormalizeWasm(l2NormalizeSimd(wasmBackendMemory())).forward),
  },
  composed: composedNormalize,
  gradient: ([dy], [x], attrs) => [l2NormalizeGradOp([dy, x], attrs)[0]],
});
