import type * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout, WGSL_MAIN, type WebGPUBackendLike, type WebGPUProgram } from '@tfjs-losses/core';

/*
 * WGSL for the step after the sort in the composed Lovasz extension: from
 * the sorted errors, their positions and the running foreground count,
 * the Jaccard step of every entry, written straight to the entry's original
 * position. Typed with core's structural program types, so the package
 * needs no direct dependency on @tensorflow/tfjs-backend-webgpu.
 */

/**
 * One invocation per sorted entry (row r, rank i): with F the row's
 * foreground count and c_i the foreground count among ranks 0..i,
 * J(i) = 1 − (F − c_i) / (F + i + 1 − c_i); the entry's weight is
 * J(i) − J(i − 1) (J(−1) = 0) where its error is > 0, else 0, stored at
 * [r, order[r, i]]. Each output element is written exactly once (a row's
 * order is a permutation). Inputs are read through f32()/i32(): tfjs-webgpu
 * may keep a float32 tensor cast from int32 or bool in an i32 buffer.
 */
class JaccardWeightsProgram implements WebGPUProgram {
  variableNames = ['sortedErrors', 'order', 'cumFg', 'fgTotal'];
  outputShape: number[];
  shaderKey = 'tfjsLossesLovaszJaccardWeights';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size = true;
  uniforms = 'rowLength : i32,';

  constructor(shape: number[]) {
    const layout = elementwiseLayout(shape);
    this.outputShape = layout.outputShape;
    this.dispatchLayout = layout.dispatchLayout;
    this.dispatch = layout.dispatch;
    this.workgroupSize = layout.workgroupSize;
  }

  getUserCode(): string {
    return `
fn lovaszJaccard(total : f32, fgSeen : f32, seen : f32) -> f32 {
  return 1.0 - (total - fgSeen) / (total + (seen - fgSeen));
}
${WGSL_MAIN} {
  if (index < uniforms.size) {
    let n = uniforms.rowLength;
    let row = index / n;
    let i = index - row * n;
    let total = f32(fgTotal[row]);
    let jac = lovaszJaccard(total, f32(cumFg[index]), f32(i + 1));
    var prev = 0.0;
    if (i > 0) {
      prev = lovaszJaccard(total, f32(cumFg[index - 1]), f32(i));
    }
    var w = 0.0;
    if (f32(sortedErrors[index]) > 0.0) {
      w = jac - prev;
    }
    setOutputAtIndex(row * n + i32(order[index]), w);
  }
}`;
  }
}

/** Kernel: inputs sortedErrors, order (int32), cumFg [R, N] and fgTotal [R, 1]; output the weights [R, N]. */
export const jaccardWeightsWebGPU: tf.KernelFunc = ({ inputs, backend }) => {
  const { sortedErrors, order, cumFg, fgTotal } = inputs as Record<string, tf.TensorInfo>;
  const program = new JaccardWeightsProgram(sortedErrors.shape);
  return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(program, [sortedErrors, order, cumFg, fgTotal], 'float32', [
    { type: 'int32', data: [sortedErrors.shape[1]] },
  ]);
};
