/*
 * A tiny WebAssembly module, assembled here byte by byte, with SIMD loops
 * for the mean-distance kernels on the wasm backend. It imports the wasm
 * backend's own memory, so it reads the inputs and writes the gradients in
 * place in the tensors' heap storage (the views core's fillKernelFunc hands
 * over): no copies, four float32 lanes per instruction.
 *
 * Exports, for kind in l1, l2, smooth (pointers are byte offsets, n4 the
 * number of 4-float groups, i.e. elements / 4 rounded down):
 *   sum_<kind>(pa, pb, n4, beta) -> f64       sum of dist(a - b), lanes summed in float64
 *   grad_<kind>(pa, pb, pda, pdb, n4, s, beta) da = s dist'(a - b), db = -da
 * with dist and dist' as in distance.cpu.ts (float32 arithmetic per element).
 */

export type DistanceKind = 'l1' | 'l2' | 'smooth';

/** The exported functions, with pointers as byte offsets into the shared memory. */
export interface SimdDistance {
  /** The buffer of the memory the loops read and write (current after the memory grew). */
  readonly buffer: ArrayBufferLike;
  sum(kind: DistanceKind, pa: number, pb: number, n4: number, beta: number): number;
  grad(kind: DistanceKind, pa: number, pb: number, pda: number, pdb: number, n4: number, s: number, beta: number): void;
}

const KINDS: DistanceKind[] = ['l1', 'l2', 'smooth'];

// Value types and opcodes (WebAssembly core spec 2.0 with fixed-width SIMD).
const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const F32_CONST = 0x43;
const I32_ADD = 0x6a;
const I32_SHL = 0x74;
const I32_GE_U = 0x4f;
const F32_NEG = 0x8c;
const F64_ADD = 0xa0;
const SIMD = 0xfd;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function f32Bytes(x: number): number[] {
  return [...new Uint8Array(Float32Array.of(x).buffer)];
}

const simd = (op: number, ...imm: number[]): number[] => [SIMD, ...uleb(op), ...imm];
const get = (i: number): number[] => [LOCAL_GET, i];
const set = (i: number): number[] => [LOCAL_SET, i];
const tee = (i: number): number[] => [LOCAL_TEE, i];
const load = (ptr: number): number[] => [...get(ptr), ...simd(0x00, 0, 0)];
const splatF32 = (x: number): number[] => [F32_CONST, ...f32Bytes(x), ...simd(0x13)];
const OP = {
  f32x4Splat: 0x13,
  f64x2ExtractLane: 0x21,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  and: 0x4e,
  or: 0x50,
  bitselect: 0x52,
  f64x2PromoteLow: 0x5f,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f64x2Add: 0xf0,
  shuffle: 0x0d,
  store: 0x0b,
} as const;

/** Bytes of a section: id, size, contents. */
function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  return vec([...s].map((c) => [c.charCodeAt(0)]));
}

/** A function body: local declarations (count, type) and code. */
function body(locals: [number, number][], code: number[]): number[] {
  const content = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, 0x0b];
  return [...uleb(content.length), ...content];
}

/**
 * A loop over n4 groups: `block loop (br_if out when p >= end) step; p += 16 ... br 0 end end`.
 * `ptrs` are the pointer locals advanced by 16 bytes per group, the first one compared with `end`.
 */
function groupLoop(ptrs: number[], end: number, step: number[]): number[] {
  const advance = ptrs.flatMap((p) => [...get(p), 0x41, 16, I32_ADD, ...set(p)]);
  return [0x02, 0x40, 0x03, 0x40, ...get(ptrs[0]), ...get(end), I32_GE_U, 0x0d, 1, ...step, ...advance, 0x0c, 0, 0x0b, 0x0b];
}

/** end = p + n4 * 16 */
function endPointer(p: number, n4: number, end: number): number[] {
  return [...get(p), ...get(n4), 0x41, 4, I32_SHL, I32_ADD, ...set(end)];
}

