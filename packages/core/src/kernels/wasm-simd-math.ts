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
 *   log m = 2 atanh s = 2s + 2s z P(z), P(z) = Σ_{i=1..10} z^(i−1) / (2i + 1)
 *         = f − (f s − 2 s z P(z))      (2s = f − f s, which keeps f exact)
 *   log1p(u) = k ln2_hi + (f − (f s − (2 s z P(z) + k ln2_lo + c / x)))
 *
 * |s| <= 0.1716 and z <= 0.0295, so the series left out after z^9 is below
 * 2e-17 relative; ln 2 is split so that k ln2_hi is exact. The polynomials
 * (here and in exp) are evaluated by Estrin's scheme, and k moves between
 * the integer and float64 forms through 2^52 (no lane conversions: V8 on x64
 * emulates several of those with long instruction sequences). wasm-simd-math.test.ts
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

/** Where {@link f64x2Log1p} and {@link f64x2Exp} take their vector constants from. */
export interface V128Constants {
  /** Instructions that push the float64 `x` in both lanes. */
  f64(x: number): number[];
  /** Instructions that push the int64 `x` in both lanes. */
  i64(x: bigint): number[];
}

/** Constants written into the code where they are used (`v128.const`). */
export const INLINE_CONSTANTS: V128Constants = { f64: f64x2Const, i64: i64x2Const };

/**
 * Constants kept in v128 locals, set once before a loop: V8 materialises a
 * `v128.const` inside a loop with several instructions on every pass, which
 * doubled the time of the focal and Balanced L1 loops. `local()` hands out a
 * fresh local index per distinct constant; `init()` is the code that sets
 * them all (put it before the loop, after every use has been generated).
 */
export class V128ConstantPool implements V128Constants {
  private readonly locals = new Map<string, { local: number; code: number[] }>();

  constructor(private readonly local: () => number) {}

  private use(key: string, code: number[]): number[] {
    let entry = this.locals.get(key);
    if (entry === undefined) {
      entry = { local: this.local(), code };
      this.locals.set(key, entry);
    }
    return wasm.get(entry.local);
  }

  f64(x: number): number[] {
    return this.use(`f${Object.is(x, -0) ? '-0' : String(x)}`, f64x2Const(x));
  }

  i64(x: bigint): number[] {
    return this.use(`i${x}`, i64x2Const(x));
  }

  /** The code that sets every constant's local. */
  init(): number[] {
    return [...this.locals.values()].flatMap(({ local, code }) => [...code, ...wasm.set(local)]);
  }
}

/** The bits of √½ as a float64. */
const SQRT_HALF_BITS = new BigInt64Array(Float64Array.of(Math.SQRT1_2).buffer)[0];
/** The fraction field of a float64. */
const FRACTION_MASK = (1n << 52n) - 1n;
/** ln 2 with 32 significant bits: k · LN2_HI is exact for |k| < 2^21. */
const LN2_HI = Math.floor(Math.LN2 * 2 ** 32) / 2 ** 32;
/** The rest of ln 2 (to about 107 bits: Math.LN2 plus what it rounds away). */
const LN2_LO = Math.LN2 - LN2_HI + 2.3190468138462996e-17;
/** Coefficients of P, lowest first: 1 / 3, 1 / 5, ..., 1 / 21 (the series left out after them is below 2e-17 relative). */
const SERIES = Array.from({ length: 10 }, (_, i) => 1 / (2 * i + 3));
/** 2^52: adding it to a float64 integer in [0, 2^51) puts the integer in the low bits; subtracting it again reads one back. */
const TWO_52 = 4503599627370496;

/**
 * Σ coefficients[i] · x^i (lowest first) by Estrin's scheme: pairs, then
 * pairs of pairs, with x^2, x^4, x^8 from `powers` (v128 locals already
 * set; powers[0] holds x). Its dependency chain is about four multiply-adds
 * deep instead of one per coefficient as in Horner's rule, which kept the
 * loops that call it waiting on latency.
 */
