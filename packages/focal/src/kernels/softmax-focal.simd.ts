import { SIMD_OP, UPPER_HALF_DOWN, WASM_OP, WASM_TYPE, bindToWasmMemory, f32x4Splat, loopUntil, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { WasmFunction } from '@tfjs-losses/core';

/*
 * The softmax focal loss's per-logit work in WebAssembly SIMD for the wasm
 * backend (four float32 lanes per instruction), written with core's module
 * builder and run on the backend's heap in place. The per-row scalar work
 * (a log, a log1p, the focal weight) stays in JavaScript, see
 * softmax-focal.wasm.ts.
 *
 * Functions (pointers are byte offsets into the backend's memory):
 *
 *   row(z, C, y, mOut) -> f64
 *   rowStore(z, C, y, e, mOut) -> f64
 *       For the row z[0..C) with label y in [0, C): m = the largest logit
 *       other than z[y] (written as f32 to mOut) and returns
 *       so = Σ_{k != y} exp(z[k] - m), the terms accumulated in float64.
 *       rowStore also writes e[k] = exp(z[k] - m) for k != y and e[y] = 0.
 *       As m is the largest of the summed logits, 1 <= so <= C - 1 (for
 *       finite logits): nothing overflows, and terms that underflow are
 *       below 2^-149 of the sum.
 *   scaleRow(e, C, s)
 *       e[k] *= s for k in [0, C).
 *   exp(src, dst, n)
 *       dst[i] = exp(src[i]) for i in [0, n), n a multiple of 4, for
 *       src <= 0 (the tests compare it with Math.exp).
 *
 * exp(x) for x <= 0, on the difference x = xh + xl (xh = fl(z - m), xl its
 * rounding error from a two-sum, so that the rounding of z - m costs
 * nothing even where |x| is large): k = nearest(xh log2 e), r = xh - k C1 -
 * k C2 + xl with ln 2 = C1 + C2 (C1 has 9 significant bits, so k C1 and
 * xh - k C1 are exact), exp(r) = 1 + r + r² P(r) with P of degree 4 fitted
 * on |r| <= 0.36 (relative error 5e-9 before rounding), then times 2^k
 * as 2^(k >> 1) · 2^(k - (k >> 1)) built in the exponent bits, so that
 * results below 2^-126 round once into the subnormals. Lanes with
 * xh < -104 (exp below half the smallest subnormal, also -inf) give 0; NaN
 * gives NaN.
 */

/** The exports, bound to one memory. */
export interface SoftmaxFocalSimd {
  memory: WebAssembly.Memory;
  row(z: number, C: number, y: number, mOut: number): number;
  rowStore(z: number, C: number, y: number, e: number, mOut: number): number;
  scaleRow(e: number, C: number, s: number): void;
  exp(src: number, dst: number, n: number): void;
}

const { i32: T_I32, f32: T_F32, f64: T_F64, v128: T_V128 } = WASM_TYPE;
const { get, set: put, tee } = wasm;
const OP = SIMD_OP;

/** SIMD opcodes not in core's table. */
const OP_X = {
  i32x4Splat: 0x11,
  i32x4ExtractLane: 0x1b,
  i32x4ReplaceLane: 0x1c,
  i32x4Eq: 0x37,
  i32x4LtS: 0x39,
  v128Andnot: 0x4f,
  f32x4Nearest: 0x6a,
  i32x4Shl: 0xab,
  i32x4ShrS: 0xac,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  i32x4MinS: 0xb6,
  i32x4TruncSatF32x4S: 0xf8,
} as const;

/** Scalar opcodes not in core's table. */
const IF = 0x04;
const F32_MUL = 0x94;

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444005469057e-4;
/** exp(r) = 1 + r + r² (P0 + P1 r + P2 r² + P3 r³ + P4 r⁴) on |r| <= 0.36. */
const P = [0.49999985098838806, 0.1666649430990219, 0.04166999086737633, 0.008371713571250439, 0.0013741288566961884];
/** exp(x) for x below this is 0 in float32 (below half of 2^-149). */
const EXP_MIN = -104;

/** i32x4 (a, a + 1, a + 2, a + 3) for the i32 local a. */
function iota(start: number): number[] {
  return [
    ...get(start), ...simd(OP_X.i32x4Splat),
    ...get(start), ...wasm.i32(1), WASM_OP.i32Add, ...simd(OP_X.i32x4ReplaceLane, 1),
    ...get(start), ...wasm.i32(2), WASM_OP.i32Add, ...simd(OP_X.i32x4ReplaceLane, 2),
    ...get(start), ...wasm.i32(3), WASM_OP.i32Add, ...simd(OP_X.i32x4ReplaceLane, 3),
  ];
}

/** Scratch v128 locals that {@link expOf} uses. */
interface ExpLocals {
  k: number;
  r: number;
  p: number;
  ki: number;
}

/**
 * exp(xh + xl) of two v128 locals (xl: -1 for none), left on the stack;
 * lanes with xh < -104 are not made 0 here (the caller masks them).
 */
function expOf(xh: number, xl: number, { k, r, p, ki }: ExpLocals): number[] {
  const horner: number[] = [...f32x4Splat(P[4])];
  for (let i = 3; i >= 0; i--) horner.push(...get(r), ...simd(OP.f32x4Mul), ...f32x4Splat(P[i]), ...simd(OP.f32x4Add));
  const pow2 = (exponent: number[]): number[] => [...exponent, ...wasm.i32(127), ...simd(OP_X.i32x4Splat), ...simd(OP_X.i32x4Add), ...wasm.i32(23), ...simd(OP_X.i32x4Shl)];
  return [
    // k = nearest(xh log2 e)
    ...get(xh), ...f32x4Splat(LOG2E), ...simd(OP.f32x4Mul), ...simd(OP_X.f32x4Nearest), ...put(k),
    // r = (xh - k C1) - k C2 (+ xl)
    ...get(xh), ...get(k), ...f32x4Splat(LN2_HI), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Sub),
    ...get(k), ...f32x4Splat(LN2_LO), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Sub),
    ...(xl >= 0 ? [...get(xl), ...simd(OP.f32x4Add)] : []),
    ...put(r),
    // p = 1 + (r + r² P(r))
    ...horner, ...get(r), ...get(r), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Mul),
    ...get(r), ...simd(OP.f32x4Add), ...f32x4Splat(1), ...simd(OP.f32x4Add), ...put(p),
    // ki = k as i32; p · 2^(ki >> 1) · 2^(ki - (ki >> 1))
    ...get(k), ...simd(OP_X.i32x4TruncSatF32x4S), ...put(ki),
    ...get(p),
    ...pow2([...get(ki), ...wasm.i32(1), ...simd(OP_X.i32x4ShrS)]), ...simd(OP.f32x4Mul),
    ...pow2([...get(ki), ...get(ki), ...wasm.i32(1), ...simd(OP_X.i32x4ShrS), ...simd(OP_X.i32x4Sub)]), ...simd(OP.f32x4Mul),
  ];
}

