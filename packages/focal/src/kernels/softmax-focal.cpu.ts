import type { HostArray, HostOutput } from '@tfjs-losses/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { SoftmaxFocalAttrs } from './softmax-focal.kernel';

/*
 * Typed-array kernels (cpu and wasm backends), a row at a time in float64.
 * For a row z with label y: mo = max over the other classes, so = sum over
 * them of exp(z_k - mo), so log(1 - p_y) = mo + log(so) - lse with
 * lse = log(exp(z_y) + exp(mo) so): one exp per logit, no cancellation.
 * Labels outside [0, C) mark ignored rows (loss 0, gradient 0).
 */

interface RowStats {
  logpt: number;
  /** log(1 - p_y) */
  log1mpt: number;
  /** sum over the other classes of exp(z_k - their max) */
  so: number;
}

/**
 * Statistics of one row. When `exps` is given, exp(z_k - max over the others)
 * is left in it for k != y (the backward pass reuses them).
 */
function rowStats(z: HostArray['values'], base: number, C: number, y: number, exps?: Float32Array): RowStats {
  let mo = -Infinity;
  for (let k = 0; k < C; k++) if (k !== y && z[base + k] > mo) mo = z[base + k];
  let so = 0;
  for (let k = 0; k < C; k++) {
    if (k === y) continue;
    const ek = Math.exp(z[base + k] - mo);
    so += ek;
    if (exps) exps[base + k] = ek;
  }
  const zy = z[base + y];
  const M = zy > mo ? zy : mo;
  const lse = M + Math.log(Math.exp(zy - M) + so * Math.exp(mo - M));
  return { logpt: zy - lse, log1mpt: mo + Math.log(so) - lse, so };
}

/** Per-row loss. Inputs: logits [N, C], labels [N], alpha [C]. */
export function softmaxFocalForwardHost([x, labels, alpha]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { gamma } = attrs as unknown as SoftmaxFocalAttrs;
  const [N, C] = x.shape;
  const out = new Float32Array(N);
  const z = x.values;
  for (let n = 0; n < N; n++) {
    const y = labels.values[n];
    // One class: p_y = 1 and the loss is 0.
    if (y < 0 || y >= C || C === 1) continue;
    const { logpt, log1mpt } = rowStats(z, n * C, C, y);
    const w = gamma === 0 ? 1 : Math.exp(gamma * log1mpt);
    out[n] = -alpha.values[y] * w * logpt;
  }
  return [{ values: out, shape: [N], dtype: 'float32' }];
}

/**
 * d/dlogits of sum(dy * loss). Inputs: logits [N, C], labels [N], alpha [C], dy [N].
 * With g_y = -alpha_y w ((1 - p_y) - gamma p_y log p_y) dy, the row's gradient
 * is g_y at y and -g_y softmax-over-the-others elsewhere.
 */
export function softmaxFocalBackwardHost([x, labels, alpha, dy]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { gamma } = attrs as unknown as SoftmaxFocalAttrs;
  const [N, C] = x.shape;
  const out = new Float32Array(N * C);
  const z = x.values;
  for (let n = 0; n < N; n++) {
    const y = labels.values[n];
    if (y < 0 || y >= C || C === 1) continue;
    const base = n * C;
    const { logpt, log1mpt, so } = rowStats(z, base, C, y, out);
    const w = gamma === 0 ? 1 : Math.exp(gamma * log1mpt);
    const gy = -alpha.values[y] * w * (Math.exp(log1mpt) - gamma * Math.exp(logpt) * logpt) * dy.values[n];
    const scale = -gy / so;
    for (let k = 0; k < C; k++) out[base + k] *= scale;
    out[base + y] = gy;
  }
  return [{ values: out, shape: [N, C], dtype: 'float32' }];
}
