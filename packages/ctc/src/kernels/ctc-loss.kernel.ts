import * as tf from '@tensorflow/tfjs-core';
import { accurateSum, defineFusedOp, fillKernelFunc, type FillKernelSpec, type HostBackendName } from '@tfjs-losses/core';
import { ctcComposed } from './ctc-loss.composed';
import { ctcFill } from './ctc-loss.cpu';
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
  /**
   * 'mean' or 'sum': the first output is the reduced scalar and the
   * gradient is that of the reduced loss (the kernels of
   * {@link ctcReducedOp}). Default 'none': per-sample losses `[B]`.
   */
  reduction?: 'none' | 'mean' | 'sum';
}

const INPUT_NAMES = ['logits', 'labels', 'logitLengths', 'labelLengths'];

/** The typed-array CTC kernel on `cpu` or `wasm` (no copies: see `fillKernelFunc`). */
function ctcHostKernelFunc(backendName: HostBackendName): tf.KernelFunc {
  const spec: FillKernelSpec = {
    inputNames: INPUT_NAMES,
    outputShapes: ([logits], attrs) => {
      const { timeMajor, withGrad, reduction = 'none' } = attrs as unknown as CtcKernelAttrs;
      return [reduction === 'none' ? [timeMajor ? logits[1] : logits[0]] : [], withGrad ? logits.slice() : [0]];
    },
    fill: ctcFill,
  };
  return fillKernelFunc(backendName, spec);
}

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
    cpu: () => ctcHostKernelFunc('cpu'),
    wasm: () => ctcHostKernelFunc('wasm'),
    webgpu: () => ctcWebGPUKernel,
  },
  composed: ctcComposed,
  saveOutputs: [false, true],
  gradient: (dys, saved, attrs) => gradientOf(CTC_KERNEL_NAME, dys, saved, attrs),
});

/** Kernel name of {@link ctcReducedOp}. */
export const CTC_REDUCED_KERNEL_NAME = 'TfjsLossesCtcLossReduced';

/** Attributes of {@link ctcReducedOp}. */
export interface CtcReducedAttrs extends CtcKernelAttrs {
  reduction: 'mean' | 'sum';
}

/**
 * The CTC loss reduced to a scalar ('mean' or 'sum'), with the reduction in
 * the kernel on cpu, wasm and webgpu: one kernel forward, whose gradient
 * output is already that of the reduced loss (so the backward is a
 * multiply by the upstream scalar, skipped on cpu and wasm when it is 1).
 * Elsewhere, and as the oracle of those kernels: {@link ctcOp} and tensor
 * ops.
 */
export const ctcReducedOp = defineFusedOp<CtcReducedAttrs>({
  kernelName: CTC_REDUCED_KERNEL_NAME,
  inputNames: INPUT_NAMES,
  kernels: {
    cpu: () => ctcHostKernelFunc('cpu'),
    wasm: () => ctcHostKernelFunc('wasm'),
    webgpu: () => ctcWebGPUKernel,
  },
  composed: ([logits, labels, logitLengths, labelLengths], attrs) => {
    const { reduction, ...perSampleAttrs } = attrs;
    const [perSample] = ctcOp([logits, labels, logitLengths, labelLengths], perSampleAttrs);
    if (reduction === 'sum') return accurateSum(perSample);
    const B = perSample.shape[0] as number;
    const perLabel = tf.div(perSample, tf.maximum(tf.cast(labelLengths, 'float32'), 1));
    return tf.div(accurateSum(perLabel), B);
  },
  saveOutputs: [false, true],
  gradient: (dys, saved, attrs) => gradientOf(CTC_REDUCED_KERNEL_NAME, dys, saved, attrs),
});

/**
 * Gradient of either CTC op: the saved gradient output times the upstream
 * gradient (per sample, or one scalar for the reduced op). If the forward
 * ran without a tape, the kernel runs again for the gradient.
 */
function gradientOf(kernelName: string, dys: tf.Tensor[], saved: tf.Tensor[], attrs: CtcKernelAttrs): (tf.Tensor | undefined)[] {
  const [logits, labels, logitLengths, labelLengths, savedGrad] = saved;
  let grad = savedGrad;
  if (grad.size === 0) {
    const outs = tf.engine().runKernel(kernelName, { logits, labels, logitLengths, labelLengths }, {
      ...attrs,
      withGrad: true,
    } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    outs[0].dispose();
    grad = outs[1];
  }
  return [scaleGradOp([grad, dys[0]], { timeMajor: attrs.timeMajor })[0], undefined, undefined, undefined];
}

/** The gradient of the gradient: not available (nor in PyTorch). */
function noSecondOrder(): never {
  throw new Error('ctcLoss: second-order gradients (a gradient of the gradient) are not supported.');
}

/** Attributes of the gradient-scaling kernel. */
interface ScaleAttrs {
  timeMajor: boolean;
}

/**
 * `grad * dy`, with dy `[B]` broadcast over the frames and classes of each
 * sample, or one scalar: a typed-array kernel on cpu and wasm (the cpu
 * backend's broadcasting multiply costs more than the whole CTC kernel at
 * [32, 200, 64]), `tf.mul` elsewhere.
 */
const scaleFill: FillKernelSpec['fill'] = (inputs, outputs, attrs, shapes) => {
  const { timeMajor } = attrs as unknown as ScaleAttrs;
  const g = inputs[0] as Float32Array;
  const d = inputs[1] as Float32Array;
  const out = outputs[0] as Float32Array;
  if (g.length === 0) return;
  if (d.length === 1) {
    const k = d[0];
    for (let i = 0; i < g.length; i++) out[i] = g[i] * k;
    return;
  }
  const [d0, d1, C] = shapes[0];
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
};

type AliasingBackend = {
  readSync(id: tf.DataId): tf.backend_util.BackendValues;
  incRef(id: tf.DataId): void;
};

/**
 * The scaling kernel on `cpu` or `wasm`. When every dy is 1 (the usual
 * case: a loss differentiated directly, or summed) the output shares the
 * gradient's memory, as reshape does, instead of a copy.
 */
function scaleKernelFunc(backendName: HostBackendName): tf.KernelFunc {
  const multiply = fillKernelFunc(backendName, {
    inputNames: ['grad', 'dy'],
    outputShapes: ([grad]) => [grad.slice()],
    fill: scaleFill,
  });
  return (args) => {
    const { grad, dy } = args.inputs as Record<string, tf.TensorInfo>;
    const backend = args.backend as unknown as AliasingBackend;
    const d = backend.readSync(dy.dataId) as Float32Array;
    for (let i = 0; i < d.length; i++) if (d[i] !== 1) return multiply(args);
    backend.incRef(grad.dataId);
    return { dataId: grad.dataId, shape: grad.shape.slice(), dtype: grad.dtype };
  };
}

const scaleGradOp = defineFusedOp<ScaleAttrs>({
  kernelName: 'TfjsLossesCtcGradScale',
  inputNames: ['grad', 'dy'],
  kernels: {
    cpu: () => scaleKernelFunc('cpu'),
    wasm: () => scaleKernelFunc('wasm'),
  },
  composed: ([grad, dy], { timeMajor }) => {
    const B = dy.shape[0];
    const scale = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [g, d] = args as tf.Tensor[];
      const k = d.rank === 0 ? d : tf.reshape(d, timeMajor ? [1, B, 1] : [B, 1, 1]);
      return { value: tf.mul(g, k), gradFunc: noSecondOrder };
    });
    return scale(grad, dy) as tf.Tensor;
  },
  gradient: noSecondOrder,
});
