import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc } from '@tfjs-losses/core';
import { EPS_SQ } from '../internal/eps';
import { pairedLogitsBackwardHost, pairedLogitsForwardHost } from './paired-logits.host';

/**
 * `[S, r, keep]` of the paired logits `S_im = q_i · n_im / max(‖n_im‖, 1e-12)`
 * for `q [N, D]`, `n [N, M, D]`. Composed form: webgpu, and the oracle of the
 * host kernel (wasm's batched matMul and its broadcasting multiply over
 * [N, M, D] are slow paths, so cpu and wasm run one typed-array loop).
 */
export const pairedLogitsForwardOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesPairedLogits',
  inputNames: pairedLogitsForwardHost.inputNames,
  kernels: {
    cpu: () => fillKernelFunc('cpu', pairedLogitsForwardHost),
    wasm: () => fillKernelFunc('wasm', pairedLogitsForwardHost),
  },
  composed: ([q, n]) => {
    const ss = tf.sum(tf.square(n), 2);
    const r = tf.rsqrt(tf.maximum(ss, EPS_SQ));
    const dot = tf.sum(tf.mul(n, tf.expandDims(q, 1)), 2);
    return [tf.mul(dot, r), r, tf.cast(tf.greater(ss, EPS_SQ), 'float32')];
  },
});

/** `[∂q, ∂n]` of the paired logits from `∂S` (see the host kernel for the formulas). */
export const pairedLogitsBackwardOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesPairedLogitsGrad',
  inputNames: pairedLogitsBackwardHost.inputNames,
  kernels: {
    cpu: () => fillKernelFunc('cpu', pairedLogitsBackwardHost),
    wasm: () => fillKernelFunc('wasm', pairedLogitsBackwardHost),
  },
  composed: ([ds, q, n, s, r, keep]) => {
    const u = tf.mul(ds, r);
    const c = tf.mul(tf.mul(tf.mul(u, s), r), keep);
    const dq = tf.sum(tf.mul(tf.expandDims(u, 2), n), 1);
    const dn = tf.sub(tf.mul(tf.expandDims(u, 2), tf.expandDims(q, 1)), tf.mul(tf.expandDims(c, 2), n));
    return [dq, dn];
  },
});
