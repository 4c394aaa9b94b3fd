import { SIMD_OP, WASM_OP, WASM_TYPE, bindToWasmMemory, upperHalf, groupLoop, groupsEnd, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { WasmFunction } from '@tfjs-losses/core';

/*
 * SIMD loops for the gradient penalty's kernels on the wasm backend (core's
 * WebAssembly builder, wasm-simd.ts), run in place on the backend's heap.
 * Pointers are byte offsets, n4 a number of 4-float groups:
 *   sumsq(p, n4) -> f64     sum of v^2, each float promoted to float64 first
 *                           (the products and sums of grad-penalty.cpu.ts)
 *   scale(p, q, n4, c)      q = c v (float32 products)
 */

/** The exported functions, with pointers as byte offsets into the shared memory. */
export interface SimdPenalty {
  /** The buffer of the memory the loops read and write (current after the memory grew). */
  readonly buffer: ArrayBufferLike;
  sumSquares(p: number, n4: number): number;
  scale(p: number, q: number, n4: number, c: number): void;
}

const { i32: I32, f32: F32, f64: F64, v128: V128 } = WASM_TYPE;
const { get, set, tee } = wasm;
const OP = SIMD_OP;

// sumsq(p i32 0, n4 i32 1) -> f64; locals: end i32 2, acc0 v128 3, acc1 v128 4, t v128 5, h v128 6
function sumSquaresFunction(): WasmFunction {
  const [p, n4, end, acc0, acc1, t, h] = [0, 1, 2, 3, 4, 5, 6];
  const squareInto = (acc: number, half: number[]) => [...get(acc), ...half, ...simd(OP.f64x2PromoteLowF32x4), ...tee(h), ...get(h), ...simd(OP.f64x2Mul), ...simd(OP.f64x2Add), ...set(acc)];
  const step = [
    ...get(p), ...v128Load(), ...set(t),
    ...squareInto(acc0, get(t)),
    ...squareInto(acc1, upperHalf(t)),
  ];
  const code = [
    ...groupsEnd(p, n4, end),
    ...groupLoop([p], end, step),
    ...get(acc0), ...get(acc1), ...simd(OP.f64x2Add), ...tee(acc0),
    ...simd(OP.f64x2ExtractLane, 0), ...get(acc0), ...simd(OP.f64x2ExtractLane, 1), WASM_OP.f64Add,
  ];
  return { name: 'sumsq', params: [I32, I32], results: [F64], locals: [I32, V128, V128, V128, V128], code };
}

// scale(p i32 0, q i32 1, n4 i32 2, c f32 3); locals: end i32 4, cv v128 5
function scaleFunction(): WasmFunction {
  const [p, q, n4, c, end, cv] = [0, 1, 2, 3, 4, 5];
  const step = [...get(q), ...get(p), ...v128Load(), ...get(cv), ...simd(OP.f32x4Mul), ...v128Store()];
  const code = [...get(c), ...simd(OP.f32x4Splat), ...set(cv), ...groupsEnd(p, n4, end), ...groupLoop([p, q], end, step)];
  return { name: 'scale', params: [I32, I32, I32, F32], results: [], locals: [I32, V128], code };
}

/** The module's bytes. */
export function penaltyModuleBytes(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([sumSquaresFunction(), scaleFunction()]);
}

function bindPenalty(exports: WebAssembly.Exports, memory: WebAssembly.Memory): SimdPenalty {
  const ex = exports as Record<string, (...args: number[]) => number>;
  return {
    get buffer() {
      return memory.buffer;
    },
    sumSquares: (p, n4) => ex.sumsq(p, n4),
    scale: (p, q, n4, c) => {
      ex.scale(p, q, n4, c);
    },
  };
}

/**
 * The SIMD loops bound to `memory` (one instance per memory), or null where
 * there is no memory, WebAssembly SIMD is unavailable or the memory is
 * shared: the kernels then run their JavaScript loops.
 */
export function simdPenalty(memory: WebAssembly.Memory | null): SimdPenalty | null {
  return bindToWasmMemory(memory, penaltyModuleBytes, bindPenalty);
}
