import { SIMD_OP, WASM_OP, WASM_TYPE, bindToWasmMemory, upperHalf, f64x2LaneSum, f32x4Splat, loopUntil, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { WasmFunction } from '@tfjs-losses/core';

/*
 * Smooth L1 loops in WebAssembly SIMD for the wasm backend, four float32
 * lanes per instruction. The module is written with core's WebAssembly
 * builder (wasm-simd.ts) and imports the wasm backend's own memory, so its
 * loops run on the tensors' storage in place: the heap views that core's
 * fillKernelFunc hands to a kernel are (byte offset, length) pairs in that
 * memory.
 *
 * Functions (pointers are byte offsets; `groups` counts 4-element groups and
 * `blocks` 16-element blocks, four groups, which sum and grad take per pass;
 * b0..b3 are the betas of the four lanes, all > 0: one beta repeated, or the
 * betas of 2 or 4 columns, so that lane k of every group has column k mod C):
 *
 *   sum(p, t, blocks, b0, b1, b2, b3) -> f64
 *       Σ loss(p − t), per element in float32 as PyTorch computes it
 *       (a < β ? a · a · (0.5 / β) : a − 0.5 β with a = |p − t|). Per lane
 *       the four losses of a block are added in float32 (non-negative terms:
 *       relative error at most 2^-23) and the block sums accumulated in
 *       float64, which halves the float64 work and the dependency chain.
 *   sumClamped(p, t, blocks, b0, b1, b2, b3) -> f64
 *       the same sum for 2^-62 ≤ β ≤ 1 in fewer operations: per lane
 *       Σ c (d − c/2) with c = clamp(d, −β, β), divided by β in float64
 *       (for a power-of-two β the same float32 terms as PyTorch's).
 *   sumGrad(p, t, dPred, dTarget, blocks, b0, b1, b2, b3, dy) -> f64
 *       sumClamped's sum and grad's gradients in one pass (sumGradPow2:
 *       gradPow2's, for power-of-two betas with dy / β exact).
 *   grad(p, t, dPred, dTarget, blocks, b0, b1, b2, b3, dy)
 *       dPred = dy · clamp((p − t) / β, −1, 1), dTarget = −dPred: d / β
 *       inside, sign(d) outside (|d| ≥ β gives |d / β| ≥ 1 in float32 too),
 *       0 at d = 0, NaN for NaN (gradPow2: the same values for betas that
 *       are powers of two, without the division). The clamp is two pseudo-min/max
 *       instructions (one x86 instruction each; f32x4.min and max take
 *       several for their NaN and ±0 rules, which doubled the loop's time).
 *   absSums(p, t, groups) -> [f64, f64, f64, f64]
 *       per lane, Σ |p − t| in float64 (the self-adjusting loss's column means).
 *   devSquares(p, t, groups, m0, m1, m2, m3) -> [f64, f64, f64, f64]
 *       per lane, Σ (|p − t| − m_lane)² in float64 (its variances' numerators).
 *   scale(src, dPred, dTarget, groups, dy)
 *       dPred = dy · src, dTarget = −dPred (Balanced L1's gradient from its stored slopes).
 * absSums and devSquares return four values (WebAssembly multi-value: an array in JS).
 */

/** The exports, bound to one memory. */
export interface SmoothL1Simd {
  memory: WebAssembly.Memory;
  sum(p: number, t: number, blocks: number, b0: number, b1: number, b2: number, b3: number): number;
  sumClamped(p: number, t: number, blocks: number, b0: number, b1: number, b2: number, b3: number): number;
  sumGrad(p: number, t: number, dPred: number, dTarget: number, blocks: number, b0: number, b1: number, b2: number, b3: number, dy: number): number;
  sumGradPow2(p: number, t: number, dPred: number, dTarget: number, blocks: number, b0: number, b1: number, b2: number, b3: number, dy: number): number;
  grad(p: number, t: number, dPred: number, dTarget: number, blocks: number, b0: number, b1: number, b2: number, b3: number, dy: number): void;
  gradPow2(p: number, t: number, dPred: number, dTarget: number, blocks: number, b0: number, b1: number, b2: number, b3: number, dy: number): void;
  absSums(p: number, t: number, groups: number): number[];
  devSquares(p: number, t: number, groups: number, m0: number, m1: number, m2: number, m3: number): number[];
  scale(src: number, dPred: number, dTarget: number, groups: number, dy: number): void;
}

const { i32: T_I32, f32: T_F32, f64: T_F64, v128: T_V128 } = WASM_TYPE;
const { get, set: put } = wasm;
const OP = SIMD_OP;

/** v128.load / v128.store at base + offset (two i32 locals). */
const loadAt = (base: number, offset: number): number[] => [...get(base), ...get(offset), WASM_OP.i32Add, ...v128Load()];
const storeAt = (base: number, offset: number, value: number[]): number[] => [...get(base), ...get(offset), WASM_OP.i32Add, ...value, ...v128Store()];

/** Lanes (b0, b1, b2, b3) from four f32 locals. */
function lanes(first: number): number[] {
  return [
    ...get(first), ...simd(OP.f32x4Splat),
    ...get(first + 1), ...simd(OP.f32x4ReplaceLane, 1),
    ...get(first + 2), ...simd(OP.f32x4ReplaceLane, 2),
    ...get(first + 3), ...simd(OP.f32x4ReplaceLane, 3),
  ];
}

/** `for (offset = 0; offset < limit; offset += 16) body`. */
function forEachGroup(offset: number, limit: number, bodyCode: number[]): number[] {
  return loopUntil([...get(offset), ...get(limit), WASM_OP.i32GeU], [...bodyCode, ...wasm.addTo(offset, 16)]);
}

/** limit = groups * 16 */
const limitOf = (groups: number, limit: number): number[] => [...get(groups), ...wasm.i32(4), WASM_OP.i32Shl, ...put(limit)];

/** The loads of group k (0..3) of a 64-byte block: v128 at base + offset + 16 k. */
const loadGroup = (base: number, offset: number, k: number): number[] => [...get(base), ...get(offset), WASM_OP.i32Add, ...v128Load(16 * k)];

/** `for (offset = 0; offset < limit; offset += 64) body`, over 16-element blocks. */
function forEachBlock(offset: number, limit: number, bodyCode: number[]): number[] {
  return loopUntil([...get(offset), ...get(limit), WASM_OP.i32GeU], [...bodyCode, ...wasm.addTo(offset, 64)]);
}

/** limit = blocks * 64 */
const blockLimitOf = (blocks: number, limit: number): number[] => [...get(blocks), ...wasm.i32(6), WASM_OP.i32Shl, ...put(limit)];

/** partial = (term(0) + term(1)) + (term(2) + term(3)): a 16-element block, per lane in float32. */
const blockSum = (term: (k: number) => number[], partial: number): number[] => [
  ...term(0), ...term(1), ...simd(OP.f32x4Add), ...term(2), ...term(3), ...simd(OP.f32x4Add), ...simd(OP.f32x4Add), ...put(partial),
];

/** accLow += lanes 0, 1 of partial and accHigh += lanes 2, 3, in float64. */
const accumulateLanes = (partial: number, accLow: number, accHigh: number): number[] => [
  ...get(accLow), ...get(partial), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...put(accLow),
  ...get(accHigh), ...upperHalf(partial), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...put(accHigh),
];

/** Σ_lanes acc_lane / β_lane in float64, left on the stack (accLow is overwritten). */
const laneSumsOverBeta = (accLow: number, accHigh: number, beta: number): number[] => [
  ...get(accLow), ...get(beta), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Div),
  ...get(accHigh), ...upperHalf(beta), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Div),
  ...simd(OP.f64x2Add), ...put(accLow),
  ...f64x2LaneSum(accLow),
];

