import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  SIMD_OP,
  UPPER_HALF_DOWN,
  upperHalf,
  LOW_HALVES_JOINED,
  WASM_OP,
  WASM_TYPE,
  bindToWasmMemory,
  instantiateOnBackendMemory,
  loopUntil,
  forRange,
  f64x2LaneSum,
  groupLoop,
  groupsEnd,
  simd,
  sleb128,
  uleb128,
  v128Load,
  v128Store,
  wasm,
  wasmBackendMemory,
  viewsInMemory,
  wasmModuleBytes,
  type WasmFunction,
} from './index';

const { i32: I32, f32: F32, f64: F64, v128: V128 } = WASM_TYPE;
const { get, set } = wasm;

// sum(p, n) -> f64: Σ x[i] over n float32 at byte offset p, in float64; SIMD
// over the groups of four, then a scalar loop over the n % 4 left.
// locals: end 2, tailEnd 3 (i32), acc0 4, acc1 5, v 6 (v128), s 7 (f64).
function sumFunction(): WasmFunction {
  const [p, n, end, tailEnd, acc0, acc1, v, s] = [0, 1, 2, 3, 4, 5, 6, 7];
  const promoteAdd = (acc: number, half: number[]): number[] => [
    ...get(acc), ...half, ...simd(SIMD_OP.f64x2PromoteLowF32x4), ...simd(SIMD_OP.f64x2Add), ...set(acc),
  ];
  const code = [
    ...get(n), ...wasm.i32(-4), WASM_OP.i32And, ...wasm.i32(2), WASM_OP.i32Shl, ...get(p), WASM_OP.i32Add, ...set(end),
    ...get(n), ...wasm.i32(2), WASM_OP.i32Shl, ...get(p), WASM_OP.i32Add, ...set(tailEnd),
    ...loopUntil([...get(p), ...get(end), WASM_OP.i32GeU], [
      ...get(p), ...v128Load(), ...set(v),
      ...promoteAdd(acc0, get(v)),
      ...promoteAdd(acc1, [...get(v), ...get(v), ...UPPER_HALF_DOWN]),
      ...wasm.addTo(p, 16),
    ]),
    ...get(acc0), ...get(acc1), ...simd(SIMD_OP.f64x2Add), ...set(acc0),
    ...get(acc0), ...simd(SIMD_OP.f64x2ExtractLane, 0), ...get(acc0), ...simd(SIMD_OP.f64x2ExtractLane, 1), WASM_OP.f64Add, ...set(s),
    ...loopUntil([...get(p), ...get(tailEnd), WASM_OP.i32GeU], [
      ...get(s), ...get(p), ...wasm.f32Load(), WASM_OP.f64PromoteF32, WASM_OP.f64Add, ...set(s),
      ...wasm.addTo(p, 4),
    ]),
    ...get(s),
  ];
  return { name: 'sum', params: [I32, I32], results: [F64], locals: [I32, I32, V128, V128, V128, F64], code };
}

// axpy(a, px, py, n): y = a x + y in float32, in place; same split.
// locals: end 4, tailEnd 5 (i32), av 6 (v128).
function axpyFunction(): WasmFunction {
  const [a, px, py, n, end, tailEnd, av] = [0, 1, 2, 3, 4, 5, 6];
  const code = [
    ...get(n), ...wasm.i32(-4), WASM_OP.i32And, ...wasm.i32(2), WASM_OP.i32Shl, ...get(px), WASM_OP.i32Add, ...set(end),
    ...get(n), ...wasm.i32(2), WASM_OP.i32Shl, ...get(px), WASM_OP.i32Add, ...set(tailEnd),
    ...get(a), ...simd(SIMD_OP.f32x4Splat), ...set(av),
    ...loopUntil([...get(px), ...get(end), WASM_OP.i32GeU], [
      ...get(py),
      ...get(px), ...v128Load(), ...get(av), ...simd(SIMD_OP.f32x4Mul), ...get(py), ...v128Load(), ...simd(SIMD_OP.f32x4Add),
      ...v128Store(),
      ...wasm.addTo(px, 16), ...wasm.addTo(py, 16),
    ]),
    ...loopUntil([...get(px), ...get(tailEnd), WASM_OP.i32GeU], [
      ...get(py),
      ...get(a), ...get(px), ...wasm.f32Load(), WASM_OP.f32Mul, ...get(py), ...wasm.f32Load(), WASM_OP.f32Add,
      ...wasm.f32Store(),
      ...wasm.addTo(px, 4), ...wasm.addTo(py, 4),
    ]),
  ];
  return { name: 'axpy', params: [F32, I32, I32, I32], results: [], locals: [I32, I32, V128], code };
}

function testModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([sumFunction(), axpyFunction()]);
}

interface TestLoops {
  sum(p: number, n: number): number;
  axpy(a: number, px: number, py: number, n: number): void;
}
const bindLoops = (exports: WebAssembly.Exports): TestLoops => exports as unknown as TestLoops;

/** Values k / 1024 with small k: float64 sums of them are exact in any order. */
function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (((i * 37 + seed * 11) % 97) - 48) / 1024);
}

