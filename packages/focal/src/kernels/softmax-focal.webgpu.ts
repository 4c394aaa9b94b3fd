import type * as tf from '@tensorflow/tfjs-core';
import type { SoftmaxFocalAttrs } from './softmax-focal.kernel';
import { WGSL_MAIN, perUnitProgram, type WebGPUBackendLike, type WebGPUProgram } from '@tfjs-losses/core';

/*
 * One invocation per row of logits [N, C], float32, the same row statistics
 * as the typed-array kernel: mo = max over the classes other than y,
 * so = sum of exp(z_k - mo) over them, log(1 - p_y) = mo + log(so) - lse.
 * Labels outside [0, C) are ignored rows; one class gives loss 0. Reads go
 * through f32()/i32(): tfjs-webgpu may keep a float32 tensor in an i32
 * buffer (after a cast from int32 or bool).
 */

const ROW_STATS = `
  let C = uniforms.logitsShape.y;
  let y = i32(labels[index]);
  let valid = y >= 0 && y < C && C > 1;
  let base = index * C;
  var mo = -3.402823e38;
  var so = 0.0;
  var logpt = 0.0;
  var log1mpt = 0.0;
  if (valid) {
    for (var k = 0; k < C; k = k + 1) {
      if (k != y) { mo = max(mo, f32(logits[base + k])); }
    }
    for (var k = 0; k < C; k = k + 1) {
      if (k != y) { so = so + exp(f32(logits[base + k]) - mo); }
    }
    let zy = f32(logits[base + y]);
    let M = max(zy, mo);
    let lse = M + log(exp(zy - M) + so * exp(mo - M));
    logpt = zy - lse;
    log1mpt = mo + log(so) - lse;
  }
`;

/** One invocation per row; the output is the loss [N] or d/dlogits [N, C]. */
function softmaxFocalProgram(N: number, C: number, backward: boolean): WebGPUProgram {
  const body = backward
    ? `
  if (!valid) {
    for (var k = 0; k < C; k = k + 1) { setOutputAtIndex(base + k, 0.0); }
    return;
  }
  let w = exp(uniforms.gamma * log1mpt);
  let gy = -f32(alphas[y]) * w * (exp(log1mpt) - uniforms.gamma * exp(logpt) * logpt) * f32(dy[index]);
  let lseOthers = mo + log(so);
  for (var k = 0; k < C; k = k + 1) {
    if (k == y) {
      setOutputAtIndex(base + k, gy);
    } else {
      setOutputAtIndex(base + k, -gy * exp(f32(logits[base + k]) - lseOthers));
    }
  }`
    : `
  if (!valid) {
    setOutputAtIndex(index, 0.0);
    return;
  }
  setOutputAtIndex(index, -f32(alphas[y]) * exp(uniforms.gamma * log1mpt) * logpt);`;
  return perUnitProgram({
    outputShape: backward ? [N, C] : [N],
    units: N,
    variableNames: backward ? ['logits', 'labels', 'alphas', 'dy'] : ['logits', 'labels', 'alphas'],
    uniforms: 'gamma : f32,',
    shaderKey: `tfjsLossesSoftmaxFocal_${backward ? 'backward' : 'forward'}`,
    userCode: () => `
${WGSL_MAIN} {
  if (index >= uniforms.labelsShape) { return; }
  ${ROW_STATS}
  ${body}
}`,
  });
}

function attrsOf(attrs: tf.NamedAttrMap | undefined): SoftmaxFocalAttrs {
  return attrs as unknown as SoftmaxFocalAttrs;
}

/** Forward kernel: inputs logits [N, C], labels [N], alpha [C]; output the loss [N]. */
export const softmaxFocalForwardWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { logits, labels, alpha } = inputs as Record<string, tf.TensorInfo>;
  const [N, C] = logits.shape;
  const program = softmaxFocalProgram(N, C, false);
  return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(program, [logits, labels, alpha], 'float32', [
    { type: 'float32', data: [attrsOf(attrs).gamma] },
  ]);
};

/** Backward kernel: inputs logits, labels, alpha, dy [N]; output d/dlogits [N, C]. */
export const softmaxFocalBackwardWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { logits, labels, alpha, dy } = inputs as Record<string, tf.TensorInfo>;
  const [N, C] = logits.shape;
  const program = softmaxFocalProgram(N, C, true);
  return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(program, [logits, labels, alpha, dy], 'float32', [
    { type: 'float32', data: [attrsOf(attrs).gamma] },
  ]);
};
