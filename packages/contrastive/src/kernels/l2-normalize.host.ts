import type { FillKernelSpec } from '@tfjs-losses/core';
import { EPS_SQ } from '../internal/eps';

/** 1 / max(‖x‖, 1e-12) for a clamped (near-zero) row. */
const CLAMPED = 1 / Math.sqrt(EPS_SQ);

function normalizeRows(x: Float32Array, y: Float32Array, rows: number, d: number, scale: number): void {
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let ss = 0;
    for (let k = o; k < o + d; k++) ss += x[k] * x[k];
    const f = (ss > EPS_SQ ? 1 / Math.sqrt(ss) : CLAMPED) * scale;
    for (let k = o; k < o + d; k++) y[k] = x[k] * f;
  }
}

function normalizeRowsGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, rows: number, d: number, scale: number): void {
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let ss = 0;
    let xd = 0;
    for (let k = o; k < o + d; k++) {
      const v = x[k];
      ss += v * v;
      xd += v * dy[k];
    }
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
