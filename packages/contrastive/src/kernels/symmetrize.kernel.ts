import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, fillKernelFunc, wasmBackendMemory } from '@tfjs-losses/core';
import { symmetrizeHost, symmetrizeWasm } from './symmetrize.host';
import { symmetrizeSimd } from './symmetrize.simd';
import { targetIndices } from './row-softmax.kernel';

/** Attributes of {@link symmetrizeOp}. */
export interface SymmetrizeAttrs {
  /** Subtract the one-hot of row i's target column (i + targetShift) mod n from P (−1: none). */
  targetShift?: number;
}

/** Composed form (webgpu, and the oracle of the host kernels): M = g ⊙_rows (P − T), M + Mᵀ. */
function composed([p, g]: tf.Tensor[], { targetShift }: SymmetrizeAttrs): tf.Tensor {
  const n = p.shape[0];
  const target = targetIndices(n, n, targetShift);
  // P − T: the target entries lowered by 1.
  const q = target ? tf.tensorScatterUpdate(p, target, tf.sub(tf.gatherND(p, target), 1)) : p;
  const m = tf.mul(q, tf.reshape(g, [-1, 1]));
  return tf.add(m, tf.transpose(m));
}

/**
 * `K = G·P + (G·P)ᵀ` for a square `P [n, n]` and row factors `g [n]` (P − T
 * with a target column, see {@link SymmetrizeAttrs}): the
 * gradient of a symmetric similarity matrix folded into one operand, so the
 * backward pass of `S = c·cᵀ` is a single matMul `K · c`. A forward
 * primitive used inside a custom gradient.
 */
export const symmetrizeOp = defineFusedOp<SymmetrizeAttrs>({
  kernelName: 'TfjsLossesSymmetrizeRows',
  inputNames: symmetrizeHost.inputNames,
  kernels: {
    cpu: () => fillKernelFunc('cpu', symmetrizeHost),
    wasm: () => fillKernelFunc('wasm', symmetrizeWasm(symmetrizeSimd(wasmBackendMemory()))),
  },
  composed,
});