// sum: params p 0, t 1, blocks 2, b0..b3 3-6; locals offset 7, limit 8 (i32),
// beta 9, halfInv 10, halfBeta 11, a 12, partial 13, accLow 14, accHigh 15 (v128).
function sumFunction(): WasmFunction {
  const [p, t, blocks, b0, offset, limit, beta, halfInv, halfBeta, a, partial, accLow, accHigh] = [0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const setup = [
    ...blockLimitOf(blocks, limit),
    ...lanes(b0), ...put(beta),
    ...f32x4Splat(0.5), ...get(beta), ...simd(OP.f32x4Div), ...put(halfInv),
    ...f32x4Splat(0.5), ...get(beta), ...simd(OP.f32x4Mul), ...put(halfBeta),
  ];
  // The loss of group k, left on the stack: a · a · (0.5 / β) where a < β, a − 0.5 β elsewhere.
  const lossOf = (k: number): number[] => [
    ...loadGroup(p, offset, k), ...loadGroup(t, offset, k), ...simd(OP.f32x4Sub), ...simd(OP.f32x4Abs), ...put(a),
    ...get(a), ...get(a), ...simd(OP.f32x4Mul), ...get(halfInv), ...simd(OP.f32x4Mul),
    ...get(a), ...get(halfBeta), ...simd(OP.f32x4Sub),
    ...get(a), ...get(beta), ...simd(OP.f32x4Lt),
    ...simd(OP.v128Bitselect),
  ];
  const body = [
    // (l0 + l1) + (l2 + l3) per lane in float32: four non-negative terms, two roundings
    ...blockSum(lossOf, partial), ...accumulateLanes(partial, accLow, accHigh),
  ];
  const total = [
    ...get(accLow), ...get(accHigh), ...simd(OP.f64x2Add), ...put(accLow),
    ...f64x2LaneSum(accLow),
  ];
  return {
    name: 'sum',
    params: [T_I32, T_I32, T_I32, T_F32, T_F32, T_F32, T_F32],
    results: [T_F64],
    locals: [T_I32, T_I32, ...Array<typeof T_V128>(7).fill(T_V128)],
    code: [...setup, ...forEachBlock(offset, limit, body), ...total],
  };
}

// sumClamped: params p 0, t 1, blocks 2, b0..b3 3-6; locals offset 7, limit 8 (i32),
// beta 9, negBeta 10, half 11, d 12, c 13, partial 14, accLow 15, accHigh 16 (v128).
// With c = clamp(d, −β, β), c · (d − c / 2) is β times the loss: 0.5 d² inside,
// β (|d| − 0.5 β) outside (the sign of c matches d's). The lane sums are
// divided by their β once, in float64, at the end: six vector operations per
// group where sum takes nine (the abs, the compare and the select go), and
// about 25% less time per call here. For a power-of-two β each term is β
// times PyTorch's float32 loss exactly. Only for 2^-62 ≤ β ≤ 1 (the caller
// checks): then |c · (d − c/2)| ≤ |d| + 1 cannot overflow where d does not,
// and an outside term, at least β²/2, stays a normal float32.
//
// sumGrad and sumGradPow2: params p 0, t 1, dPred 2, dTarget 3, blocks 4,
// b0..b3 5-8, dy 9 (f32); locals offset 10, limit 11 (i32), beta 12,
// negBeta 13, half 14, k 15, d 16, c 17, g 18, partial 19, accLow 20,
// accHigh 21 (v128). sumClamped's sum, and in the same pass the gradients
// of grad / gradPow2 (dPred = dy · clamp(d / β, −1, 1) = dy · c / β,
// dTarget = −dPred): the inputs are read once for both, about 20% less time
// than the two loops one after the other here (0.58 against 0.73 ms for 1M
// elements, fastest of 400 calls alternating in one process). The same
// bounds on β as sumClamped. sumGradPow2, for power-of-two betas with dy / β
// exact (the caller checks), multiplies c by dy / β: the same float32 values
// as (c / β) · dy, since c / β is exact there.
function clampedSumFunction(name: 'sumClamped' | 'sumGrad' | 'sumGradPow2'): WasmFunction {
  const withGrad = name !== 'sumClamped';
  const pow2 = name === 'sumGradPow2';
  const [p, t, dPred, dTarget] = [0, 1, 2, 3];
  const blocks = withGrad ? 4 : 2;
  const [b0, dy] = [blocks + 1, blocks + 5];
  // Locals after the params, in this order (k and g only with the gradients).
  const names = ['offset', 'limit', 'beta', 'negBeta', 'half', ...(withGrad ? ['k'] : []), 'd', 'c', ...(withGrad ? ['g'] : []), 'partial', 'accLow', 'accHigh'];
  const first = withGrad ? 10 : 7;
  const at = (local: string): number => first + names.indexOf(local);
  const [offset, limit, beta, negBeta, half, k, d, c, g, partial, accLow, accHigh] =
    ['offset', 'limit', 'beta', 'negBeta', 'half', 'k', 'd', 'c', 'g', 'partial', 'accLow', 'accHigh'].map(at);
  const setup = [
    ...blockLimitOf(blocks, limit),
    ...lanes(b0), ...put(beta),
    ...get(beta), ...simd(OP.f32x4Neg), ...put(negBeta),
    ...f32x4Splat(0.5), ...put(half),
    // k = dy / β (pow2) or dy
    ...(withGrad ? [...get(dy), ...simd(OP.f32x4Splat), ...(pow2 ? [...get(beta), ...simd(OP.f32x4Div)] : []), ...put(k)] : []),
  ];
  const storeAtGroup = (base: number, q: number, value: number[]): number[] => [...get(base), ...get(offset), WASM_OP.i32Add, ...value, ...v128Store(16 * q)];
  // With the gradients, stores group q's; then leaves β · its loss on the stack.
  const termOf = (q: number): number[] => [
    ...loadGroup(p, offset, q), ...loadGroup(t, offset, q), ...simd(OP.f32x4Sub), ...put(d),
    ...get(d), ...get(negBeta), ...simd(OP.f32x4Pmax), ...get(beta), ...simd(OP.f32x4Pmin), ...put(c),
    ...(withGrad
      ? [
          ...get(c), ...(pow2 ? [] : [...get(beta), ...simd(OP.f32x4Div)]), ...get(k), ...simd(OP.f32x4Mul), ...put(g),
          ...storeAtGroup(dPred, q, get(g)),
          ...storeAtGroup(dTarget, q, [...get(g), ...simd(OP.f32x4Neg)]),
        ]
      : []),
    ...get(d), ...get(c), ...get(half), ...simd(OP.f32x4Mul), ...simd(OP.f32x4Sub), ...get(c), ...simd(OP.f32x4Mul),
  ];
  const body = [...blockSum(termOf, partial), ...accumulateLanes(partial, accLow, accHigh)];
  return {
    name,
    params: withGrad ? [T_I32, T_I32, T_I32, T_I32, T_I32, T_F32, T_F32, T_F32, T_F32, T_F32] : [T_I32, T_I32, T_I32, T_F32, T_F32, T_F32, T_F32],
    results: [T_F64],
    locals: [T_I32, T_I32, ...Array<typeof T_V128>(names.length - 2).fill(T_V128)],
    code: [...setup, ...forEachBlock(offset, limit, body), ...laneSumsOverBeta(accLow, accHigh, beta)],
  };
}

// grad and gradPow2: params p 0, t 1, dPred 2, dTarget 3, blocks 4, b0..b3 5-8, dy 9;
// locals offset 10, limit 11 (i32), beta 12, dyV 13, g 14, lo 15, hi 16 (v128).
// gradPow2, for betas that are all powers of two, computes
// clamp(d · (dy / β), −|dy|, |dy|): the caller checks that dy / β is exact,
// so d · (dy / β) rounds the same product as (d / β) · dy (d / β is an exact
// scaling unless it falls below the normal range), and the clamp at ±|dy|
// gives the same ±dy: the same float32 values without a division per group
// (the division's throughput bounds grad's loop).
function gradFunction(pow2: boolean): WasmFunction {
  const [p, t, dPred, dTarget, blocks, b0, dy, offset, limit, beta, dyV, g, lo, hi] = [0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14, 15, 16];
  const setup = [
    ...blockLimitOf(blocks, limit),
    ...lanes(b0), ...put(beta),
    ...get(dy), ...simd(OP.f32x4Splat), ...put(dyV),
    ...(pow2
      ? [
          // beta ← dy / β per lane; hi = |dy|, lo = −|dy|
          ...get(dyV), ...get(beta), ...simd(OP.f32x4Div), ...put(beta),
          ...get(dyV), ...simd(OP.f32x4Abs), ...put(hi),
          ...get(hi), ...simd(OP.f32x4Neg), ...put(lo),
        ]
      : [...f32x4Splat(-1), ...put(lo), ...f32x4Splat(1), ...put(hi)]),
  ];
  const group = (k: number): number[] => [
    ...loadGroup(p, offset, k), ...loadGroup(t, offset, k), ...simd(OP.f32x4Sub), ...get(beta), ...simd(pow2 ? OP.f32x4Mul : OP.f32x4Div),
    // pmax(x, lo) = x < lo ? lo : x and pmin(x, hi) = hi < x ? hi : x keep NaN and −0 as they are
    ...get(lo), ...simd(OP.f32x4Pmax), ...get(hi), ...simd(OP.f32x4Pmin), ...(pow2 ? [] : [...get(dyV), ...simd(OP.f32x4Mul)]), ...put(g),
    ...get(dPred), ...get(offset), WASM_OP.i32Add, ...get(g), ...v128Store(16 * k),
    ...get(dTarget), ...get(offset), WASM_OP.i32Add, ...get(g), ...simd(OP.f32x4Neg), ...v128Store(16 * k),
  ];
  return {
    name: pow2 ? 'gradPow2' : 'grad',
    params: [T_I32, T_I32, T_I32, T_I32, T_I32, T_F32, T_F32, T_F32, T_F32, T_F32],
    results: [],
    locals: [T_I32, T_I32, ...Array<typeof T_V128>(5).fill(T_V128)],
    code: [...setup, ...forEachBlock(offset, limit, [...group(0), ...group(1), ...group(2), ...group(3)])],
  };
}

/** Both float64 lanes of two v128 locals, in order: four f64 results. */
const fourLanes = (low: number, high: number): number[] => [
  ...get(low), ...simd(OP.f64x2ExtractLane, 0), ...get(low), ...simd(OP.f64x2ExtractLane, 1),
  ...get(high), ...simd(OP.f64x2ExtractLane, 0), ...get(high), ...simd(OP.f64x2ExtractLane, 1),
];

// absSums: params p 0, t 1, groups 2; locals offset 3, limit 4 (i32), a 5, accLow 6, accHigh 7 (v128).
function absSumsFunction(): WasmFunction {
  const [p, t, groups, offset, limit, a, accLow, accHigh] = [0, 1, 2, 3, 4, 5, 6, 7];
  const body = [
    ...loadAt(p, offset), ...loadAt(t, offset), ...simd(OP.f32x4Sub), ...simd(OP.f32x4Abs), ...put(a),
    ...get(accLow), ...get(a), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...put(accLow),
    ...get(accHigh), ...upperHalf(a), ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Add), ...put(accHigh),
  ];
  return {
    name: 'absSums',
    params: [T_I32, T_I32, T_I32],
    results: [T_F64, T_F64, T_F64, T_F64],
    locals: [T_I32, T_I32, T_V128, T_V128, T_V128],
    code: [...limitOf(groups, limit), ...forEachGroup(offset, limit, body), ...fourLanes(accLow, accHigh)],
  };
}

