import type * as tf from '@tensorflow/tfjs-core';
import {
  dispatchFor,
  WGSL_MAIN,
  WORKGROUP_SIZE,
  type ProgramUniforms,
  type WebGPUBackendLike,
  type WebGPUProgram,
} from '@tfjs-losses/core';
import type { CtcKernelAttrs } from './ctc-loss.kernel';

/**
 * The further parts of tfjs-backend-webgpu's `WebGPUBackend` this kernel
 * uses: the storage limit, tensors it allocates and frees itself, and
 * programs writing into a given output (the chunks of one batch).
 */
interface CtcWebGPUBackend extends WebGPUBackendLike {
  device: { limits: Record<string, number> };
  runWebGPUProgram(
    program: WebGPUProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: ProgramUniforms,
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** Test hook: a smaller scratch limit (in float32 words) to exercise batch chunking. */
let scratchWordsLimit: number | undefined;

/** Sets (or with undefined clears) the scratch limit used instead of the device's; for tests. */
export function setCtcScratchLimitForTests(words: number | undefined): void {
  scratchWordsLimit = words;
}

/** log 0 inside the shaders: a finite sentinel, so no Infinity - Infinity can appear. */
const NEG = '-1e30';
/** Anything at or below this is log 0. */
const NEG_HALF = '-1e29';

/** Sizes every program receives as uniforms (in this order). */
const SIZE_UNIFORMS =
  'B : i32, T : i32, C : i32, S : i32, blank : i32, stride : i32, batchOffset : i32, batchCount : i32, zeroInfinity : i32, reduction : i32,';

/** `reduction` uniform values. */
const REDUCTION_CODE = { none: 0, mean: 1, sum: 2 } as const;

/**
 * Per-sample scratch layout (float32 words), written by the alpha/beta
 * program and read by the loss and gradient programs: alpha [T, Sp], beta
 * [T, Sp], the log-softmax normalizer of each frame [T], log p [1], the next
 * state with the same class [Sp] and each class's first state [C] (-1 for
 * none). Sp = 2S + 1.
 */
function layout(T: number, S: number, C: number) {
  const Sp = 2 * S + 1;
  const alpha = 0;
  const beta = alpha + T * Sp;
  const lse = beta + T * Sp;
  const logp = lse + T;
  const next = logp + 1;
  const first = next + Sp;
  return { Sp, alpha, beta, lse, logp, next, first, stride: first + C };
}

const COMMON_WGSL = (timeMajor: boolean) => `
  const NEG : f32 = ${NEG};
  const NEG_HALF : f32 = ${NEG_HALF};

  // Scratch offsets (see layout()), from the sizes in the uniforms.
  fn statesMax() -> i32 { return 2 * uniforms.S + 1; }
  fn offBeta() -> i32 { return uniforms.T * statesMax(); }
  fn offLse() -> i32 { return 2 * uniforms.T * statesMax(); }
  fn offLogp() -> i32 { return offLse() + uniforms.T; }
  fn offNext() -> i32 { return offLogp() + 1; }
  fn offFirst() -> i32 { return offNext() + statesMax(); }

  fn logitIndex(b : i32, t : i32, c : i32) -> i32 {
    ${timeMajor ? 'return (t * uniforms.B + b) * uniforms.C + c;' : 'return (b * uniforms.T + t) * uniforms.C + c;'}
  }
`;

/**
 * One workgroup per sequence. Its invocations first compute each frame's
 * log-softmax normalizer (frames spread over invocations), then run the
 * alpha recursion: the time loop is inside the shader, the 2L+1 states are
 * spread over the invocations, and a storage barrier separates frames. With
 * the gradient it then runs the beta recursion the same way backwards and
 * records, for the gradient program, the chain of states sharing each class.
 * Log-sum-exp in float32 with a finite log 0 (-1e30).
 */
class CtcAlphaBetaProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames = ['logits', 'labels', 'logitLengths', 'labelLengths'];
  workgroupSize: [number, number, number];
  uniforms = SIZE_UNIFORMS;
  size = false;

  constructor(
    scratchSize: number,
    batchCount: number,
    private readonly wg: number,
    private readonly timeMajor: boolean,
    private readonly withGrad: boolean,
  ) {
    this.outputShape = [scratchSize];
    this.dispatch = [batchCount, 1, 1];
    this.workgroupSize = [wg, 1, 1];
    this.shaderKey = `tfjsLossesCtcAlphaBeta_${wg}_${timeMajor}_${withGrad}`;
  }

  getUserCode(): string {
    const WG = this.wg;
    const grad = this.withGrad;
    return `
  ${COMMON_WGSL(this.timeMajor)}

  fn lse3(a : f32, b : f32, c : f32) -> f32 {
    let m = max(a, max(b, c));
    if (m <= NEG_HALF) { return NEG; }
    return m + log(exp(a - m) + exp(b - m) + exp(c - m));
  }

  fn extLabel(b : i32, s : i32) -> i32 {
    if ((s & 1) == 0) { return uniforms.blank; }
    return labels[b * uniforms.S + (s - 1) / 2];
  }

  fn canSkip(b : i32, s : i32) -> bool {
    return (s & 1) == 1 && s >= 3 && extLabel(b, s) != extLabel(b, s - 2);
  }

  ${WGSL_MAIN} {
    let lid = i32(localId.x);
    let bLocal = i32(workgroupId.x);
    let b = uniforms.batchOffset + bLocal;
    let T = uniforms.T;
    let C = uniforms.C;
    let Sp = 2 * uniforms.S + 1;
    let Tb = clamp(logitLengths[b], 0, T);
    let L = clamp(labelLengths[b], 0, uniforms.S);
    let SpB = 2 * L + 1;
    let base = bLocal * uniforms.stride;
    let alphaOff = base;
    let betaOff = base + offBeta();
    let lseOff = base + offLse();

    // Log-softmax normalizer of each frame.
    for (var t = lid; t < Tb; t += ${WG}) {
      var m = -3.0e38;
      for (var c = 0; c < C; c++) { m = max(m, logits[logitIndex(b, t, c)]); }
      var sum = 0.0;
      for (var c = 0; c < C; c++) { sum += exp(logits[logitIndex(b, t, c)] - m); }
      result[lseOff + t] = m + log(sum);
    }
    ${grad ? `
    // For the gradient program: next state with the same class, first state of each class.
    for (var s = lid; s < Sp; s += ${WG}) {
      var nxt = -1;
      if (s < SpB) {
        let cs = extLabel(b, s);
        for (var s2 = s + 1; s2 < SpB; s2++) {
          if (extLabel(b, s2) == cs) { nxt = s2; break; }
        }
      }
      result[base + offNext() + s] = f32(nxt);
    }
    for (var c = lid; c < C; c += ${WG}) {
      var firstS = -1;
      for (var s2 = 0; s2 < SpB; s2++) {
        if (extLabel(b, s2) == c) { firstS = s2; break; }
      }
      result[base + offFirst() + c] = f32(firstS);
    }` : ''}
    storageBarrier();

    // Forward variables, frame by frame.
    if (Tb > 0) {
      for (var s = lid; s < SpB; s += ${WG}) {
        var v = NEG;
        if (s < 2) { v = logits[logitIndex(b, 0, extLabel(b, s))] - result[lseOff]; }
        result[alphaOff + s] = v;
      }
    }
    storageBarrier();
    for (var t = 1; t < T; t++) {
      if (t < Tb) {
        let prev = alphaOff + (t - 1) * Sp;
        let z = result[lseOff + t];
        for (var s = lid; s < SpB; s += ${WG}) {
          let a0 = result[prev + s];
          var a1 = NEG;
          if (s >= 1) { a1 = result[prev + s - 1]; }
          var a2 = NEG;
          if (canSkip(b, s)) { a2 = result[prev + s - 2]; }
          let e = logits[logitIndex(b, t, extLabel(b, s))] - z;
          result[alphaOff + t * Sp + s] = e + lse3(a0, a1, a2);
        }
      }
      storageBarrier();
    }
    if (lid == 0) {
      var logp = NEG;
      if (Tb == 0) {
        if (L == 0) { logp = 0.0; }
      } else {
        let lastRow = alphaOff + (Tb - 1) * Sp;
        var before = NEG;
        if (L > 0) { before = result[lastRow + SpB - 2]; }
        let a = result[lastRow + SpB - 1];
        let m = max(a, before);
        if (m > NEG_HALF) { logp = m + log(exp(a - m) + exp(before - m)); }
      }
      result[base + offLogp()] = logp;
    }
    ${grad ? `
    // Backward variables, from the last frame down.
    if (Tb > 0) {
      let z = result[lseOff + Tb - 1];
      for (var s = lid; s < SpB; s += ${WG}) {
        var v = NEG;
        if (s >= SpB - 2) { v = logits[logitIndex(b, Tb - 1, extLabel(b, s))] - z; }
        result[betaOff + (Tb - 1) * Sp + s] = v;
      }
    }
    storageBarrier();
    for (var t = T - 2; t >= 0; t--) {
      if (t < Tb - 1) {
        let nxtRow = betaOff + (t + 1) * Sp;
        let z = result[lseOff + t];
        for (var s = lid; s < SpB; s += ${WG}) {
          let n0 = result[nxtRow + s];
          var n1 = NEG;
          if (s + 1 < SpB) { n1 = result[nxtRow + s + 1]; }
          var n2 = NEG;
          if (s + 2 < SpB && canSkip(b, s + 2)) { n2 = result[nxtRow + s + 2]; }
          let e = logits[logitIndex(b, t, extLabel(b, s))] - z;
          result[betaOff + t * Sp + s] = e + lse3(n0, n1, n2);
        }
      }
      storageBarrier();
    }` : ''}
  }
`;
  }
}

/** Per-sample loss from the scratch: -log p, or Infinity / 0 where log p is log 0. */
class CtcLossProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey = 'tfjsLossesCtcLoss';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames = ['scratch'];
  workgroupSize = WORKGROUP_SIZE;
  uniforms = SIZE_UNIFORMS;
  size = false;

