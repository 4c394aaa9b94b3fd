import { viewsInMemory, type FillKernelSpec } from '@tfjs-losses/core';
import { lossAt, slopeAt, smoothL1Grad, smoothL1Sum } from './smooth-l1.cpu';
import type { SmoothL1Simd } from './smooth-l1.simd';

/*
 * The wasm backend's smooth L1 sum and gradient kernels: the SIMD loops of
 * smooth-l1.simd.ts on the heap views where they apply (every beta > 0 and
 * finite, one beta or one per column of 2 or 4 columns, so that a 4-lane group
 * has a fixed beta per lane; a single dy for the gradient), with the last
 * n mod 16 elements in JavaScript; the JavaScript kernels otherwise.
 */

/** The four lane betas, or null when the SIMD loops do not apply. */
function laneBetas(beta: Float32Array): [number, number, number, number] | null {
  const c = beta.length;
  if (c !== 1 && c !== 2 && c !== 4) return null;
  for (let j = 0; j < c; j++) if (!(beta[j] > 0 && beta[j] < Infinity)) return null;
  return [beta[0], beta[1 % c], beta[2 % c], beta[3 % c]];
}

/**
 * Whether β is a power of two and dy / β is exact in float32 (then gradPow2
 * gives grad's values): the float32 quotient times β gives dy back exactly,
 * and β has no fraction bits.
 */
function exactQuotient(dy: number, beta: number): boolean {
  const q = Math.fround(dy / beta);
  return q * beta === dy && Math.log2(beta) % 1 === 0;
}

/** The smallest beta of sumClamped (its outside terms, at least β²/2, stay normal floats). */
const CLAMPED_MIN_BETA = 2 ** -62;

/** Whether every lane beta is in [2^-62, 1], the range of the clamped loops (sumClamped, sumGrad). */
const clampedRange = (lanes: number[]): boolean => lanes.every((beta) => beta >= CLAMPED_MIN_BETA && beta <= 1);

/** `s` plus the loss of elements [from, n), added in order in JavaScript (what the 16-element SIMD blocks leave). */
function addTail(s: number, p: Float32Array, t: Float32Array, b: Float32Array, from: number): number {
  for (let i = from; i < p.length; i++) s += lossAt(Math.abs(p[i] - t[i]), b[i % b.length]);
  return s;
}

/** dPred = dy · slope and dTarget = −dPred over elements [from, n) in JavaScript. */
function gradTail(p: Float32Array, t: Float32Array, b: Float32Array, dy: number, dPred: Float32Array, dTarget: Float32Array, from: number): void {
  for (let i = from; i < p.length; i++) {
    const v = dy * slopeAt(p[i] - t[i], b[i % b.length]);
    dPred[i] = v;
    dTarget[i] = -v;
  }
}

/** Sum kernel: inputs pred, target, beta; attr divisor. */
export function smoothL1SumWasm(simd: SmoothL1Simd | null): FillKernelSpec {
  if (simd === null) return smoothL1Sum;
  return {
    ...smoothL1Sum,
    fill: (inputs, outputs, attrs, shapes) => {
      const [p, t, b] = inputs as Float32Array[];
      const lanes = laneBetas(b);
      if (lanes === null || !viewsInMemory(simd.memory, [p, t])) {
        smoothL1Sum.fill(inputs, outputs, attrs, shapes);
        return;
      }
      const blocks = p.length >> 4;
      const run = clampedRange(lanes) ? simd.sumClamped : simd.sum;
      const s = addTail(run(p.byteOffset, t.byteOffset, blocks, ...lanes), p, t, b, blocks << 4);
      outputs[0][0] = s / (attrs.divisor as number);
    },
  };
}

/** Gradient kernel: inputs dy, pred, target, beta; outputs d/dpred, d/dtarget. */
export function smoothL1GradWasm(simd: SmoothL1Simd | null): FillKernelSpec {
  if (simd === null) return smoothL1Grad;
  return {
    ...smoothL1Grad,
    fill: (inputs, outputs, attrs, shapes) => {
      const [dy, p, t, b] = inputs as Float32Array[];
      const [dPred, dTarget] = outputs as Float32Array[];
      const lanes = laneBetas(b);
      if (lanes === null || dy.length !== 1 || !viewsInMemory(simd.memory, [p, t, dPred, dTarget])) {
        smoothL1Grad.fill(inputs, outputs, attrs, shapes);
        return;
      }
      const blocks = p.length >> 4;
      const run = lanes.every((b) => exactQuotient(dy[0], b)) ? simd.gradPow2 : simd.grad;
      run(p.byteOffset, t.byteOffset, dPred.byteOffset, dTarget.byteOffset, blocks, ...lanes, dy[0]);
      gradTail(p, t, b, dy[0], dPred, dTarget, blocks << 4);
    },
  };
}

/** The gradient scale of a sum divided by `divisor`, for an upstream gradient of 1: float32 1 / divisor. */
export function unitScale(divisor: number): number {
  return Math.fround(1 / Math.fround(divisor));
}

/**
 * The carried-gradient sum kernel (inputs pred, target, beta; attrs divisor,
 * withGrad): the sum divided by divisor and, while a tape records, both
 * gradients for an upstream gradient of 1, as the sum kernel and the
 * gradient kernel would give them for dy = float32(1 / divisor). The
 * JavaScript kernels' two passes, or `simd`'s.
 */
export function smoothL1CarriedSum(simd: SmoothL1Simd | null): FillKernelSpec {
  const sum = smoothL1SumWasm(simd);
  const grad = smoothL1GradWasm(simd);
  const twoPasses: FillKernelSpec['fill'] = (inputs, outputs, attrs, shapes) => {
    sum.fill(inputs, [outputs[0]], attrs, shapes);
    if (!attrs.withGrad) return;
    const dy = Float32Array.of(unitScale(attrs.divisor as number));
    grad.fill([dy, ...inputs], outputs.slice(1), {}, [[], ...shapes]);
  };
  return {
    inputNames: ['pred', 'target', 'beta'],
    outputShapes: ([shape], attrs) => (attrs.withGrad ? [[], shape, shape] : [[], [0], [0]]),
    fill: (inputs, outputs, attrs, shapes) => {
      const [p, t, b] = inputs as Float32Array[];
      const [out, dPred, dTarget] = outputs as Float32Array[];
      const lanes = simd === null ? null : laneBetas(b);
      if (!attrs.withGrad || simd === null || lanes === null || !clampedRange(lanes) || !viewsInMemory(simd.memory, [p, t, dPred, dTarget])) {
        twoPasses(inputs, outputs, attrs, shapes);
        return;
      }
      const dy = unitScale(attrs.divisor as number);
      const blocks = p.length >> 4;
      const run = lanes.every((beta) => exactQuotient(dy, beta)) ? simd.sumGradPow2 : simd.sumGrad;
      const s = addTail(run(p.byteOffset, t.byteOffset, dPred.byteOffset, dTarget.byteOffset, blocks, ...lanes, dy), p, t, b, blocks << 4);
      gradTail(p, t, b, dy, dPred, dTarget, blocks << 4);
      out[0] = s / (attrs.divisor as number);
    },
  };
}