// devSquares: params p 0, t 1, groups 2, m0..m3 3-6 (f64); locals offset 7, limit 8 (i32),
// meanLow 9, meanHigh 10, a 11, dev 12, accLow 13, accHigh 14 (v128).
function devSquaresFunction(): WasmFunction {
  const [p, t, groups, m0, offset, limit, meanLow, meanHigh, a, dev, accLow, accHigh] = [0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14];
  const setup = [
    ...limitOf(groups, limit),
    ...get(m0), ...simd(OP.f64x2Splat), ...get(m0 + 1), ...simd(OP.f64x2ReplaceLane, 1), ...put(meanLow),
    ...get(m0 + 2), ...simd(OP.f64x2Splat), ...get(m0 + 3), ...simd(OP.f64x2ReplaceLane, 1), ...put(meanHigh),
  ];
  // acc += (promote(a half) − mean)², in float64
  const accumulate = (acc: number, half: number[], mean: number): number[] => [
    ...half, ...simd(OP.f64x2PromoteLowF32x4), ...get(mean), ...simd(OP.f64x2Sub), ...put(dev),
    ...get(acc), ...get(dev), ...get(dev), ...simd(OP.f64x2Mul), ...simd(OP.f64x2Add), ...put(acc),
  ];
  const body = [
    ...loadAt(p, offset), ...loadAt(t, offset), ...simd(OP.f32x4Sub), ...simd(OP.f32x4Abs), ...put(a),
    ...accumulate(accLow, get(a), meanLow),
    ...accumulate(accHigh, [...upperHalf(a)], meanHigh),
  ];
  return {
    name: 'devSquares',
    params: [T_I32, T_I32, T_I32, T_F64, T_F64, T_F64, T_F64],
    results: [T_F64, T_F64, T_F64, T_F64],
    locals: [T_I32, T_I32, ...Array<typeof T_V128>(6).fill(T_V128)],
    code: [...setup, ...forEachGroup(offset, limit, body), ...fourLanes(accLow, accHigh)],
  };
}

