import type { FillKernelSpec } from '@tfjs-losses/core';

/*
 * Typed-array kernels of elementwise smooth L1 for the cpu and wasm backends
 * (run through core's fillKernelFunc: no copies). Inputs: pred, target (one
 * shape) and beta, of length 1 or the size of the last axis. One pass over
 * the data; the arithmetic runs in float64 and is rounded once when stored.
 *
 * With a = |d|, e = a − beta and o = +(e > 0) (1 outside, 0 inside):
 *
 *   q    = a − o·e              (min(a, beta): a inside, beta outside)
 *   loss = q · q · (0.5 / beta) + o · e
 *   g    = m · d / beta + (1 − m) · sign(d),   m = +(a < beta)
 *
 * which is 0.5 a² / beta inside and a − 0.5 beta outside, and with
 * 0.5 / beta and 1 / beta taken as 0 for beta = 0, exactly L1 (|d|, sign(d)).
 * The branches are blended with 0/1 masks, which compile without a jump: on
 * real data |d| falls on either side of beta unpredictably, and a
 * mispredicted branch per element cost 4x here. The blends are exact while
 * everything is finite; an infinite |d| (which would give inf − inf) takes
 * the exact scalar path instead: a rare, well-predicted branch in the
 * gradient loops, and a second pass for a sum that came out non-finite.
 *
 * Every loop takes Float32Array arguments only (one hidden class per
 * argument keeps V8's code monomorphic) and hoists the per-beta constants.
 */

/** Loss at a = |d| by the branch formula (inf, NaN and beta = 0 included). */
export function lossAt(a: number, beta: number): number {
  if (!(a < Infinity) || !(beta > 0)) return a;
  return a < beta ? a * ((0.5 * a) / beta) : a - 0.5 * beta;
}

/** d loss / d pred at d by the branch formula. */
export function slopeAt(d: number, beta: number): number {
  const a = Math.abs(d);
  if (!(beta > 0) || !(a < beta)) return Math.sign(d);
  return d / beta;
}

/** 0.5 / beta, or 0 for beta = 0 (then q is 0 and the quadratic term vanishes). */
const halfInv = (beta: number): number => (beta > 0 ? 0.5 / beta : 0);
/** 1 / beta, or 0 for beta = 0 (then the inside mask is 0 everywhere). */
const inv = (beta: number): number => (beta > 0 ? 1 / beta : 0);

/** Sum of the loss with one beta, or NaN / ±inf when some |d| is infinite or NaN. */
function sumOne(p: Float32Array, t: Float32Array, beta: number): number {
  const h = halfInv(beta);
  const n = p.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(p[i] - t[i]);
    const e = a - beta;
    const o = +(e > 0);
    const q = a - o * e;
    s += q * q * h + o * e;
  }
  return s;
}

/** Sum of the loss with one beta per coordinate (beta.length columns). */
function sumPerColumn(p: Float32Array, t: Float32Array, beta: Float32Array): number {
  const c = beta.length;
  const hs = new Float64Array(c);
  const bs = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    bs[j] = beta[j];
    hs[j] = halfInv(beta[j]);
  }
  const n = p.length;
  let s = 0;
  for (let i = 0, j = 0; i < n; i++) {
    const a = Math.abs(p[i] - t[i]);
    const e = a - bs[j];
    const o = +(e > 0);
    const q = a - o * e;
    s += q * q * hs[j] + o * e;
    if (++j === c) j = 0;
  }
  return s;
}

/** The same sums by the branch formula: for inputs with an infinite or NaN |d|. */
function sumExact(p: Float32Array, t: Float32Array, beta: Float32Array): number {
  const c = beta.length;
  let s = 0;
  for (let i = 0, j = 0; i < p.length; i++) {
    s += lossAt(Math.abs(p[i] - t[i]), beta[j]);
    if (++j === c) j = 0;
  }
  return s;
}

/** Sum of the loss over all elements in float64. */
export function smoothL1SumValue(p: Float32Array, t: Float32Array, beta: Float32Array): number {
  const s = beta.length === 1 ? sumOne(p, t, beta[0]) : sumPerColumn(p, t, beta);
  return Number.isFinite(s) ? s : sumExact(p, t, beta);
}

/** Per-element loss. */
function lossEach(p: Float32Array, t: Float32Array, beta: Float32Array, out: Float32Array): void {
  const c = beta.length;
  const hs = new Float64Array(c);
  for (let j = 0; j < c; j++) hs[j] = halfInv(beta[j]);
  const n = p.length;
  for (let i = 0, j = 0; i < n; i++) {
    const a = Math.abs(p[i] - t[i]);
    if (a === Infinity) out[i] = a;
    else {
      const e = a - beta[j];
      const o = +(e > 0);
      const q = a - o * e;
      out[i] = q * q * hs[j] + o * e;
    }
    if (++j === c) j = 0;
  }
}

