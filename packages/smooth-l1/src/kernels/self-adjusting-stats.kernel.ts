import * as tf from '@tensorflow/tfjs-core';
import { accurateMean, accurateSum, defineFusedOp, fillKernelFunc, viewsInMemory, wasmBackendMemory, type FillKernelSpec } from '@tfjs-losses/core';
import { selfAdjustingStatsWebGPU } from './self-adjusting-stats.webgpu';
import { smoothL1Simd, type SmoothL1Simd } from './smooth-l1.simd';

/*
 * One training update of the self-adjusting loss's statistics: pred and target
 * of shape [..., C] are read as rows × C, stats [3, C] holds the running mean,
 * running variance and beta of n = |pred − target| per column. With the
 * batch's column mean and unbiased (n − 1) variance:
 *
 *   μ ← momentum μ + (1 − momentum) mean,  σ² ← momentum σ² + (1 − momentum) var
 *   beta = clamp(μ − σ², 1e-3, betaMax)
 *
 * and nothing changes when some column's variance is NaN. Statistics only
 * (run outside the tape): no gradient. One kernel on cpu and wasm (two
 * float64 passes over the data: the means, then the squared deviations;
 * tfjs's Sum along the first axis transposes the data first on cpu), in
 * place of some twenty small ops; elsewhere composed ops with core's
 * accurate sums.
 */

/** Attributes: momentum in [0, 1] and betaMax > 0, already checked. */
export interface SelfAdjustingStatsAttrs {
  momentum: number;
  betaMax: number;
}

/** Lower clamp of beta (RetinaMask). */
export const BETA_MIN = 1e-3;

/** beta = clamp(mean − var, 1e-3, betaMax), as torch.clamp (betaMax wins if below 1e-3). */
export function betaOf(mean: tf.Tensor, variance: tf.Tensor, betaMax: number): tf.Tensor {
  return tf.minimum(tf.maximum(tf.sub(mean, variance), BETA_MIN), betaMax);
}

/** Packs running mean, running variance and beta as rows of a [3, C] tensor. */
export function packStats(mean: tf.Tensor, variance: tf.Tensor, betaMax: number): tf.Tensor {
  return tf.stack([mean, variance, betaOf(mean, variance, betaMax)]);
}

/** Column means (into `mean`) and unbiased variances (into `variance`) of |p − t|, float64. */
function columnMoments(p: Float32Array, t: Float32Array, mean: Float64Array, variance: Float64Array): void {
  const c = mean.length;
  const n = p.length;
  const rows = n / c;
  for (let i = 0, j = 0; i < n; i++) {
    mean[j] += Math.abs(p[i] - t[i]);
    if (++j === c) j = 0;
  }
  for (let j = 0; j < c; j++) mean[j] /= rows;
  for (let i = 0, j = 0; i < n; i++) {
    const dev = Math.abs(p[i] - t[i]) - mean[j];
    variance[j] += dev * dev;
    if (++j === c) j = 0;
  }
  for (let j = 0; j < c; j++) variance[j] /= rows - 1;
}

/**
 * {@link columnMoments} with the SIMD loops (wasm backend, views of its
 * memory, 1, 2 or 4 columns: lane k of every 4-element group is column
 * k mod C), the last n mod 4 elements in JavaScript. False where it does not apply.
 */
