import * as tf from '@tensorflow/tfjs-core';

const absImpl = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.abs(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sign(saved[0])),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * `|x|` whose gradient at exactly 0 is 0, as in PyTorch (tfjs's `abs` gives
 * -1 there, so a prediction equal to its target would still be pushed).
 */
export function absZeroGrad(x: tf.Tensor): tf.Tensor {
  return absImpl(x) as tf.Tensor;
}
