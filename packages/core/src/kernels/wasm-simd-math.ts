import { SIMD_OP, simd, wasm } from './wasm-simd';

/*
 * log1p and exp on two float64 lanes in WebAssembly SIMD, as instructions to splice
 * into a loop body (wasm has no logarithm instruction). For u >= 0 finite:
 *
 *   x = fl(1 + u), c = u − (x − 1)   (x − 1 is exact for x >= 1, and c is
 *                                     then the exact rounding error of 1 + u)
 *   x = 2^k m with m in [√½, √2)     (integer arithmetic on the bits: the
 *                                     bits of √½ are subtracted, the
 *                                     exponent field gives k, the rest plus
 *                                     those bits gives m)
 *   f = m − 1 (exact), s = f / (2 + f), z = s²
 *   log m = 2 atanh s = 2s + 2s z P(z), P(z) = Σ_{i=1..11} z^(i−1) / (2i + 1)
 *         = f − (f s − 2 s z P(z))      (2s = f − f s, which keeps f exact)
 *   log1p(u) = k ln2_hi + (f − (f s − (2 s z P(z) + k ln2_lo + c / x)))
 *
 * |s| <= 0.1716 and z <= 0.0295, so the series left out after z^10 is below
 * 2e-18 relative; ln 2 is split so that k ln2_hi is exact. wasm-simd-math.test.ts
 * compares it with Math.log1p on 600,000 arguments from 1e-320 to 1e300: at
 * most 1 unit in the last place apart (2 around the range-reduction
 * boundaries). NaN, infinite and negative u give meaningless lanes: callers
 * check the results or keep such inputs away.
 */

/** v128.const from 16 bytes. */
function v128Bytes(bytes: Uint8Array): number[] {
  return simd(SIMD_OP.v128Const, ...bytes);
}

/** v128.const with the float64 `x` in both lanes. */
export function f64x2Const(x: number): number[] {
  return v128Bytes(new Uint8Array(Float64Array.of(x, x).buffer));
}

/** v128.const with the int64 `x` in both lanes. */
export function i64x2Const(x: bigint): number[] {
  return v128Bytes(new Uint8Array(BigInt64Array.of(x, x).buffer));
}

/** The bits of √½ as a float64. */
const SQRT_HALF_BITS = new BigInt64Array(Float64Array.of(Math.SQRT1_2).buffer)[0];
/** The fraction field of a float64. */
const FRACTION_MASK = (1n << 52n) - 1n;
/** ln 2 with 32 significant bits: k · LN2_HI is exact for |k| < 2^21. */
const LN2_HI = Math.floor(Math.LN2 * 2 ** 32) / 2 ** 32;
/** The rest of ln 2 (to about 107 bits: Math.LN2 plus what it rounds away). */
const LN2_LO = Math.LN2 - LN2_HI + 2.3190468138462996e-17;
/** Coefficients of P, highest first: 1 / 23, 1 / 21, ..., 1 / 3. */
const SERIES = Array.from({ length: 11 }, (_, i) => 1 / (2 * (11 - i) + 1));

/** Scratch v128 locals for {@link f64x2Log1p}. */
export interface Log1pLocals {
  x: number;
  c: number;
  bits: number;
  k: number;
  f: number;
  s: number;
  z: number;
}

/**
 * Instructions that leave log1p(u) (two float64 lanes) on the stack, for the
 * f64x2 in v128 local `u` (lanes >= 0 and finite); `locals` are seven v128
 * locals it may overwrite.
 */
