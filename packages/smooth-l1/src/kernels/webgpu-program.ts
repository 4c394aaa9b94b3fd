import type * as tf from '@tensorflow/tfjs-core';

/*
 * What the WGSL kernels of this package need from @tensorflow/tfjs-backend-webgpu,
 * typed by shape only: the backend arrives through @tfjs-losses/core, so this
 * package imports nothing from it.
 */

/** A compute program as `WebGPUBackend.runWebGPUProgram` takes it. */
export interface ElementwiseProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode(): string;
}

/** Values of a program's own uniforms, in the order `uniforms` declares them. */
export type UniformValues = { type: 'float32' | 'int32'; data: number[] }[];

/** The part of `WebGPUBackend` the kernels call. */
export interface WebGPUBackendLike {
  runWebGPUProgram(program: ElementwiseProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: UniformValues): tf.TensorInfo;
}

const WORKGROUP: [number, number, number] = [64, 1, 1];

/**
 * Fills the layout fields of a one-invocation-per-element program over
 * `shape`. The backend folds a dispatch beyond the per-dimension limit into
 * more dimensions and its `getGlobalIndex()` unfolds it.
 */
export function elementwiseLayout(shape: number[]): Pick<ElementwiseProgram, 'outputShape' | 'dispatchLayout' | 'dispatch' | 'workgroupSize' | 'size'> {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    outputShape: shape,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.max(1, Math.ceil(n / WORKGROUP[0])), 1, 1],
    workgroupSize: WORKGROUP,
    size: true,
  };
}

/**
 * WGSL helpers. `sl1Log1p(u)` is log(1 + u) without losing small u (plain
 * log(1.0 + u) returns 0 below 6e-8): the rounding of 1 + u is divided out.
 * `sl1Sign` is 0 at 0.
 */
export const WGSL_HELPERS = `
fn sl1Log1p(u : f32) -> f32 {
  let v = 1.0 + u;
  if (v == 1.0) { return u; }
  return log(v) * (u / (v - 1.0));
}
fn sl1Sign(d : f32) -> f32 {
  if (d > 0.0) { return 1.0; }
  if (d < 0.0) { return -1.0; }
  return d;
}
`;
