import * as tf from '@tensorflow/tfjs-core';
import { accurateMean, accurateSum, defineFusedOp } from '@tfjs-losses/core';
import { hostKernel, type HostKernelSpec } from './host-kernel';

/*
 * Column moments of n = |pred − target| for the self-adjusting loss: pred and
 * target of shape [..., C] are read as rows × C, and the output [2, C] holds
 * the mean and the unbiased (n − 1) variance of each column. Statistics only
 * (computed outside the tape): no gradient. A kernel for cpu and wasm (tfjs's
 * Sum along the first axis transposes the data first on cpu); elsewhere
 * composed ops with core's accurate sums.
 */

/** Two passes per column in float64: the mean, then the squared deviations. */
export const absErrorMoments: HostKernelSpec = {
  inputNames: ['pred', 'target'],
  outputShapes: (shapes) => [[2, shapes[0][shapes[0].length - 1]]],
  fill: ([p, t], [out], _attrs, shapes) => {
    const c = shapes[0][shapes[0].length - 1];
    const rows = c > 0 ? p.length / c : 0;
    const mean = new Float64Array(c);
    for (let i = 0, j = 0; i < p.length; i++) {
      mean[j] += Math.abs(p[i] - t[i]);
      if (++j === c) j = 0;
    }
    for (let j = 0; j < c; j++) mean[j] /= rows;
    const m2 = new Float64Array(c);
    for (let i = 0, j = 0; i < p.length; i++) {
      const dev = Math.abs(p[i] - t[i]) - mean[j];
      m2[j] += dev * dev;
      if (++j === c) j = 0;
    }
    for (let j = 0; j < c; j++) {
      out[j] = mean[j];
      out[c + j] = m2[j] / (rows - 1);
    }
  },
};

/** (pred, target) → [2, C]: per-column mean and unbiased variance of |pred − target|. */
export const absErrorMomentsOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesAbsErrorMoments',
  inputNames: ['pred', 'target'],
  kernels: {
    cpu: () => hostKernel('cpu', absErrorMoments),
    wasm: () => hostKernel('wasm', absErrorMoments),
  },
  composed: ([p, t]) =>
    tf.tidy(() => {
      const c = p.shape[p.rank - 1] as number;
      const rows = p.size / c;
      const n = tf.reshape(tf.abs(tf.sub(p, t)), [rows, c]);
      const mean = accurateMean(n, 0);
      const variance = tf.div(accurateSum(tf.square(tf.sub(n, mean)), 0), rows - 1);
      return tf.stack([mean, variance]);
    }),
});
