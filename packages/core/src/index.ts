import './register';

export { LossInputError, isLossInputError, formatShape, describeValue } from './errors';
export type { TensorLike, Reduction, Reduced, ReductionOptions, WeightedReductionOptions, KerasLoss } from './types';
export { ArgChecker, inputs, canReadSync } from './validate';
export type { ShapeRule, IntRule, NumberRule } from './validate';
export { reduce, accurateSum, accurateMean } from './reduce';
export type { ReduceOptions } from './reduce';
export { setupBackend } from './backend';
export type { BackendName, BackendReport, SetupBackendOptions } from './backend';
export { absZeroGrad } from './abs';
export { setGradient, stockGradient, withStockGradient, applyGradientFixes, ZERO_GRADIENT_KERNELS, withReluMasksOffTape } from './gradients/fixes';
export { defineFusedOp, setFusedKernelsEnabled, withComposedOps, nestedTape } from './kernels/fused';
export type { FusedOp, FusedOpSpec, BackendKernels, ComposedImpl } from './kernels/fused';
export { defineCarriedGradOp } from './kernels/carried-grad';
export type { CarriedGradOp, CarriedGradOpSpec } from './kernels/carried-grad';
export { hostKernelFunc, fillKernelFunc } from './kernels/typed-array-kernel';
export type { HostKernel, HostArray, HostOutput, HostBackendName, FillKernelSpec } from './kernels/typed-array-kernel';
export { expF64, log1pF64 } from './kernels/fast-math';
export { INLINE_CONSTANTS, V128ConstantPool, f64x2Const, f64x2Exp, f64x2Log1p, i64x2Const } from './kernels/wasm-simd-math';
export type { ExpLocals, Log1pLocals, V128Constants } from './kernels/wasm-simd-math';
export { WORKGROUP_SIZE, dispatchFor, elementwiseLayout, elementwiseProgram, perUnitProgram, WGSL_MAIN, WGSL_MATH } from './kernels/webgpu-program';
export type { WebGPUProgram, ProgramUniforms, WebGPUBackendLike, ProgramSpec } from './kernels/webgpu-program';
export {
  WASM_TYPE,
  WASM_OP,
  SIMD_OP,
  UPPER_HALF_DOWN,
  upperHalf,
  LOW_HALVES_JOINED,
  uleb128,
  sleb128,
  f32Bytes,
  wasmVector,
  wasmName,
  wasm,
  simd,
  v128Load,
  v128Store,
  f32x4Splat,
  loopUntil,
  forRange,
  f64x2LaneSum,
  groupLoop,
  groupsEnd,
  viewsInMemory,
  wasmModuleBytes,
  wasmBackendMemory,
  bindToWasmMemory,
  instantiateOnBackendMemory,
} from './kernels/wasm-simd';
export type { WasmValueType, WasmFunction } from './kernels/wasm-simd';
export { shareWasmIdentity, restoreWasmIdentity } from './kernels/wasm-identity';
export { registerWasmUnsortedSegmentSum } from './kernels/wasm-unsorted-segment-sum';
export { registerWasmConv2DBackpropFilter } from './kernels/wasm-conv2d-backprop-filter';
export { gemm, gemmGradients, GEMM_KERNEL, routeFlaggedWasmMatMul, restoreWasmMatMul } from './gemm';
export { SECOND_ORDER_KERNELS } from './gradients/second-order';
