import * as tf from '@tensorflow/tfjs-core';

type NoInputCustomGrad = () => tf.Tensor;

/**
 * Runs `fn` where no gradient tape records it: the statistics of the stateful
 * losses are computed here, so they never join the caller's `tf.grad` graph
 * (PyTorch's `torch.no_grad()`). It is a `tf.customGrad` with no tensor inputs:
 * tfjs does not tape the ops inside a custom gradient's forward pass, and a tape
 * node without inputs is pruned from every backward pass. Returns one tensor,
 * owned by the caller's scope.
 */
export function untaped(fn: () => tf.Tensor): tf.Tensor {
  const op = tf.customGrad((() => ({ value: fn(), gradFunc: () => [] })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (op as unknown as NoInputCustomGrad)();
}
