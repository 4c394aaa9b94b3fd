import * as tf from '@tensorflow/tfjs-core';

/*
 * Small WebAssembly modules with SIMD loops, assembled in JavaScript (no
 * build step, no binary file), that run on the wasm backend's own heap.
 *
 * A loss package writes its loop bodies with the instruction helpers below
 * and hands them to `wasmModuleBytes`; `bindToWasmMemory` instantiates the
 * module once per memory with that memory imported as `env.memory`, so the
 * loops read and write the tensors' storage in place: the heap views that
 * `fillKernelFunc` passes to a kernel on wasm are (byte offset, length)
 * pairs in that memory.
 *
 * The memory is an internal of @tensorflow/tfjs-backend-wasm 4.22 (the
 * Emscripten module's exports, `backend.wasm.asm.memory`; newer Emscripten
 * builds call them `wasmExports`). Where it is absent, is not a
 * `WebAssembly.Memory`, is shared (a threaded build), or where the engine
 * has no WebAssembly SIMD, `wasmBackendMemory`/`bindToWasmMemory` return
 * null and the kernels run their JavaScript loops instead.
 *
 * Encoding: WebAssembly 2.0 binary format with fixed-width SIMD.
 */

/** Value types. */
export const WASM_TYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type WasmValueType = (typeof WASM_TYPE)[keyof typeof WASM_TYPE];

/** Scalar and control opcodes used by the loss kernels (one byte each). */
export const WASM_OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  f64Const: 0x44,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  f32Neg: 0x8c,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f64Add: 0xa0,
  f64PromoteF32: 0xbb,
  if: 0x04,
  else: 0x05,
  /** select: the first operand when the i32 condition is nonzero, else the second. */
  select: 0x1b,
  i32Load: 0x28,
  i32LtS: 0x48,
  i32Or: 0x72,
  f64Eq: 0x61,
  f64Sub: 0xa1,
  f32DemoteF64: 0xb6,
  f64Gt: 0x64,
  f64Sqrt: 0x9f,
  f64Mul: 0xa2,
  f64Div: 0xa3,
} as const;

/** SIMD opcodes (after the 0xfd prefix, LEB128-encoded by {@link simd}). */
export const SIMD_OP = {
  v128Load: 0x00,
  /** v128.load32_splat: one float (or i32) into every lane; one x86 broadcast from memory. */
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  i8x16Shuffle: 0x0d,
  f32x4Splat: 0x13,
  f64x2Splat: 0x14,
  f32x4ExtractLane: 0x1f,
  f32x4ReplaceLane: 0x20,
  f64x2ExtractLane: 0x21,
  f64x2ReplaceLane: 0x22,
  f32x4Eq: 0x41,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  v128And: 0x4e,
  v128Or: 0x50,
  v128Bitselect: 0x52,
  f64x2PromoteLowF32x4: 0x5f,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  /** Pseudo-minimum b < a ? b : a: one x86 instruction, where f32x4.min needs several (NaN and ±0 rules). */
  f32x4Pmin: 0xea,
  /** Pseudo-maximum a < b ? b : a: one x86 instruction. */
  f32x4Pmax: 0xeb,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  v128Const: 0x0c,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  f32x4DemoteF64x2Zero: 0x5e,
  i64x2ShrS: 0xcc,
  i64x2ShrU: 0xcd,
  i64x2Add: 0xce,
  i64x2Sub: 0xd1,
  f64x2Abs: 0xec,
  f64x2Neg: 0xed,
  f64x2Div: 0xf3,
  /** b < a ? b : a (one x86 instruction). */
  f64x2Pmin: 0xf6,
  /** a < b ? b : a (one x86 instruction). */
  f64x2Pmax: 0xf7,
  f64x2ConvertLowI32x4S: 0xfe,
  i32x4Splat: 0x11,
  i32x4ExtractLane: 0x1b,
  i32x4Eq: 0x37,
  i32x4LtS: 0x39,
  v128Andnot: 0x4f,
  i32x4Shl: 0xab,
  i32x4Add: 0xae,
  i32x4MinS: 0xb6,
  f64x2Nearest: 0x94,
  i32x4TruncSatF64x2SZero: 0xfc,
  i64x2ExtendLowI32x4S: 0xc7,
  i64x2Shl: 0xcb,
  v128AnyTrue: 0x53,
  f64x2Le: 0x4b,
  f64x2Ge: 0x4c,
  f64x2Eq: 0x47,
  f64x2Ne: 0x48,
} as const;

/** Unsigned LEB128 of a non-negative integer below 2^32. */
export function uleb128(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  for (;;) {
    const low = v & 0x7f;
    v >>>= 7;
    if (v === 0) {
      out.push(low);
      return out;
    }
    out.push(low | 0x80);
  }
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb128(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const low = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0);
    out.push(done ? low : low | 0x80);
    if (done) return out;
  }
}

/** The four little-endian bytes of `x` rounded to float32. */
export function f32Bytes(x: number): number[] {
  return [...new Uint8Array(Float32Array.of(x).buffer)];
}

