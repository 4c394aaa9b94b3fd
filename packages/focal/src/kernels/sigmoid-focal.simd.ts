import { SIMD_OP, V128ConstantPool, WASM_OP, WASM_TYPE, bindToWasmMemory, LOW_HALVES_JOINED, upperHalf, f64x2LaneSum, f64x2Exp, f64x2Log1p, loopUntil, simd, v128Load, v128Store, wasm, wasmModuleBytes } from '@tfjs-losses/core';
import type { WasmFunction } from '@tfjs-losses/core';

/*
 * The summing sigmoid focal kernel for gamma = 2 (the default) in
 * WebAssembly SIMD for the wasm backend: the float64 arithmetic of
 * sigmoid-focal.cpu.ts's general branch, two float64 lanes at a time, with
 * core's SIMD exp and log1p (each within 1 ulp of Math.exp / Math.log1p in
 * core's tests). With e = exp(-|x|) (|x| clamped to 708: e below 2^-1021
 * shows in no float32 result), b = (x < 0):
 *
 *   p = (b ? e : 1) / (1 + e), q = (b ? 1 : e) / (1 + e), l = log1p(e)
 *   softplus(x) = (b ? 0 : x) + l, softplus(-x) = l − (b ? x : 0)
 *   ce = (1 − t) softplus(x) + t softplus(−x), m = (1 − t) p + t q, w = m²
 *   a = a0 + slope t,  loss = a w ce
 *   dx = a (2 m ce p q (1 − 2t) + w (p − t)) g,  dt = (w slope ce + a (2 m ce (q − p) − w x)) g
 *
 *   sum(x, t, groups, a0, slope) -> f64
 *   sumGrad(x, t, dx, dt, groups, a0, slope, g) -> f64   (dx, dt stored as float32)
 *
 * over 4 · groups elements. The sum is NaN when some target is outside
 * [0, 1] or NaN, and it is not finite for infinite or NaN logits: the caller
 * then runs the JavaScript kernel, which reports the target and gives the
 * exact limits.
 */

/** The exports, bound to one memory. */
export interface SigmoidFocalSimd {
  memory: WebAssembly.Memory;
  sum(x: number, t: number, groups: number, a0: number, slope: number): number;
  sumGrad(x: number, t: number, dx: number, dt: number, groups: number, a0: number, slope: number, g: number): number;
}

const { i32: I32, f64: F64, v128: V128 } = WASM_TYPE;
const { get, set } = wasm;
const OP = SIMD_OP;