  constructor(B: number, batchCount: number) {
    this.outputShape = [B];
    this.dispatch = dispatchFor(batchCount);
  }

  getUserCode(): string {
    return `
  ${COMMON_WGSL(false)}
  ${WGSL_MAIN} {
    if (index < uniforms.batchCount) {
      let logp = scratch[index * uniforms.stride + offLogp()];
      var v = -logp;
      if (logp <= NEG_HALF) {
        v = uniforms.INFINITY;
        if (uniforms.zeroInfinity != 0) { v = 0.0; }
      }
      setOutputAtIndex(uniforms.batchOffset + index, v);
    }
  }
`;
  }
}

/**
 * Gradient of each sample's loss with respect to its logits, one invocation
 * per logit: softmax minus the occupation of the class, summed over the
 * chain of states that carry it (exp(alpha + beta - logp[t, c] - log p)).
 */
class CtcGradProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames = ['logits', 'logitLengths', 'scratch', 'labelLengths'];
  workgroupSize = WORKGROUP_SIZE;
  uniforms = SIZE_UNIFORMS;
  size = false;

  constructor(
    shape: number[],
    count: number,
    private readonly timeMajor: boolean,
  ) {
    this.outputShape = shape;
    this.dispatch = dispatchFor(count);
    this.shaderKey = `tfjsLossesCtcGrad_${timeMajor}`;
  }

  getUserCode(): string {
    // Batch-major: the chunk's logits are contiguous. Time-major: every frame
    // holds all B samples; the chunk covers frames x its samples.
    const decode = this.timeMajor
      ? `let c = index % uniforms.C;
      let r = index / uniforms.C;
      let bLocal = r % uniforms.batchCount;
      let t = r / uniforms.batchCount;
      let b = uniforms.batchOffset + bLocal;
      let outIdx = (t * uniforms.B + b) * uniforms.C + c;`
      : `let c = index % uniforms.C;
      let r = index / uniforms.C;
      let t = r % uniforms.T;
      let bLocal = r / uniforms.T;
      let b = uniforms.batchOffset + bLocal;
      let outIdx = (b * uniforms.T + t) * uniforms.C + c;`;
    return `
  ${COMMON_WGSL(this.timeMajor)}
  ${WGSL_MAIN} {
    if (index >= uniforms.batchCount * uniforms.T * uniforms.C) { return; }
    ${decode}
    let Tb = clamp(logitLengths[b], 0, uniforms.T);
    if (t >= Tb) {
      setOutputAtIndex(outIdx, 0.0);
      return;
    }
    let base = bLocal * uniforms.stride;
    let lp0 = scratch[base + offLogp()];
    if (lp0 <= NEG_HALF) {
      var v = uniforms.NAN;
      if (uniforms.zeroInfinity != 0) { v = 0.0; }
      setOutputAtIndex(outIdx, v);
      return;
    }
    let lp = logits[outIdx] - scratch[base + offLse() + t];
    let shift = -lp - lp0;
    var occ = 0.0;
    var s = i32(scratch[base + offFirst() + c]);
    loop {
      if (s < 0) { break; }
      let k = base + t * statesMax() + s;
      occ += exp(scratch[k] + scratch[k + offBeta()] + shift);
      s = i32(scratch[base + offNext() + s]);
    }
    // The gradient of the reduced loss: 'mean' weighs sample b by 1 / (max(L_b, 1) B).
    var weight = 1.0;
    if (uniforms.reduction == 1) { weight = 1.0 / (f32(max(labelLengths[b], 1)) * f32(uniforms.B)); }
    setOutputAtIndex(outIdx, (exp(lp) - occ) * weight);
  }
`;
  }
}

