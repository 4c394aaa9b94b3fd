import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp } from '@tfjs-losses/core';
import { symmetrizeHost } from './symmetrize.host';
import { typedKernelFunc } from './typed-kernel';

/** Composed form (webgpu, and the oracle of the host kernels): M = g ⊙_rows P, M + Mᵀ. */
function composed([p, g]: tf.Tensor[]): tf.Tensor {
  const m = tf.mul(p, tf.reshape(g, [-1, 1]));
  return tf.add(m, tf.transpose(m));
}

/**
 * `K = G·P + (G·P)ᵀ` for a square `P [n, n]` and row factors `g [n]`: the
 * gradient of a symmetric similarity matrix folded into one operand, so the
 * backward pass of `S = c·cᵀ` is a single matMul `K · c`. A forward
 * primitive used inside a custom gradient.
 */
export const symmetrizeOp = defineFusedOp<Record<string, never>>({
  kernelName: 'TfjsLossesSymmetrizeRows',
  inputNames: ['p', 'g'],
  kernels: {
    cpu: () => typedKernelFunc('cpu', ['p', 'g'], symmetrizeHost),
    wasm: () => typedKernelFunc('wasm', ['p', 'g'], symmetrizeHost),
  },
  composed,
});
