import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc } from '@tfjs-losses/core';
import { supconPositivesGradHost, supconPositivesHost } from './supcon-positives.host';

/** Attributes of {@link supconPositivesOp} and {@link supconPositivesGradOp}. */
export interface SupconPositivesAttrs {
  /** 1 / temperature. */
  invT: number;
  /** temperature / baseTemperature (forward only). */
  ratio?: number;
}

/** The positive mask M `[R, R]` of view-major rows: same label, diagonal left out. */
function positiveMask(labels: tf.Tensor, rows: number): tf.Tensor {
  const n = labels.shape[0];
  const l = tf.reshape(labels, [n]);
  const rowLabels = rows === n ? l : tf.concat(new Array<tf.Tensor>(rows / n).fill(l), 0);
  const same = tf.cast(tf.equal(tf.reshape(rowLabels, [rows, 1]), tf.reshape(rowLabels, [1, rows])), 'float32');
  return tf.sub(same, tf.eye(rows));
}

/**
 * Per-anchor SupCon value and the gradient's row factors, see the host
 * kernel. A forward primitive used inside a custom gradient.
 */
export const supconPositivesOp = defineFusedOp<SupconPositivesAttrs>({
  kernelName: 'TfjsLossesSupconPositives',
  inputNames: supconPositivesHost.inputNames,
  kernels: {
    cpu: () => fillKernelFunc('cpu', supconPositivesHost),
    wasm: () => fillKernelFunc('wasm', supconPositivesHost),
  },
  composed: ([c, labels, lse], { invT, ratio = 1 }) => {
    const m = positiveMask(labels, c.shape[0]);
    const count = tf.sum(m, 1);
    const possum = tf.mul(tf.sum(tf.mul(c, tf.matMul(m, c)), 1), invT);
    const denom = tf.where(tf.less(count, 1e-6), tf.onesLike(count), count);
    const a = tf.div(count, denom);
    const value = tf.mul(tf.sub(tf.mul(a, lse), tf.div(possum, denom)), ratio);
    return [value, tf.mul(a, ratio), tf.div(ratio, denom)];
  },
});

/** `∂c` of the SupCon value from `W = K·c` and the positives' row factors `h`, see the host kernel. */
export const supconPositivesGradOp = defineFusedOp<SupconPositivesAttrs>({
  kernelName: 'TfjsLossesSupconPositivesGrad',
  inputNames: supconPositivesGradHost.inputNames,
  kernels: {
    cpu: () => fillKernelFunc('cpu', supconPositivesGradHost),
    wasm: () => fillKernelFunc('wasm', supconPositivesGradHost),
  },
  composed: ([c, labels, w, h], { invT }) => {
    const m = positiveMask(labels, c.shape[0]);
    const hc = tf.reshape(h, [-1, 1]);
    const mc = tf.add(tf.mul(tf.matMul(m, c), hc), tf.matMul(m, tf.mul(c, hc)));
    return tf.mul(tf.sub(w, mc), invT);
  },
});
