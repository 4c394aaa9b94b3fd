import { SIMD_OP, V128ConstantPool, f64x2Exp, f64x2Log1p, WASM_OP, WASM_TYPE, bindToWasmMemory, upperHalf, f64x2LaneSum, f32x4Splat, loopUntil, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { ExpLocals as F64x2ExpLocals, Log1pLocals, V128Constants, WasmFunction, WasmValueType } from '@tfjs-losses/core';

/*
 * The wasm backend's softmax focal kernel in WebAssembly: the row loop, the
 * per-logit work in SIMD (four float32 lanes per instruction) and the
 * per-row terms in float64, written with core's module builder and run on
 * the backend's heap in place, one call per kernel.
 *
 * Functions (pointers are byte offsets into the backend's memory):
 *
 *   sum(z, labels, alpha, N, C, gamma) -> f64
 *   sumGrad(z, labels, alpha, N, C, gamma, grad, gradScale) -> f64
 *       The sum of the row losses of logits z [N, C] (C >= 2) with int32
 *       labels [N] (outside [0, C): an ignored row, loss 0) and class
 *       weights alpha [C]. sumGrad also writes the gradient of that sum
 *       times gradScale to grad [N, C] (0 on ignored rows). Per row with
 *       label y: m = the largest logit other than z[y] (one pass), then
 *       so = Σ_{k != y} exp(z[k] - m) accumulated in float64 with
 *       e[k] = exp(z[k] - m) written to the gradient row (e[y] = 0; a
 *       second pass). Rows go in pairs: the focal terms of both rows in
 *       float64 from so and m - z[y] (as focalRowTerms in
 *       softmax-focal.cpu.ts with r = m), on the two lanes of f64x2
 *       vectors, then the two gradient rows scaled in place while they are
 *       still in the cache. As m is the largest of the summed logits,
 *       1 <= so <= C - 1 (finite logits): nothing overflows, and terms that
 *       underflow are below 2^-149 of the sum.
 *   exp(src, dst, n)
 *       dst[i] = exp(src[i]) for i in [0, n), n a multiple of 4, for
 *       src <= 0 (the tests compare it with Math.exp).
 *   exp64(x), log64(u)
 *       The float64 exp and log of the row terms (for the tests).
 *
 * exp(x) for x <= 0 in float32, on the difference x = xh + xl (xh = fl(z -
 * m), xl its rounding error from a two-sum, so that the rounding of z - m
 * costs nothing even where |x| is large): k = nearest(xh log2 e), r = xh -
 * k C1 - k C2 + xl with ln 2 = C1 + C2 (C1 has 9 significant bits, so k C1
 * and xh - k C1 are exact), exp(r) = 1 + r + r² P(r) with P of degree 4
 * fitted on |r| <= 0.36 (relative error 5e-9 before rounding), then times
 * 2^k (see expOf). Lanes with xh < -104 (exp below half the smallest
 * subnormal, also -inf) give 0; NaN gives NaN. Its constants live in
 * locals set once per call: TurboFan does not hoist a constant splat out
 * of a loop.
 */

/** The exports, bound to one memory. */
export interface SoftmaxFocalSimd {
  memory: WebAssembly.Memory;
  sum(z: number, labels: number, alpha: number, N: number, C: number, gamma: number): number;
  sumGrad(z: number, labels: number, alpha: number, N: number, C: number, gamma: number, grad: number, gradScale: number): number;
  exp(src: number, dst: number, n: number): void;
  exp64(x: number): number;
  log64(x: number): number;
}

const { i32: T_I32, f32: T_F32, f64: T_F64, v128: T_V128 } = WASM_TYPE;
const { get, set: put, tee } = wasm;
const OP = SIMD_OP;

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444005469057e-4;
/** exp(r) = 1 + r + r² (P0 + P1 r + P2 r² + P3 r³ + P4 r⁴) on |r| <= 0.36. */
const P = [0.49999985098838806, 0.1666649430990219, 0.04166999086737633, 0.008371713571250439, 0.0013741288566961884];
/** exp(x) for x below this is 0 in float32 (below half of 2^-149). */
const EXP_MIN = -104;

/** Scratch v128 locals that {@link expOf} uses. */
interface ExpLocals {
  k: number;
  r: number;
  p: number;
}

/**
 * The constants of {@link expOf}, each in a v128 local set once at the
 * function's start (a constant splat inside a loop costs three x86
 * instructions per use). `first` is the first of CONST_COUNT consecutive
 * v128 locals.
 */
const CONSTS = ['log2e', 'magic', 'ln2Hi', 'ln2Lo', 'p0', 'p1', 'p2', 'p3', 'p4', 'one', 'expMin', 'bias', 'scale'] as const;
type ExpConsts = Record<(typeof CONSTS)[number], number>;
const CONST_COUNT = CONSTS.length;

/** 1.5 * 2^23: adding it rounds a float32 of magnitude below 2^22 to an integer, held in the low mantissa bits. */
const MAGIC = 12582912;
/** The bits of MAGIC as an int32. */
const MAGIC_BITS = 0x4b400000;
/** Exponents are built for 2^(k + SCALE_SHIFT) and the product scaled back by 2^-SCALE_SHIFT. */
const SCALE_SHIFT = 64;

function expConsts(first: number): { locals: ExpConsts; init: number[] } {
  const locals = Object.fromEntries(CONSTS.map((name, i) => [name, first + i])) as ExpConsts;
  const values: Record<(typeof CONSTS)[number], number[]> = {
    log2e: f32x4Splat(LOG2E),
    magic: f32x4Splat(MAGIC),
    ln2Hi: f32x4Splat(LN2_HI),
    ln2Lo: f32x4Splat(LN2_LO),
    p0: f32x4Splat(P[0]),
    p1: f32x4Splat(P[1]),
    p2: f32x4Splat(P[2]),
    p3: f32x4Splat(P[3]),
    p4: f32x4Splat(P[4]),
    one: f32x4Splat(1),
    expMin: f32x4Splat(EXP_MIN),
    // bits(k + MAGIC) + bias = k + 127 + SCALE_SHIFT, the biased exponent of 2^(k + SCALE_SHIFT)
    bias: [...wasm.i32(127 + SCALE_SHIFT - MAGIC_BITS), ...simd(OP.i32x4Splat)],
    scale: f32x4Splat(2 ** -SCALE_SHIFT),
  };
  return { locals, init: CONSTS.flatMap((name) => [...values[name], ...put(locals[name])]) };
}

/**
 * exp(xh + xl) of two v128 locals (xl: -1 for none), left on the stack;
 * lanes with xh < -104 are not made 0 here (the caller masks them), nor is
 * anything guaranteed for xh > 0.
 *
 * k = nearest(xh log2 e) by adding MAGIC (its int32 bits minus MAGIC's are
 * k itself), r = xh - k C1 - k C2 + xl, p = 1 + (r + r² P(r)), and
 * exp = (p · 2^(k + 64)) · 2^-64: the first product is exact (a normal
 * float32 for k >= -150), the second rounds once, into the subnormals
 * where the result is below 2^-126.
 */
function expOf(xh: number, xl: number, { k, r, p }: ExpLocals, c: ExpConsts): number[] {
  const horner: number[] = [...get(c.p4)];
  for (let i = 3; i >= 0; i--) horner.push(...get(r), ...simd(OP.f32x4Mul), ...get(c[`p${i}` as 'p0']), ...simd(OP.f32x4Add));
  return [
    // k (as k + MAGIC) = nearest(xh log2 e)
    ...get(xh), ...get(c.log2e), ...simd(OP.f32x4Mul), ...get(c.magic), ...simd(OP.f32x4Add), ...put(k),
    // r = (xh - k C1) - k C2 (+ xl), with k = (k + MAGIC) - MAGIC exactly
    ...get(xh),
    ...get(k), ...get(c.magic), ...simd(OP.f32x4Sub), ...tee(p),
    ...get(c.ln2Hi), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Sub),
    ...get(p), ...get(c.ln2Lo), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Sub),
    ...(xl >= 0 ? [...get(xl), ...simd(OP.f32x4Add)] : []),
    ...put(r),
    // p = 1 + (r + r² P(r))
    ...horner, ...get(r), ...get(r), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Mul),
    ...get(r), ...simd(OP.f32x4Add), ...get(c.one), ...simd(OP.f32x4Add),
    // · 2^(k + 64) · 2^-64
    ...get(k), ...get(c.bias), ...simd(OP.i32x4Add), ...wasm.i32(23), ...simd(OP.i32x4Shl), ...simd(OP.f32x4Mul),
    ...get(c.scale), ...simd(OP.f32x4Mul),
  ];
}

