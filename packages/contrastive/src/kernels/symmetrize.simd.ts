import { SIMD_OP, WASM_OP, WASM_TYPE, bindToWasmMemory, forRange, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { WasmFunction } from '@tfjs-losses/core';

/*
 * The symmetric fold of NT-Xent and SupCon's backward pass in WebAssembly
 * SIMD for the wasm backend, on 4x4 blocks (four v128 loads of the
 * transposed side, eight lane shuffles, the multiply-add, four stores), in
 * column strips 16 floats wide so that the strided side of the walk touches
 * few cache lines at a time (at n = 1024 or 2048 every row starts on the
 * same cache set, which made the JavaScript loops three to nine times
 * slower per element there than on smaller matrices). n must be a multiple
 * of 4; pointers are byte offsets in the backend's memory.
 *
 *   symmetrize(p, g, out, n)       out_ij = g_i p_ij + g_j p_ji (float32 products and sum)
 */

/** The exports, bound to one memory. */
export interface SymmetrizeSimd {
  memory: WebAssembly.Memory;
  symmetrize(p: number, g: number, out: number, n: number): void;
}

const { i32: I32, v128: V128 } = WASM_TYPE;
const { get, set } = wasm;
const { i32Add: ADD, i32Mul: MUL, i32Shl: SHL } = WASM_OP;

/** Shuffle of two v128 by 32-bit lanes (0-3 from the first, 4-7 from the second). */
const lanes32 = (a: number, b: number, c: number, d: number): number[] =>
  simd(SIMD_OP.i8x16Shuffle, ...[a, b, c, d].flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));

/**
 * Transposes the 4x4 block in v128 locals r[0..3] (rows) into c[0..3]
 * (columns), through t[0..3]. c and r may be the same locals.
 */
function block4x4(r: number[], t: number[], c: number[]): number[] {
  return [
    ...get(r[0]), ...get(r[1]), ...lanes32(0, 4, 1, 5), ...set(t[0]),
    ...get(r[0]), ...get(r[1]), ...lanes32(2, 6, 3, 7), ...set(t[1]),
    ...get(r[2]), ...get(r[3]), ...lanes32(0, 4, 1, 5), ...set(t[2]),
    ...get(r[2]), ...get(r[3]), ...lanes32(2, 6, 3, 7), ...set(t[3]),
    ...get(t[0]), ...get(t[2]), ...lanes32(0, 1, 4, 5), ...set(c[0]),
    ...get(t[0]), ...get(t[2]), ...lanes32(2, 3, 6, 7), ...set(c[1]),
    ...get(t[1]), ...get(t[3]), ...lanes32(0, 1, 4, 5), ...set(c[2]),
    ...get(t[1]), ...get(t[3]), ...lanes32(2, 3, 6, 7), ...set(c[3]),
  ];
}

/** min(a, b) for i32 values on the stack builders. */
const minI32 = (a: number[], b: number[]): number[] => [...a, ...b, ...a, ...b, WASM_OP.i32LtS, WASM_OP.select];

/** Loads at local `base` plus k · local `stride` (k = 0..3) into the v128 locals `into`. */
function loadRows(base: number, stride: number, into: number[]): number[] {
  return into.flatMap((v, k) => [...get(base), ...(k === 0 ? [] : [...get(stride), ...wasm.i32(k), MUL, ADD]), ...v128Load(), ...set(v)]);
}

// symmetrize: params p 0, g 1, out 2, n 3; i32 locals nBytes 4, jb 5, jEnd 6,
// i 7, rowOff 8, j 9, base 10, tb 11, ob 12; v128 locals gi 13-16, gJ 17,
// direct 18-21, block 22-25, t 26-29.
function symmetrizeFunction(): WasmFunction {
  const [p, g, out, n, nBytes, jb, jEnd, i, rowOff, j, base, tb, ob] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const gi = [13, 14, 15, 16];
  const gJ = 17;
  const direct = [18, 19, 20, 21];
  const blk = [22, 23, 24, 25];
  const t = [26, 27, 28, 29];
  const inner = [
    // base = p + rowOff + j; tb = p + j · n + 4 i; ob = out + rowOff + j
    ...get(p), ...get(rowOff), ADD, ...get(j), ADD, ...set(base),
    ...get(p), ...get(j), ...get(n), MUL, ADD, ...get(i), ...wasm.i32(2), SHL, ADD, ...set(tb),
    ...get(out), ...get(rowOff), ADD, ...get(j), ADD, ...set(ob),
    ...get(g), ...get(j), ADD, ...v128Load(), ...set(gJ),
    ...loadRows(base, nBytes, direct),
    ...loadRows(tb, nBytes, blk),
    ...block4x4(blk, t, blk),
    ...direct.flatMap((v, k) => [
      ...get(ob), ...(k === 0 ? [] : [...get(nBytes), ...wasm.i32(k), MUL, ADD]),
      ...get(gi[k]), ...get(v), ...simd(SIMD_OP.f32x4Mul), ...get(gJ), ...get(blk[k]), ...simd(SIMD_OP.f32x4Mul), ...simd(SIMD_OP.f32x4Add),
      ...v128Store(),
    ]),
  ];
  const perRows = [
    ...get(i), ...get(nBytes), MUL, ...set(rowOff),
    ...gi.flatMap((v, k) => [...get(g), ...get(i), ...wasm.i32(2), SHL, ADD, ...wasm.f32Load(4 * k), ...simd(SIMD_OP.f32x4Splat), ...set(v)]),
    ...forRange(j, get(jb), get(jEnd), wasm.i32(16), inner),
  ];
  const code = [
    ...get(n), ...wasm.i32(2), SHL, ...set(nBytes),
    ...forRange(jb, wasm.i32(0), get(nBytes), wasm.i32(64), [
      ...minI32([...get(jb), ...wasm.i32(64), ADD], get(nBytes)), ...set(jEnd),
      ...forRange(i, wasm.i32(0), get(n), wasm.i32(4), perRows),
    ]),
  ];
  return { name: 'symmetrize', params: [I32, I32, I32, I32], results: [], locals: [...Array<typeof I32>(9).fill(I32), ...Array<typeof V128>(17).fill(V128)], code };
}


/** The module's bytes. */
export function symmetrizeSimdModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([symmetrizeFunction()]);
}

function bindSymmetrize(exports: WebAssembly.Exports, memory: WebAssembly.Memory): SymmetrizeSimd {
  const ex = exports as unknown as Omit<SymmetrizeSimd, 'memory'>;
  return { memory, symmetrize: ex.symmetrize };
}

/** The SIMD loop bound to `memory`, or null where it cannot run (the JavaScript loop runs then). */
export function symmetrizeSimd(memory: WebAssembly.Memory | null): SymmetrizeSimd | null {
  return bindToWasmMemory(memory, symmetrizeSimdModule, bindSymmetrize);
}