/** acc (two f64x2 locals) += the four lanes of the f32x4 local v. */
function accumulate(accLow: number, accHigh: number, v: number): number[] {
  return [
    ...get(accLow), ...get(v), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...put(accLow),
    ...get(accHigh), ...get(v), ...get(v), ...UPPER_HALF_DOWN, ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...put(accHigh),
  ];
}

/** The v128 at byte address base + off (two i32 locals). */
const loadAt = (base: number, off: number): number[] => [...get(base), ...get(off), WASM_OP.i32Add, ...v128Load()];

/**
 * row / rowStore. Params: z 0, C 1, y 2, then (rowStore) e 3, mOut; locals
 * after the params.
 */
function rowFunction(store: boolean): WasmFunction {
  const np = store ? 5 : 4;
  const [z, C, y] = [0, 1, 2];
  const e = 3;
  const mOut = np - 1;
  // i32 locals
  const [off, full] = [np, np + 1];
  // v128 locals
  const v0 = np + 2;
  const [idx, yv, mv, negM, v, xh, xl, t1, ex, accLow, accHigh, k, r, p, ki, tailIdx, valid] = Array.from({ length: 17 }, (_, i) => v0 + i);
  const expLocals = { k, r, p, ki };
  const four = [...wasm.i32(4), ...simd(OP_X.i32x4Splat)];
  const negInf = f32x4Splat(-Infinity);

  // v = z values with the label's lane at -inf (for the maximum)
  const maxStep = [
    ...negInf, ...get(v), ...get(idx), ...get(yv), ...simd(OP_X.i32x4Eq), ...simd(OP.v128Bitselect), ...put(t1),
    ...get(mv), ...get(t1), ...simd(OP.f32x4Max), ...put(mv),
  ];
  // ex = exp(v - m) with 0 at the label's lane and below EXP_MIN
  const expStep = [
    // two-sum: xh = v + (-m), xl = its rounding error
    ...get(v), ...get(negM), ...simd(OP.f32x4Add), ...tee(xh),
    ...get(v), ...simd(OP.f32x4Sub), ...put(t1), // b' = xh - v
    ...get(v), ...get(xh), ...get(t1), ...simd(OP.f32x4Sub), ...simd(OP.f32x4Sub), // v - (xh - b')
    ...get(negM), ...get(t1), ...simd(OP.f32x4Sub), // -m - b'
    ...simd(OP.f32x4Add), ...put(xl),
    ...expOf(xh, xl, expLocals), ...put(ex),
    // mask: label lane or xh < EXP_MIN
    ...get(ex),
    ...get(idx), ...get(yv), ...simd(OP_X.i32x4Eq),
    ...get(xh), ...f32x4Splat(EXP_MIN), ...simd(OP.f32x4Lt), ...simd(OP.v128Or),
    ...simd(OP_X.v128Andnot), ...put(ex),
  ];

  const mainLoop = (bodyCode: number[]): number[] => [
    ...wasm.i32(0), ...put(off),
    ...iota(off), ...put(idx),
    ...loopUntil([...get(off), ...get(full), WASM_OP.i32GeU], [
      ...bodyCode,
      ...get(idx), ...four, ...simd(OP_X.i32x4Add), ...put(idx),
      ...wasm.addTo(off, 16),
    ]),
  ];
  // The tail (C mod 4 elements, from t = C - C mod 4): lanes at indices min(t + j, C - 1),
  // gathered one by one; `valid` marks the lanes below C.
  const laneAddress = (base: number, j: number): number[] => [
    ...get(base), ...get(tailIdx), ...simd(OP_X.i32x4ExtractLane, j), ...wasm.i32(2), WASM_OP.i32Shl, WASM_OP.i32Add,
  ];
  const gatherTail = [
    ...f32x4Splat(0),
    ...[0, 1, 2, 3].flatMap((j) => [...laneAddress(z, j), ...wasm.f32Load(), ...simd(OP.f32x4ReplaceLane, j)]),
    ...put(v),
  ];
  const ifTail = (bodyCode: number[]): number[] => [...get(C), ...wasm.i32(3), WASM_OP.i32And, IF, 0x40, ...bodyCode, WASM_OP.end];
  // idx holds (t, t + 1, t + 2, t + 3) after a main loop
  const tailSetup = [
    ...get(idx), ...get(C), ...simd(OP_X.i32x4Splat), ...simd(OP_X.i32x4LtS), ...put(valid),
    ...get(idx), ...get(C), ...wasm.i32(1), WASM_OP.i32Sub, ...simd(OP_X.i32x4Splat), ...simd(OP_X.i32x4MinS), ...put(tailIdx),
  ];

  const code = [
    ...get(C), ...wasm.i32(-4), WASM_OP.i32And, ...wasm.i32(2), WASM_OP.i32Shl, ...put(full),
    ...get(y), ...simd(OP_X.i32x4Splat), ...put(yv),
    // pass 1: m = max over k != y
    ...negInf, ...put(mv),
    ...mainLoop([...loadAt(z, off), ...put(v), ...maxStep]),
    ...ifTail([...tailSetup, ...gatherTail, ...get(tailIdx), ...put(idx), ...maxStep]),
    // fold the four lanes of mv
    ...get(mv), ...get(mv), ...get(mv), ...simd(OP.i8x16Shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7), ...simd(OP.f32x4Max), ...put(mv),
    ...get(mv), ...get(mv), ...get(mv), ...simd(OP.i8x16Shuffle, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11), ...simd(OP.f32x4Max), ...put(mv),
    ...get(mOut), ...get(mv), ...simd(OP.f32x4ExtractLane, 0), ...wasm.f32Store(),
    ...get(mv), ...simd(OP.f32x4Neg), ...put(negM),
    // pass 2: the exponentials and their sum
    ...mainLoop([
      ...loadAt(z, off), ...put(v), ...expStep,
      ...(store ? [...get(e), ...get(off), WASM_OP.i32Add, ...get(ex), ...v128Store()] : []),
      ...accumulate(accLow, accHigh, ex),
    ]),
    ...ifTail([
      ...tailSetup, ...gatherTail, ...get(tailIdx), ...put(idx), ...expStep,
      // every lane stores (lanes past C - 1 repeat the last element's value)
      ...(store ? [0, 1, 2, 3].flatMap((j) => [...laneAddress(e, j), ...get(ex), ...simd(OP.f32x4ExtractLane, j), ...wasm.f32Store()]) : []),
      ...get(ex), ...get(valid), ...simd(OP.v128And), ...put(ex),
      ...accumulate(accLow, accHigh, ex),
    ]),
    ...get(accLow), ...get(accHigh), ...simd(OP.f64x2Add), ...put(accLow),
    ...get(accLow), ...simd(OP.f64x2ExtractLane, 0), ...get(accLow), ...simd(OP.f64x2ExtractLane, 1), WASM_OP.f64Add,
  ];
  return {
    name: store ? 'rowStore' : 'row',
    params: Array<typeof T_I32>(np).fill(T_I32),
    results: [T_F64],
    locals: [T_I32, T_I32, ...Array<typeof T_V128>(17).fill(T_V128)],
    code,
  };
}

