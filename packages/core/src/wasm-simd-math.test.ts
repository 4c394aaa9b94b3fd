import { describe, expect, it } from 'vitest';
import { WASM_OP, WASM_TYPE, bindToWasmMemory, f64x2Exp, f64x2Log1p, loopUntil, v128Load, v128Store, wasm, wasmModuleBytes, type WasmFunction } from './index';

const { i32: I32, v128: V128 } = WASM_TYPE;
const { get, set } = wasm;

// name(src, dst, pairs): dst[i] = f(src[i]) over 2 · pairs float64 at byte offsets src, dst, for
// f = log1p and exp. locals: end 3 (i32), u 4, then ten scratch v128 locals 5..14.
function mapFunction(name: string, apply: (u: number) => number[]): WasmFunction {
  const [src, dst, pairs, end, u] = [0, 1, 2, 3, 4];
  const code = [
    ...get(pairs), ...wasm.i32(4), WASM_OP.i32Shl, ...get(src), WASM_OP.i32Add, ...set(end),
    ...loopUntil([...get(src), ...get(end), WASM_OP.i32GeU], [
      ...get(src), ...v128Load(), ...set(u),
      ...get(dst), ...apply(u), ...v128Store(),
      ...wasm.addTo(src, 16),
      ...wasm.addTo(dst, 16),
    ]),
  ];
  return { name, params: [I32, I32, I32], results: [], locals: [I32, ...Array<typeof V128>(11).fill(V128)], code };
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([
    mapFunction('log1p', (u) => f64x2Log1p(u, { x: 5, c: 6, bits: 7, k: 8, f: 9, s: 10, z: 11, z2: 12, z4: 13, z8: 14 })),
    mapFunction('exp', (u) => f64x2Exp(u, { k: 5, r: 6, r2: 7, r4: 8, r8: 9 })),
  ]);
}

type Map = (src: number, dst: number, pairs: number) => void;

const memory = new WebAssembly.Memory({ initial: 2 });
const modules = bindToWasmMemory(memory, moduleBytes, (e) => ({ log1p: e.log1p as Map, exp: e.exp as Map }));

/** f of every value through the module (8192 values at a time). */
function simdMap(f: Map, values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  const view = new Float64Array(memory.buffer);
  for (let start = 0; start < values.length; start += 8192) {
    const chunk = values.subarray(start, start + 8192);
    view.set(chunk);
    if (chunk.length % 2 === 1) view[chunk.length] = 0;
    f(0, 65536, Math.ceil(chunk.length / 2));
    out.set(view.subarray(8192, 8192 + chunk.length), start);
  }
  return out;
}

const simdLog1p = (values: Float64Array): Float64Array => simdMap(modules!.log1p, values);

/** Largest distance from `reference` (Math.log1p by default) in units of the last place of its result. */
function maxUlp(values: Float64Array, f: Map = modules!.log1p, reference: (x: number) => number = Math.log1p): number {
  const got = simdMap(f, values);
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const want = reference(values[i]);
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
    expect(modules).not.toBeNull();
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

describe('f64x2Exp (WebAssembly SIMD exp on float64 lanes)', () => {
  /** n values evenly spread (a fixed sequence) over [lo, hi]. */
  const uniform = (n: number, lo: number, hi: number): Float64Array => Float64Array.from({ length: n }, (_, i) => lo + ((hi - lo) * ((i * 2654435761) % n)) / n);

  it('gives exact powers of e at 0 and of 2 at multiples of ln 2', () => {
    const got = simdMap(modules!.exp, Float64Array.of(0, -0, 1, -708));
    expect(got[0]).toBe(1);
    expect(got[1]).toBe(1);
    expect(Math.abs(got[2] - Math.E) / Math.E).toBeLessThan(3e-16);
    expect(Math.abs(got[3] - Math.exp(-708)) / Math.exp(-708)).toBeLessThan(5e-16);
  });

  it.each([
    ['[-1e-8, 1e-8]', -1e-8, 1e-8],
    ['[-1, 1]', -1, 1],
    ['[-40, 0] (focal losses: e^-|x|)', -40, 0],
    ['[-708, 708]', -708, 708],
  ])('is within 2 units in the last place of Math.exp on %s', (_, lo, hi) => {
    expect(maxUlp(uniform(100_000, lo, hi), modules!.exp, Math.exp)).toBeLessThanOrEqual(2);
  });
});
