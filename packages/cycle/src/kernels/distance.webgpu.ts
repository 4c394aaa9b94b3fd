import type * as tf from '@tensorflow/tfjs-core';
import { WGSL_MAIN, WGSL_MATH, elementwiseProgram, type ProgramUniforms, type WebGPUBackendLike, type WebGPUProgram } from '@tfjs-losses/core';
import { distanceKind } from './distance.cpu';
import type { DistanceKind } from './distance.simd';
import type { MeanDistanceAttrs } from './mean-distance.kernel';

/*
 * WGSL gradient kernel of the mean distances: one invocation per element,
 * out = dy * scale * dist'(a - b), one dispatch per output (scale is
 * weight / N for da and its negative for db). dy stays on the GPU (read from
 * its buffer, no synchronous read). Inputs are read through f32(): tfjs-webgpu
 * may keep a float32 tensor cast from int32 in an i32 buffer.
 */

function distanceGradProgram(shape: number[], kind: DistanceKind): WebGPUProgram {
  return elementwiseProgram({
    shape,
    variableNames: ['aV', 'bV', 'dyV'],
    uniforms: 'scale : f32, betaU : f32,',
    shaderKey: `tfjsLossesCycleDistanceGrad_${kind}`,
    userCode: () => {
      const slope = kind === 'l1' ? 'lossSign(d)' : kind === 'l2' ? '2.0 * d' : 'clamp(d / uniforms.betaU, -1.0, 1.0)';
      return `
${WGSL_MATH}
${WGSL_MAIN} {
  if (index < uniforms.size) {
    let d = f32(aV[index]) - f32(bV[index]);
    setOutputAtIndex(index, ${slope} * (f32(dyV[0]) * uniforms.scale));
  }
}`;
    },
  });
}

/** Gradient kernel: inputs a0, b0, a1, b1, ..., dy; outputs da0, db0, da1, db1, ... (a dispatch each). */
export const meanDistanceGradWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as MeanDistanceAttrs;
  const kind = distanceKind(a);
  const b = backend as unknown as WebGPUBackendLike;
  const named = inputs as Record<string, tf.TensorInfo>;
  const dy = named.dy;
  const outs: tf.TensorInfo[] = [];
  for (let k = 0; `a${k}` in named; k++) {
    const x = named[`a${k}`];
    const y = named[`b${k}`];
    const n = x.shape.reduce((p, c) => p * c, 1);
    const scale = a.weights[k] / Math.max(n, 1);
    const run = (sign: number) => {
      const uniforms: ProgramUniforms = [{ type: 'float32', data: [sign * scale] }, { type: 'float32', data: [a.beta] }];
      return b.runWebGPUProgram(distanceGradProgram(x.shape, kind), [x, y, dy], 'float32', uniforms);
    };
    outs.push(run(1), run(-1));
  }
  return outs;
};
