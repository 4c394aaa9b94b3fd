import { SIMD_OP, WASM_OP, WASM_TYPE, bindToWasmMemory, f64x2LaneSum, upperHalf, forRange, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { WasmFunction } from '@tfjs-losses/core';
import { EPS_SQ } from '../internal/eps';

/*
 * The L2 normalization of rows and its gradient in WebAssembly SIMD for the
 * wasm backend, in place on its heap (pointers are byte offsets; d, the row
 * length, must be a multiple of 4):
 *
 *   normalize(x, y, rows, d, scale)      y = scale · x · r, r = 1 / max(‖x‖, 1e-12)
 *   grad(dy, x, dx, rows, d, scale)      dx = a · dy − c · x, a = scale · r,
 *                                        c = a · r² · (x · dy) (0 where clamped)
 *
 * Per row the sums (Σx², Σx·dy) run in float64 (two float64 accumulators per
 * four floats); r, a and c are float64 and rounded to float32 once, and the
 * row is then scaled four lanes at a time in float32. The JavaScript kernels
 * (l2-normalize.host.ts) multiply in float64 before rounding: the two agree
 * to float32 rounding.
 */

/** The exports, bound to one memory. */
export interface L2NormalizeSimd {
  memory: WebAssembly.Memory;
  normalize(x: number, y: number, rows: number, d: number, scale: number): void;
  grad(dy: number, x: number, dx: number, rows: number, d: number, scale: number): void;
}

const { i32: I32, f64: F64, v128: V128 } = WASM_TYPE;
const { get, set } = wasm;
const { i32Add: ADD, i32Mul: MUL } = WASM_OP;
const OP = SIMD_OP;

/** acc += promote(half of u) · promote(half of v) for the v128 locals u, v: the low or high two lanes. */
function productInto(acc: number, u: number, v: number, high: boolean): number[] {
  const half = (w: number) => [...(high ? upperHalf(w) : get(w)), ...simd(OP.f64x2PromoteLowF32x4)];
  return [...get(acc), ...half(u), ...half(v), ...simd(OP.f64x2Mul), ...simd(OP.f64x2Add), ...set(acc)];
}

/** The two lanes of a float64 accumulator pair, added: leaves one f64. */
const lanesSum = (lo: number, hi: number): number[] => [
  ...get(lo), ...get(hi), ...simd(OP.f64x2Add), ...set(lo),
  ...f64x2LaneSum(lo),
];

/** r = ss > EPS_SQ ? 1 / sqrt(ss) : 1e12, from the f64 local ss; leaves r. */
const inverseNorm = (ss: number): number[] => [
  ...wasm.f64(1), ...get(ss), WASM_OP.f64Sqrt, WASM_OP.f64Div,
  ...wasm.f64(1 / Math.sqrt(EPS_SQ)),
  ...get(ss), ...wasm.f64(EPS_SQ), WASM_OP.f64Gt,
  WASM_OP.select,
];

const zero = (v: number): number[] => [...wasm.f32(0), ...simd(OP.f32x4Splat), ...set(v)];

// normalize: params x 0, y 1, rows 2, d 3, scale 4 (f64); locals i 5, row 6,
// end 7, p 8 (i32), ss 9 (f64), lo 10, hi 11, v 12, f 13 (v128).
function normalizeFunction(): WasmFunction {
  const [x, y, rows, d, scale, i, row, end, p, ss, lo, hi, v, f] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const perRow = [
    // row = byte offset of row i; end = row + 4 d
    ...get(i), ...get(d), MUL, ...wasm.i32(4), MUL, ...set(row),
    ...get(row), ...get(d), ...wasm.i32(4), MUL, ADD, ...set(end),
    ...zero(lo), ...zero(hi),
    ...forRange(p, get(row), get(end), wasm.i32(16), [
      ...get(x), ...get(p), ADD, ...v128Load(), ...set(v),
      ...productInto(lo, v, v, false),
      ...productInto(hi, v, v, true),
    ]),
    ...lanesSum(lo, hi), ...set(ss),
    ...inverseNorm(ss), ...get(scale), WASM_OP.f64Mul, WASM_OP.f32DemoteF64, ...simd(OP.f32x4Splat), ...set(f),
    ...forRange(p, get(row), get(end), wasm.i32(16), [
      ...get(y), ...get(p), ADD,
      ...get(x), ...get(p), ADD, ...v128Load(), ...get(f), ...simd(OP.f32x4Mul),
      ...v128Store(),
    ]),
  ];
  return {
    name: 'normalize',
    params: [I32, I32, I32, I32, F64],
    results: [],
    locals: [I32, I32, I32, I32, F64, V128, V128, V128, V128],
    code: forRange(i, wasm.i32(0), get(rows), wasm.i32(1), perRow),
  };
}

// grad: params dy 0, x 1, dx 2, rows 3, d 4, scale 5 (f64); locals i 6, row 7,
// end 8, p 9 (i32), ss 10, xd 11, r 12, a 13 (f64), sLo 14, sHi 15, dLo 16,
// dHi 17, xv 18, gv 19, av 20, cv 21 (v128).
function gradFunction(): WasmFunction {
  const [dy, x, dx, rows, d, scale, i, row, end, p, ss, xd, r, a] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [sLo, sHi, dLo, dHi, xv, gv, av, cv] = [14, 15, 16, 17, 18, 19, 20, 21];
  const perRow = [
    ...get(i), ...get(d), MUL, ...wasm.i32(4), MUL, ...set(row),
    ...get(row), ...get(d), ...wasm.i32(4), MUL, ADD, ...set(end),
    ...zero(sLo), ...zero(sHi), ...zero(dLo), ...zero(dHi),
    ...forRange(p, get(row), get(end), wasm.i32(16), [
      ...get(x), ...get(p), ADD, ...v128Load(), ...set(xv),
      ...get(dy), ...get(p), ADD, ...v128Load(), ...set(gv),
      ...productInto(sLo, xv, xv, false),
      ...productInto(sHi, xv, xv, true),
      ...productInto(dLo, xv, gv, false),
      ...productInto(dHi, xv, gv, true),
    ]),
    ...lanesSum(sLo, sHi), ...set(ss),
    ...lanesSum(dLo, dHi), ...set(xd),
    ...inverseNorm(ss), ...set(r),
    ...get(scale), ...get(r), WASM_OP.f64Mul, ...wasm.tee(a), WASM_OP.f32DemoteF64, ...simd(OP.f32x4Splat), ...set(av),
    // c = a · r² · xd where kept, else 0
    ...get(a), ...get(r), WASM_OP.f64Mul, ...get(r), WASM_OP.f64Mul, ...get(xd), WASM_OP.f64Mul,
    ...wasm.f64(0),
    ...get(ss), ...wasm.f64(EPS_SQ), WASM_OP.f64Gt,
    WASM_OP.select, WASM_OP.f32DemoteF64, ...simd(OP.f32x4Splat), ...set(cv),
    ...forRange(p, get(row), get(end), wasm.i32(16), [
      ...get(dx), ...get(p), ADD,
      ...get(dy), ...get(p), ADD, ...v128Load(), ...get(av), ...simd(OP.f32x4Mul),
      ...get(x), ...get(p), ADD, ...v128Load(), ...get(cv), ...simd(OP.f32x4Mul),
      ...simd(OP.f32x4Sub),
      ...v128Store(),
    ]),
  ];
  return {
    name: 'grad',
    params: [I32, I32, I32, I32, I32, F64],
    results: [],
    locals: [I32, I32, I32, I32, F64, F64, F64, F64, ...Array<typeof V128>(8).fill(V128)],
    code: forRange(i, wasm.i32(0), get(rows), wasm.i32(1), perRow),
  };
}

/** The module's bytes. */
export function l2NormalizeSimdModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([normalizeFunction(), gradFunction()]);
}

function bindL2Normalize(exports: WebAssembly.Exports, memory: WebAssembly.Memory): L2NormalizeSimd {
  const ex = exports as unknown as Omit<L2NormalizeSimd, 'memory'>;
  return { memory, normalize: ex.normalize, grad: ex.grad };
}

/** The SIMD loops bound to `memory`, or null where they cannot run (the JavaScript loops run then). */
export function l2NormalizeSimd(memory: WebAssembly.Memory | null): L2NormalizeSimd | null {
  return bindToWasmMemory(memory, l2NormalizeSimdModule, bindL2Normalize);
}
