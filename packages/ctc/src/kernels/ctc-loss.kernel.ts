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
    const B = labels.shape[0];
    const dy = tf.reshape(dys[0], attrs.timeMajor ? [1, B, 1] : [B, 1, 1]);
    return [tf.mul(perSample, dy), undefined, undefined, undefined];
  },
});
