import type * as tf from '@tensorflow/tfjs-core';
import { log1pF64, viewsInMemory, type FillKernelSpec } from '@tfjs-losses/core';
import { balancedL1Constants, type BalancedL1Attrs } from './balanced-l1.constants';
import type { BalancedL1Simd } from './balanced-l1.simd';
import type { SmoothL1Simd } from './smooth-l1.simd';

/*
 * Typed-array kernels of elementwise Balanced L1 for the cpu and wasm backends
 * (core's fillKernelFunc). With x = |pred − target|, b = e^(γ/α) − 1 and
 * q = min(x, β):
 *
 *   loss  = α ((q + 1/b) log1p(b q / β) − q) + γ (x − q)
 *   slope = α log1p(b x / β) + α (b x + 1) / (b x + β) − α   if x < β, γ otherwise
 *
 * (the loss is MMDetection's inner branch for x < β and its outer branch
 * beyond). Branches are blended with m = +(x < β) as in smooth-l1.cpu.ts;
 * float64 arithmetic, rounded once when stored.
 *
 * The time goes into log1p: V8's Math.log1p is a call into C, so the loops
 * use core's table-driven {@link log1pF64}, inlined by V8. Near q = 0 the
 * loss is a difference of nearly equal terms, so log1p must be accurate to
 * the last float64 bits, not just to float32: log1pF64 is within 2 units in
 * the last place of Math.log1p for every argument (tested in core).
 */

interface Prepared {
  alpha: number;
  gamma: number;
  beta: number;
  b: number;
  invB: number;
  /** b / β: log1p's argument is q · bOverBeta. */
  bOverBeta: number;
}

function prepare(attrs: tf.NamedAttrMap): Prepared {
  const { alpha, gamma, beta } = attrs as unknown as BalancedL1Attrs;
  const { b, invB } = balancedL1Constants(alpha, gamma, beta);
  return { alpha, gamma, beta, b, invB, bOverBeta: b / beta };
}

/** Loss at x = |d| with Math.log1p (the rare path: non-finite x). */
function lossAt(x: number, k: Prepared): number {
  if (!(x < Infinity)) return k.gamma * x;
  const q = x < k.beta ? x : k.beta;
  return k.alpha * ((q + k.invB) * Math.log1p(q * k.bOverBeta) - q) + k.gamma * (x - q);
}

/** d loss / d pred at d with Math.log1p (the rare path: non-finite x). */
function slopeAt(d: number, k: Prepared): number {
  const x = Math.abs(d);
  if (!(x < k.beta)) return Math.sign(d) * k.gamma;
  const bx = k.b * x;
  return Math.sign(d) * (k.alpha * Math.log1p(x * k.bOverBeta) + (k.alpha * (bx + 1)) / (bx + k.beta) - k.alpha);
}

/** Sum of the loss from element `start` on; NaN or ±inf when some |d| is not finite (then the caller redoes it). */
function sumTable(p: Float32Array, t: Float32Array, k: Prepared, start = 0): number {
  const { alpha, gamma, beta, invB, bOverBeta } = k;
  const n = p.length;
  let s = 0;
  for (let i = start; i < n; i++) {
    const x = Math.abs(p[i] - t[i]);
    const m = +(x < beta);
    const q = m * x + (1 - m) * beta;
    s += alpha * ((q + invB) * log1pF64(q * bOverBeta) - q) + gamma * (x - q);
  }
  return s;
}

/**
 * {@link sumTable} that also stores the slope of each element (its gradient
 * with respect to pred), sharing the log1p: the gradient then needs no log.
 */
