import * as tf from '@tensorflow/tfjs-core';
import { gemm } from '@tfjs-losses/core';
import { matMulBt } from './contrastive-lse';
import { rowSoftmaxOp } from '../kernels/row-softmax.kernel';
import { supconPositivesGradOp, supconPositivesOp } from '../kernels/supcon-positives.kernel';
import { symmetrizeOp } from '../kernels/symmetrize.kernel';

type CustomFn = Parameters<typeof tf.customGrad>[0];

/** True where {@link supconAllViews} runs fused kernels (`cpu`, `wasm`). */
export function supconAllViewsAvailable(): boolean {
  return supconPositivesOp.isFused() && supconPositivesGradOp.isFused();
}

/**
 * SupCon with every view an anchor and label positives, per anchor, for
 * the view-major contrast rows `c [R, D]` and sample labels `labels [N]`
 * (int32; R = V·N, row r is sample r mod N), with a numeric 1/T and the
 * ratio T/T_base. One custom gradient around one similarity matMul
 * `S = c·cᵀ / T`: the positives' logits are summed in D-space per class
 * (never as an `[R, R]` mask), and the backward pass is the symmetric fold
 * `(G·P + (G·P)ᵀ)·c` (one matMul) minus the positives' part, again per
 * class in D-space.
 */
export function supconAllViews(c: tf.Tensor, labels: tf.Tensor, invT: number, ratio: number): tf.Tensor {
  return tf.customGrad(((cc: tf.Tensor, save: tf.GradSaveFunc) => {
    const s = matMulBt(tf.mul(cc, invT), cc);
    const [lse, p] = rowSoftmaxOp([s, tf.scalar(0)], { excludeDiagonal: true });
    const [value, coefA, coefB] = supconPositivesOp([cc, labels, lse], { invT, ratio });
    save([cc, labels, p, coefA, coefB]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [sc, sl, sp, sa, sb]: tf.Tensor[]) => {
        const k = symmetrizeOp([sp, tf.mul(dy, sa)], {})[0];
        return supconPositivesGradOp([sc, sl, gemm(k, sc), tf.mul(dy, sb)], { invT })[0];
      },
    };
  }) as unknown as CustomFn)(c) as tf.Tensor;
}
