import type * as tf from '@tensorflow/tfjs-core';

/*
 * What a loss package's WGSL kernels need from
 * @tensorflow/tfjs-backend-webgpu, typed by shape only. The backend is an
 * optional dependency of core and loss packages import nothing from it:
 * a kernel receives the backend object from `runKernel` and hands it a
 * program that fits these types.
 */

/** A compute program as `WebGPUBackend.runWebGPUProgram` takes it. */
export interface WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  /** Identifies the compiled pipeline: include every value the code depends on. */
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Declares `uniforms.size` (the output's element count) in the header. */
  size?: boolean;
  /** The program's own uniforms as WGSL struct fields, e.g. `'gamma : f32, n : i32,'`. */
  uniforms?: string;
  getUserCode(): string;
}

/** Values of a program's own uniforms, in the order `uniforms` declares them. */
export type ProgramUniforms = { type: 'float32' | 'int32'; data: number[] }[];

/** The part of `WebGPUBackend` a kernel calls. */
export interface WebGPUBackendLike {
  runWebGPUProgram(program: WebGPUProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: ProgramUniforms): tf.TensorInfo;
}

/** The workgroup size of one-dimensional programs. */
export const WORKGROUP_SIZE: [number, number, number] = [64, 1, 1];

/**
 * One invocation per unit of work (elements, rows, sequences). The backend
 * folds a dispatch beyond the per-dimension limit into two or three
 * dimensions and its `getGlobalIndex()` unfolds it.
 */
export function dispatchFor(units: number): [number, number, number] {
  return [Math.max(1, Math.ceil(units / WORKGROUP_SIZE[0])), 1, 1];
}

/** The layout fields of a program with one invocation per element of `shape`. */
export function elementwiseLayout(
  shape: number[],
): Pick<WebGPUProgram, 'outputShape' | 'dispatchLayout' | 'dispatch' | 'workgroupSize' | 'size'> {
  return {
    outputShape: shape,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: dispatchFor(shape.reduce((a, b) => a * b, 1)),
    workgroupSize: WORKGROUP_SIZE,
    size: true,
  };
}

/** `fn main(index : i32)`: the entry tfjs's shader header calls with the global index. */
export const WGSL_MAIN = 'fn main(index : i32)';

/**
 * WGSL functions shared by the loss kernels (prefix them into `getUserCode`):
 * - `lossLog1p(u)`: log(1 + u) that keeps small u (plain `log(1.0 + u)` is 0
 *   below about 6e-8); the rounding of 1 + u is divided out.
 * - `lossSoftplus(z)`: log(1 + exp(z)) without overflow.
 * - `lossSign(d)`: -1, 0 or 1 (0 at 0, NaN stays NaN).
 */
export const WGSL_MATH = `
fn lossLog1p(u : f32) -> f32 {
  let v = 1.0 + u;
  if (v == 1.0) { return u; }
  return log(v) * (u / (v - 1.0));
}
fn lossSoftplus(z : f32) -> f32 {
  return max(z, 0.0) + lossLog1p(exp(-abs(z)));
}
fn lossSign(d : f32) -> f32 {
  if (d > 0.0) { return 1.0; }
  if (d < 0.0) { return -1.0; }
  return d;
}
`;

/** What a program built by {@link elementwiseProgram} or {@link perUnitProgram} runs. */
export interface ProgramSpec {
  /** Input buffer names, in the order the inputs are passed. */
  variableNames: string[];
  /** Identifies the compiled pipeline: include every value the code depends on. */
  shaderKey: string;
  /** The program's own uniforms as WGSL struct fields, e.g. `'gamma : f32, n : i32,'`. */
  uniforms?: string;
  /** The WGSL code after tfjs's header (built only when the pipeline is compiled if given as a function). */
  userCode: string | (() => string);
}

function program(spec: ProgramSpec, layout: Omit<WebGPUProgram, 'variableNames' | 'shaderKey' | 'uniforms' | 'getUserCode'>): WebGPUProgram {
  const { variableNames, shaderKey, uniforms, userCode } = spec;
  return {
    variableNames,
    shaderKey,
    ...layout,
    ...(uniforms === undefined ? {} : { uniforms }),
    getUserCode: typeof userCode === 'string' ? () => userCode : userCode,
  };
}

/**
 * A program with one invocation per element of `shape` (the output's shape):
 * `uniforms.size` holds the element count, `main(index)` gets the flat index.
 */
export function elementwiseProgram(spec: ProgramSpec & { shape: number[] }): WebGPUProgram {
  return program(spec, elementwiseLayout(spec.shape));
}

/**
 * A program with one invocation per unit of work (a row, a sequence) and an
 * output of `outputShape`: `main(index)` gets the unit's index and writes any
 * of the output's elements; no `uniforms.size` (bound the index by an input's
 * shape uniform).
 */
export function perUnitProgram(spec: ProgramSpec & { outputShape: number[]; units: number }): WebGPUProgram {
  return program(spec, {
    outputShape: spec.outputShape,
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: dispatchFor(spec.units),
    workgroupSize: WORKGROUP_SIZE,
  });
}