/**
 * The reduced loss ('mean' or 'sum', kernel of `ctcReducedOp`) from the
 * per-sample losses, in one invocation: for 'mean' each loss divided by
 * max(its label length, 1), the sum divided by B.
 */
class CtcReduceProgram implements WebGPUProgram {
  outputShape = [1];
  shaderKey = 'tfjsLossesCtcReduce';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number] = [1, 1, 1];
  variableNames = ['perSample', 'labelLengths'];
  workgroupSize: [number, number, number] = [1, 1, 1];
  uniforms = SIZE_UNIFORMS;
  size = false;

  getUserCode(): string {
    return `
  ${WGSL_MAIN} {
    if (index == 0) {
      var total = 0.0;
      for (var b = 0; b < uniforms.B; b++) {
        var v = perSample[b];
        if (uniforms.reduction == 1) { v = v / f32(max(labelLengths[b], 1)); }
        total += v;
      }
      if (uniforms.reduction == 1) { total = total / f32(uniforms.B); }
      setOutputAtIndex(0, total);
    }
  }
`;
  }
}

/**
 * The CTC kernel for tfjs-backend-webgpu: inputs and outputs as the
 * typed-array kernel's (see ctc-loss.cpu.ts). Dispatches per call: the
 * alpha/beta program and the loss program, plus the gradient program when
 * `withGrad`, plus one reduction program for 'mean' and 'sum' (the
 * gradient program then weighs each sample as the reduction does): a
 * constant number, whatever T is. Only when one batch's scratch would not
 * fit in a storage binding is the batch split into chunks, each with the
 * same dispatches (the reduction runs once, after them).
 */
