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
export { setGradient, stockGradient, withStockGradient, applyGradientFixes, ZERO_GRADIENT_KERNELS } from './gradients/fixes';
export { defineFusedOp, setFusedKernelsEnabled, withComposedOps } from './kernels/fused';
export type { FusedOp, FusedOpSpec, BackendKernels, ComposedImpl } from './kernels/fused';
export { hostKernelFunc } from './kernels/typed-array-kernel';
export type { HostKernel, HostArray, HostOutput, HostBackendName } from './kernels/typed-array-kernel';
export { registerWasmUnsortedSegmentSum } from './kernels/wasm-unsorted-segment-sum';
export { registerWasmConv2DBackpropFilter } from './kernels/wasm-conv2d-backprop-filter';
export { SECOND_ORDER_KERNELS } from './gradients/second-order';
