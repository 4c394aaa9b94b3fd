import * as tf from '@tensorflow/tfjs-core';

/*
 * Smooth L1 loops in WebAssembly SIMD for the wasm backend, four float32
 * lanes per instruction. The module is written out below as bytes (no build
 * step, no binary file) and imports the wasm backend's own memory, so its
 * loops run on the tensors' storage in place: the heap views that core's
 * fillKernelFunc hands to a kernel are (byte offset, length) pairs in that
 * memory.
 *
 * Functions (pointers are byte offsets, `groups` counts 4-element groups;
 * b0..b3 are the betas of the four lanes, all > 0: one beta repeated, or the
 * betas of 2 or 4 columns, so that lane k of every group has column k mod C):
 *
 *   sum(p, t, groups, b0, b1, b2, b3) -> f64
 *       Σ loss(p − t), per element in float32 as PyTorch computes it
 *       (a < β ? a · a · (0.5 / β) : a − 0.5 β with a = |p − t|), the lanes
 *       accumulated in float64.
 *   grad(p, t, dPred, dTarget, groups, b0, b1, b2, b3, dy)
 *       dPred = dy · clamp((p − t) / β, −1, 1), dTarget = −dPred: d / β
 *       inside, sign(d) outside (|d| ≥ β gives |d / β| ≥ 1 in float32 too),
 *       0 at d = 0, NaN for NaN.
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
  sum(p: number, t: number, groups: number, b0: number, b1: number, b2: number, b3: number): number;
  grad(p: number, t: number, dPred: number, dTarget: number, groups: number, b0: number, b1: number, b2: number, b3: number, dy: number): void;
  absSums(p: number, t: number, groups: number): number[];
  devSquares(p: number, t: number, groups: number, m0: number, m1: number, m2: number, m3: number): number[];
  scale(src: number, dPred: number, dTarget: number, groups: number, dy: number): void;
}

// Encoding (WebAssembly 2.0 binary format, fixed-width SIMD proposal).
const T_I32 = 0x7f;
const T_F32 = 0x7d;
const T_F64 = 0x7c;
const T_V128 = 0x7b;

function leb(value: number): number[] {
  const bytes: number[] = [];
  let v = value >>> 0;
  for (;;) {
    const low = v & 0x7f;
    v >>>= 7;
    if (v === 0) {
      bytes.push(low);
      return bytes;
    }
    bytes.push(low | 0x80);
  }
}

const vector = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const utf8 = (s: string): number[] => vector([...s].map((ch) => [ch.charCodeAt(0)]));
const f32Const = (x: number): number[] => [0x43, ...new Uint8Array(Float32Array.of(x).buffer)];
/** A SIMD instruction: prefix 0xfd, then the opcode as LEB128, then immediates. */
const v = (opcode: number, ...immediates: number[]): number[] => [0xfd, ...leb(opcode), ...immediates];

const get = (i: number): number[] => [0x20, i];
const put = (i: number): number[] => [0x21, i];
const I32_ADD = 0x6a;
const I32_LT_U = 0x49;

/** v128.load / v128.store at base + offset (two i32 locals), alignment hint 1 byte. */
const loadAt = (base: number, offset: number): number[] => [...get(base), ...get(offset), I32_ADD, ...v(0x00, 0, 0)];
const storeAt = (base: number, offset: number, value: number[]): number[] => [...get(base), ...get(offset), I32_ADD, ...value, ...v(0x0b, 0, 0)];

const F32X4_SPLAT = 0x13;
const F32X4_REPLACE_LANE = 0x20;
const F64X2_EXTRACT_LANE = 0x21;
const F32X4_LT = 0x43;
const V128_BITSELECT = 0x52;
const F64X2_PROMOTE_LOW = 0x5f;
const F32X4_ABS = 0xe0;
const F32X4_NEG = 0xe1;
const F32X4_SUB = 0xe5;
const F32X4_MUL = 0xe6;
const F32X4_DIV = 0xe7;
const F32X4_MIN = 0xe8;
const F32X4_MAX = 0xe9;
const F64X2_ADD = 0xf0;
const F64X2_SUB = 0xf1;
const F64X2_MUL = 0xf2;
const F64X2_SPLAT = 0x14;
const F64X2_REPLACE_LANE = 0x22;
const I8X16_SHUFFLE = 0x0d;