// sum_<kind>(pa i32 0, pb i32 1, n4 i32 2, beta f32 3) -> f64
// locals: end i32 4, acc0 v128 5, acc1 v128 6, t v128 7, ad v128 8
function sumBody(kind: DistanceKind): number[] {
  const [pa, pb, n4, beta, end, acc0, acc1, t, ad] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const diff = [...load(pa), ...load(pb), ...simd(OP.f32x4Sub)];
  let term: number[];
  if (kind === 'l1') term = [...diff, ...simd(OP.f32x4Abs)];
  else if (kind === 'l2') term = [...diff, ...tee(t), ...get(t), ...simd(OP.f32x4Mul)];
  else {
    // |d| < beta ? 0.5 |d| |d| / beta : |d| - 0.5 beta
    const betaV = [...get(beta), ...simd(OP.f32x4Splat)];
    term = [
      ...diff, ...simd(OP.f32x4Abs), ...set(ad),
      ...splatF32(0.5), ...get(ad), ...simd(OP.f32x4Mul), ...get(ad), ...simd(OP.f32x4Mul), ...betaV, ...simd(OP.f32x4Div),
      ...get(ad), ...get(beta), 0x43, ...f32Bytes(0.5), 0x94 /* f32.mul */, ...simd(OP.f32x4Splat), ...simd(OP.f32x4Sub),
      ...get(ad), ...betaV, ...simd(OP.f32x4Lt),
      ...simd(OP.bitselect),
    ];
  }
  const highToLow = simd(OP.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  const step = [
    ...term, ...set(t),
    ...get(acc0), ...get(t), ...simd(OP.f64x2PromoteLow), ...simd(OP.f64x2Add), ...set(acc0),
    ...get(acc1), ...get(t), ...get(t), ...highToLow, ...simd(OP.f64x2PromoteLow), ...simd(OP.f64x2Add), ...set(acc1),
  ];
  const code = [
    ...endPointer(pa, n4, end),
    ...groupLoop([pa, pb], end, step),
    ...get(acc0), ...get(acc1), ...simd(OP.f64x2Add), ...tee(acc0),
    ...simd(OP.f64x2ExtractLane, 0), ...get(acc0), ...simd(OP.f64x2ExtractLane, 1), F64_ADD,
  ];
  return body([[1, I32], [4, V128]], code);
}

// grad_<kind>(pa 0, pb 1, pda 2, pdb 3, n4 4, s f32 5, beta f32 6)
// locals: end i32 7, d v128 8, g v128 9, sv v128 10, nsv v128 11, zero v128 12, betaV v128 13
function gradBody(kind: DistanceKind): number[] {
  const [pa, pb, pda, pdb, n4, s, beta, end, d, g, sv, nsv, zero, betaV] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const diff = [...load(pa), ...load(pb), ...simd(OP.f32x4Sub)];
  let setup: number[];
  let grad: number[];
  if (kind === 'l1') {
    // (d > 0 ? s : 0) | (d < 0 ? -s : 0): bit masks, no branches; 0 at d = 0.
    setup = [...get(s), ...simd(OP.f32x4Splat), ...set(sv), ...get(s), F32_NEG, ...simd(OP.f32x4Splat), ...set(nsv), ...splatF32(0), ...set(zero)];
    grad = [
      ...diff, ...set(d),
      ...get(sv), ...get(d), ...get(zero), ...simd(OP.f32x4Gt), ...simd(OP.and),
      ...get(nsv), ...get(d), ...get(zero), ...simd(OP.f32x4Lt), ...simd(OP.and),
      ...simd(OP.or),
    ];
  } else if (kind === 'l2') {
    // 2 d s, with 2 s splatted once.
    setup = [...get(s), ...get(s), 0x92 /* f32.add */, ...simd(OP.f32x4Splat), ...set(sv)];
    grad = [...diff, ...get(sv), ...simd(OP.f32x4Mul)];
  } else {
    // clamp(d / beta, -1, 1) s
    setup = [...get(s), ...simd(OP.f32x4Splat), ...set(sv), ...get(beta), ...simd(OP.f32x4Splat), ...set(betaV)];
    grad = [...diff, ...get(betaV), ...simd(OP.f32x4Div), ...splatF32(-1), ...simd(OP.f32x4Max), ...splatF32(1), ...simd(OP.f32x4Min), ...get(sv), ...simd(OP.f32x4Mul)];
  }
  const step = [
    ...grad, ...set(g),
    ...get(pda), ...get(g), ...simd(OP.store, 0, 0),
    ...get(pdb), ...get(g), ...simd(OP.f32x4Neg), ...simd(OP.store, 0, 0),
  ];
  const code = [...setup, ...endPointer(pa, n4, end), ...groupLoop([pa, pb, pda, pdb], end, step)];
  return body([[1, I32], [6, V128]], code);
}

/** The module's bytes. */
export function distanceModuleBytes(): Uint8Array<ArrayBuffer> {
  const sumType = [0x60, ...vec([[I32], [I32], [I32], [F32]]), ...vec([[F64]])];
  const gradType = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [F32], [F32]]), ...vec([])];
  const funcs = KINDS.flatMap((k) => [{ name: `sum_${k}`, type: 0, body: sumBody(k) }, { name: `grad_${k}`, type: 1, body: gradBody(k) }]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([sumType, gradType])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec(funcs.map((f) => uleb(f.type)))),
    ...section(7, vec(funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(funcs.map((f) => f.body))),
  ];
  return new Uint8Array(bytes);
}

const instances = new WeakMap<WebAssembly.Memory, SimdDistance | null>();

/**
 * The SIMD loops bound to `memory` (one instance per memory), or null where
 * WebAssembly SIMD is unavailable or the memory is shared (a threaded
 * build): the callers then run their JavaScript loops.
 */
export function simdDistance(memory: WebAssembly.Memory): SimdDistance | null {
  if (instances.has(memory)) return instances.get(memory) ?? null;
  let result: SimdDistance | null = null;
  try {
    if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(distanceModuleBytes()), { env: { memory } });
      const ex = instance.exports as Record<string, (...args: number[]) => number>;
      result = {
        get buffer() {
          return memory.buffer;
        },
        sum: (kind, pa, pb, n4, beta) => ex[`sum_${kind}`](pa, pb, n4, beta),
        grad: (kind, pa, pb, pda, pdb, n4, s, beta) => {
          ex[`grad_${kind}`](pa, pb, pda, pdb, n4, s, beta);
        },
      };
    }
  } catch {
    result = null;
  }
  instances.set(memory, result);
  return result;
}