export const ctcWebGPUKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as CtcWebGPUBackend;
  const { logits, logitLengths, labelLengths } = inputs as Record<string, tf.TensorInfo>;
  let { labels } = inputs as Record<string, tf.TensorInfo>;
  const { blank, timeMajor, zeroInfinity, withGrad, reduction = 'none' } = attrs as unknown as CtcKernelAttrs;
  const [d0, d1, C] = logits.shape;
  const B = timeMajor ? d1 : d0;
  const T = timeMajor ? d0 : d1;
  const S = labels.shape[1];
  const l = layout(T, S, C);
  // WebGPU cannot bind an empty buffer: give empty labels one (unread) column.
  const emptyLabels = S === 0;
  if (emptyLabels) labels = be.makeTensorInfo([B, 1], 'int32', new Int32Array(B).fill(blank));

  const maxWords = scratchWordsLimit ?? Math.floor((be.device.limits.maxStorageBufferBindingSize ?? 134217728) / 4);
  const perChunk = Math.max(1, Math.min(B, Math.floor(maxWords / l.stride)));
  const wg = Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(l.Sp, T)))));

  const perSample = be.makeTensorInfo([B], 'float32');
  const grad = withGrad ? be.makeTensorInfo(logits.shape.slice(), 'float32') : be.makeTensorInfo([0], 'float32', new Float32Array(0));
  let lastUniforms: ProgramUniforms = [];
  for (let offset = 0; offset < B; offset += perChunk) {
    const count = Math.min(perChunk, B - offset);
    const uniforms: ProgramUniforms = [
      { type: 'int32', data: [B] },
      { type: 'int32', data: [T] },
      { type: 'int32', data: [C] },
      { type: 'int32', data: [S] },
      { type: 'int32', data: [blank] },
      { type: 'int32', data: [l.stride] },
      { type: 'int32', data: [offset] },
      { type: 'int32', data: [count] },
      { type: 'int32', data: [zeroInfinity ? 1 : 0] },
      { type: 'int32', data: [REDUCTION_CODE[reduction]] },
    ];
    const scratch = be.runWebGPUProgram(
      new CtcAlphaBetaProgram(count * l.stride, count, wg, timeMajor, withGrad),
      [logits, labels, logitLengths, labelLengths],
      'float32',
      uniforms,
    );
    be.runWebGPUProgram(new CtcLossProgram(B, count), [scratch], 'float32', uniforms, perSample);
    lastUniforms = uniforms;
    if (withGrad) {
      be.runWebGPUProgram(
        new CtcGradProgram(logits.shape.slice(), count * T * C, timeMajor),
        [logits, logitLengths, scratch, labelLengths],
        'float32',
        uniforms,
        grad,
      );
    }
    be.disposeData(scratch.dataId);
  }
  if (emptyLabels) be.disposeData(labels.dataId);
  if (reduction === 'none') return [perSample, grad];
  const loss = be.makeTensorInfo([], 'float32');
  be.runWebGPUProgram(new CtcReduceProgram(), [perSample, labelLengths], 'float32', lastUniforms, loss);
  be.disposeData(perSample.dataId);
  return [loss, grad];
};
