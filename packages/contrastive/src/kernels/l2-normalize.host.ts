import { viewsInMemory, type FillKernelSpec } from '@tfjs-losses/core';
import type { L2NormalizeSimd } from './l2-normalize.simd';
import { EPS_SQ } from '../internal/eps';

/** 1 / max(‖x‖, 1e-12) for a clamped (near-zero) row. */
const CLAMPED = 1 / Math.sqrt(EPS_SQ);

/** Σ x_k y_k over [from, to), in float64 with four partial sums (independent chains run faster). */
function dot(x: Float32Array, y: Float32Array, from: number, to: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = from;
  for (; k + 3 < to; k += 4) {
    s0 += x[k] * y[k];
    s1 += x[k + 1] * y[k + 1];
    s2 += x[k + 2] * y[k + 2];
    s3 += x[k + 3] * y[k + 3];
  }
  for (; k < to; k++) s0 += x[k] * y[k];
  return s0 + s1 + (s2 + s3);
}

function normalizeRows(x: Float32Array, y: Float32Array, rows: number, d: number, scale: number): void {
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    const ss = dot(x, x, o, o + d);
    const f = (ss > EPS_SQ ? 1 / Math.sqrt(ss) : CLAMPED) * scale;
    for (let k = o; k < o + d; k++) y[k] = x[k] * f;
  }
}

function normalizeRowsGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, rows: number, d: number, scale: number): void {
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    const ss = dot(x, x, o, o + d);
    const xd = dot(x, dy, o, o + d);
    const kept = ss > EPS_SQ;
    const r = kept ? 1 / Math.sqrt(ss) : CLAMPED;
    // y = s·r·x with r = ss^(-1/2) (a constant where clamped):
    // dx = s·r·dy − s·r³·(x·dy)·x.
    const a = scale * r;
    const c = kept ? a * r * r * xd : 0;
    for (let k = o; k < o + d; k++) dx[k] = a * dy[k] - c * x[k];
  }
}

const rowsOf = (shape: number[]): [number, number] => {
  const d = shape[shape.length - 1] ?? 1;
  const size = shape.reduce((p, c) => p * c, 1);
  return [d === 0 ? 0 : size / d, d];
};

/**
 * `y = scale · x / max(‖x‖, 1e-12)` along the last axis, one pass per row
 * with the sum of squares in float64, for `cpu` and `wasm`.
 */
export const l2NormalizeHost: FillKernelSpec = {
  inputNames: ['x'],
  outputShapes: ([shape]) => [shape],
  fill: ([x], [y], attrs, [shape]) => normalizeRows(x as Float32Array, y as Float32Array, ...rowsOf(shape), attrs.scale as number),
};

/**
 * Its gradient, recomputing the norm from `x` (nothing but `x` is kept for
 * the backward pass): `dx = s·r·dy − s·r³·(x·dy)·x`, without the second
 * term where the norm was clamped.
 */
export const l2NormalizeGradHost: FillKernelSpec = {
  inputNames: ['dy', 'x'],
  outputShapes: ([, shape]) => [shape],
  fill: ([dy, x], [dx], attrs, [, shape]) =>
    normalizeRowsGrad(dy as Float32Array, x as Float32Array, dx as Float32Array, ...rowsOf(shape), attrs.scale as number),
};

/**
 * {@link l2NormalizeHost} and {@link l2NormalizeGradHost} for the wasm
 * backend: the SIMD loops of l2-normalize.simd.ts where the row length is a
 * multiple of 4 and the views are in their memory, the JavaScript loops
 * otherwise.
 */
export function l2NormalizeWasm(simd: L2NormalizeSimd | null): { forward: FillKernelSpec; grad: FillKernelSpec } {
  if (simd === null) return { forward: l2NormalizeHost, grad: l2NormalizeGradHost };
  return {
    forward: {
      ...l2NormalizeHost,
      fill: (inputs, outputs, attrs, shapes) => {
        const [rows, d] = rowsOf(shapes[0]);
        const [x, y] = [inputs[0] as Float32Array, outputs[0] as Float32Array];
        if (d % 4 !== 0 || !viewsInMemory(simd.memory, [x, y])) return l2NormalizeHost.fill(inputs, outputs, attrs, shapes);
        simd.normalize(x.byteOffset, y.byteOffset, rows, d, attrs.scale as number);
      },
    },
    grad: {
      ...l2NormalizeGradHost,
      fill: (inputs, outputs, attrs, shapes) => {
        const [rows, d] = rowsOf(shapes[1]);
        const [dy, x, dx] = [inputs[0] as Float32Array, inputs[1] as Float32Array, outputs[0] as Float32Array];
        if (d % 4 !== 0 || !viewsInMemory(simd.memory, [dy, x, dx])) return l2NormalizeGradHost.fill(inputs, outputs, attrs, shapes);
        simd.grad(dy.byteOffset, x.byteOffset, dx.byteOffset, rows, d, attrs.scale as number);
      },
    },
  };
}