/** dPred = dy · g(d), dTarget = −dPred, for one dy value and one beta. */
function gradUniform(p: Float32Array, t: Float32Array, dy: number, beta: number, dPred: Float32Array, dTarget: Float32Array): void {
  const k = dy * inv(beta);
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const d = p[i] - t[i];
    const a = Math.abs(d);
    let v: number;
    if (a === Infinity) v = dy * slopeAt(d, beta);
    else {
      const m = +(a < beta);
      v = m * (d * k) + (1 - m) * dy * (+(d > 0) - +(d < 0));
    }
    dPred[i] = v;
    dTarget[i] = -v;
  }
}

/** One dy value, one beta per column (the self-adjusting loss). */
function gradColumns(p: Float32Array, t: Float32Array, dy: number, beta: Float32Array, dPred: Float32Array, dTarget: Float32Array): void {
  const c = beta.length;
  const bs = new Float64Array(c);
  const ks = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    bs[j] = beta[j];
    ks[j] = dy * inv(beta[j]);
  }
  const n = p.length;
  for (let i = 0, j = 0; i < n; i++) {
    const d = p[i] - t[i];
    const a = Math.abs(d);
    const b = bs[j];
    let v: number;
    if (a === Infinity) v = dy * slopeAt(d, b);
    else {
      const m = +(a < b);
      v = m * (d * ks[j]) + (1 - m) * dy * (+(d > 0) - +(d < 0));
    }
    dPred[i] = v;
    dTarget[i] = -v;
    if (++j === c) j = 0;
  }
}

/** The general case: dy of length 1 or the loss's size, beta of length 1 or one per column. */
function gradGeneral(dy: Float32Array, p: Float32Array, t: Float32Array, beta: Float32Array, dPred: Float32Array, dTarget: Float32Array): void {
  const c = beta.length;
  const ks = new Float64Array(c);
  for (let j = 0; j < c; j++) ks[j] = inv(beta[j]);
  const dyStep = dy.length === 1 ? 0 : 1;
  const n = p.length;
  for (let i = 0, j = 0, k = 0; i < n; i++, k += dyStep) {
    const d = p[i] - t[i];
    const a = Math.abs(d);
    const b = beta[j];
    let g: number;
    if (a === Infinity) g = slopeAt(d, b);
    else {
      const m = +(a < b);
      g = m * (d * ks[j]) + (1 - m) * (+(d > 0) - +(d < 0));
    }
    const v = dy[k] * g;
    dPred[i] = v;
    dTarget[i] = -v;
    if (++j === c) j = 0;
  }
}

const f32 = (x: Float32Array | Int32Array | Uint8Array): Float32Array => x as Float32Array;

/** Loss per element. Inputs pred, target, beta. */
export const smoothL1Forward: FillKernelSpec = {
  inputNames: ['pred', 'target', 'beta'],
  outputShapes: (shapes) => [shapes[0]],
  fill: ([p, t, b], [out]) => lossEach(f32(p), f32(t), f32(b), out as Float32Array),
};

/** Sum of the loss over all elements divided by `divisor` (attr), in float64: a scalar. */
export const smoothL1Sum: FillKernelSpec = {
  inputNames: ['pred', 'target', 'beta'],
  outputShapes: () => [[]],
  fill: ([p, t, b], [out], attrs) => {
    out[0] = smoothL1SumValue(f32(p), f32(t), f32(b)) / (attrs.divisor as number);
  },
};

/**
 * Gradients of sum(dy · loss): d/dpred = dy · g(d), d/dtarget = −dy · g(d), with
 * g = d / beta inside, sign(d) outside (0 at d = 0, and for beta = 0 that is L1's).
 * Inputs dy (the loss's shape, or one value for the gradient of the sum), pred,
 * target, beta.
 */
export const smoothL1Grad: FillKernelSpec = {
  inputNames: ['dy', 'pred', 'target', 'beta'],
  outputShapes: (shapes) => [shapes[1], shapes[1]],
  fill: ([dy, p, t, b], [dPred, dTarget]) => {
    const beta = f32(b);
    if (dy.length === 1 && beta.length === 1) gradUniform(f32(p), f32(t), dy[0], beta[0], dPred as Float32Array, dTarget as Float32Array);
    else if (dy.length === 1) gradColumns(f32(p), f32(t), dy[0], beta, dPred as Float32Array, dTarget as Float32Array);
    else gradGeneral(f32(dy), f32(p), f32(t), beta, dPred as Float32Array, dTarget as Float32Array);
  },
};
