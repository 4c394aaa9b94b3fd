import { SIMD_OP, V128ConstantPool, WASM_OP, WASM_TYPE, bindToWasmMemory, LOW_HALVES_JOINED, upperHalf, f64x2LaneSum, f64x2Log1p, loopUntil, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { WasmFunction } from '@tfjs-losses/core';

/*
 * Balanced L1's sum (and slopes) in WebAssembly SIMD for the wasm backend:
 * the arithmetic of balanced-l1.cpu.ts's float64 loops, two float64 lanes at
 * a time, with core's SIMD log1p (f64x2Log1p, within an ulp or two of
 * Math.log1p; the loss near x = 0 is a difference of nearly equal terms, so
 * log1p must be right to float64, not float32). With x = |p − t| (the
 * difference taken in float64), q = min(x, β), u = q b / β, l = log1p(u):
 *
 *   sum(p, t, groups, α, γ, β, b, 1/b, b/β) -> f64
 *       Σ α ((q + 1/b) l − q) + γ (x − q) over 4 · groups elements
 *   sumSlope(p, t, slope, groups, α, γ, β, b, 1/b, b/β) -> f64
 *       the same sum, and slope = sign(p − t) · (x < β ? α l + α (b q + 1) / (b q + β) − α : γ)
 *       stored as float32.
 *
 * Only finite differences give meaningful lanes: a non-finite sum tells the
 * caller to redo the work exactly (balanced-l1.cpu.ts does so).
 */

/** The exports, bound to one memory. */
export interface BalancedL1Simd {
  memory: WebAssembly.Memory;
  sum(p: number, t: number, groups: number, alpha: number, gamma: number, beta: number, b: number, invB: number, bOverBeta: number): number;
  sumSlope(p: number, t: number, slope: number, groups: number, alpha: number, gamma: number, beta: number, b: number, invB: number, bOverBeta: number): number;
}

const { i32: I32, f64: F64, v128: V128 } = WASM_TYPE;
const { get, set } = wasm;
const OP = SIMD_OP;

// Params: p 0, t 1, slope 2 (sumSlope only), groups, then α γ β b 1/b b/β (f64).
// Locals after the params: offset, limit (i32), then v128: the six constants
// splatted, pv, tv, d, x, q, u, l, acc, low, and seven log1p scratch locals.
function balancedFunction(withSlope: boolean): WasmFunction {
  const first = withSlope ? 4 : 3;
  const [p, t, slope, groups] = withSlope ? [0, 1, 2, 3] : [0, 1, -1, 2];
  const constants = [first, first + 1, first + 2, first + 3, first + 4, first + 5];
  const offset = first + 6;
  const limit = offset + 1;
  let next = limit + 1;
  const v = (): number => next++;
  const [alphaV, gammaV, betaV, bV, invBV, bOverBetaV] = [v(), v(), v(), v(), v(), v()];
  const [pv, tv, d, x, q, u, l, acc, low] = [v(), v(), v(), v(), v(), v(), v(), v(), v()];
  const scratch = { x: v(), c: v(), bits: v(), k: v(), f: v(), s: v(), z: v(), z2: v(), z4: v(), z8: v() };
  const pool = new V128ConstantPool(v);
  const f64x2Const = (x: number): number[] => pool.f64(x);

  const setup = [
    ...get(groups), ...wasm.i32(4), WASM_OP.i32Shl, ...set(limit),
    ...constants.flatMap((c, i) => [...get(c), ...simd(OP.f64x2Splat), ...set([alphaV, gammaV, betaV, bV, invBV, bOverBetaV][i])]),
  ];
  const at = (base: number): number[] => [...get(base), ...get(offset), WASM_OP.i32Add];

  // One half (two lanes) of the group; leaves the two float32 slopes (and two zero lanes) on the stack when withSlope.
  const half = (pHalf: number[], tHalf: number[]): number[] => [
    ...pHalf, ...simd(OP.f64x2PromoteLowF32x4), ...tHalf, ...simd(OP.f64x2PromoteLowF32x4), ...simd(OP.f64x2Sub), ...set(d),
    ...get(d), ...simd(OP.f64x2Abs), ...set(x),
    // q = pmin(x, β) = β < x ? β : x
    ...get(x), ...get(betaV), ...simd(OP.f64x2Pmin), ...set(q),
    ...get(q), ...get(bOverBetaV), ...simd(OP.f64x2Mul), ...set(u),
    ...f64x2Log1p(u, scratch, pool), ...set(l),
    // acc += α ((q + 1/b) l − q) + γ (x − q)
    ...get(acc),
    ...get(q), ...get(invBV), ...simd(OP.f64x2Add), ...get(l), ...simd(OP.f64x2Mul), ...get(q), ...simd(OP.f64x2Sub), ...get(alphaV), ...simd(OP.f64x2Mul),
    ...get(x), ...get(q), ...simd(OP.f64x2Sub), ...get(gammaV), ...simd(OP.f64x2Mul),
    ...simd(OP.f64x2Add), ...simd(OP.f64x2Add), ...set(acc),
    ...(withSlope
      ? [
          // u = x < β ? α l + α (b q + 1) / (b q + β) − α : γ
          ...get(alphaV), ...get(l), ...simd(OP.f64x2Mul),
          ...get(alphaV), ...get(bV), ...get(q), ...simd(OP.f64x2Mul), ...f64x2Const(1), ...simd(OP.f64x2Add), ...simd(OP.f64x2Mul),
          ...get(bV), ...get(q), ...simd(OP.f64x2Mul), ...get(betaV), ...simd(OP.f64x2Add),
          ...simd(OP.f64x2Div), ...simd(OP.f64x2Add), ...get(alphaV), ...simd(OP.f64x2Sub),
          ...get(gammaV),
          ...get(x), ...get(betaV), ...simd(OP.f64x2Lt),
          ...simd(OP.v128Bitselect), ...set(u),
          // sign(d) · u: (d > 0 ? u : 0) | (d < 0 ? −u : 0), as float32
          ...get(d), ...f64x2Const(0), ...simd(OP.f64x2Gt), ...get(u), ...simd(OP.v128And),
          ...get(d), ...f64x2Const(0), ...simd(OP.f64x2Lt), ...get(u), ...simd(OP.f64x2Neg), ...simd(OP.v128And),
          ...simd(OP.v128Or), ...simd(OP.f32x4DemoteF64x2Zero),
        ]
      : []),
  ];
  const body = [
    ...at(p), ...v128Load(), ...set(pv),
    ...at(t), ...v128Load(), ...set(tv),
    ...half(get(pv), get(tv)),
    ...(withSlope ? set(low) : []),
    ...half(upperHalf(pv), upperHalf(tv)),
    ...(withSlope
      ? [
          ...set(u),
          ...at(slope),
          ...get(low), ...get(u), ...LOW_HALVES_JOINED,
          ...v128Store(),
        ]
      : []),
    ...wasm.addTo(offset, 16),
  ];
  const vectorCount = next - offset - 2;
  const total = f64x2LaneSum(acc);
  return {
    name: withSlope ? 'sumSlope' : 'sum',
    params: [...Array<typeof I32>(withSlope ? 4 : 3).fill(I32), ...Array<typeof F64>(6).fill(F64)],
    results: [F64],
    locals: [I32, I32, ...Array<typeof V128>(vectorCount).fill(V128)],
    code: [...setup, ...pool.init(), ...loopUntil([...get(offset), ...get(limit), WASM_OP.i32GeU], body), ...total],
  };
}

/** The module's bytes. */
export function balancedL1SimdModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([balancedFunction(false), balancedFunction(true)]);
}

function bindBalanced(exports: WebAssembly.Exports, memory: WebAssembly.Memory): BalancedL1Simd {
  const ex = exports as unknown as Omit<BalancedL1Simd, 'memory'>;
  return { memory, sum: ex.sum, sumSlope: ex.sumSlope };
}

/** The SIMD loops bound to `memory`, or null where they cannot run (the JavaScript loops run then). */
export function balancedL1Simd(memory: WebAssembly.Memory | null): BalancedL1Simd | null {
  return bindToWasmMemory(memory, balancedL1SimdModule, bindBalanced);
}