/** acc (two f64x2 locals) += the four lanes of the f32x4 local v. */
function accumulate(accLow: number, accHigh: number, v: number): number[] {
  return [
    ...get(accLow), ...get(v), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...put(accLow),
    ...get(accHigh), ...upperHalf(v), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...put(accHigh),
  ];
}

/** The v128 at byte address base + off (two i32 locals). */
const loadAt = (base: number, off: number): number[] => [...get(base), ...get(off), WASM_OP.i32Add, ...v128Load()];

/** v128.const and the bytes of the i32x4 (0, 1, 2, 3). */
const V128_CONST = SIMD_OP.v128Const;
const IOTA_BYTES = [...new Uint8Array(Int32Array.of(0, 1, 2, 3).buffer)];

/** The block type of an `if` that leaves an i32. */
const BLOCK_I32 = WASM_TYPE.i32;

/** Locals of a function, numbered from `first` (after the params), typed in order. */
class Locals {
  readonly types: WasmValueType[] = [];
  constructor(private readonly first: number) {}
  add(type: WasmValueType): number {
    this.types.push(type);
    return this.first + this.types.length - 1;
  }
  many(type: WasmValueType, n: number): number[] {
    return Array.from({ length: n }, () => this.add(type));
  }
}

/*
 * The per-row terms take exp and log1p on two float64 lanes from core
 * (f64x2Exp, f64x2Log1p: Estrin-form polynomials, within an ulp or two of
 * Math.exp / Math.log1p). exp's argument is clamped to [-708, 708] first
 * (beyond, float32 results are 0 or the clamped value does not reach them);
 * pmin / pmax keep NaN lanes NaN.
 */