// scaleRow: params e 0, C 1, s 2 (f32); locals off 3, full 4, end 5 (i32), sv 6 (v128).
function scaleRowFunction(): WasmFunction {
  const [e, C, s, off, full, end, sv] = [0, 1, 2, 3, 4, 5, 6];
  const at = [...get(e), ...get(off), WASM_OP.i32Add];
  return {
    name: 'scaleRow',
    params: [T_I32, T_I32, T_F32],
    results: [],
    locals: [T_I32, T_I32, T_I32, T_V128],
    code: [
      ...get(C), ...wasm.i32(-4), WASM_OP.i32And, ...wasm.i32(2), WASM_OP.i32Shl, ...put(full),
      ...get(C), ...wasm.i32(2), WASM_OP.i32Shl, ...put(end),
      ...get(s), ...simd(OP.f32x4Splat), ...put(sv),
      ...loopUntil([...get(off), ...get(full), WASM_OP.i32GeU], [
        ...at, ...at, ...v128Load(), ...get(sv), ...simd(OP.f32x4Mul), ...v128Store(),
        ...wasm.addTo(off, 16),
      ]),
      ...loopUntil([...get(off), ...get(end), WASM_OP.i32GeU], [
        ...at, ...at, ...wasm.f32Load(), ...get(s), F32_MUL, ...wasm.f32Store(),
        ...wasm.addTo(off, 4),
      ]),
    ],
  };
}

