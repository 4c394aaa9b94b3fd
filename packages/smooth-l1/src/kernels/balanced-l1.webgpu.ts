import type * as tf from '@tensorflow/tfjs-core';
import { balancedL1Constants, type BalancedL1Attrs } from './balanced-l1.constants';
import type { ProgramUniforms, WebGPUBackendLike, WebGPUProgram } from '@tfjs-losses/core';
import { differenceProgram, type Mode } from './smooth-l1.webgpu';

/* WGSL kernels of elementwise Balanced L1 (formulas in balanced-l1.cpu.ts), one invocation per element. */

function balancedL1Program(shape: number[], mode: Mode): WebGPUProgram {
  const body =
    mode === 'loss'
      ? `
    var loss = uniforms.atBeta + uniforms.gamma * (x - uniforms.beta);
    if (x < uniforms.beta) {
      loss = uniforms.alpha * ((x + uniforms.invB) * lossLog1p((x / uniforms.beta) * uniforms.b) - x);
    }
    setOutputAtIndex(index, loss);`
      : `
    var slope = uniforms.gamma;
    if (x < uniforms.beta) {
      let bx = uniforms.b * x;
      slope = uniforms.alpha * lossLog1p((x / uniforms.beta) * uniforms.b) + uniforms.alpha * (bx + 1.0) / (bx + uniforms.beta) - uniforms.alpha;
    }
    setOutputAtIndex(index, uniforms.gradSign * f32(dyV[index]) * lossSign(d) * slope);`;
  return differenceProgram(shape, mode, {
    moreInputs: [],
    uniforms: 'alpha : f32, gamma : f32, beta : f32, b : f32, invB : f32, atBeta : f32, gradSign : f32,',
    shaderKey: `tfjsLossesBalancedL1_${mode}`,
    body: `let x = abs(d);
    ${body}`,
  });
}

function uniformValues(attrs: tf.NamedAttrMap | undefined, gradSign: number): ProgramUniforms {
  const { alpha, gamma, beta } = attrs as unknown as BalancedL1Attrs;
  const { b, invB, atBeta } = balancedL1Constants(alpha, gamma, beta);
  return [alpha, gamma, beta, b, invB, atBeta, gradSign].map((v) => ({ type: 'float32', data: [v] }));
}

/** Loss kernel: inputs pred, target; output the per-element loss. */
export const balancedL1ForwardWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { pred, target } = inputs as Record<'pred' | 'target', tf.TensorInfo>;
  const program = balancedL1Program(pred.shape, 'loss');
  return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(program, [pred, target], 'float32', uniformValues(attrs, 1));
};

/** Gradient kernel: inputs dy, pred, target; outputs d/dpred and d/dtarget (a dispatch each). */
export const balancedL1GradWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, pred, target } = inputs as Record<'dy' | 'pred' | 'target', tf.TensorInfo>;
  const run = (sign: number) =>
    (backend as unknown as WebGPUBackendLike).runWebGPUProgram(balancedL1Program(pred.shape, 'grad'), [dy, pred, target], 'float32', uniformValues(attrs, sign));
  return [run(1), run(-1)];
};