function estrin(coefficients: number[], powers: number[], constants: V128Constants): number[] {
  if (coefficients.length === 1) return constants.f64(coefficients[0]);
  let level = 0;
  while (2 << level < coefficients.length) level++;
  const half = 1 << level;
  return [
    ...estrin(coefficients.slice(0, half), powers, constants),
    ...estrin(coefficients.slice(half), powers, constants),
    ...wasm.get(powers[level]), ...simd(SIMD_OP.f64x2Mul), ...simd(SIMD_OP.f64x2Add),
  ];
}

/** Code that sets locals p2, p4, p8 to x^2, x^4, x^8 for the local x. */
function powersOf(x: number, [p2, p4, p8]: number[]): number[] {
  const square = (from: number, to: number): number[] => [...wasm.get(from), ...wasm.get(from), ...simd(SIMD_OP.f64x2Mul), ...wasm.set(to)];
  return [...square(x, p2), ...square(p2, p4), ...square(p4, p8)];
}

/** Scratch v128 locals for {@link f64x2Log1p}. */
export interface Log1pLocals {
  x: number;
  c: number;
  bits: number;
  k: number;
  f: number;
  s: number;
  z: number;
  /** z², z⁴, z⁸ */
  z2: number;
  z4: number;
  z8: number;
}

/**
 * Instructions that leave log1p(u) (two float64 lanes) on the stack, for the
 * f64x2 in v128 local `u` (lanes >= 0 and finite); `locals` are ten v128
 * locals it may overwrite; `constants` gives its vector constants (in loops,
 * a {@link V128ConstantPool}).
 */
export function f64x2Log1p(u: number, locals: Log1pLocals, constants: V128Constants = INLINE_CONSTANTS): number[] {
  const { x, c, bits, k, f, s, z, z2, z4, z8 } = locals;
  const f64 = (v: number): number[] => constants.f64(v);
  const { get, set } = wasm;
  const one = f64(1);
  return [
    // x = 1 + u; c = u − (x − 1)
    ...one, ...get(u), ...simd(SIMD_OP.f64x2Add), ...set(x),
    ...get(u), ...get(x), ...one, ...simd(SIMD_OP.f64x2Sub), ...simd(SIMD_OP.f64x2Sub), ...set(c),
    // bits = bits(x) − bits(√½) (>= 0 for x >= 1); k = bits >>> 52 as a float64 (through 2^52 + k);
    // m = (bits & fraction) + bits(√½); f = m − 1
    ...get(x), ...constants.i64(SQRT_HALF_BITS), ...simd(SIMD_OP.i64x2Sub), ...set(bits),
    ...get(bits), ...wasm.i32(52), ...simd(SIMD_OP.i64x2ShrU), ...f64(TWO_52), ...simd(SIMD_OP.v128Or), ...f64(TWO_52), ...simd(SIMD_OP.f64x2Sub), ...set(k),
    ...get(bits), ...constants.i64(FRACTION_MASK), ...simd(SIMD_OP.v128And), ...constants.i64(SQRT_HALF_BITS), ...simd(SIMD_OP.i64x2Add),
    ...one, ...simd(SIMD_OP.f64x2Sub), ...set(f),
    // s = f / (2 + f); z = s², and its powers
    ...get(f), ...get(f), ...f64(2), ...simd(SIMD_OP.f64x2Add), ...simd(SIMD_OP.f64x2Div), ...set(s),
    ...get(s), ...get(s), ...simd(SIMD_OP.f64x2Mul), ...set(z),
    ...powersOf(z, [z2, z4, z8]),
    // k ln2_hi + (f − (f s − (2 s z P(z) + k ln2_lo + c / x)))
    ...get(k), ...f64(LN2_HI), ...simd(SIMD_OP.f64x2Mul),
    ...get(f),
    ...get(f), ...get(s), ...simd(SIMD_OP.f64x2Mul),
    ...estrin(SERIES, [z, z2, z4, z8], constants), ...get(z), ...simd(SIMD_OP.f64x2Mul), ...get(s), ...simd(SIMD_OP.f64x2Mul), ...f64(2), ...simd(SIMD_OP.f64x2Mul),
    ...get(k), ...f64(LN2_LO), ...simd(SIMD_OP.f64x2Mul), ...simd(SIMD_OP.f64x2Add),
    ...get(c), ...get(x), ...simd(SIMD_OP.f64x2Div), ...simd(SIMD_OP.f64x2Add),
    ...simd(SIMD_OP.f64x2Sub),
    ...simd(SIMD_OP.f64x2Sub),
    ...simd(SIMD_OP.f64x2Add),
  ];
}

