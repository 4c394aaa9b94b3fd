import { viewsInMemory, type FillKernelSpec } from '@tfjs-losses/core';
import type { SoftmaxFocalSimd } from './softmax-focal.simd';

/*
 * The wasm backend's summing softmax focal kernel (the loss sum and, while a
 * gradient is recorded, d/dlogits): one call into softmax-focal.simd.ts,
 * which runs the row loop, the per-logit work in SIMD and the per-row
 * scalar terms in float64 (the arithmetic of focalRowTerms in
 * softmax-focal.cpu.ts with the reference r = the largest of the other
 * logits). Ignored rows (label outside [0, C)) give 0 there. C = 1,
 * labels that are not int32 (the op also takes float32 labels) and views
 * outside the module's memory run the JavaScript kernel.
 */

let simdPasses = 0;

/** How many kernel calls ran the SIMD loops (tests check that the wasm path does not fall back). */
export function softmaxFocalSimdPasses(): number {
  return simdPasses;
}

/**
 * The wasm kernel spec of the summing op: `base` (the JavaScript kernel)
 * with its fill replaced by the SIMD pass where `simd` is available.
 */
export function softmaxFocalSumWasm(base: FillKernelSpec, simd: SoftmaxFocalSimd | null): FillKernelSpec {
  if (simd === null) return base;
  return {
    ...base,
    fill: (inputs, outputs, attrs, shapes) => {
      const [z, labels, alpha] = inputs as [Float32Array, Int32Array, Float32Array];
      const out = outputs[0] as Float32Array;
      const grad = attrs.withGrad ? (outputs[1] as Float32Array) : null;
      const [N, C] = shapes[0];
      const inHeap = viewsInMemory(simd.memory, grad === null ? [z, labels, alpha] : [z, labels, alpha, grad]);
      if (!inHeap || !(labels instanceof Int32Array) || C < 2) {
        base.fill(inputs, outputs, attrs, shapes);
        return;
      }
      const divisor = attrs.divisor as number;
      const gamma = attrs.gamma as number;
      simdPasses++;
      const sum =
        grad === null
          ? simd.sum(z.byteOffset, labels.byteOffset, alpha.byteOffset, N, C, gamma)
          : simd.sumGrad(z.byteOffset, labels.byteOffset, alpha.byteOffset, N, C, gamma, grad.byteOffset, 1 / divisor);
      out[0] = sum / divisor;
    },
  };
}
