import type * as tf from '@tensorflow/tfjs-core';
import { WGSL_MAIN, elementwiseProgram, type ProgramUniforms, type WebGPUBackendLike, type WebGPUProgram } from '@tfjs-losses/core';
import type { ScoreMeanAttrs, ScorePairAttrs, ScoreTerm } from './score-mean.kernel';

/*
 * WGSL gradient kernel of a reduced score term: one invocation per score,
 * out = dy * scale * term'(x), one dispatch per output (scale is 1 / N for a
 * mean, 1 for a sum). dy stays on the GPU (read from its buffer, no
 * synchronous read). Inputs are read through f32(): tfjs-webgpu may keep a
 * float32 tensor cast from int32 in an i32 buffer. The uniform is named tgt
 * because WGSL reserves `target`.
 */

function scoreGradProgram(shape: number[], term: ScoreTerm): WebGPUProgram {
  return elementwiseProgram({
    shape,
    variableNames: ['xV', 'dyV'],
    uniforms: 'scale : f32, tgt : f32, coef : f32,',
    shaderKey: `tfjsLossesGanScoreGrad_${term}`,
    userCode: () => {
      // 0 at the hinge, as PyTorch's relu gives.
      const slope = {
        square: 'x - uniforms.tgt',
        hingeBelow: 'select(0.0, -1.0, x < 1.0)',
        hingeAbove: 'select(0.0, 1.0, x > -1.0)',
        linear: 'uniforms.coef',
      }[term];
      return `
${WGSL_MAIN} {
  if (index < uniforms.size) {
    let x = f32(xV[index]);
    setOutputAtIndex(index, (${slope}) * (f32(dyV[0]) * uniforms.scale));
  }
}`;
    },
  });
}

function runTerm(backend: WebGPUBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, term: ScoreTerm, target: number, coef: number, sum: boolean): tf.TensorInfo {
  const n = x.shape.reduce((p, c) => p * c, 1);
  const uniforms: ProgramUniforms = [
    { type: 'float32', data: [sum ? 1 : 1 / Math.max(n, 1)] },
    { type: 'float32', data: [target] },
    { type: 'float32', data: [coef] },
  ];
  return backend.runWebGPUProgram(scoreGradProgram(x.shape, term), [x, dy], 'float32', uniforms);
}

/** Gradient kernel of one term: inputs x, dy; output dx. */
export const scoreMeanGradWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as Record<'x' | 'dy', tf.TensorInfo>;
  const a = attrs as unknown as ScoreMeanAttrs;
  return runTerm(backend as unknown as WebGPUBackendLike, x, dy, a.term, a.target, a.coef, a.sum);
};

/** Gradient kernel of a pair: inputs real, fake, dy; outputs dreal, dfake (a dispatch each). */
export const scorePairGradWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { real, fake, dy } = inputs as Record<'real' | 'fake' | 'dy', tf.TensorInfo>;
  const a = attrs as unknown as ScorePairAttrs;
  const b = backend as unknown as WebGPUBackendLike;
  return [runTerm(b, real, dy, a.realTerm, a.realTarget, a.realCoef, a.sum), runTerm(b, fake, dy, a.fakeTerm, a.fakeTarget, a.fakeCoef, a.sum)];
};
