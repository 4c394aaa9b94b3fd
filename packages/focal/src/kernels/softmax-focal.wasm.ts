import type { FillKernelSpec } from '@tfjs-losses/core';
import { focalRowTerms } from './softmax-focal.cpu';
import type { SoftmaxFocalSimd } from './softmax-focal.simd';

/*
 * The wasm backend's summing softmax focal kernel (the loss sum and, while a
 * gradient is recorded, d/dlogits) with the per-logit work in the SIMD loops
 * of softmax-focal.simd.ts: per row one call for m = the largest logit other
 * than the label's and so = Σ_{k != y} exp(z_k - m) (the exponentials left
 * in the gradient's row), the scalar terms here in float64 as in
 * softmax-focal.cpu.ts with the reference r = m (its fallback reference:
 * 1 <= so <= C - 1), and one call that scales the row. Ignored rows (label
 * outside [0, C)) and C = 1 give 0 as there. Where the views are not in the
 * module's memory, the JavaScript kernel runs.
 */

let simdPasses = 0;

/** How many kernel calls ran the SIMD loops (tests check that the wasm path does not fall back). */
export function softmaxFocalSimdPasses(): number {
  return simdPasses;
}

/**
 * Sum of the per-row losses over rows of `z` [N, C] (heap views), with the
 * gradient of that sum times `gradScale` written to `grad` when given.
 * `scratch` is a heap float32 the SIMD call writes each row's maximum to.
 */
function simdPass(
  simd: SoftmaxFocalSimd,
  z: Float32Array,
  labels: Int32Array,
  alpha: Float32Array,
  N: number,
  C: number,
  gamma: number,
  grad: Float32Array | null,
  gradScale: number,
  scratch: Float32Array,
): number {
  const terms = new Float64Array(2);
  const zOff = z.byteOffset;
  const gOff = grad === null ? 0 : grad.byteOffset;
  const mOut = scratch.byteOffset;
  let total = 0;
  for (let n = 0; n < N; n++) {
    const y = labels[n];
    const base = n * C;
    if (!(y >= 0 && y < C) || C === 1) {
      if (grad !== null) grad.fill(0, base, base + C);
      continue;
    }
    const so = grad === null ? simd.row(zOff + 4 * base, C, y, mOut) : simd.rowStore(zOff + 4 * base, C, y, gOff + 4 * base, mOut);
    const r = scratch[0];
    const zy = z[base + y];
    focalRowTerms(so, r - zy, alpha[y], gamma, grad !== null, terms);
    total += terms[0];
    if (grad !== null) {
      const gy = terms[1] * gradScale;
      simd.scaleRow(gOff + 4 * base, C, -gy / so);
      grad[base + y] = gy;
    }
  }
  return total;
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
      const buffer = simd.memory.buffer;
      if (z.buffer !== buffer || out.buffer !== buffer || (grad !== null && grad.buffer !== buffer)) {
        base.fill(inputs, outputs, attrs, shapes);
        return;
      }
      const [N, C] = shapes[0];
      const divisor = attrs.divisor as number;
      simdPasses++;
      const sum = simdPass(simd, z, labels, alpha, N, C, attrs.gamma as number, grad, 1 / divisor, out);
      out[0] = sum / divisor;
    },
  };
}