function readLeb(bytes: number[], signed: boolean): number {
  let result = 0;
  let shift = 0;
  let b = 0;
  let i = 0;
  do {
    b = bytes[i++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  expect(i).toBe(bytes.length);
  if (signed && b & 0x40) result -= 2 ** shift;
  return result;
}

describe(`wasm-simd builder (${tf.getBackend()})`, () => {
  it('LEB128 encodings decode back to the value', () => {
    for (const n of [0, 1, 63, 64, 127, 128, 300, 16383, 16384, 624485, 2 ** 31 - 1, 2 ** 32 - 1]) {
      expect(readLeb(uleb128(n), false)).toBe(n);
    }
    for (const n of [0, 1, -1, 63, 64, -64, -65, 127, -128, 8191, -8192, -123456, 2 ** 31 - 1, -(2 ** 31)]) {
      expect(readLeb(sleb128(n), true)).toBe(n);
    }
    // One byte up to 63 / down to -64 (sign bit 0x40), as the format requires.
    expect(sleb128(63)).toHaveLength(1);
    expect(sleb128(64)).toHaveLength(2);
    expect(sleb128(-64)).toHaveLength(1);
    expect(sleb128(-65)).toHaveLength(2);
  });

  it('builds a module that validates, with its functions exported', () => {
    const bytes = testModule();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(['sum', 'axpy']);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });

  it('forRange runs its body for from, from + step, ... below limit; groupLoop once per group to groupsEnd; f64x2LaneSum adds lane 0 and lane 1; upperHalf and LOW_HALVES_JOINED move halves', () => {
    // count(from, limit, step) -> i32: passes of the loop; lanes(a, b) -> f64: a + b through one f64x2
    const count: WasmFunction = {
      name: 'count',
      params: [I32, I32, I32],
      results: [I32],
      locals: [I32, I32],
      code: [...forRange(3, get(0), get(1), get(2), wasm.addTo(4, 1)), ...get(4)],
    };
    const lanes: WasmFunction = {
      name: 'lanes',
      params: [F64, F64],
      results: [F64],
      locals: [V128],
      code: [...get(0), ...simd(SIMD_OP.f64x2Splat), ...get(1), ...simd(SIMD_OP.f64x2ReplaceLane, 1), ...set(2), ...f64x2LaneSum(2)],
    };
    // groups(p, n4) -> i32: passes of a group loop from p over n4 groups of four floats, times 1000, plus the pointer's advance
    const groups: WasmFunction = {
      name: 'groups',
      params: [I32, I32],
      results: [I32],
      locals: [I32, I32, I32],
      code: [
        ...get(0), ...set(3), ...groupsEnd(0, 1, 2),
        ...groupLoop([3], 2, wasm.addTo(4, 1000)),
        ...get(4), ...get(3), ...get(0), WASM_OP.i32Sub, WASM_OP.i32Add,
      ],
    };
    // halves(a, b, c, d) -> the lanes of LOW_HALVES_JOINED(upperHalf(v), v) for v = (a, b, c, d): (c, d, a, b)
    const halves: WasmFunction = {
      name: 'halves',
      params: [F32, F32, F32, F32],
      results: [F32, F32, F32, F32],
      locals: [V128, V128],
      code: [
        ...get(0), ...simd(SIMD_OP.f32x4Splat), ...get(1), ...simd(SIMD_OP.f32x4ReplaceLane, 1),
        ...get(2), ...simd(SIMD_OP.f32x4ReplaceLane, 2), ...get(3), ...simd(SIMD_OP.f32x4ReplaceLane, 3), ...set(4),
        ...upperHalf(4), ...get(4), ...LOW_HALVES_JOINED, ...set(5),
        ...[0, 1, 2, 3].flatMap((lane) => [...get(5), ...simd(SIMD_OP.f32x4ExtractLane, lane)]),
      ],
    };
    const ex = new WebAssembly.Instance(new WebAssembly.Module(wasmModuleBytes([count, lanes, groups, halves])), { env: { memory: new WebAssembly.Memory({ initial: 0 }) } }).exports as unknown as {
      count(from: number, limit: number, step: number): number;
      lanes(a: number, b: number): number;
      groups(p: number, n4: number): number;
      halves(a: number, b: number, c: number, d: number): number[];
    };
    expect([ex.count(0, 10, 1), ex.count(0, 10, 4), ex.count(5, 5, 1), ex.count(7, 3, 1), ex.count(2, 17, 5)]).toEqual([10, 3, 0, 0, 3]);
    expect(ex.lanes(1.5, -0.25)).toBe(1.25);
    expect(ex.lanes(2 ** 53, 1)).toBe(2 ** 53);
    expect(ex.lanes(-3, 3)).toBe(0);
    expect([ex.groups(64, 0), ex.groups(64, 1), ex.groups(8, 5)]).toEqual([0, 1016, 5080]);
    expect(ex.halves(1, 2, 3, 4)).toEqual([3, 4, 1, 2]);
  });

  it('binds once per memory and module; null for no memory, a shared memory or a module that does not compile', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const loops = bindToWasmMemory(memory, testModule, bindLoops);
    expect(loops).not.toBeNull();
    expect(bindToWasmMemory(memory, testModule, bindLoops)).toBe(loops);
    expect(bindToWasmMemory(new WebAssembly.Memory({ initial: 1 }), testModule, bindLoops)).not.toBe(loops);
    expect(bindToWasmMemory(null, testModule, bindLoops)).toBeNull();
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    expect(bindToWasmMemory(shared, testModule, bindLoops)).toBeNull();
    const broken = (): Uint8Array<ArrayBuffer> => new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x7f]);
    expect(bindToWasmMemory(memory, broken, bindLoops)).toBeNull();
  });

  it('runs on its own memory like the JavaScript loops, remainders included', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const loops = bindToWasmMemory(memory, testModule, bindLoops)!;
    for (const n of [0, 1, 3, 4, 5, 7, 8, 17, 1001]) {
      const x = new Float32Array(memory.buffer, 16, n);
      const y = new Float32Array(memory.buffer, 16 + 4 * n + 4, n); // 4-byte aligned, not 16
      x.set(values(n, 1));
      y.set(values(n, 2));
      let ref = 0;
      for (const v of x) ref += v;
      expect(loops.sum(x.byteOffset, n)).toBe(ref);
      const a = Math.fround(0.37); // the parameter is an f32
      const yRef = y.map((v, i) => Math.fround(Math.fround(a * x[i]) + v));
      loops.axpy(a, x.byteOffset, y.byteOffset, n);
      expect(Array.from(y)).toEqual(Array.from(yRef));
    }
  });

  it('finds the memory in the places tfjs-backend-wasm keeps it, null elsewhere', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    expect(wasmBackendMemory({ wasm: { asm: { memory } } })).toBe(memory);
    expect(wasmBackendMemory({ wasm: { wasmExports: { memory } } })).toBe(memory);
    expect(wasmBackendMemory({ wasm: { asm: { memory: {} } } })).toBeNull();
    expect(wasmBackendMemory({})).toBeNull();
    expect(instantiateOnBackendMemory(testModule, bindLoops, {})).toBeNull();
  });

  if (tf.getBackend() === 'wasm') {
    type WasmBackend = { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
    const heap = (t: tf.Tensor): Float32Array => (tf.backend() as unknown as WasmBackend).typedArrayFromHeap(t);

    it('runs on the wasm backend heap, in place on tensors, before and after the heap grows', async () => {
      const memory = wasmBackendMemory();
      expect(memory).toBeInstanceOf(WebAssembly.Memory);
      expect(wasmBackendMemory(tf.backend())).toBe(memory);
      const loops = instantiateOnBackendMemory(testModule, bindLoops)!;
      expect(loops).not.toBeNull();
      expect(bindToWasmMemory(memory, testModule, bindLoops)).toBe(loops);

      const check = async (x: tf.Tensor, y: tf.Tensor, a: number): Promise<void> => {
        const xs = await x.data();
        const ys = await y.data();
        let ref = 0;
        for (const v of xs) ref += v;
        const hx = heap(x);
        expect(hx.buffer).toBe(memory!.buffer);
        expect(loops.sum(hx.byteOffset, hx.length)).toBe(ref);
        loops.axpy(a, hx.byteOffset, heap(y).byteOffset, hx.length);
        const expected = Array.from(ys, (v, i) => Math.fround(Math.fround(a * xs[i]) + v));
        expect(Array.from(await y.data())).toEqual(expected);
      };

      const pairs = [0, 1, 5, 4, 1003].map((n) => [tf.tensor1d(values(n, 3)), tf.tensor1d(values(n, 4))]);
      for (const [x, y] of pairs) await check(x, y, -1.25);

      // Allocate more than the heap holds: the memory grows, its old buffer
      // is detached, and views taken afterwards see the same tensors.
      const before = memory!.buffer;
      const big = tf.zeros([before.byteLength / 4 + 1024]);
      expect(memory!.buffer.byteLength).toBeGreaterThan(before.byteLength);
      expect(before.byteLength).toBe(0);
      for (const [x, y] of pairs) await check(x, y, 0.5);
      const late = [tf.tensor1d(values(2051, 5)), tf.tensor1d(values(2051, 6))];
      await check(late[0], late[1], 3);
      tf.dispose([big, ...late, ...pairs.flat()]);
    });
  }
});

describe('viewsInMemory', () => {
  it('is true only for views of the memory\'s current buffer', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const a = new Float32Array(memory.buffer, 0, 4);
    const b = new Int32Array(memory.buffer, 64, 2);
    expect(viewsInMemory(memory, [a, b])).toBe(true);
    expect(viewsInMemory(memory, [a, new Float32Array(4)])).toBe(false);
    memory.grow(1); // detaches the old views
    expect(viewsInMemory(memory, [a])).toBe(false);
    expect(viewsInMemory(memory, [new Float32Array(memory.buffer, 0, 4)])).toBe(true);
  });
});