const EXP64_MIN = -708;
const EXP64_MAX = 708;

/** f64x2 opcodes of the row terms. */
const OP64 = {
  le: SIMD_OP.f64x2Le,
  neg: SIMD_OP.f64x2Neg,
  add: SIMD_OP.f64x2Add,
  sub: SIMD_OP.f64x2Sub,
  mul: SIMD_OP.f64x2Mul,
  div: SIMD_OP.f64x2Div,
  pmin: SIMD_OP.f64x2Pmin,
  pmax: SIMD_OP.f64x2Pmax,
} as const;

/** Scratch v128 locals of the row terms' exp and log1p. */
interface MathTemps {
  arg: number;
  exp: F64x2ExpLocals;
  log1p: Log1pLocals;
}

function mathTemps(locals: Locals): MathTemps {
  const [arg, x, c, bits, k, f, s, z, z2, z4, z8] = locals.many(T_V128, 11);
  return { arg, exp: { k, r: x, r2: z2, r4: z4, r8: z8 }, log1p: { x, c, bits, k, f, s, z, z2, z4, z8 } };
}

/** exp of the f64x2 on the stack (clamped, see above), left on the stack. */
function exp2x(t: MathTemps, K: V128Constants): number[] {
  return [...K.f64(EXP64_MAX), ...simd(OP64.pmin), ...K.f64(EXP64_MIN), ...simd(OP64.pmax), ...put(t.arg), ...f64x2Exp(t.arg, t.exp, K)];
}

/** log of the f64x2 on the stack (lanes >= 1), as log1p(u - 1) (u - 1 is exact up to 2, and within half an ulp of u above), left on the stack. */
function log2x(t: MathTemps, K: V128Constants): number[] {
  return [...K.f64(1), ...simd(OP64.sub), ...put(t.arg), ...f64x2Log1p(t.arg, t.log1p, K)];
}

/** The row terms' exp and log on one float64 (both lanes), as exported functions for the tests. */
function scalarFunction(name: 'exp64' | 'log64'): WasmFunction {
  const locals = new Locals(1);
  const temps = mathTemps(locals);
  const K = new V128ConstantPool(() => locals.add(T_V128));
  const code = [...get(0), ...simd(OP.f64x2Splat), ...(name === 'exp64' ? exp2x(temps, K) : log2x(temps, K)), ...simd(OP.f64x2ExtractLane, 0)];
  return {
    name,
    params: [T_F64],
    results: [T_F64],
    locals: locals.types,
    code: [...K.init(), ...code],
  };
}

/**
 * sum / sumGrad: the loss sum over all rows, and (sumGrad) the gradient of
 * that sum times gradScale written to grad. Params: z 0, labels 1, alpha 2,
 * N 3, C 4 (i32; C >= 2), gamma 5 (f64), then (sumGrad) grad 6 (i32) and
 * gradScale 7 (f64).
 */
