import type * as tf from '@tensorflow/tfjs-core';
import { WGSL_MAIN, WGSL_MATH, elementwiseProgram, type WebGPUBackendLike, type WebGPUProgram } from '@tfjs-losses/core';

/*
 * WGSL kernels of elementwise smooth L1: one invocation per element. beta is
 * a buffer of length 1 or the size of the last axis (index % its length).
 * Inputs are read through f32(): tfjs-webgpu can keep a float32 tensor cast
 * from int32 in its i32 buffer. Buffer names end in V because WGSL reserves
 * words such as `target`.
 */

/** The loss (inputs pred, target, ...) or its gradient (inputs dy, pred, target, ...). */
export type Mode = 'loss' | 'grad';

/**
 * An elementwise program of a loss of d = pred - target (also Balanced L1's):
 * inputs [dyV,] predV, targetV, then `moreInputs`; `body` runs per element
 * after `let d = ...` and writes the output at `index`.
 */
export function differenceProgram(
  shape: number[],
  mode: Mode,
  spec: { moreInputs: string[]; uniforms?: string; shaderKey: string; body: string },
): WebGPUProgram {
  return elementwiseProgram({
    shape,
    variableNames: [...(mode === 'grad' ? ['dyV'] : []), 'predV', 'targetV', ...spec.moreInputs],
    uniforms: spec.uniforms,
    shaderKey: spec.shaderKey,
    userCode: () => `
${WGSL_MATH}
${WGSL_MAIN} {
  if (index < uniforms.size) {
    let d = f32(predV[index]) - f32(targetV[index]);
    ${spec.body}
  }
}`,
  });
}

function smoothL1Program(shape: number[], mode: Mode): WebGPUProgram {
  const body =
    mode === 'loss'
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
  return differenceProgram(shape, mode, {
    moreInputs: ['betaV'],
    uniforms: mode === 'grad' ? 'gradSign : f32,' : undefined,
    shaderKey: `tfjsLossesSmoothL1_${mode}`,
    body: `let a = abs(d);
    let b = f32(betaV[index % uniforms.betaVShape]);
    ${body}`,
  });
}

/** Loss kernel: inputs pred, target, beta; output the per-element loss. */
export const smoothL1ForwardWebGPU: tf.KernelFunc = ({ inputs, backend }) => {
  const { pred, target, beta } = inputs as Record<'pred' | 'target' | 'beta', tf.TensorInfo>;
  const program = smoothL1Program(pred.shape, 'loss');
  return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(program, [pred, target, beta], 'float32');
};

/** Gradient kernel: inputs dy, pred, target, beta; outputs d/dpred and d/dtarget (a dispatch each). */
export const smoothL1GradWebGPU: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, pred, target, beta } = inputs as Record<'dy' | 'pred' | 'target' | 'beta', tf.TensorInfo>;
  const b = backend as unknown as WebGPUBackendLike;
  const run = (sign: number) =>
    b.runWebGPUProgram(smoothL1Program(pred.shape, 'grad'), [dy, pred, target, beta], 'float32', [{ type: 'float32', data: [sign] }]);
  return [run(1), run(-1)];
};