function columnMomentsSimd(simd: SmoothL1Simd, p: Float32Array, t: Float32Array, mean: Float64Array, variance: Float64Array): boolean {
  const c = mean.length;
  if ((c !== 1 && c !== 2 && c !== 4) || !viewsInMemory(simd.memory, [p, t])) return false;
  const n = p.length;
  const rows = n / c;
  const groups = n >> 2;
  const sums = simd.absSums(p.byteOffset, t.byteOffset, groups);
  for (let k = 0; k < 4; k++) mean[k % c] += sums[k];
  for (let i = groups << 2; i < n; i++) mean[i % c] += Math.abs(p[i] - t[i]);
  for (let j = 0; j < c; j++) mean[j] /= rows;
  const squares = simd.devSquares(p.byteOffset, t.byteOffset, groups, mean[0], mean[1 % c], mean[2 % c], mean[3 % c]);
  for (let k = 0; k < 4; k++) variance[k % c] += squares[k];
  for (let i = groups << 2; i < n; i++) {
    const dev = Math.abs(p[i] - t[i]) - mean[i % c];
    variance[i % c] += dev * dev;
  }
  for (let j = 0; j < c; j++) variance[j] /= rows - 1;
  return true;
}

/** The kernel, with the SIMD moments where `simd` is given (wasm). */
function selfAdjustingStats(simd: SmoothL1Simd | null): FillKernelSpec {
  return {
    inputNames: ['pred', 'target', 'stats'],
    outputShapes: (shapes) => [shapes[2]],
    fill: ([pIn, tIn, sIn], [outArr], attrs) => {
      const stats = sIn as Float32Array;
      const out = outArr as Float32Array;
      const c = stats.length / 3;
      const mean = new Float64Array(c);
      const variance = new Float64Array(c);
      const p = pIn as Float32Array;
      const t = tIn as Float32Array;
      if (simd === null || !columnMomentsSimd(simd, p, t, mean, variance)) columnMoments(p, t, mean, variance);
      let skip = false;
      for (let j = 0; j < c; j++) if (Number.isNaN(variance[j])) skip = true;
      if (skip) {
        out.set(stats);
        return;
      }
      // The composed form's float32 constants, so that both paths round alike.
      const { momentum, betaMax } = attrs as unknown as SelfAdjustingStatsAttrs;
      const keep = Math.fround(momentum);
      const take = Math.fround(1 - momentum);
      const lo = Math.fround(BETA_MIN);
      const hi = Math.fround(betaMax);
      for (let j = 0; j < c; j++) {
        const mu = Math.fround(stats[j] * keep + Math.fround(mean[j]) * take);
        const sigma2 = Math.fround(stats[c + j] * keep + Math.fround(variance[j]) * take);
        out[j] = mu;
        out[c + j] = sigma2;
        out[2 * c + j] = Math.min(Math.max(Math.fround(mu - sigma2), lo), hi);
      }
    },
  };
}

/** (pred, target, stats [3, C]) → the updated stats [3, C]. */
export const selfAdjustingStatsOp = defineFusedOp<SelfAdjustingStatsAttrs>({
  kernelName: 'TfjsLossesSelfAdjustingStats',
  inputNames: ['pred', 'target', 'stats'],
  kernels: {
    cpu: () => fillKernelFunc('cpu', selfAdjustingStats(null)),
    wasm: () => fillKernelFunc('wasm', selfAdjustingStats(smoothL1Simd(wasmBackendMemory()))),
    webgpu: () => selfAdjustingStatsWebGPU,
  },
  composed: ([p, t, stats], { momentum, betaMax }) =>
    tf.tidy(() => {
      const c = p.shape[p.rank - 1] as number;
      const rows = p.size / c;
      const n = tf.reshape(tf.abs(tf.sub(p, t)), [rows, c]);
      const batchMean = accurateMean(n, 0);
      const batchVar = tf.div(accurateSum(tf.square(tf.sub(n, batchMean)), 0), rows - 1);
      const [oldMean, oldVar] = tf.unstack(stats);
      const skip = tf.any(tf.isNaN(batchVar));
      const newMean = tf.where(skip, oldMean, tf.add(tf.mul(oldMean, momentum), tf.mul(batchMean, 1 - momentum)));
      const newVar = tf.where(skip, oldVar, tf.add(tf.mul(oldVar, momentum), tf.mul(batchVar, 1 - momentum)));
      return packStats(newMean, newVar, betaMax);
    }),
});