function batchFunction(store: boolean): WasmFunction {
  const [z, labels, alpha, N, C, gamma, grad, gradScale] = [0, 1, 2, 3, 4, 5, 6, 7];
  const np = store ? 8 : 6;
  const L = new Locals(np);
  const [off, full, y, n, rz, re, lab, yOff] = L.many(T_I32, 8);
  const [so, alphaY] = L.many(T_F64, 2);
  const [has, y0, y1] = L.many(T_I32, 3);
  const yRow = [y0, y1];
  const [soV, gapV, alphaV, lsoV, egV, egnV, invSoV, lV, tV, dV, l1pV, lpV, pV, qV, wV, awV, totalV, gyV, sV, gammaV] = L.many(T_V128, 20);
  const temps2 = mathTemps(L);
  const K = new V128ConstantPool(() => L.add(T_V128));
  const mF = L.add(T_F32);
  const [idx, yv, mv, negM, v, xh, xl, t1, ex, accLow, accHigh, k, r, p, tailIdx, valid, sv] = L.many(T_V128, 17);
  const consts = expConsts(L.add(T_V128));
  L.many(T_V128, CONST_COUNT - 1);
  const c = consts.locals;
  const expLocals = { k, r, p };
  const negInf = f32x4Splat(-Infinity);

  // mv = max(mv, v), with the label's lane (idx = y) left out where `masked`
  const maxStep = (masked: boolean): number[] => [
    ...get(mv),
    ...(masked ? [...negInf, ...get(v), ...get(idx), ...get(yv), ...simd(OP.i32x4Eq), ...simd(OP.v128Bitselect)] : get(v)),
    ...simd(OP.f32x4Pmax), ...put(mv),
  ];
  // ex = exp(v - m), 0 below EXP_MIN and (where `masked`) at the label's lane
  const expStep = (masked: boolean): number[] => [
    // two-sum: xh = v + (-m), xl = its rounding error
    ...get(v), ...get(negM), ...simd(OP.f32x4Add), ...tee(xh),
    ...get(v), ...simd(OP.f32x4Sub), ...put(t1), // b' = xh - v
    ...get(v), ...get(xh), ...get(t1), ...simd(OP.f32x4Sub), ...simd(OP.f32x4Sub), // v - (xh - b')
    ...get(negM), ...get(t1), ...simd(OP.f32x4Sub), // -m - b'
    ...simd(OP.f32x4Add), ...put(xl),
    ...expOf(xh, xl, expLocals, c), ...put(ex),
    ...get(ex),
    ...get(xh), ...get(c.expMin), ...simd(OP.f32x4Lt),
    ...(masked ? [...get(idx), ...get(yv), ...simd(OP.i32x4Eq), ...simd(OP.v128Or)] : []),
    ...simd(OP.v128Andnot), ...put(ex),
  ];

  // idx = (b, b + 1, b + 2, b + 3) for the element index b left by `b`
  const idxFrom = (b: number[]): number[] => [...b, ...simd(OP.i32x4Splat), ...simd(V128_CONST, ...IOTA_BYTES), ...simd(OP.i32x4Add), ...put(idx)];
  // body for the byte offsets off = start, start + 16, ... below the i32 `end`
  const range = (start: number[], end: number[], bodyCode: number[]): number[] => [
    ...start, ...put(off),
    ...loopUntil([...get(off), ...end, WASM_OP.i32GeU], [...bodyCode, ...wasm.addTo(off, 16)]),
  ];
  // A pass over the full vectors of the row: `plain` on every vector but the label's (at byte offset
  // yOff, when y is not in the tail), `masked` (which leaves the label's lane out) on that one.
  const splitPass = (plain: number[], masked: number[]): number[] => [
    ...range(wasm.i32(0), get(yOff), plain),
    ...get(yOff), ...get(full), WASM_OP.i32LtU, WASM_OP.if, 0x40,
    ...get(yOff), ...put(off), ...idxFrom([...get(y), ...wasm.i32(-4), WASM_OP.i32And]), ...masked,
    WASM_OP.end,
    ...range([...get(yOff), ...wasm.i32(16), WASM_OP.i32Add], get(full), plain),
  ];
  // The tail (C mod 4 elements, from t = C - C mod 4): lanes at indices min(t + j, C - 1),
  // gathered one by one; `valid` marks the lanes below C.
  const laneAddress = (base: number, j: number): number[] => [
    ...get(base), ...get(tailIdx), ...simd(OP.i32x4ExtractLane, j), ...wasm.i32(2), WASM_OP.i32Shl, WASM_OP.i32Add,
  ];
  const gatherTail = [
    ...f32x4Splat(0),
    ...[0, 1, 2, 3].flatMap((j) => [...laneAddress(rz, j), ...wasm.f32Load(), ...simd(OP.f32x4ReplaceLane, j)]),
    ...put(v),
  ];
  const ifTail = (bodyCode: number[]): number[] => [...get(C), ...wasm.i32(3), WASM_OP.i32And, WASM_OP.if, 0x40, ...bodyCode, WASM_OP.end];
  // idx = (t, t + 1, t + 2, t + 3)
  const tailStart = idxFrom([...get(C), ...wasm.i32(-4), WASM_OP.i32And]);
  const tailSetup = [
    ...get(idx), ...get(C), ...simd(OP.i32x4Splat), ...simd(OP.i32x4LtS), ...put(valid),
    ...get(idx), ...get(C), ...wasm.i32(1), WASM_OP.i32Sub, ...simd(OP.i32x4Splat), ...simd(OP.i32x4MinS), ...put(tailIdx),
  ];
  // C mod 4 != 0: `wide` (one vector load of the last four elements, overlapping the last full vector) where C >= 4, else `narrow`
  const wideOrNarrow = (wide: number[], narrow: number[]): number[] => [...get(C), ...wasm.i32(4), WASM_OP.i32GeU, WASM_OP.if, 0x40, ...wide, WASM_OP.else, ...narrow, WASM_OP.end];
  // off and idx at the last four elements
  const lastFour = [
    ...get(C), ...wasm.i32(4), WASM_OP.i32Sub, ...wasm.i32(2), WASM_OP.i32Shl, ...put(off),
    ...idxFrom([...get(C), ...wasm.i32(4), WASM_OP.i32Sub]),
  ];
  const at = (base: number): number[] => [...get(base), ...get(off), WASM_OP.i32Add];
  const atLabel = (base: number): number[] => [...get(base), ...get(y), ...wasm.i32(2), WASM_OP.i32Shl, WASM_OP.i32Add];

  const expVector = (masked: boolean): number[] => [
    ...loadAt(rz, off), ...put(v), ...expStep(masked),
    ...(store ? [...at(re), ...get(ex), ...v128Store()] : []),
    ...accumulate(accLow, accHigh, ex),
  ];

  // so = Σ_{k != y} exp(z_k - m) for the row at rz (m = max over k != y, kept in mF); e values to re
  const rowSums = [
    ...get(y), ...simd(OP.i32x4Splat), ...put(yv),
    ...get(y), ...wasm.i32(-4), WASM_OP.i32And, ...wasm.i32(2), WASM_OP.i32Shl, ...put(yOff),
    // pass 1: m = max over k != y
    ...negInf, ...put(mv),
    ...splitPass([...loadAt(rz, off), ...put(v), ...maxStep(false)], [...loadAt(rz, off), ...put(v), ...maxStep(true)]),
    ...ifTail(wideOrNarrow(
      // the last four elements again: the maximum does not mind
      [...lastFour, ...loadAt(rz, off), ...put(v), ...maxStep(true)],
      [...tailStart, ...tailSetup, ...gatherTail, ...get(tailIdx), ...put(idx), ...maxStep(true)],
    )),
    // fold the four lanes of mv
    ...get(mv), ...get(mv), ...get(mv), ...simd(OP.i8x16Shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7), ...simd(OP.f32x4Pmax), ...put(mv),
    ...get(mv), ...get(mv), ...get(mv), ...simd(OP.i8x16Shuffle, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11), ...simd(OP.f32x4Pmax), ...put(mv),
    ...get(mv), ...simd(OP.f32x4ExtractLane, 0), ...put(mF),
    ...get(mv), ...simd(OP.f32x4Neg), ...put(negM),
    // pass 2: the exponentials and their sum
    ...f32x4Splat(0), ...put(accLow), ...f32x4Splat(0), ...put(accHigh),
    ...splitPass(expVector(false), expVector(true)),
    ...ifTail(wideOrNarrow(
      [
        // the last four elements: the lanes before t store again the values they hold, and are left out of the sum
        ...lastFour, ...loadAt(rz, off), ...put(v), ...expStep(true),
        ...(store ? [...at(re), ...get(ex), ...v128Store()] : []),
        ...get(ex), ...get(idx), ...get(C), ...wasm.i32(-4), WASM_OP.i32And, ...simd(OP.i32x4Splat), ...simd(OP.i32x4LtS), ...simd(OP.v128Andnot), ...put(ex),
        ...accumulate(accLow, accHigh, ex),
      ],
      [
        ...tailStart, ...tailSetup, ...gatherTail, ...get(tailIdx), ...put(idx), ...expStep(true),
        // every lane stores (lanes past C - 1 repeat the last element's value)
        ...(store ? [0, 1, 2, 3].flatMap((j) => [...laneAddress(re, j), ...get(ex), ...simd(OP.f32x4ExtractLane, j), ...wasm.f32Store()]) : []),
        ...get(ex), ...get(valid), ...simd(OP.v128And), ...put(ex),
        ...accumulate(accLow, accHigh, ex),
      ],
    )),
    ...get(accLow), ...get(accHigh), ...simd(OP.f64x2Add), ...put(accLow),
    ...f64x2LaneSum(accLow), ...put(so),
  ];

  // The focal terms in float64 for two rows at once (lanes 0 and 1; the arithmetic of focalRowTerms in
  // softmax-focal.cpu.ts with r = m, arranged so that the dependent chain is short):
  // L = log(so) + m - z_y = log((1 - p) / p); t = exp(-|L|) = so e^gap (L <= 0) or e^-gap / so (L > 0),
  // both products computed beside log(so); lp = -log p = max(L, 0) + log1p(t),
  // log(1 - p) = min(L, 0) - log1p(t); p and 1 - p are 1 / (1 + t) and t / (1 + t) (which is which by
  // the sign of L). A lane without a row (ignored, or past N) has so = 1, gap = 0, alpha = 0: finite
  // terms and a loss of 0.
  const F = OP64;
  const le0 = (v: number): number[] => [...get(v), ...K.f64(0), ...simd(F.le)];
  const rowTerms = [
    // independent of each other: log(so), e^gap, e^-gap, 1 / so
    ...get(soV), ...log2x(temps2, K), ...put(lsoV),
    ...get(gapV), ...exp2x(temps2, K), ...put(egV),
    ...get(gapV), ...simd(F.neg), ...exp2x(temps2, K), ...put(egnV),
    ...K.f64(1), ...get(soV), ...simd(F.div), ...put(invSoV),
    // L (NaN where so is NaN or infinite)
    ...get(lsoV), ...get(gapV), ...simd(F.add), ...get(soV), ...get(soV), ...simd(F.sub), ...simd(F.add), ...put(lV),
    ...get(soV), ...get(egV), ...simd(F.mul), ...get(egnV), ...get(invSoV), ...simd(F.mul), ...le0(lV), ...simd(OP.v128Bitselect), ...put(tV),
    // log1p(t), lp
    ...f64x2Log1p(tV, temps2.log1p, K), ...put(l1pV),
    ...get(lV), ...K.f64(0), ...simd(F.pmax), ...get(l1pV), ...simd(F.add), ...put(lpV),
    ...K.f64(1), ...K.f64(1), ...get(tV), ...simd(F.add), ...simd(F.div), ...put(dV),
    // p = L <= 0 ? d : t d, 1 - p the other one
    ...get(dV), ...get(tV), ...get(dV), ...simd(F.mul), ...le0(lV), ...simd(OP.v128Bitselect), ...put(pV),
    ...get(tV), ...get(dV), ...simd(F.mul), ...get(dV), ...le0(lV), ...simd(OP.v128Bitselect), ...put(qV),
    // w = (1 - p)^gamma
    ...get(gamma), ...wasm.f64(2), WASM_OP.f64Eq,
    WASM_OP.if, 0x40, ...get(qV), ...get(qV), ...simd(F.mul), ...put(wV),
    WASM_OP.else,
    ...get(gamma), ...wasm.f64(0), WASM_OP.f64Eq,
    WASM_OP.if, 0x40, ...K.f64(1), ...put(wV),
    WASM_OP.else,
    ...get(lV), ...K.f64(0), ...simd(F.pmin), ...get(l1pV), ...simd(F.sub), ...get(gammaV), ...simd(F.mul), ...exp2x(temps2, K), ...put(wV),
    WASM_OP.end,
    WASM_OP.end,
    // the rows' losses alpha w lp
    ...get(alphaV), ...get(wV), ...simd(F.mul), ...put(awV),
    ...get(totalV), ...get(awV), ...get(lpV), ...simd(F.mul), ...simd(F.add), ...put(totalV),
  ];
  // gy = -alpha w ((1 - p) + gamma p lp) gradScale, and the scale -gy / so of the other classes
  const gradTerms = [
    ...get(awV), ...simd(F.neg), ...get(qV), ...get(gammaV), ...get(pV), ...simd(F.mul), ...get(lpV), ...simd(F.mul), ...simd(F.add), ...simd(F.mul),
    ...get(gradScale), ...simd(OP.f64x2Splat), ...simd(F.mul), ...put(gyV),
    ...get(gyV), ...simd(F.neg), ...get(invSoV), ...simd(F.mul), ...put(sV),
  ];

  // grad row at re: e * s, gy at y, for lane `lane` of sV and gyV
  const scaleRow = (lane: number): number[] => [
    ...get(sV), ...simd(OP.f64x2ExtractLane, lane), WASM_OP.f32DemoteF64, ...simd(OP.f32x4Splat), ...put(sv),
    ...wasm.i32(0), ...put(off),
    ...loopUntil([...get(off), ...get(full), WASM_OP.i32GeU], [
      ...at(re), ...at(re), ...v128Load(), ...get(sv), ...simd(OP.f32x4Mul), ...v128Store(),
      ...wasm.addTo(off, 16),
    ]),
    ...loopUntil([...get(off), ...get(C), ...wasm.i32(2), WASM_OP.i32Shl, WASM_OP.i32GeU], [
      ...at(re), ...at(re), ...wasm.f32Load(), ...get(sv), ...simd(OP.f32x4ExtractLane, 0), WASM_OP.f32Mul, ...wasm.f32Store(),
      ...wasm.addTo(off, 4),
    ]),
    ...atLabel(re), ...get(gyV), ...simd(OP.f64x2ExtractLane, lane), WASM_OP.f32DemoteF64, ...wasm.f32Store(),
  ];
  const zeroRow = [
    ...wasm.i32(0), ...put(off),
    ...loopUntil([...get(off), ...get(C), ...wasm.i32(2), WASM_OP.i32Shl, WASM_OP.i32GeU], [
      ...at(re), ...wasm.f32(0), ...wasm.f32Store(),
      ...wasm.addTo(off, 4),
    ]),
  ];

  const rowStride = [...get(C), ...wasm.i32(2), WASM_OP.i32Shl];
  const advance = [
    ...wasm.addTo(lab, 4),
    ...get(rz), ...rowStride, WASM_OP.i32Add, ...put(rz),
    ...get(re), ...rowStride, WASM_OP.i32Add, ...put(re),
  ];
  const setLane = (vec: number, lane: number, value: number[]): number[] => [...get(vec), ...value, ...simd(OP.f64x2ReplaceLane, lane), ...put(vec)];
  // Row n + lane: its so, gap and alpha into lane `lane` (a row that is ignored or past N: so = 1, gap = 0,
  // alpha = 0, and with a gradient its row zeroed when it exists); its label in yRow[lane], and whether it
  // has terms in bit `lane` of `has`.
  const rowIn = (lane: number): number[] => [
    // y = label, or -1 past the last row
    ...(lane === 0
      ? [...get(lab), WASM_OP.i32Load, 2, 0]
      : [...get(n), ...wasm.i32(1), WASM_OP.i32Add, ...get(N), WASM_OP.i32LtU, WASM_OP.if, BLOCK_I32, ...get(lab), WASM_OP.i32Load, 2, 0, WASM_OP.else, ...wasm.i32(-1), WASM_OP.end]),
    ...tee(y), ...put(yRow[lane]),
    ...get(y), ...get(C), WASM_OP.i32LtU,
    WASM_OP.if, 0x40,
    ...get(alpha), ...get(y), ...wasm.i32(2), WASM_OP.i32Shl, WASM_OP.i32Add, ...wasm.f32Load(), WASM_OP.f64PromoteF32, ...put(alphaY),
    ...rowSums,
    ...setLane(soV, lane, get(so)),
    ...setLane(gapV, lane, [...get(mF), WASM_OP.f64PromoteF32, ...atLabel(rz), ...wasm.f32Load(), WASM_OP.f64PromoteF32, WASM_OP.f64Sub]),
    ...setLane(alphaV, lane, get(alphaY)),
    ...get(has), ...wasm.i32(1 << lane), WASM_OP.i32Or, ...put(has),
    WASM_OP.else,
    ...setLane(soV, lane, wasm.f64(1)),
    ...setLane(gapV, lane, wasm.f64(0)),
    ...setLane(alphaV, lane, wasm.f64(0)),
    ...(store ? [...get(n), ...wasm.i32(lane), WASM_OP.i32Add, ...get(N), WASM_OP.i32LtU, WASM_OP.if, 0x40, ...zeroRow, WASM_OP.end] : []),
    WASM_OP.end,
    ...advance,
  ];
  // the gradient rows of the pair (re is two rows past the first)
  const rowOut = (lane: number): number[] => [
    ...get(has), ...wasm.i32(1 << lane), WASM_OP.i32And,
    WASM_OP.if, 0x40,
    ...get(re), ...rowStride, ...wasm.i32(2 - lane), WASM_OP.i32Mul, WASM_OP.i32Sub, ...put(re),
    ...get(yRow[lane]), ...put(y),
    ...scaleRow(lane),
    ...get(re), ...rowStride, ...wasm.i32(2 - lane), WASM_OP.i32Mul, WASM_OP.i32Add, ...put(re),
    WASM_OP.end,
  ];

  const body = [
    ...get(C), ...wasm.i32(-4), WASM_OP.i32And, ...wasm.i32(2), WASM_OP.i32Shl, ...put(full),
    ...get(z), ...put(rz), ...get(labels), ...put(lab),
    ...(store ? get(grad) : wasm.i32(0)), ...put(re),
    ...get(gamma), ...simd(OP.f64x2Splat), ...put(gammaV),
    ...loopUntil([...get(n), ...get(N), WASM_OP.i32GeU], [
      ...wasm.i32(0), ...put(has),
      ...rowIn(0),
      ...rowIn(1),
      ...rowTerms,
      ...(store ? [...gradTerms, ...rowOut(0), ...rowOut(1)] : []),
      ...wasm.addTo(n, 2),
    ]),
    ...f64x2LaneSum(totalV),
  ];
  return {
    name: store ? 'sumGrad' : 'sum',
    params: store ? [T_I32, T_I32, T_I32, T_I32, T_I32, T_F64, T_I32, T_F64] : [T_I32, T_I32, T_I32, T_I32, T_I32, T_F64],
    results: [T_F64],
    locals: L.types,
    code: [...consts.init, ...K.init(), ...body],
  };
}