function sumSlopeTable(p: Float32Array, t: Float32Array, k: Prepared, slope: Float32Array, start = 0): number {
  const { alpha, gamma, beta, b, invB, bOverBeta } = k;
  const n = p.length;
  let s = 0;
  for (let i = start; i < n; i++) {
    const d = p[i] - t[i];
    const x = Math.abs(d);
    const m = +(x < beta);
    const q = m * x + (1 - m) * beta;
    const l = log1pF64(q * bOverBeta);
    s += alpha * ((q + invB) * l - q) + gamma * (x - q);
    const bq = b * q;
    const inner = alpha * l + (alpha * (bq + 1)) / (bq + beta) - alpha;
    slope[i] = (+(d > 0) - +(d < 0)) * (m * inner + (1 - m) * gamma);
  }
  return s;
}

/** The sum (and the slopes when `slope` has elements) with Math.log1p and exact branches. */
function sumExact(p: Float32Array, t: Float32Array, k: Prepared, slope: Float32Array): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += lossAt(Math.abs(p[i] - t[i]), k);
  for (let i = 0; i < slope.length; i++) slope[i] = slopeAt(p[i] - t[i], k);
  return s;
}

function lossEach(p: Float32Array, t: Float32Array, k: Prepared, out: Float32Array): void {
  const { alpha, gamma, beta, invB, bOverBeta } = k;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const x = Math.abs(p[i] - t[i]);
    if (!(x < Infinity)) out[i] = lossAt(x, k);
    else {
      const m = +(x < beta);
      const q = m * x + (1 - m) * beta;
      out[i] = alpha * ((q + invB) * log1pF64(q * bOverBeta) - q) + gamma * (x - q);
    }
  }
}

function grad(dy: Float32Array, p: Float32Array, t: Float32Array, k: Prepared, dPred: Float32Array, dTarget: Float32Array): void {
  const { alpha, gamma, beta, b, bOverBeta } = k;
  const dyStep = dy.length === 1 ? 0 : 1;
  const n = p.length;
  for (let i = 0, l = 0; i < n; i++, l += dyStep) {
    const d = p[i] - t[i];
    const x = Math.abs(d);
    let g: number;
    if (!(x < Infinity)) g = slopeAt(d, k);
    else {
      const m = +(x < beta);
      const q = m * x + (1 - m) * beta;
      const bq = b * q;
      const inner = alpha * log1pF64(q * bOverBeta) + (alpha * (bq + 1)) / (bq + beta) - alpha;
      g = (+(d > 0) - +(d < 0)) * (m * inner + (1 - m) * gamma);
    }
    const v = dy[l] * g;
    dPred[i] = v;
    dTarget[i] = -v;
  }
}

const f32 = (x: Float32Array | Int32Array | Uint8Array): Float32Array => x as Float32Array;

/** Loss per element. Inputs pred, target. */
export const balancedL1Forward: FillKernelSpec = {
  inputNames: ['pred', 'target'],
  outputShapes: (shapes) => [shapes[0]],
  fill: ([p, t], [out], attrs) => lossEach(f32(p), f32(t), prepare(attrs), out as Float32Array),
};

/**
 * Sum of the loss over all elements divided by `divisor` (attr), in float64:
 * a scalar; and, when attr `withSlope`, the slope of every element (the
 * gradient of the sum with respect to pred, before dy), else an empty tensor.
 */
export const balancedL1Sum: FillKernelSpec = {
  inputNames: ['pred', 'target'],
  outputShapes: (shapes, attrs) => [[], attrs.withSlope === true ? shapes[0] : [0]],
  fill: ([pIn, tIn], [out, slopeOut], attrs) => {
    const k = prepare(attrs);
    const p = f32(pIn);
    const t = f32(tIn);
    const slope = slopeOut as Float32Array;
    let s = slope.length > 0 ? sumSlopeTable(p, t, k, slope) : sumTable(p, t, k);
    if (!Number.isFinite(s)) s = sumExact(p, t, k, slope);
    out[0] = s / (attrs.divisor as number);
  },
};

/**
 * {@link balancedL1Sum} for the wasm backend: the SIMD loops of
 * balanced-l1.simd.ts on the heap views (the last n mod 4 elements in
 * JavaScript), the exact JavaScript path when the sum is not finite.
 */