/** 1 / n! for n = 0..13: the Taylor coefficients of e^r, lowest first. */
const EXP_SERIES = Array.from({ length: 14 }, (_, n) => {
  let f = 1;
  for (let j = 2; j <= n; j++) f *= j;
  return 1 / f;
});
/** 1.5 · 2^52 + 1023: adding it rounds to an integer k and leaves k + 1023 in the low bits. */
const EXP_SHIFT = 1.5 * TWO_52 + 1023;

/** Scratch v128 locals for {@link f64x2Exp}. */
export interface ExpLocals {
  k: number;
  r: number;
  /** r², r⁴, r⁸ */
  r2: number;
  r4: number;
  r8: number;
}

/**
 * Instructions that leave e^y (two float64 lanes) on the stack, for the f64x2
 * in v128 local `y` with lanes in [-708, 708] (callers clamp; below -708 the
 * true value is under 2^-1021, which no float32 result can show).
 *
 *   k = round(y / ln 2), r = y − k ln2_hi − k ln2_lo  (|r| <= 0.347)
 *   e^y = 2^k · Σ_{n=0..13} r^n / n!                     (series remainder
 *                                                         below 5e-18 relative)
 *
 * with k rounded by adding 1.5 · 2^52 + 1023, whose low bits are then
 * k + 1023, the exponent field of 2^k. `locals` are five v128 locals it may
 * overwrite; `constants` as for {@link f64x2Log1p}. wasm-simd-math.test.ts
 * compares it with Math.exp over [-708, 708]: at most 2 units in the last
 * place apart on 400,000 arguments.
 */
export function f64x2Exp(y: number, locals: ExpLocals, constants: V128Constants = INLINE_CONSTANTS): number[] {
  const { k, r, r2, r4, r8 } = locals;
  const f64 = (v: number): number[] => constants.f64(v);
  const { get, set } = wasm;
  return [
    // k (in the low bits of y / ln 2 + shift); r
    ...get(y), ...f64(1 / Math.LN2), ...simd(SIMD_OP.f64x2Mul), ...f64(EXP_SHIFT), ...simd(SIMD_OP.f64x2Add), ...set(k),
    ...get(y),
    ...get(k), ...f64(EXP_SHIFT), ...simd(SIMD_OP.f64x2Sub), ...set(r), // r holds k as a float64 for two lines
    ...get(r), ...f64(LN2_HI), ...simd(SIMD_OP.f64x2Mul), ...simd(SIMD_OP.f64x2Sub),
    ...get(r), ...f64(LN2_LO), ...simd(SIMD_OP.f64x2Mul), ...simd(SIMD_OP.f64x2Sub), ...set(r),
    ...powersOf(r, [r2, r4, r8]),
    ...estrin(EXP_SERIES, [r, r2, r4, r8], constants),
    // 2^k: the low bits k + 1023 moved into the exponent field
    ...get(k), ...wasm.i32(52), ...simd(SIMD_OP.i64x2Shl),
    ...simd(SIMD_OP.f64x2Mul),
  ];
}