// scale: params src 0, dPred 1, dTarget 2, groups 3, dy 4 (f32); locals offset 5, limit 6 (i32), dyV 7, g 8 (v128).
function scaleFunction(): WasmFunction {
  const [src, dPred, dTarget, groups, dy, offset, limit, dyV, g] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const setup = [...limitOf(groups, limit), ...get(dy), ...simd(OP.f32x4Splat), ...put(dyV)];
  const body = [
    ...loadAt(src, offset), ...get(dyV), ...simd(OP.f32x4Mul), ...put(g),
    ...storeAt(dPred, offset, get(g)),
    ...storeAt(dTarget, offset, [...get(g), ...simd(OP.f32x4Neg)]),
  ];
  return {
    name: 'scale',
    params: [T_I32, T_I32, T_I32, T_I32, T_F32],
    results: [],
    locals: [T_I32, T_I32, T_V128, T_V128],
    code: [...setup, ...forEachGroup(offset, limit, body)],
  };
}

/** The module's bytes. */
export function smoothL1SimdModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([sumFunction(), clampedSumFunction('sumClamped'), clampedSumFunction('sumGrad'), clampedSumFunction('sumGradPow2'), gradFunction(false), gradFunction(true), absSumsFunction(), devSquaresFunction(), scaleFunction()]);
}

function bindSmoothL1(exports: WebAssembly.Exports, memory: WebAssembly.Memory): SmoothL1Simd {
  const ex = exports as unknown as Omit<SmoothL1Simd, 'memory'>;
  return { memory, sum: ex.sum, sumClamped: ex.sumClamped, sumGrad: ex.sumGrad, sumGradPow2: ex.sumGradPow2, grad: ex.grad, gradPow2: ex.gradPow2, absSums: ex.absSums, devSquares: ex.devSquares, scale: ex.scale };
}

/**
 * The SIMD loops bound to `memory` (one instance per memory), or null where
 * they cannot run (no memory, no WebAssembly SIMD, a shared memory of a
 * threaded build): then the kernels run their JavaScript loops.
 */
export function smoothL1Simd(memory: WebAssembly.Memory | null): SmoothL1Simd | null {
  return bindToWasmMemory(memory, smoothL1SimdModule, bindSmoothL1);
}
