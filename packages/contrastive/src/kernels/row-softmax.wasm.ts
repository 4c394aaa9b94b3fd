import * as tf from '@tensorflow/tfjs-core';
import { EXCLUDED } from '../internal/excluded';
import { DROPPED } from './row-softmax.host';

type WasmBackend = {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(id: tf.DataId): boolean;
};

/** `out = x + bias` (bias `[m]` or `[n, m]`), then EXCLUDED on the diagonal. */
function maskLogits(x: Float32Array, b: Float32Array, out: Float32Array, n: number, m: number, biasRank: number, excludeDiagonal: boolean): void {
  if (biasRank === 0) {
    out.set(x);
  } else if (biasRank === 2) {
    for (let k = 0; k < n * m; k++) out[k] = x[k] + b[k];
  } else {
    for (let i = 0; i < n; i++) {
      const row = i * m;
      for (let j = 0; j < m; j++) out[row + j] = x[row + j] + b[j];
    }
  }
  if (excludeDiagonal) {
    const k = Math.min(n, m);
    for (let i = 0; i < k; i++) out[i * m + i] = EXCLUDED;
  }
}

/** Probabilities at or above this are normal floats, as precise (relatively) as the largest. */
const PRECISE = 1e-30;

/**
 * Per row, the log-sum-exp from the softmax: lse = s_ij − log p_ij at the
 * first kept entry whose probability is a normal float (usually the first
 * entry: no full read of the row; the row maximum is not needed, since p_ij
 * is as precise relatively as the largest). A row whose every entry is
 * dropped gets p = 0 and lse = EXCLUDED, as the cpu kernel; a NaN row stays
 * NaN.
 */
function lseFromSoftmax(s: Float32Array, p: Float32Array, lse: Float32Array, picked: Float32Array, n: number, m: number, shift: number): void {
  for (let i = 0; i < n; i++) {
    const row = i * m;
    let at = -1;
    for (let k = row; k < row + m; k++) {
      if (p[k] >= PRECISE && s[k] > DROPPED) {
        at = k;
        break;
      }
    }
    if (at >= 0) {
      lse[i] = s[at] - Math.log(p[at]);
    } else if (Number.isNaN(p[row])) {
      lse[i] = Number.NaN;
    } else {
      p.fill(0, row, row + m);
      lse[i] = EXCLUDED;
    }
    if (shift < 0) {
      picked[i] = lse[i];
    } else {
      // −log p_target where p is a normal float (then it cancels exactly
      // when p rounds to 1), else from the log-sum-exp.
      const t = row + ((i + shift) % m);
      picked[i] = p[t] >= PRECISE ? -Math.log(p[t]) : lse[i] - s[t];
    }
  }
}

/**
 * The masked row softmax on `wasm` as one kernel: the masked logits are
 * written once (a heap-to-heap copy when there is no bias), the softmax is
 * the backend's own (XNNPACK, whose vectorized exponential is an order of
 * magnitude faster than `Math.exp` or the backend's `Exp`), and the
 * log-sum-exp (and the target's cross-entropy) comes from a few reads per
 * row of the probabilities.
 */
export function rowSoftmaxWasm(): tf.KernelFunc {
  const softmax = tf.getKernel('Softmax', 'wasm');
  if (!softmax) throw new Error('rowSoftmaxWasm: the wasm backend has no Softmax kernel');
  return ({ inputs, backend, attrs = {} }) => {
    const w = backend as unknown as WasmBackend;
    const { logits, bias } = inputs as { logits: tf.TensorInfo; bias: tf.TensorInfo };
    const [n, m] = logits.shape;
    const excludeDiagonal = Boolean(attrs.excludeDiagonal);
    const masked = bias.shape.length > 0 || excludeDiagonal;
    let src = logits;
    if (masked) {
      src = w.makeOutput([n, m], 'float32');
      const x = w.typedArrayFromHeap(logits);
      const b = w.typedArrayFromHeap(bias);
      maskLogits(x, b, w.typedArrayFromHeap(src), n, m, bias.shape.length, excludeDiagonal);
    }
    const p = softmax.kernelFunc({ inputs: { logits: src }, backend, attrs: { dim: 1 } }) as tf.TensorInfo;
    const lse = w.makeOutput([n], 'float32');
    const picked = w.makeOutput([n], 'float32');
    const shift = (attrs.targetShift as number | undefined) ?? -1;
    if (n * m > 0) {
      const views = [src, p, lse, picked].map((t) => w.typedArrayFromHeap(t));
      lseFromSoftmax(views[0], views[1], views[2], views[3], n, m, shift);
    } else {
      w.typedArrayFromHeap(lse).fill(EXCLUDED);
      w.typedArrayFromHeap(picked).fill(EXCLUDED);
    }
    if (masked) w.disposeData(src.dataId);
    return [lse, p, picked];
  };
}