/** Lanes (b0, b1, b2, b3) from four f32 locals. */
function lanes(first: number): number[] {
  return [
    ...get(first), ...v(F32X4_SPLAT),
    ...get(first + 1), ...v(F32X4_REPLACE_LANE, 1),
    ...get(first + 2), ...v(F32X4_REPLACE_LANE, 2),
    ...get(first + 3), ...v(F32X4_REPLACE_LANE, 3),
  ];
}

/**
 * `for (offset = 0; offset < limit; offset += 16) body`, as
 * block { loop { br_if 1 (!(offset < limit)); body; offset += 16; br 0 } }.
 */
function forEachGroup(offset: number, limit: number, bodyCode: number[]): number[] {
  const exitUnlessBelow = [...get(offset), ...get(limit), I32_LT_U, 0x45 /* i32.eqz */, 0x0d, 1];
  const step = [...get(offset), 0x41, 16, I32_ADD, ...put(offset)];
  return [0x02, 0x40, 0x03, 0x40, ...exitUnlessBelow, ...bodyCode, ...step, 0x0c, 0, 0x0b, 0x0b];
}

/** limit = groups * 16 */
const limitOf = (groups: number, limit: number): number[] => [...get(groups), 0x41, 4, 0x74 /* i32.shl */, ...put(limit)];

/** A code-section entry: locals as (count, type) runs, then the instructions and `end`. */
function functionBody(locals: [number, number][], code: number[]): number[] {
  const inner = [...vector(locals.map(([count, type]) => [...leb(count), type])), ...code, 0x0b];
  return [...leb(inner.length), ...inner];
}

