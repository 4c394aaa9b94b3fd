import { describe, expect, it } from 'vitest';
import { WASM_OP, WASM_TYPE, bindToWasmMemory, f64x2Log1p, loopUntil, v128Load, v128Store, wasm, wasmModuleBytes } from './index';

const { i32: I32, v128: V128 } = WASM_TYPE;
const { get, set } = wasm;

// log1p(src, dst, pairs): dst[i] = log1p(src[i]) over 2 · pairs float64 at byte offsets src, dst.
// locals: end 3 (i32), u 4, then the seven scratch v128 locals 5..11.
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const [src, dst, pairs, end, u] = [0, 1, 2, 3, 4];
  const code = [
    ...get(pairs), ...wasm.i32(4), WASM_OP.i32Shl, ...get(src), WASM_OP.i32Add, ...set(end),
    ...loopUntil([...get(src), ...get(end), WASM_OP.i32GeU], [
      ...get(src), ...v128Load(), ...set(u),
      ...get(dst), ...f64x2Log1p(u, { x: 5, c: 6, bits: 7, k: 8, f: 9, s: 10, z: 11 }), ...v128Store(),
      ...wasm.addTo(src, 16),
      ...wasm.addTo(dst, 16),
    ]),
  ];
  return wasmModuleBytes([{ name: 'log1p', params: [I32, I32, I32], results: [], locals: [I32, ...Array<typeof V128>(8).fill(V128)], code }]);
}

type Log1p = (src: number, dst: number, pairs: number) => void;

const memory = new WebAssembly.Memory({ initial: 2 });
const run = bindToWasmMemory(memory, moduleBytes, (e) => e.log1p as Log1p);

/** log1p of every value, through the module (8192 values at a time). */
function simdLog1p(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  const view = new Float64Array(memory.buffer);
  for (let start = 0; start < values.length; start += 8192) {
    const chunk = values.subarray(start, start + 8192);
    view.set(chunk);
    if (chunk.length % 2 === 1) view[chunk.length] = 0;
    run!(0, 65536, Math.ceil(chunk.length / 2));
    out.set(view.subarray(8192, 8192 + chunk.length), start);
  }
  return out;
}

/** Largest distance from Math.log1p in units of the last place of Math.log1p's result. */
function maxUlp(values: Float64Array): number {
  const got = simdLog1p(values);
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const want = Math.log1p(values[i]);
    if (got[i] === want) continue;
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want))) - 52);
    worst = Math.max(worst, Math.abs(got[i] - want) / ulp);
  }
  return worst;
}

/** n values whose base-10 logarithms are evenly random in [lo, hi] (a fixed sequence). */
function logUniform(n: number, lo: number, hi: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let state = seed;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = 10 ** (lo + ((hi - lo) * state) / 2 ** 32);
  }
  return out;
}

describe('f64x2Log1p (WebAssembly SIMD log1p on float64 lanes)', () => {
  it('assembles and runs where WebAssembly SIMD is available (Node 20 has it)', () => {
    expect(run).not.toBeNull();
  });

  it('gives 0 at 0 and exact results where log1p is exactly known', () => {
    const got = simdLog1p(Float64Array.of(0, 1, 3, 7, 2 ** 40 - 1));
    expect(Array.from(got.subarray(0, 1))).toEqual([0]);
    for (const [i, k] of [[1, 1], [2, 2], [3, 3], [4, 40]]) expect(Math.abs(got[i] - k * Math.LN2)).toBeLessThanOrEqual(2 ** -52 * k);
  });

  it.each([
    ['tiny and subnormal', -320, -20],
    ['small', -20, -8],
    ['below 1', -8, 0],
    ['1 to 20 (Balanced L1 with the default gamma and alpha)', 0, 1.31],
    ['20 to 1e6', 1.3, 6],
    ['1e6 to 1e300', 6, 300],
  ])('is within 1 unit in the last place of Math.log1p: %s', (_, lo, hi) => {
    expect(maxUlp(logUniform(100_000, lo, hi, 7 + lo))).toBeLessThanOrEqual(1);
  });

  it('is within 2 units in the last place around the range-reduction boundaries (powers of two, √2 times them)', () => {
    const values: number[] = [];
    for (let e = -30; e <= 60; e++) {
      for (const base of [2 ** e, Math.SQRT2 * 2 ** e]) {
        for (let j = -8; j <= 8; j++) values.push(base * (1 + j * 2 ** -52) - 1);
      }
    }
    expect(maxUlp(Float64Array.from(values.filter((v) => v >= 0)))).toBeLessThanOrEqual(2);
  });
});
