import type * as tf from '@tensorflow/tfjs-core';
import type { SigmoidFocalAttrs } from './sigmoid-focal.kernel';
import { WGSL_MAIN, WGSL_MATH, elementwiseProgram, type ProgramUniforms, type WebGPUBackendLike, type WebGPUProgram } from '@tfjs-losses/core';

/*
 * Elementwise WGSL programs, one invocation per element, float32. Hard
 * targets (0 or 1) take log(1 - p_t) straight from a softplus, so nothing
 * underflows at |x| = 100 (exp(-100) is a float32 denormal, flushed to 0 on
 * many GPUs); soft targets satisfy 1 - p_t >= min(t, 1 - t). Inputs are
 * read through f32(): tfjs-webgpu keeps a float32 tensor cast from int32 or
 * bool in its i32 buffer.
 */

const COMMON = `
${WGSL_MATH}
// softplus(z) / sigmoid(z), which tends to 1 as z -> -inf.
fn focalRatio(z : f32) -> f32 {
  if (z < -15.0) { return 1.0 + 0.5 * exp(z); }
  return lossSoftplus(z) * (1.0 + exp(-z));
}
struct FocalTerms { p : f32, q : f32, ce : f32, logm : f32, r : f32 };
fn focalTerms(x : f32, t : f32) -> FocalTerms {
  let e = exp(-abs(x));
  let l = lossLog1p(e);
  let spPos = max(x, 0.0) + l;
  let spNeg = max(-x, 0.0) + l;
  let inv = 1.0 / (1.0 + e);
  var p = inv;
  var q = e * inv;
  if (x < 0.0) {
    p = e * inv;
    q = inv;
  }
  let ce = (1.0 - t) * spPos + t * spNeg;
  var logm : f32;
  var r : f32;
  if (t <= 0.0) {
    logm = -spNeg;
    r = focalRatio(x);
  } else if (t >= 1.0) {
    logm = -spPos;
    r = focalRatio(-x);
  } else {
    let m = max((1.0 - t) * p + t * q, 1e-37);
    logm = log(m);
    r = ce / m;
  }
  return FocalTerms(p, q, ce, logm, r);
}
`;

type Mode = 'forward' | 'dLogits' | 'dTargets';

function sigmoidFocalProgram(shape: number[], mode: Mode, scalarDy = false): WebGPUProgram {
  const body =
    mode === 'forward'
      ? `
    var loss = exp(uniforms.gamma * k.logm) * k.ce;
    if (uniforms.alpha >= 0.0) {
      loss = loss * (1.0 - uniforms.alpha + (2.0 * uniforms.alpha - 1.0) * t);
    }
    setOutputAtIndex(index, loss);`
      : `
    let w = exp(uniforms.gamma * k.logm);
    let gr = uniforms.gamma * k.r;
    var a = 1.0;
    var slope = 0.0;
    if (uniforms.alpha >= 0.0) {
      slope = 2.0 * uniforms.alpha - 1.0;
      a = 1.0 - uniforms.alpha + slope * t;
    }
    let g = f32(dy[${scalarDy ? '0' : 'index'}]);
    ${
      mode === 'dLogits'
        ? 'setOutputAtIndex(index, a * w * (gr * k.p * k.q * (1.0 - 2.0 * t) + k.p - t) * g);'
        : 'setOutputAtIndex(index, w * (slope * k.ce + a * (gr * (k.q - k.p) - x)) * g);'
    }`;
  return elementwiseProgram({
    shape,
    variableNames: mode === 'forward' ? ['logits', 'targets'] : ['logits', 'targets', 'dy'],
    uniforms: 'alpha : f32, gamma : f32,',
    shaderKey: `tfjsLossesSigmoidFocal_${mode}${scalarDy ? '_scalarDy' : ''}`,
    userCode: () => `
${COMMON}
${WGSL_MAIN} {
  if (index < uniforms.size) {
    let x = f32(logits[index]);
    let t = f32(targets[index]);
    let k = focalTerms(x, t);
    ${body}
  }
}`,
  });
}

function uniformsOf(attrs: tf.NamedAttrMap): ProgramUniforms {
  const { alpha, gamma } = attrs as unknown as SigmoidFocalAttrs;
  return [
    { type: 'float32', data: [alpha] },
    { type: 'float32', data: [gamma] },
  ];
}

/** Forward kernel: inputs logits, targets; output the per-element loss. */
export const sigmoidFocalForwardWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { logits, targets } = inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo };
  const program = sigmoidFocalProgram(logits.shape, 'forward');
  return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(program, [logits, targets], 'float32', uniformsOf(attrs ?? {}));
};

/** Backward kernel: inputs logits, targets, dy (the loss's shape or a scalar); outputs d/dlogits and d/dtargets (one pass each). */
export const sigmoidFocalBackwardWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { logits, targets, dy } = inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo; dy: tf.TensorInfo };
  const b = backend as unknown as WebGPUBackendLike;
  const u = uniformsOf(attrs ?? {});
  // dy is the loss's shape, or a scalar when it is the gradient of the sum.
  const scalarDy = dy.shape.length === 0 && logits.shape.length !== 0;
  return [
    b.runWebGPUProgram(sigmoidFocalProgram(logits.shape, 'dLogits', scalarDy), [logits, targets, dy], 'float32', u),
    b.runWebGPUProgram(sigmoidFocalProgram(logits.shape, 'dTargets', scalarDy), [logits, targets, dy], 'float32', u),
  ];
};
