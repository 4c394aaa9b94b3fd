import type * as tf from '@tensorflow/tfjs-core';

/*
 * The parts of @tensorflow/tfjs-backend-webgpu's program interface the focal
 * kernels use, typed structurally so that this package needs no direct
 * dependency on the backend (it arrives through @tfjs-losses/core).
 */

/** A compute program for `WebGPUBackend.runWebGPUProgram`. */
export interface WebGPUProgramLike {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;
  getUserCode(): string;
}

/** Values of a program's own uniforms, in declaration order. */
export type ProgramUniforms = { type: 'float32' | 'int32'; data: number[] }[];

/** The slice of `WebGPUBackend` a kernel needs. */
export interface WebGPUBackendLike {
  runWebGPUProgram(program: WebGPUProgramLike, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: ProgramUniforms): tf.TensorInfo;
}

export const WORKGROUP_SIZE: [number, number, number] = [64, 1, 1];

/**
 * One invocation per unit of work (elements or rows). The backend folds
 * dispatches beyond the per-dimension limit into two or three dimensions.
 */
export function dispatchFor(units: number): [number, number, number] {
  return [Math.max(1, Math.ceil(units / WORKGROUP_SIZE[0])), 1, 1];
}

/** `fn main(index : i32)`, the entry tfjs's shader header calls with the global index. */
export const MAIN = 'fn main(index : i32)';

/**
 * WGSL helpers. focalLog1p is log(1 + u) accurate for small u (plain
 * log(1.0 + u) loses all digits below 1e-7); focalSoftplus is
 * log(1 + exp(z)) without overflow.
 */
export const WGSL_HELPERS = `
fn focalLog1p(u : f32) -> f32 {
  let v = 1.0 + u;
  if (v == 1.0) { return u; }
  return log(v) * (u / (v - 1.0));
}
fn focalSoftplus(z : f32) -> f32 {
  return max(z, 0.0) + focalLog1p(exp(-abs(z)));
}
`;
