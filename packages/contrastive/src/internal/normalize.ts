import * as tf from '@tensorflow/tfjs-core';
import { l2NormalizeOp } from '../kernels/l2-normalize.kernel';


/**
 * `x / max(‖x‖₂, 1e-12)` along the last axis, as PyTorch's
 * `F.normalize(x, dim=-1)`, as `x · rsqrt(max(Σx², 1e-24))` so that a zero
 * vector gives a zero vector with a finite gradient (no `sqrt(0)` in the
 * backward pass). `scale` (a number or a scalar tensor) multiplies the
 * result: a number inside the fused kernel, a tensor (a learnable
 * temperature) by one more multiply.
 */
export function l2Normalize(x: tf.Tensor, scale?: number | tf.Tensor): tf.Tensor {
  const s = typeof scale === 'number' ? scale : 1;
  const y = l2NormalizeOp([x], { scale: s })[0];
  return scale instanceof tf.Tensor ? tf.mul(y, scale) : y;
}
