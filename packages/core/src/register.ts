// The one module of @tfjs-losses/core with side effects: it registers the
// gradients tfjs-core lacks and repairs the ones it gets wrong. Importing
// anything from the package runs it once.
import './gradients/stock';
import { applyGradientFixes } from './gradients/fixes';
import { registerWasmUnsortedSegmentSum } from './kernels/wasm-unsorted-segment-sum';
import { registerWasmConv2DBackpropFilter } from './kernels/wasm-conv2d-backprop-filter';
import { shareWasmIdentity } from './kernels/wasm-identity';
import { routeFlaggedWasmMatMul } from './gemm';

applyGradientFixes();
registerWasmUnsortedSegmentSum();
registerWasmConv2DBackpropFilter();
// Only when tfjs-backend-wasm was imported first; setupBackend also applies them
// (and fused ops the shared Identity).
shareWasmIdentity();
routeFlaggedWasmMatMul();
