import * as tf from '@tensorflow/tfjs-core';
import { gemmSimd, packedALength, packedLength, runGemm } from './kernels/wasm-gemm';
import { viewsInMemory } from './kernels/wasm-simd';
import { wasmKernelSwap } from './kernels/wasm-kernel-swap';

/** The kernel name of {@link gemm} on the wasm backend. */
export const GEMM_KERNEL = 'TfjsLossesMatMul';

interface GemmAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

type WasmHeapBackend = {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(id: tf.DataId): boolean;
};

/**
 * `op(a) · op(b)` on the wasm backend's heap by core's SIMD product, for 2-D
 * operands (or 3-D with a batch of 1, given as `batched`), into a new tensor
 * of shape `[m, n]` (`[1, m, n]` when batched). Null where the module cannot
 * run there (no WebAssembly SIMD, a shared memory, views outside its memory);
 * the caller then runs the backend's own BatchMatMul.
 */
function gemmOnHeap(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, batched: boolean): tf.TensorInfo | null {
  const g = gemmSimd(backend);
  if (g === null) return null;
  const w = backend as WasmHeapBackend;
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const n = transposeB ? b0 : b1;
  // Allocate first: an allocation can grow the heap and detach older views.
  const out = w.makeOutput(batched ? [1, m, n] : [m, n], 'float32');
  // Scratch with 16 floats more, to start on a 64-byte cache line.
  const packed = w.makeOutput([packedLength(k, n) + 16], 'float32');
  const tail = w.makeOutput([n % 8 === 0 ? 1 : 8 * m], 'float32');
  const packedA = w.makeOutput([transposeA ? packedALength(m, k) + 16 : 1], 'float32');
  const views = [a, b, out, packed, tail, packedA].map((t) => w.typedArrayFromHeap(t));
  const ok = viewsInMemory(g.memory, views);
  if (ok) {
    const [av, bv, cv, pv, tv, pav] = views;
    runGemm(g, { a: av, b: bv, c: cv, packed: lineAligned(pv), packedA: transposeA ? lineAligned(pav) : undefined, tail: tv, m, k, n, transposeA, transposeB });
  } else {
    w.disposeData(out.dataId);
  }
  for (const t of [packed, tail, packedA]) w.disposeData(t.dataId);
  return ok ? out : null;
}

/** The wasm kernel of {@link gemm}: core's SIMD product, or the backend's BatchMatMul where it cannot run. */
function wasmGemmKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as GemmAttrs;
    return gemmOnHeap(backend, a, b, transposeA, transposeB, false) ?? stock({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } });
  };
}

/** Whether a BatchMatMul's operands are one float32 matrix each (2-D, or 3-D with a batch of 1, the same rank). */
function singleMatrices(a: tf.TensorInfo, b: tf.TensorInfo): boolean {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length) return false;
  return a.shape.length === 2 || (a.shape.length === 3 && a.shape[0] === 1 && b.shape[0] === 1);
}

/**
 * tfjs-backend-wasm's BatchMatMul, except that a product of single matrices
 * with a transpose flag runs core's SIMD product, which takes the flags at no
 * cost: the stock kernel runs flagged products through a scalar loop, 8 to
 * 50 times slower than unflagged ones here. Such products come from
 * gradients: tfjs's fused matMul (tfjs-layers' Dense) differentiates into
 * `dy · Wᵀ` and `xᵀ · dy`. Unflagged products stay on XNNPACK.
 */
const flaggedMatMul: tf.KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as GemmAttrs;
  if ((transposeA || transposeB) && singleMatrices(a, b)) {
    const out = gemmOnHeap(args.backend, a, b, transposeA, transposeB, a.shape.length === 3);
    if (out !== null) return out;
  }
  return (matMulSwap.stock() as tf.KernelFunc)(args);
};

const matMulSwap = wasmKernelSwap('BatchMatMul', flaggedMatMul);

/**
 * Puts {@link flaggedMatMul} in place of the wasm backend's BatchMatMul once
 * tfjs-backend-wasm has registered its own. Safe to call any number of
 * times; returns whether it is in place. Called with `shareWasmIdentity`.
 */
export function routeFlaggedWasmMatMul(): boolean {
  return matMulSwap.install();
}

/** Puts tfjs-backend-wasm's own BatchMatMul back (tests compare the two). */
export function restoreWasmMatMul(): void {
  matMulSwap.restore();
}

/** The view from its first 64-byte-aligned element (the scratch has 16 floats to spare). */
function lineAligned(v: Float32Array): Float32Array {
  return v.subarray(((64 - (v.byteOffset & 63)) & 63) >> 2);
}

let gradientRegistered = false;

function ensureWasmKernel(): void {
  if (!tf.getKernel(GEMM_KERNEL, 'wasm')) {
    const stock = matMulSwap.stock() ?? tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
    if (!stock) throw new Error(`${GEMM_KERNEL}: the wasm backend has no BatchMatMul kernel`);
    tf.registerKernel({ kernelName: GEMM_KERNEL, backendName: 'wasm', kernelFunc: wasmGemmKernel(stock) });
  }
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: GEMM_KERNEL,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const { transposeA, transposeB } = attrs as unknown as GemmAttrs;
      return gemmGradients(dy as tf.Tensor, a, b, transposeA, transposeB);
    },
  });
}

/**
 * The gradients of `op(a) · op(b)` (op transposes when its flag is set), as
 * {@link gemm} products with flags: no operand is transposed in memory, and
 * the result differentiates again (second order).
 */
export function gemmGradients(dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): { a: () => tf.Tensor; b: () => tf.Tensor } {
  if (!transposeA && !transposeB) return { a: () => gemm(dy, b, false, true), b: () => gemm(a, dy, true, false) };
  if (!transposeA && transposeB) return { a: () => gemm(dy, b, false, false), b: () => gemm(dy, a, true, false) };
  if (transposeA && !transposeB) return { a: () => gemm(b, dy, false, true), b: () => gemm(a, dy, false, false) };
  return { a: () => gemm(b, dy, true, true), b: () => gemm(dy, a, true, true) };
}

/**
 * `op(a) · op(b)` for 2-D float32 tensors, op transposing when its flag is
 * set: the same result as `tf.matMul(a, b, transposeA, transposeB)` to
 * float32 rounding (another summation order), differentiable to any order.
 *
 * On the wasm backend it runs core's WebAssembly SIMD product
 * (`TfjsLossesMatMul`), about twice as fast here as tfjs-backend-wasm 4.22's
 * XNNPACK path for a new right-hand operand, and with either operand
 * transposed at no extra cost (tfjs runs a flagged product through a scalar
 * loop, 10 to 50 times slower). Elsewhere, and for other ranks or dtypes, it
 * is `tf.matMul`.
 */
export function gemm(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || a.rank !== 2 || b.rank !== 2 || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return tf.matMul(a, b, transposeA, transposeB);
  }
  const inner = [transposeA ? a.shape[0] : a.shape[1], transposeB ? b.shape[1] : b.shape[0]];
  if (inner[0] !== inner[1]) {
    throw new Error(`gemm: inner dimensions differ: ${inner[0]} (a ${JSON.stringify(a.shape)}, transposeA ${transposeA}) and ${inner[1]} (b ${JSON.stringify(b.shape)}, transposeB ${transposeB})`);
  }
  ensureWasmKernel();
  const attrs: GemmAttrs = { transposeA, transposeB };
  return tf.engine().runKernel(GEMM_KERNEL, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