// sum: params p 0, t 1, groups 2, b0..b3 3-6; locals offset 7, limit 8 (i32),
// beta 9, halfInv 10, halfBeta 11, a 12, loss 13, accLow 14, accHigh 15 (v128).
function sumFunction(): number[] {
  const [p, t, groups, b0, offset, limit, beta, halfInv, halfBeta, a, loss, accLow, accHigh] = [0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const setup = [
    ...limitOf(groups, limit),
    ...lanes(b0), ...put(beta),
    ...f32Const(0.5), ...v(F32X4_SPLAT), ...get(beta), ...v(F32X4_DIV), ...put(halfInv),
    ...f32Const(0.5), ...v(F32X4_SPLAT), ...get(beta), ...v(F32X4_MUL), ...put(halfBeta),
  ];
  const upperHalfDown = v(I8X16_SHUFFLE, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  const body = [
    ...loadAt(p, offset), ...loadAt(t, offset), ...v(F32X4_SUB), ...v(F32X4_ABS), ...put(a),
    // inside: a · a · (0.5 / β); outside: a − 0.5 β; choose by a < β
    ...get(a), ...get(a), ...v(F32X4_MUL), ...get(halfInv), ...v(F32X4_MUL),
    ...get(a), ...get(halfBeta), ...v(F32X4_SUB),
    ...get(a), ...get(beta), ...v(F32X4_LT),
    ...v(V128_BITSELECT), ...put(loss),
    ...get(accLow), ...get(loss), ...v(F64X2_PROMOTE_LOW), ...v(F64X2_ADD), ...put(accLow),
    ...get(accHigh), ...get(loss), ...get(loss), ...upperHalfDown, ...v(F64X2_PROMOTE_LOW), ...v(F64X2_ADD), ...put(accHigh),
  ];
  const total = [
    ...get(accLow), ...get(accHigh), ...v(F64X2_ADD), ...put(accLow),
    ...get(accLow), ...v(F64X2_EXTRACT_LANE, 0), ...get(accLow), ...v(F64X2_EXTRACT_LANE, 1), 0xa0 /* f64.add */,
  ];
  return functionBody([[2, T_I32], [7, T_V128]], [...setup, ...forEachGroup(offset, limit, body), ...total]);
}

// grad: params p 0, t 1, dPred 2, dTarget 3, groups 4, b0..b3 5-8, dy 9;
// locals offset 10, limit 11 (i32), beta 12, dyV 13, g 14, lo 15, hi 16 (v128).
function gradFunction(): number[] {
  const [p, t, dPred, dTarget, groups, b0, dy, offset, limit, beta, dyV, g, lo, hi] = [0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14, 15, 16];
  const setup = [
    ...limitOf(groups, limit),
    ...lanes(b0), ...put(beta),
    ...get(dy), ...v(F32X4_SPLAT), ...put(dyV),
    ...f32Const(-1), ...v(F32X4_SPLAT), ...put(lo),
    ...f32Const(1), ...v(F32X4_SPLAT), ...put(hi),
  ];
  const body = [
    ...loadAt(p, offset), ...loadAt(t, offset), ...v(F32X4_SUB), ...get(beta), ...v(F32X4_DIV),
    ...get(lo), ...v(F32X4_MAX), ...get(hi), ...v(F32X4_MIN), ...get(dyV), ...v(F32X4_MUL), ...put(g),
    ...storeAt(dPred, offset, get(g)),
    ...storeAt(dTarget, offset, [...get(g), ...v(F32X4_NEG)]),
  ];
  return functionBody([[2, T_I32], [5, T_V128]], [...setup, ...forEachGroup(offset, limit, body)]);
}

/** Both float64 lanes of two v128 locals, in order: four f64 results. */
const fourLanes = (low: number, high: number): number[] => [
  ...get(low), ...v(F64X2_EXTRACT_LANE, 0), ...get(low), ...v(F64X2_EXTRACT_LANE, 1),
  ...get(high), ...v(F64X2_EXTRACT_LANE, 0), ...get(high), ...v(F64X2_EXTRACT_LANE, 1),
];

const UPPER_HALF_DOWN = v(I8X16_SHUFFLE, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);

// absSums: params p 0, t 1, groups 2; locals offset 3, limit 4 (i32), a 5, accLow 6, accHigh 7 (v128).
function absSumsFunction(): number[] {
  const [p, t, groups, offset, limit, a, accLow, accHigh] = [0, 1, 2, 3, 4, 5, 6, 7];
  const body = [
    ...loadAt(p, offset), ...loadAt(t, offset), ...v(F32X4_SUB), ...v(F32X4_ABS), ...put(a),
    ...get(accLow), ...get(a), ...v(F64X2_PROMOTE_LOW), ...v(F64X2_ADD), ...put(accLow),
    ...get(accHigh), ...get(a), ...get(a), ...UPPER_HALF_DOWN, ...v(F64X2_PROMOTE_LOW), ...v(F64X2_ADD), ...put(accHigh),
  ];
  return functionBody([[2, T_I32], [3, T_V128]], [...limitOf(groups, limit), ...forEachGroup(offset, limit, body), ...fourLanes(accLow, accHigh)]);
}

// devSquares: params p 0, t 1, groups 2, m0..m3 3-6 (f64); locals offset 7, limit 8 (i32),
// meanLow 9, meanHigh 10, a 11, dev 12, accLow 13, accHigh 14 (v128).
function devSquaresFunction(): number[] {
  const [p, t, groups, m0, offset, limit, meanLow, meanHigh, a, dev, accLow, accHigh] = [0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14];
  const setup = [
    ...limitOf(groups, limit),
    ...get(m0), ...v(F64X2_SPLAT), ...get(m0 + 1), ...v(F64X2_REPLACE_LANE, 1), ...put(meanLow),
    ...get(m0 + 2), ...v(F64X2_SPLAT), ...get(m0 + 3), ...v(F64X2_REPLACE_LANE, 1), ...put(meanHigh),
  ];
  // acc += (promote(a half) − mean)², in float64
  const accumulate = (acc: number, half: number[], mean: number): number[] => [
    ...half, ...v(F64X2_PROMOTE_LOW), ...get(mean), ...v(F64X2_SUB), ...put(dev),
    ...get(acc), ...get(dev), ...get(dev), ...v(F64X2_MUL), ...v(F64X2_ADD), ...put(acc),
  ];
  const body = [
    ...loadAt(p, offset), ...loadAt(t, offset), ...v(F32X4_SUB), ...v(F32X4_ABS), ...put(a),
    ...accumulate(accLow, get(a), meanLow),
    ...accumulate(accHigh, [...get(a), ...get(a), ...UPPER_HALF_DOWN], meanHigh),
  ];
  return functionBody([[2, T_I32], [6, T_V128]], [...setup, ...forEachGroup(offset, limit, body), ...fourLanes(accLow, accHigh)]);
}

// scale: params src 0, dPred 1, dTarget 2, groups 3, dy 4 (f32); locals offset 5, limit 6 (i32), dyV 7, g 8 (v128).
function scaleFunction(): number[] {
  const [src, dPred, dTarget, groups, dy, offset, limit, dyV, g] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const setup = [...limitOf(groups, limit), ...get(dy), ...v(F32X4_SPLAT), ...put(dyV)];
  const body = [
    ...loadAt(src, offset), ...get(dyV), ...v(F32X4_MUL), ...put(g),
    ...storeAt(dPred, offset, get(g)),
    ...storeAt(dTarget, offset, [...get(g), ...v(F32X4_NEG)]),
  ];
  return functionBody([[2, T_I32], [2, T_V128]], [...setup, ...forEachGroup(offset, limit, body)]);
}

/** The module's bytes. */
export function smoothL1SimdModule(): Uint8Array<ArrayBuffer> {
  const sumType = [0x60, ...vector([[T_I32], [T_I32], [T_I32], [T_F32], [T_F32], [T_F32], [T_F32]]), ...vector([[T_F64]])];
  const gradType = [0x60, ...vector([[T_I32], [T_I32], [T_I32], [T_I32], [T_I32], [T_F32], [T_F32], [T_F32], [T_F32], [T_F32]]), ...vector([])];
  const four = [[T_F64], [T_F64], [T_F64], [T_F64]];
  const absSumsType = [0x60, ...vector([[T_I32], [T_I32], [T_I32]]), ...vector(four)];
  const devSquaresType = [0x60, ...vector([[T_I32], [T_I32], [T_I32], [T_F64], [T_F64], [T_F64], [T_F64]]), ...vector(four)];
  const scaleType = [0x60, ...vector([[T_I32], [T_I32], [T_I32], [T_I32], [T_F32]]), ...vector([])];
  const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([sumType, gradType, absSumsType, devSquaresType, scaleType])),
    // import env.memory: a memory with limits flag 0, minimum 0 pages
    ...section(2, vector([[...utf8('env'), ...utf8('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vector([[0], [1], [2], [3], [4]])),
    ...section(7, vector([[...utf8('sum'), 0x00, 0], [...utf8('grad'), 0x00, 1], [...utf8('absSums'), 0x00, 2], [...utf8('devSquares'), 0x00, 3], [...utf8('scale'), 0x00, 4]])),
    ...section(10, vector([sumFunction(), gradFunction(), absSumsFunction(), devSquaresFunction(), scaleFunction()])),
  ]);
}

const bound = new WeakMap<WebAssembly.Memory, SmoothL1Simd | null>();

/** The wasm backend's memory, if it is registered and exposes one. */
export function wasmBackendMemory(): WebAssembly.Memory | null {
  const backend = tf.findBackend('wasm') as unknown as { wasm?: { asm?: { memory?: unknown }; wasmExports?: { memory?: unknown } } } | null;
  const memory = backend?.wasm?.asm?.memory ?? backend?.wasm?.wasmExports?.memory;
  return typeof WebAssembly !== 'undefined' && memory instanceof WebAssembly.Memory ? memory : null;
}

/**
 * The SIMD loops bound to `memory`, or null where they cannot run (no
 * WebAssembly SIMD, a shared memory of a threaded build): then the kernels
 * run their JavaScript loops.
 */
export function smoothL1Simd(memory: WebAssembly.Memory | null): SmoothL1Simd | null {
  if (memory === null) return null;
  if (bound.has(memory)) return bound.get(memory) ?? null;
  let simd: SmoothL1Simd | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    if (!shared) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(smoothL1SimdModule()), { env: { memory } });
      const exports = instance.exports as unknown as Omit<SmoothL1Simd, 'memory'>;
      simd = { memory, sum: exports.sum, grad: exports.grad, absSums: exports.absSums, devSquares: exports.devSquares, scale: exports.scale };
    }
  } catch {
    simd = null;
  }
  bound.set(memory, simd);
  return simd;
}
