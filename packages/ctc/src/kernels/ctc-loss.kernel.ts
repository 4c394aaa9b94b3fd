import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, hostKernelFunc, type HostKernel } from '@tfjs-losses/core';
import { ctcComposed } from './ctc-loss.composed';
import { ctcHostKernel } from './ctc-loss.cpu';
import { ctcWebGPUKernel } from './ctc-loss.webgpu';


/** Kernel name in tfjs's global registry. */
export const CTC_KERNEL_NAME = 'TfjsLossesCtcLoss';

/** Attributes of the CTC kernel. */
export interface CtcKernelAttrs {
  /** Index of the blank class. */
  blank: number;
  /** Logits are `[T, B, C]` instead of `[B, T, C]`. */
  timeMajor: boolean;
  /** Impossible samples give 0 and gradient 0 instead of Infinity and NaN. */
  zeroInfinity: boolean;
  /**
   * Also compute the gradient (second output). Set when a gradient tape is
   * recording: the backward variables are then computed in the same pass.
   */
  withGrad: boolean;
}

const INPUT_NAMES = ['logits', 'labels', 'logitLengths', 'labelLengths'];

/**
 * The CTC op: inputs logits (float32, `[B, T, C]` or `[T, B, C]`), labels
 * (int32 `[B, S]`), logitLengths and labelLengths (int32 `[B]`); outputs the
 * per-sample negative log-likelihood `[B]` and, for fused kernels, the
 * gradient of each sample's loss with respect to the logits (or an empty
 * tensor when no tape records). Fused on cpu and wasm (one typed-array
 * kernel) and webgpu (WGSL); composed ops elsewhere.
 */
export const ctcOp = defineFusedOp<CtcKernelAttrs>({
  kernelName: CTC_KERNEL_NAME,
  inputNames: INPUT_NAMES,
  kernels: {
    cpu: () => hostKernelFunc('cpu', INPUT_NAMES, ctcHostKernel as unknown as HostKernel),
    wasm: () => hostKernelFunc('wasm', INPUT_NAMES, ctcHostKernel as unknown as HostKernel),
    webgpu: () => ctcWebGPUKernel,

  },
  composed: ctcComposed,
  saveOutputs: [false, true],
  gradient: (dys, saved, attrs) => {
    const [logits, labels, logitLengths, labelLengths, savedGrad] = saved;
    let perSample = savedGrad;
    if (perSample.size === 0) {
      // The forward ran without a tape; compute the gradient now.
      const outs = tf.engine().runKernel(CTC_KERNEL_NAME, { logits, labels, logitLengths, labelLengths }, {
        ...attrs,
        withGrad: true,
      } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      outs[0].dispose();
      perSample = outs[1];
    }
    return [scaleGradOp([perSample, dys[0]], { timeMajor: attrs.timeMajor })[0], undefined, undefined, undefined];
  },
});

/** The gradient of the gradient: not available (nor in PyTorch). */
function noSecondOrder(): never {
  throw new Error('ctcLoss: second-order gradients (a gradient of the gradient) are not supported.');
}

/** Attributes of the gradient-scaling kernel. */
interface ScaleAttrs {
  timeMajor: boolean;
}

/**
 * `grad * dy` with dy `[B]` broadcast over the frames and classes of each
 * sample: a typed-array kernel on cpu and wasm (the cpu backend's
 * broadcasting multiply costs more than the whole CTC kernel at [32, 200,
 * 64]), `tf.mul` elsewhere.
 */
const scaleKernel: HostKernel = ([grad, dy], attrs) => {
  const { timeMajor } = attrs as unknown as ScaleAttrs;
  const g = grad.values;
  const d = dy.values;
  const out = new Float32Array(g.length);
  const [d0, d1, C] = grad.shape;
  if (g.length === 0) return [{ values: out, shape: grad.shape.slice(), dtype: 'float32' }];
  if (timeMajor) {
    for (let t = 0; t < d0; t++) {
      for (let b = 0; b < d1; b++) {
        const o = (t * d1 + b) * C;
        const k = d[b];
        for (let c = 0; c < C; c++) out[o + c] = g[o + c] * k;
      }
    }
  } else {
    const frame = d1 * C;
    for (let b = 0; b < d0; b++) {
      const o = b * frame;
      const k = d[b];
      for (let i = 0; i < frame; i++) out[o + i] = g[o + i] * k;
    }
  }
  return [{ values: out, shape: grad.shape.slice(), dtype: 'float32' }];
};

const scaleGradOp = defineFusedOp<ScaleAttrs>({
  kernelName: 'TfjsLossesCtcGradScale',
  inputNames: ['grad', 'dy'],
  kernels: {
    cpu: () => hostKernelFunc('cpu', ['grad', 'dy'], scaleKernel),
    wasm: () => hostKernelFunc('wasm', ['grad', 'dy'], scaleKernel),
  },
  composed: ([grad, dy], { timeMajor }) => {
    const B = dy.shape[0];
    const scale = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [g, d] = args as tf.Tensor[];
      return { value: tf.mul(g, tf.reshape(d, timeMajor ? [1, B, 1] : [B, 1, 1])), gradFunc: noSecondOrder };
    });
    return scale(grad, dy) as tf.Tensor;
  },
  gradient: noSecondOrder,
});