// exp: params src 0, dst 1, n 2; locals off 3, limit 4 (i32), x 5, out 6, k 7, r 8, p 9, ki 10 (v128).
function expFunction(): WasmFunction {
  const [src, dst, n, off, limit, x, out, k, r, p, ki] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  return {
    name: 'exp',
    params: [T_I32, T_I32, T_I32],
    results: [],
    locals: [T_I32, T_I32, ...Array<typeof T_V128>(6).fill(T_V128)],
    code: [
      ...get(n), ...wasm.i32(2), WASM_OP.i32Shl, ...put(limit),
      ...loopUntil([...get(off), ...get(limit), WASM_OP.i32GeU], [
        ...loadAt(src, off), ...put(x),
        ...expOf(x, -1, { k, r, p, ki }), ...put(out),
        ...get(dst), ...get(off), WASM_OP.i32Add,
        ...get(out), ...get(x), ...f32x4Splat(EXP_MIN), ...simd(OP.f32x4Lt), ...simd(OP_X.v128Andnot),
        ...v128Store(),
        ...wasm.addTo(off, 16),
      ]),
    ],
  };
}

/** The module's bytes. */
export function softmaxFocalSimdModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([rowFunction(false), rowFunction(true), scaleRowFunction(), expFunction()]);
}

function bindSoftmaxFocal(exports: WebAssembly.Exports, memory: WebAssembly.Memory): SoftmaxFocalSimd {
  const ex = exports as unknown as Omit<SoftmaxFocalSimd, 'memory'>;
  return { memory, row: ex.row, rowStore: ex.rowStore, scaleRow: ex.scaleRow, exp: ex.exp };
}

/**
 * The SIMD loops bound to `memory` (one instance per memory), or null where
 * they cannot run (no memory, no WebAssembly SIMD, a shared memory): then
 * the kernels run their JavaScript loops.
 */
export function softmaxFocalSimd(memory: WebAssembly.Memory | null): SoftmaxFocalSimd | null {
  return bindToWasmMemory(memory, softmaxFocalSimdModule, bindSoftmaxFocal);
}
