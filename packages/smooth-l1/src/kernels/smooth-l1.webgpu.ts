import type * as tf from '@tensorflow/tfjs-core';
import { WGSL_MAIN, WGSL_MATH, elementwiseLayout, type WebGPUBackendLike, type WebGPUProgram } from '@tfjs-losses/core';

/*
 * WGSL kernels of elementwise smooth L1: one invocation per element. beta is
 * a buffer of length 1 or the size of the last axis (index % its length).
 * Inputs are read through f32(): tfjs-webgpu can keep a float32 tensor cast
 * from int32 in its i32 buffer. Buffer names end in V because WGSL reserves
 * words such as `target`.
 */

type Mode = 'loss' | 'grad';

class SmoothL1Program implements WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;

  constructor(shape: number[], readonly mode: Mode) {
    const layout = elementwiseLayout(shape);
    this.outputShape = layout.outputShape;
    this.dispatchLayout = layout.dispatchLayout;
    this.dispatch = layout.dispatch;
    this.workgroupSize = layout.workgroupSize;
    this.size = layout.size;
    this.variableNames = mode === 'loss' ? ['predV', 'targetV', 'betaV'] : ['dyV', 'predV', 'targetV', 'betaV'];
    if (mode === 'grad') this.uniforms = 'gradSign : f32,';
    this.shaderKey = `tfjsLossesSmoothL1_${mode}`;
  }

  getUserCode(): string {
    const body =
      this.mode === 'loss'
        ? `
    var loss = a;
    if (b > 0.0) {
      if (a < b) { loss = a * (0.5 * a / b); } else { loss = a - 0.5 * b; }
    }
    setOutputAtIndex(index, loss);`
        : `
    var slope = lossSign(d);
    if (b > 0.0 && a < b) { slope = d / b; }
    setOutputAtIndex(index, uniforms.gradSign * f32(dyV[index]) * slope);`;
    return `
${WGSL_MATH}
${WGSL_MAIN} {
  if (index < uniforms.size) {
    let d = f32(predV[index]) - f32(targetV[index]);
    let a = abs(d);
    let b = f32(betaV[index % uniforms.betaVShape]);
    ${body}
  }
}`;
  }
}

/** Loss kernel: inputs pred, target, beta; output the per-element loss. */
export const smoothL1ForwardWebGPU: tf.KernelFunc = ({ inputs, backend }) => {
  const { pred, target, beta } = inputs as Record<'pred' | 'target' | 'beta', tf.TensorInfo>;
  const program = new SmoothL1Program(pred.shape, 'loss');
  return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(program, [pred, target, beta], 'float32');
};

/** Gradient kernel: inputs dy, pred, target, beta; outputs d/dpred and d/dtarget (a dispatch each). */
export const smoothL1GradWebGPU: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, pred, target, beta } = inputs as Record<'dy' | 'pred' | 'target' | 'beta', tf.TensorInfo>;
  const b = backend as unknown as WebGPUBackendLike;
  const run = (sign: number) =>
    b.runWebGPUProgram(new SmoothL1Program(pred.shape, 'grad'), [dy, pred, target, beta], 'float32', [{ type: 'float32', data: [sign] }]);
  return [run(1), run(-1)];
};
