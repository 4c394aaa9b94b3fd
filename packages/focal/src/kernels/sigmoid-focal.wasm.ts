import { viewsInMemory, type FillKernelSpec } from '@tfjs-losses/core';
import { sigmoidFocalTail } from './sigmoid-focal.cpu';
import type { SigmoidFocalSimd } from './sigmoid-focal.simd';

/**
 * The summing sigmoid focal kernel for the wasm backend: `base` (the
 * JavaScript kernel) with the SIMD loops of sigmoid-focal.simd.ts for
 * gamma = 2 on the heap views, the last n mod 4 elements in JavaScript. A
 * sum that is not finite (a bad target, an infinite or NaN logit) reruns
 * the JavaScript kernel, which gives the exact limits and the target's index.
 */
export function sigmoidFocalSumWasm(base: FillKernelSpec, simd: SigmoidFocalSimd | null): FillKernelSpec {
  if (simd === null) return base;
  return {
    ...base,
    fill: (inputs, outputs, attrs, shapes) => {
      const [x, t] = inputs as Float32Array[];
      const [total, badIndex, dx, dt] = outputs as [Float32Array, Int32Array, Float32Array, Float32Array];
      const { alpha, gamma, divisor, withGrad } = attrs as { alpha: number; gamma: number; divisor: number; withGrad: boolean };
      if (gamma !== 2 || !viewsInMemory(simd.memory, withGrad ? [x, t, dx, dt] : [x, t])) {
        base.fill(inputs, outputs, attrs, shapes);
        return;
      }
      const a0 = alpha >= 0 ? 1 - alpha : 1;
      const slope = alpha >= 0 ? 2 * alpha - 1 : 0;
      const groups = x.length >> 2;
      const scale = 1 / divisor;
      const head = withGrad
        ? simd.sumGrad(x.byteOffset, t.byteOffset, dx.byteOffset, dt.byteOffset, groups, a0, slope, scale)
        : simd.sum(x.byteOffset, t.byteOffset, groups, a0, slope);
      const tail = sigmoidFocalTail(x, t, groups << 2, alpha, gamma, withGrad ? dx : null, withGrad ? dt : null, scale);
      const sum = head + tail.sum;
      if (!Number.isFinite(sum) || tail.bad >= 0) {
        base.fill(inputs, outputs, attrs, shapes);
        return;
      }
      total[0] = sum / divisor;
      badIndex[0] = -1;
    },
  };
}