export function f64x2Log1p(u: number, locals: Log1pLocals): number[] {
  const { x, c, bits, k, f, s, z } = locals;
  const { get, set } = wasm;
  const op = (code: number, ...imm: number[]): number[] => simd(code, ...imm);
  const one = f64x2Const(1);
  let poly = f64x2Const(SERIES[0]);
  for (const coefficient of SERIES.slice(1)) poly = [...poly, ...get(z), ...op(SIMD_OP.f64x2Mul), ...f64x2Const(coefficient), ...op(SIMD_OP.f64x2Add)];
  return [
    // x = 1 + u; c = u − (x − 1)
    ...one, ...get(u), ...op(SIMD_OP.f64x2Add), ...set(x),
    ...get(u), ...get(x), ...one, ...op(SIMD_OP.f64x2Sub), ...op(SIMD_OP.f64x2Sub), ...set(c),
    // bits = bits(x) − bits(√½); k = bits >> 52 (as float64); m = (bits & fraction) + bits(√½); f = m − 1
    ...get(x), ...i64x2Const(SQRT_HALF_BITS), ...op(SIMD_OP.i64x2Sub), ...set(bits),
    ...get(bits), ...wasm.i32(52), ...op(SIMD_OP.i64x2ShrS), ...set(k),
    ...get(k), ...get(k), ...op(SIMD_OP.i8x16Shuffle, 0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11),
    ...op(SIMD_OP.f64x2ConvertLowI32x4S), ...set(k),
    ...get(bits), ...i64x2Const(FRACTION_MASK), ...op(SIMD_OP.v128And), ...i64x2Const(SQRT_HALF_BITS), ...op(SIMD_OP.i64x2Add),
    ...one, ...op(SIMD_OP.f64x2Sub), ...set(f),
    // s = f / (2 + f); z = s²
    ...get(f), ...get(f), ...f64x2Const(2), ...op(SIMD_OP.f64x2Add), ...op(SIMD_OP.f64x2Div), ...set(s),
    ...get(s), ...get(s), ...op(SIMD_OP.f64x2Mul), ...set(z),
    // k ln2_hi + (f − (f s − (2 s z P(z) + k ln2_lo + c / x)))
    ...get(k), ...f64x2Const(LN2_HI), ...op(SIMD_OP.f64x2Mul),
    ...get(f),
    ...get(f), ...get(s), ...op(SIMD_OP.f64x2Mul),
    ...poly, ...get(z), ...op(SIMD_OP.f64x2Mul), ...get(s), ...op(SIMD_OP.f64x2Mul), ...f64x2Const(2), ...op(SIMD_OP.f64x2Mul),
    ...get(k), ...f64x2Const(LN2_LO), ...op(SIMD_OP.f64x2Mul), ...op(SIMD_OP.f64x2Add),
    ...get(c), ...get(x), ...op(SIMD_OP.f64x2Div), ...op(SIMD_OP.f64x2Add),
    ...op(SIMD_OP.f64x2Sub),
    ...op(SIMD_OP.f64x2Sub),
    ...op(SIMD_OP.f64x2Add),
  ];
}

/** 1 / n! for n = 13 down to 0: the Taylor coefficients of e^r, highest first. */
const EXP_SERIES = Array.from({ length: 14 }, (_, i) => {
  let f = 1;
  for (let j = 2; j <= 13 - i; j++) f *= j;
  return 1 / f;
});

/** Scratch v128 locals for {@link f64x2Exp}. */
export interface ExpLocals {
  k: number;
  r: number;
}

/**
 * Instructions that leave e^y (two float64 lanes) on the stack, for the f64x2
 * in v128 local `y` with lanes in [-708, 708] (callers clamp; below -708 the
 * true value is under 2^-1021, which no float32 result can show).
 *
 *   k = nearest(y / ln 2), r = y − k ln2_hi − k ln2_lo  (|r| <= 0.347)
 *   e^y = 2^k · Σ_{n=0..13} r^n / n!                     (series remainder
 *                                                         below 5e-18 relative)
 *
 * with 2^k built from its bits ((k + 1023) << 52). wasm-simd-math.test.ts
 * compares it with Math.exp over [-708, 708]: at most 1 unit in the last
 * place apart on 400,000 arguments.
 */
export function f64x2Exp(y: number, locals: ExpLocals): number[] {
  const { k, r } = locals;
  const { get, set } = wasm;
  const op = (code: number, ...imm: number[]): number[] => simd(code, ...imm);
  let poly = f64x2Const(EXP_SERIES[0]);
  for (const coefficient of EXP_SERIES.slice(1)) poly = [...poly, ...get(r), ...op(SIMD_OP.f64x2Mul), ...f64x2Const(coefficient), ...op(SIMD_OP.f64x2Add)];
  return [
    ...get(y), ...f64x2Const(1 / Math.LN2), ...op(SIMD_OP.f64x2Mul), ...op(SIMD_OP.f64x2Nearest), ...set(k),
    ...get(y), ...get(k), ...f64x2Const(LN2_HI), ...op(SIMD_OP.f64x2Mul), ...op(SIMD_OP.f64x2Sub),
    ...get(k), ...f64x2Const(LN2_LO), ...op(SIMD_OP.f64x2Mul), ...op(SIMD_OP.f64x2Sub), ...set(r),
    ...poly,
    // 2^k: ((int64) k + 1023) << 52, as a float64
    ...get(k), ...op(SIMD_OP.i32x4TruncSatF64x2SZero), ...op(SIMD_OP.i64x2ExtendLowI32x4S),
    ...i64x2Const(1023n), ...op(SIMD_OP.i64x2Add), ...wasm.i32(52), ...op(SIMD_OP.i64x2Shl),
    ...op(SIMD_OP.f64x2Mul),
  ];
}
