import { SIMD_OP, WASM_OP, WASM_TYPE, bindToWasmMemory, upperHalf, groupLoop, groupsEnd, f32x4Splat, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { WasmFunction } from '@tfjs-losses/core';

/*
 * SIMD loops for the mean-distance kernels on the wasm backend, written with
 * core's WebAssembly builder (wasm-simd.ts). The module imports the wasm
 * backend's own memory, so it reads the inputs and writes the gradients in
 * place in the tensors' heap storage (the views core's fillKernelFunc hands
 * over): no copies, four float32 lanes per instruction.
 *
 * Exports, for kind in l1, l2, smooth (pointers are byte offsets, n4 the
 * number of 4-float groups, i.e. elements / 4 rounded down):
 *   sum_<kind>(pa, pb, n4, beta) -> f64       sum of dist(a - b), lanes summed in float64
 *   grad_<kind>(pa, pb, pda, pdb, n4, s, beta) da = s dist'(a - b), db = -da
 * with dist and dist' as in distance.cpu.ts (float32 arithmetic per element).
 */

export type DistanceKind = 'l1' | 'l2' | 'smooth';

/** The exported functions, with pointers as byte offsets into the shared memory. */
export interface SimdDistance {
  /** The buffer of the memory the loops read and write (current after the memory grew). */
  readonly buffer: ArrayBufferLike;
  sum(kind: DistanceKind, pa: number, pb: number, n4: number, beta: number): number;
  grad(kind: DistanceKind, pa: number, pb: number, pda: number, pdb: number, n4: number, s: number, beta: number): void;
}

const KINDS: DistanceKind[] = ['l1', 'l2', 'smooth'];

const { i32: I32, f32: F32, f64: F64, v128: V128 } = WASM_TYPE;
const { get, set, tee } = wasm;
const OP = SIMD_OP;
const load = (ptr: number): number[] => [...get(ptr), ...v128Load()];

// sum_<kind>(pa i32 0, pb i32 1, n4 i32 2, beta f32 3) -> f64
// locals: end i32 4, acc0 v128 5, acc1 v128 6, t v128 7, ad v128 8
function sumFunction(kind: DistanceKind): WasmFunction {
  const [pa, pb, n4, beta, end, acc0, acc1, t, ad] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const diff = [...load(pa), ...load(pb), ...simd(OP.f32x4Sub)];
  let term: number[];
  if (kind === 'l1') term = [...diff, ...simd(OP.f32x4Abs)];
  else if (kind === 'l2') term = [...diff, ...tee(t), ...get(t), ...simd(OP.f32x4Mul)];
  else {
    // |d| < beta ? 0.5 |d| |d| / beta : |d| - 0.5 beta
    const betaV = [...get(beta), ...simd(OP.f32x4Splat)];
    term = [
      ...diff, ...simd(OP.f32x4Abs), ...set(ad),
      ...f32x4Splat(0.5), ...get(ad), ...simd(OP.f32x4Mul), ...get(ad), ...simd(OP.f32x4Mul), ...betaV, ...simd(OP.f32x4Div),
      ...get(ad), ...get(beta), ...wasm.f32(0.5), WASM_OP.f32Mul, ...simd(OP.f32x4Splat), ...simd(OP.f32x4Sub),
      ...get(ad), ...betaV, ...simd(OP.f32x4Lt),
      ...simd(OP.v128Bitselect),
    ];
  }
  const step = [
    ...term, ...set(t),
    ...get(acc0), ...get(t), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...set(acc0),
    ...get(acc1), ...upperHalf(t), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...set(acc1),
  ];
  const code = [
    ...groupsEnd(pa, n4, end),
    ...groupLoop([pa, pb], end, step),
    ...get(acc0), ...get(acc1), ...simd(OP.f64x2Add), ...tee(acc0),
    ...simd(OP.f64x2ExtractLane, 0), ...get(acc0), ...simd(OP.f64x2ExtractLane, 1), WASM_OP.f64Add,
  ];
  return { name: `sum_${kind}`, params: [I32, I32, I32, F32], results: [F64], locals: [I32, V128, V128, V128, V128], code };
}

// grad_<kind>(pa 0, pb 1, pda 2, pdb 3, n4 4, s f32 5, beta f32 6)
// locals: end i32 7, d v128 8, g v128 9, sv v128 10, nsv v128 11, zero v128 12, betaV v128 13
function gradFunction(kind: DistanceKind): WasmFunction {
  const [pa, pb, pda, pdb, n4, s, beta, end, d, g, sv, nsv, zero, betaV] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const diff = [...load(pa), ...load(pb), ...simd(OP.f32x4Sub)];
  let setup: number[];
  let grad: number[];
  if (kind === 'l1') {
    // (d > 0 ? s : 0) | (d < 0 ? -s : 0): bit masks, no branches; 0 at d = 0.
    setup = [...get(s), ...simd(OP.f32x4Splat), ...set(sv), ...get(s), WASM_OP.f32Neg, ...simd(OP.f32x4Splat), ...set(nsv), ...f32x4Splat(0), ...set(zero)];
    grad = [
      ...diff, ...set(d),
      ...get(sv), ...get(d), ...get(zero), ...simd(OP.f32x4Gt), ...simd(OP.v128And),
      ...get(nsv), ...get(d), ...get(zero), ...simd(OP.f32x4Lt), ...simd(OP.v128And),
      ...simd(OP.v128Or),
    ];
  } else if (kind === 'l2') {
    // 2 d s, with 2 s splatted once.
    setup = [...get(s), ...get(s), WASM_OP.f32Add, ...simd(OP.f32x4Splat), ...set(sv)];
    grad = [...diff, ...get(sv), ...simd(OP.f32x4Mul)];
  } else {
    // clamp(d / beta, -1, 1) s
    setup = [...get(s), ...simd(OP.f32x4Splat), ...set(sv), ...get(beta), ...simd(OP.f32x4Splat), ...set(betaV)];
    grad = [...diff, ...get(betaV), ...simd(OP.f32x4Div), ...f32x4Splat(-1), ...simd(OP.f32x4Pmax), ...f32x4Splat(1), ...simd(OP.f32x4Pmin), ...get(sv), ...simd(OP.f32x4Mul)];
  }
  const step = [
    ...grad, ...set(g),
    ...get(pda), ...get(g), ...v128Store(),
    ...get(pdb), ...get(g), ...simd(OP.f32x4Neg), ...v128Store(),
  ];
  const code = [...setup, ...groupsEnd(pa, n4, end), ...groupLoop([pa, pb, pda, pdb], end, step)];
  return { name: `grad_${kind}`, params: [I32, I32, I32, I32, I32, F32, F32], results: [], locals: [I32, V128, V128, V128, V128, V128, V128], code };
}

/** The module's bytes. */
export function distanceModuleBytes(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes(KINDS.flatMap((k) => [sumFunction(k), gradFunction(k)]));
}

function bindDistance(exports: WebAssembly.Exports, memory: WebAssembly.Memory): SimdDistance {
  const ex = exports as Record<string, (...args: number[]) => number>;
  return {
    get buffer() {
      return memory.buffer;
    },
    sum: (kind, pa, pb, n4, beta) => ex[`sum_${kind}`](pa, pb, n4, beta),
    grad: (kind, pa, pb, pda, pdb, n4, s, beta) => {
      ex[`grad_${kind}`](pa, pb, pda, pdb, n4, s, beta);
    },
  };
}

/**
 * The SIMD loops bound to `memory` (one instance per memory), or null where
 * there is no memory, WebAssembly SIMD is unavailable or the memory is
 * shared (a threaded build): the callers then run their JavaScript loops.
 */
export function simdDistance(memory: WebAssembly.Memory | null): SimdDistance | null {
  return bindToWasmMemory(memory, distanceModuleBytes, bindDistance);
}