// exp: params src 0, dst 1, n 2; locals off 3, limit 4 (i32), x 5, out 6, k 7, r 8, p 9 and the constants (v128).
function expFunction(): WasmFunction {
  const [src, dst, n, off, limit, x, out, k, r, p] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const consts = expConsts(10);
  const c = consts.locals;
  return {
    name: 'exp',
    params: [T_I32, T_I32, T_I32],
    results: [],
    locals: [T_I32, T_I32, ...Array<typeof T_V128>(5 + CONST_COUNT).fill(T_V128)],
    code: [
      ...consts.init,
      ...get(n), ...wasm.i32(2), WASM_OP.i32Shl, ...put(limit),
      ...loopUntil([...get(off), ...get(limit), WASM_OP.i32GeU], [
        ...loadAt(src, off), ...put(x),
        ...expOf(x, -1, { k, r, p }, c), ...put(out),
        ...get(dst), ...get(off), WASM_OP.i32Add,
        ...get(out), ...get(x), ...get(c.expMin), ...simd(OP.f32x4Lt), ...simd(OP.v128Andnot),
        ...v128Store(),
        ...wasm.addTo(off, 16),
      ]),
    ],
  };
}

/** The module's bytes. */
export function softmaxFocalSimdModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([batchFunction(false), batchFunction(true), expFunction(), scalarFunction('exp64'), scalarFunction('log64')]);
}

function bindSoftmaxFocal(exports: WebAssembly.Exports, memory: WebAssembly.Memory): SoftmaxFocalSimd {
  const ex = exports as unknown as Omit<SoftmaxFocalSimd, 'memory'>;
  return { memory, sum: ex.sum, sumGrad: ex.sumGrad, exp: ex.exp, exp64: ex.exp64, log64: ex.log64 };
}

/**
 * The SIMD loops bound to `memory` (one instance per memory), or null where
 * they cannot run (no memory, no WebAssembly SIMD, a shared memory): then
 * the kernels run their JavaScript loops.
 */
export function softmaxFocalSimd(memory: WebAssembly.Memory | null): SoftmaxFocalSimd | null {
  return bindToWasmMemory(memory, softmaxFocalSimdModule, bindSoftmaxFocal);
}