/** A length-prefixed vector of encoded items. */
export function wasmVector(items: number[][]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

/** A name: its UTF-8 bytes, length-prefixed. */
export function wasmName(s: string): number[] {
  return wasmVector([...new TextEncoder().encode(s)].map((b) => [b]));
}

/** Instruction helpers: each returns the bytes of one instruction (or a short sequence). */
export const wasm = {
  get: (local: number): number[] => [WASM_OP.localGet, ...uleb128(local)],
  set: (local: number): number[] => [WASM_OP.localSet, ...uleb128(local)],
  tee: (local: number): number[] => [WASM_OP.localTee, ...uleb128(local)],
  i32: (value: number): number[] => [WASM_OP.i32Const, ...sleb128(value)],
  f32: (value: number): number[] => [WASM_OP.f32Const, ...f32Bytes(value)],
  f64: (value: number): number[] => [WASM_OP.f64Const, ...new Uint8Array(Float64Array.of(value).buffer)],
  /** local += value (i32). */
  addTo: (local: number, value: number): number[] => [...wasm.get(local), ...wasm.i32(value), WASM_OP.i32Add, ...wasm.set(local)],
  /** f32.load / f32.store with natural alignment, address on the stack (store: address, then value). */
  f32Load: (offset = 0): number[] => [WASM_OP.f32Load, 2, ...uleb128(offset)],
  f32Store: (offset = 0): number[] => [WASM_OP.f32Store, 2, ...uleb128(offset)],
};

/** A SIMD instruction: prefix 0xfd, the opcode as LEB128, then immediates. */
export function simd(op: number, ...immediates: number[]): number[] {
  return [0xfd, ...uleb128(op), ...immediates];
}

/** v128.load / v128.store (alignment hint 1 byte: heap views are only 4-byte aligned). */
export const v128Load = (offset = 0): number[] => simd(SIMD_OP.v128Load, 0, ...uleb128(offset));
export const v128Store = (offset = 0): number[] => simd(SIMD_OP.v128Store, 0, ...uleb128(offset));
/** f32x4 with every lane `x`. */
export const f32x4Splat = (x: number): number[] => [...wasm.f32(x), ...simd(SIMD_OP.f32x4Splat)];
/** Shuffle that moves the upper 8 bytes (lanes 2, 3 of f32x4) down, for f64x2.promote_low. */
export const UPPER_HALF_DOWN: number[] = simd(SIMD_OP.i8x16Shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
/** The v128 local `v` with its upper 8 bytes (lanes 2, 3 of f32x4) moved down, for f64x2.promote_low. */
export const upperHalf = (v: number): number[] => [...wasm.get(v), ...wasm.get(v), ...UPPER_HALF_DOWN];
/** Shuffle that joins the lower 8 bytes of two v128 (lanes 0, 1 of each f32x4): the inverse of splitting into halves. */
export const LOW_HALVES_JOINED: number[] = simd(SIMD_OP.i8x16Shuffle, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);

/**
 * `block { loop { br_if 1 (exit); body; br 0 } }`: runs `body` until the i32
 * condition `exit` (evaluated before each pass) is nonzero.
 */
export function loopUntil(exit: number[], body: number[]): number[] {
  return [WASM_OP.block, 0x40, WASM_OP.loop, 0x40, ...exit, WASM_OP.brIf, 1, ...body, WASM_OP.br, 0, WASM_OP.end, WASM_OP.end];
}

/** Sets local `end` to local `p` + 16 · local `n4`: the byte past n4 groups of four floats from p. */
export function groupsEnd(p: number, n4: number, end: number): number[] {
  return [...wasm.get(p), ...wasm.get(n4), ...wasm.i32(4), WASM_OP.i32Shl, WASM_OP.i32Add, ...wasm.set(end)];
}

/**
 * A loop over groups of four floats: `step`, then every pointer local in
 * `ptrs` advances 16 bytes, until ptrs[0] reaches the local `end` (checked
 * before each pass).
 */
export function groupLoop(ptrs: number[], end: number, step: number[]): number[] {
  return loopUntil([...wasm.get(ptrs[0]), ...wasm.get(end), WASM_OP.i32GeU], [...step, ...ptrs.flatMap((q) => wasm.addTo(q, 16))]);
}

/** Lane 0 plus lane 1 of the f64x2 in v128 local `v`: leaves one f64. */
export function f64x2LaneSum(v: number): number[] {
  return [...wasm.get(v), ...simd(SIMD_OP.f64x2ExtractLane, 0), ...wasm.get(v), ...simd(SIMD_OP.f64x2ExtractLane, 1), WASM_OP.f64Add];
}

/** `for (v = from; v < limit; v += step) body`, with an unsigned i32 compare. */
export function forRange(v: number, from: number[], limit: number[], step: number[], body: number[]): number[] {
  return [
    ...from, ...wasm.set(v),
    ...loopUntil([...wasm.get(v), ...limit, WASM_OP.i32LtU, WASM_OP.i32Eqz], [...body, ...wasm.get(v), ...step, WASM_OP.i32Add, ...wasm.set(v)]),
  ];
}

/** One exported function of a module. Locals are numbered after the params. */
export interface WasmFunction {
  name: string;
  params: WasmValueType[];
  results: WasmValueType[];
  /** The extra locals, in index order. */
  locals: WasmValueType[];
  /** The instructions, without the final `end`. */
  code: number[];
}

function functionBody(locals: WasmValueType[], code: number[]): number[] {
  const runs: number[][] = [];
  for (let i = 0; i < locals.length; ) {
    let j = i;
    while (j < locals.length && locals[j] === locals[i]) j++;
    runs.push([...uleb128(j - i), locals[i]]);
    i = j;
  }
  const inner = [...wasmVector(runs), ...code, WASM_OP.end];
  return [...uleb128(inner.length), ...inner];
}

/**
 * The bytes of a module that imports `env.memory` (no minimum size) and
 * exports `functions` under their names.
 */
export function wasmModuleBytes(functions: WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types: number[][] = [];
  const typeKeys: string[] = [];
  const typeOf = functions.map((f) => {
    const t = [0x60, ...wasmVector(f.params.map((p) => [p])), ...wasmVector(f.results.map((r) => [r]))];
    const key = t.join(',');
    let index = typeKeys.indexOf(key);
    if (index < 0) {
      index = types.length;
      types.push(t);
      typeKeys.push(key);
    }
    return index;
  });
  const section = (id: number, content: number[]): number[] => [id, ...uleb128(content.length), ...content];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, wasmVector(types)),
    // import env.memory: kind memory (2), limits flag 0, minimum 0 pages
    ...section(2, wasmVector([[...wasmName('env'), ...wasmName('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, wasmVector(typeOf.map((t) => uleb128(t)))),
    ...section(7, wasmVector(functions.map((f, i) => [...wasmName(f.name), 0x00, ...uleb128(i)]))),
    ...section(10, wasmVector(functions.map((f) => functionBody(f.locals, f.code)))),
  ]);
}

type WasmBackendInternals = { wasm?: { asm?: { memory?: unknown }; wasmExports?: { memory?: unknown } } };

/**
 * The `WebAssembly.Memory` that holds the wasm backend's tensors: `backend`
 * if given, else the registered `wasm` backend. An internal of
 * tfjs-backend-wasm 4.22 (`backend.wasm.asm.memory`, or `wasmExports` in
 * newer Emscripten output); null when the backend is not registered or does
 * not expose one, and callers then run their JavaScript loops.
 */
export function wasmBackendMemory(backend?: unknown): WebAssembly.Memory | null {
  if (typeof WebAssembly === 'undefined') return null;
  const b = (backend ?? tf.findBackend('wasm')) as WasmBackendInternals | null | undefined;
  const memory = b?.wasm?.asm?.memory ?? b?.wasm?.wasmExports?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

const bound = new WeakMap<WebAssembly.Memory, Map<() => Uint8Array<ArrayBuffer>, unknown>>();

/**
 * Instantiates the module `build()` returns with `memory` as its `env.memory`
 * and hands its exports to `bind`; cached per memory and per `build`
 * function (pass a module-level function, not a fresh closure). Returns null
 * (also cached) when `memory` is null or shared (a threaded build), or the
 * module does not compile (no WebAssembly SIMD): callers then run their
 * JavaScript loops. The memory may grow later: the instance stays valid, but
 * typed-array views of the old `memory.buffer` are detached, so take views
 * after allocating.
 */
export function bindToWasmMemory<T>(
  memory: WebAssembly.Memory | null,
  build: () => Uint8Array<ArrayBuffer>,
  bind: (exports: WebAssembly.Exports, memory: WebAssembly.Memory) => T,
): T | null {
  if (memory === null) return null;
  let perModule = bound.get(memory);
  if (perModule === undefined) {
    perModule = new Map();
    bound.set(memory, perModule);
  }
  if (perModule.has(build)) return perModule.get(build) as T | null;
  let result: T | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    if (!shared) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(build()), { env: { memory } });
      result = bind(instance.exports, memory);
    }
  } catch {
    result = null;
  }
  perModule.set(build, result);
  return result;
}

/**
 * Whether every view is of `memory`'s current buffer (a `WebAssembly.Memory`,
 * or anything exposing it as `buffer`): the condition for a module bound to
 * that memory to address them by byte offset. Views of other buffers (a
 * backend that copied, a detached view after growth) make it false.
 */
export function viewsInMemory(memory: { readonly buffer: ArrayBufferLike }, views: readonly ArrayBufferView[]): boolean {
  const buffer = memory.buffer;
  return views.every((view) => view.buffer === buffer);
}

/** {@link bindToWasmMemory} on the memory of `backend` (default: the registered wasm backend). */
export function instantiateOnBackendMemory<T>(
  build: () => Uint8Array<ArrayBuffer>,
  bind: (exports: WebAssembly.Exports, memory: WebAssembly.Memory) => T,
  backend?: unknown,
): T | null {
  return bindToWasmMemory(wasmBackendMemory(backend), build, bind);
}