function focalFunction(withGrad: boolean): WasmFunction {
  const pointers = withGrad ? 4 : 2;
  const [xPtr, tPtr, dxPtr, dtPtr] = [0, 1, withGrad ? 2 : -1, withGrad ? 3 : -1];
  const groups = pointers;
  const [a0P, slopeP, gP] = [groups + 1, groups + 2, groups + 3];
  const offset = withGrad ? gP + 1 : slopeP + 1;
  const limit = offset + 1;
  let next = limit + 1;
  const v = (): number => next++;
  const [a0V, slopeV, gV, xv, tv, x, t, b, e, inv, l, p, q, spPos, spNeg, ce, m, w, a, acc, bad, tmp, dxLow, dtLow, dxHigh, dtHigh] = Array.from({ length: 26 }, v);
  const expLocals = { k: v(), r: v(), r2: v(), r4: v(), r8: v() };
  const logLocals = { x: v(), c: v(), bits: v(), k: v(), f: v(), s: v(), z: v(), z2: v(), z4: v(), z8: v() };
  const pool = new V128ConstantPool(v);
  const f64x2Const = (x: number): number[] => pool.f64(x);
  const one = f64x2Const(1);
  const zero = f64x2Const(0);
  const mul = simd(OP.f64x2Mul);
  const add = simd(OP.f64x2Add);
  const sub = simd(OP.f64x2Sub);
  const oneMinus = (local: number): number[] => [...one, ...get(local), ...sub];

  const half = (xHalf: number[], tHalf: number[]): number[] => [
    ...xHalf, ...simd(OP.f64x2PromoteLowF32x4), ...set(x),
    ...tHalf, ...simd(OP.f64x2PromoteLowF32x4), ...set(t),
    // bad |= t < 0 | t > 1 | t ≠ t
    ...get(bad),
    ...get(t), ...zero, ...simd(OP.f64x2Lt), ...get(t), ...one, ...simd(OP.f64x2Gt), ...simd(OP.v128Or),
    ...get(t), ...get(t), ...simd(OP.f64x2Ne), ...simd(OP.v128Or), ...simd(OP.v128Or), ...set(bad),
    ...get(x), ...zero, ...simd(OP.f64x2Lt), ...set(b),
    // e = exp(max(−|x|, −708)), inv = 1 / (1 + e), l = log1p(e)
    ...get(x), ...simd(OP.f64x2Abs), ...simd(OP.f64x2Neg), ...f64x2Const(-708), ...simd(OP.f64x2Pmax), ...set(tmp),
    ...f64x2Exp(tmp, expLocals, pool), ...set(e),
    ...one, ...one, ...get(e), ...add, ...simd(OP.f64x2Div), ...set(inv),
    ...f64x2Log1p(e, logLocals, pool), ...set(l),
    ...get(e), ...one, ...get(b), ...simd(OP.v128Bitselect), ...get(inv), ...mul, ...set(p),
    ...one, ...get(e), ...get(b), ...simd(OP.v128Bitselect), ...get(inv), ...mul, ...set(q),
    ...zero, ...get(x), ...get(b), ...simd(OP.v128Bitselect), ...get(l), ...add, ...set(spPos),
    ...get(l), ...get(x), ...zero, ...get(b), ...simd(OP.v128Bitselect), ...sub, ...set(spNeg),
    ...oneMinus(t), ...get(spPos), ...mul, ...get(t), ...get(spNeg), ...mul, ...add, ...set(ce),
    ...oneMinus(t), ...get(p), ...mul, ...get(t), ...get(q), ...mul, ...add, ...set(m),
    ...get(m), ...get(m), ...mul, ...set(w),
    ...get(a0V), ...get(slopeV), ...get(t), ...mul, ...add, ...set(a),
    ...get(acc), ...get(a), ...get(w), ...mul, ...get(ce), ...mul, ...add, ...set(acc),
    ...(withGrad
      ? [
          // tmp = 2 m ce
          ...f64x2Const(2), ...get(m), ...mul, ...get(ce), ...mul, ...set(tmp),
          // dx, left on the stack as float32 in lanes 0 and 1
          ...get(a),
          ...get(tmp), ...get(p), ...mul, ...get(q), ...mul, ...one, ...f64x2Const(2), ...get(t), ...mul, ...sub, ...mul,
          ...get(w), ...get(p), ...get(t), ...sub, ...mul, ...add,
          ...mul, ...get(gV), ...mul, ...simd(OP.f32x4DemoteF64x2Zero),
          // dt
          ...get(w), ...get(slopeV), ...mul, ...get(ce), ...mul,
          ...get(a), ...get(tmp), ...get(q), ...get(p), ...sub, ...mul, ...get(w), ...get(x), ...mul, ...sub, ...mul,
          ...add, ...get(gV), ...mul, ...simd(OP.f32x4DemoteF64x2Zero),
        ]
      : []),
  ];
  const at = (ptr: number): number[] => [...get(ptr), ...get(offset), WASM_OP.i32Add];
  const body = [
    ...at(xPtr), ...v128Load(), ...set(xv),
    ...at(tPtr), ...v128Load(), ...set(tv),
    ...half(get(xv), get(tv)),
    ...(withGrad ? [...set(dtLow), ...set(dxLow)] : []),
    ...half(upperHalf(xv), upperHalf(tv)),
    ...(withGrad
      ? [
          ...set(dtHigh), ...set(dxHigh),
          ...at(dxPtr), ...get(dxLow), ...get(dxHigh), ...LOW_HALVES_JOINED, ...v128Store(),
          ...at(dtPtr), ...get(dtLow), ...get(dtHigh), ...LOW_HALVES_JOINED, ...v128Store(),
        ]
      : []),
    ...wasm.addTo(offset, 16),
  ];
  const code = [
    ...get(groups), ...wasm.i32(4), WASM_OP.i32Shl, ...set(limit),
    ...get(a0P), ...simd(OP.f64x2Splat), ...set(a0V),
    ...get(slopeP), ...simd(OP.f64x2Splat), ...set(slopeV),
    ...(withGrad ? [...get(gP), ...simd(OP.f64x2Splat), ...set(gV)] : []),
    ...pool.init(),
    ...loopUntil([...get(offset), ...get(limit), WASM_OP.i32GeU], body),
    // NaN when some target was bad
    ...wasm.f64(Number.NaN), ...f64x2LaneSum(acc),
    ...get(bad), ...simd(OP.v128AnyTrue), WASM_OP.select,
  ];
  const vectorCount = next - limit - 1;
  return {
    name: withGrad ? 'sumGrad' : 'sum',
    params: [...Array<typeof I32>(pointers + 1).fill(I32), ...Array<typeof F64>(withGrad ? 3 : 2).fill(F64)],
    results: [F64],
    locals: [I32, I32, ...Array<typeof V128>(vectorCount).fill(V128)],
    code,
  };
}

/** The module's bytes. */
export function sigmoidFocalSimdModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([focalFunction(false), focalFunction(true)]);
}

function bindFocal(exports: WebAssembly.Exports, memory: WebAssembly.Memory): SigmoidFocalSimd {
  const ex = exports as unknown as Omit<SigmoidFocalSimd, 'memory'>;
  return { memory, sum: ex.sum, sumGrad: ex.sumGrad };
}

/** The SIMD loops bound to `memory`, or null where they cannot run (the JavaScript loops run then). */
export function sigmoidFocalSimd(memory: WebAssembly.Memory | null): SigmoidFocalSimd | null {
  return bindToWasmMemory(memory, sigmoidFocalSimdModule, bindFocal);
}