export function balancedL1SumWasm(simd: BalancedL1Simd | null): FillKernelSpec {
  if (simd === null) return balancedL1Sum;
  return {
    ...balancedL1Sum,
    fill: (inputs, outputs, attrs, shapes) => {
      const [p, t] = inputs as Float32Array[];
      const [out, slope] = outputs as Float32Array[];
      if (!viewsInMemory(simd.memory, [p, t, slope])) {
        balancedL1Sum.fill(inputs, outputs, attrs, shapes);
        return;
      }
      const k = prepare(attrs);
      const groups = p.length >> 2;
      const c = [k.alpha, k.gamma, k.beta, k.b, k.invB, k.bOverBeta] as const;
      let s: number;
      if (slope.length > 0) {
        s = simd.sumSlope(p.byteOffset, t.byteOffset, slope.byteOffset, groups, ...c) + sumSlopeTable(p, t, k, slope, groups << 2);
      } else {
        s = simd.sum(p.byteOffset, t.byteOffset, groups, ...c) + sumTable(p, t, k, groups << 2);
      }
      if (!Number.isFinite(s)) s = sumExact(p, t, k, slope);
      out[0] = s / (attrs.divisor as number);
    },
  };
}

/** dPred = dy · slope, dTarget = −dPred. Inputs dy (one value or the slope's size), slope. */
export const balancedL1SlopeGrad: FillKernelSpec = {
  inputNames: ['dy', 'slope'],
  outputShapes: (shapes) => [shapes[1], shapes[1]],
  fill: ([dy, slope], [dPred, dTarget]) => scaleSlope(f32(dy), f32(slope), dPred as Float32Array, dTarget as Float32Array),
};

/**
 * {@link balancedL1SlopeGrad} for the wasm backend: the SIMD `scale` loop on
 * the heap views for a single dy (the last n mod 4 elements in JavaScript).
 */
export function balancedL1SlopeGradWasm(simd: SmoothL1Simd | null): FillKernelSpec {
  if (simd === null) return balancedL1SlopeGrad;
  return {
    ...balancedL1SlopeGrad,
    fill: (inputs, outputs, attrs, shapes) => {
      const [dy, slope] = inputs as Float32Array[];
      const [dPred, dTarget] = outputs as Float32Array[];
      if (dy.length !== 1 || !viewsInMemory(simd.memory, [slope, dPred, dTarget])) {
        balancedL1SlopeGrad.fill(inputs, outputs, attrs, shapes);
        return;
      }
      const groups = slope.length >> 2;
      simd.scale(slope.byteOffset, dPred.byteOffset, dTarget.byteOffset, groups, dy[0]);
      for (let i = groups << 2; i < slope.length; i++) {
        const v = dy[0] * slope[i];
        dPred[i] = v;
        dTarget[i] = -v;
      }
    },
  };
}

function scaleSlope(dy: Float32Array, slope: Float32Array, dPred: Float32Array, dTarget: Float32Array): void {
  const n = slope.length;
  if (dy.length === 1) {
    const dy0 = dy[0];
    for (let i = 0; i < n; i++) {
      const v = dy0 * slope[i];
      dPred[i] = v;
      dTarget[i] = -v;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = dy[i] * slope[i];
      dPred[i] = v;
      dTarget[i] = -v;
    }
  }
}

/**
 * Gradients of sum(dy · loss) with respect to pred and target. Inputs dy (the
 * loss's shape, or one value for the gradient of the sum), pred, target.
 */
export const balancedL1Grad: FillKernelSpec = {
  inputNames: ['dy', 'pred', 'target'],
  outputShapes: (shapes) => [shapes[1], shapes[1]],
  fill: ([dy, p, t], [dPred, dTarget], attrs) => grad(f32(dy), f32(p), f32(t), prepare(attrs), dPred as Float32Array, dTarget as Float32Array),
};
