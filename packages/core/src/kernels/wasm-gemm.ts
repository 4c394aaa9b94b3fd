import { SIMD_OP, WASM_OP, WASM_TYPE, forRange, instantiateOnBackendMemory, loopUntil, simd, uleb128, v128Load, v128Store, wasm, wasmModuleBytes } from './wasm-simd';
import type { WasmFunction } from './wasm-simd';

/*
 * A float32 matrix product in WebAssembly SIMD for the wasm backend, on its
 * own heap: C [M, N] = op(A) · op(B), where op transposes when asked.
 *
 * B is first copied into panels of 8 columns, [ceil(N/8)][K][8], zero-padded
 * on the right: the inner loop then reads 8 consecutive floats of B per k
 * whatever B's layout (transposed or not). A is read where it lies, one
 * pointer per row with a byte step per k, so a transposed A costs nothing
 * extra. The inner loop keeps a 4x8 block of C in eight v128 accumulators:
 * per k, two loads of B, four broadcasts of A, eight multiplies and eight
 * adds (no fused multiply-add in WebAssembly SIMD as Node 20 runs it).
 *
 * The driver blocks K by 256 and the panels by 16 (128 columns): a 256 x 128
 * block of packed B (128 KB) stays in the L2 cache while every row block of
 * A passes over it, and a row block's 4 x 256 floats of A stay in L1 across
 * the block's panels. Rows past the last multiple of 4 run through a 1x8
 * variant; columns past the last multiple of 8 are computed into a scratch
 * block and copied out.
 *
 * Measured here (2 cores, AMD EPYC; kernel only, one thread): 20 to 32
 * GFLOP/s on the 256-1024 shapes of the bench workloads, where
 * tfjs-backend-wasm 4.22's XNNPACK path ran 11 to 15 when the right-hand
 * operand was a new tensor (it packs it again) and 14 to 22 when it was not.
 */

/** The exports, bound to one memory. Pointers are byte offsets. */
interface GemmSimd {
  memory: WebAssembly.Memory;
  /**
   * Rows [0, rows) in blocks of 4 (`gemm4`) or 1 (`gemm1`), panels [p0, p1),
   * k in [0, kc): C_block (+)= A_block · Bp_block. Row r of row block q of A
   * starts at a + q · blockStep + r · rowStep and steps `ksA` bytes per k;
   * `panelStride` is the bytes per packed panel, `ldc` C's bytes per row;
   * `accumulate` 0 overwrites C.
   */
  gemm4(a: number, bp: number, c: number, rows: number, kc: number, p0: number, p1: number, rowStep: number, ksA: number, panelStride: number, ldc: number, accumulate: number, blockStep: number): void;
  gemm1(a: number, bp: number, c: number, rows: number, kc: number, p0: number, p1: number, rowStep: number, ksA: number, panelStride: number, ldc: number, accumulate: number, blockStep: number): void;
  /** Packs `blocks` blocks of 4 rows of a transposed A over `kc` values of k into [blocks][kc][4]. */
  packA(a: number, dst: number, blocks: number, kc: number, ksA: number): void;
  /** Packs `panels` full panels of B, element (k, n) at b + k·ksB + n·csB, into bp. */
  packContiguous(b: number, bp: number, k: number, panels: number, ksB: number): void;
  packStrided(b: number, bp: number, k: number, panels: number, ksB: number, csB: number): void;
}

const { i32: I32, v128: V128 } = WASM_TYPE;
const { get, set } = wasm;
const { i32Add: ADD, i32Mul: MUL } = WASM_OP;
const load32Splat = (offset = 0): number[] => simd(SIMD_OP.v128Load32Splat, 2, ...uleb128(offset));
const F32X4_MUL = simd(SIMD_OP.f32x4Mul);
const F32X4_ADD = simd(SIMD_OP.f32x4Add);
const ZERO = [...wasm.f32(0), ...simd(SIMD_OP.f32x4Splat)];

/** K block and panels per block of the driver (see the header). */
const K_BLOCK = 256;
const PANELS_PER_BLOCK = 16;

function gemmFunction(rowsPerBlock: number, name: string): WasmFunction {
  const [a, bp, c, rows, kc, p0, p1, rowStep, ksA, panelStride, ldc, accumulate, blockStep] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const [i, jp, pb, pbEnd, cp, aBlock] = [13, 14, 15, 16, 17, 18];
  const rowPtr = Array.from({ length: rowsPerBlock }, (_, r) => 19 + r);
  const firstV = 19 + rowsPerBlock;
  const acc = Array.from({ length: 2 * rowsPerBlock }, (_, r) => firstV + r);
  const [b0, b1, s] = [firstV + 2 * rowsPerBlock, firstV + 2 * rowsPerBlock + 1, firstV + 2 * rowsPerBlock + 2];
  const perK = [
    ...get(pb), ...v128Load(0), ...set(b0),
    ...get(pb), ...v128Load(16), ...set(b1),
    ...rowPtr.flatMap((p, r) => [
      ...get(p), ...load32Splat(), ...wasm.tee(s), ...get(b0), ...F32X4_MUL, ...get(acc[2 * r]), ...F32X4_ADD, ...set(acc[2 * r]),
      ...get(s), ...get(b1), ...F32X4_MUL, ...get(acc[2 * r + 1]), ...F32X4_ADD, ...set(acc[2 * r + 1]),
      ...get(p), ...get(ksA), ADD, ...set(p),
    ]),
    ...wasm.addTo(pb, 32),
  ];
  // C row r of the block: cp + r · ldc.
  const cRow = (r: number): number[] => [...get(cp), ...(r === 0 ? [] : [...get(ldc), ...wasm.i32(r), MUL, ADD])];
  const perPanel = [
    ...get(c), ...get(i), ...get(ldc), MUL, ADD, ...get(jp), ...wasm.i32(32), MUL, ADD, ...set(cp),
    ...get(accumulate), WASM_OP.if, 0x40,
    ...rowPtr.flatMap((_, r) => [...cRow(r), ...v128Load(0), ...set(acc[2 * r]), ...cRow(r), ...v128Load(16), ...set(acc[2 * r + 1])]),
    WASM_OP.else,
    ...acc.flatMap((v) => [...ZERO, ...set(v)]),
    WASM_OP.end,
    ...rowPtr.flatMap((p, r) => [...get(aBlock), ...(r === 0 ? [] : [...get(rowStep), ...wasm.i32(r), MUL, ADD]), ...set(p)]),
    ...get(bp), ...get(jp), ...get(panelStride), MUL, ADD, ...wasm.tee(pb), ...get(kc), ...wasm.i32(32), MUL, ADD, ...set(pbEnd),
    ...loopUntil([...get(pb), ...get(pbEnd), WASM_OP.i32LtU, WASM_OP.i32Eqz], perK),
    ...rowPtr.flatMap((_, r) => [...cRow(r), ...get(acc[2 * r]), ...v128Store(0), ...cRow(r), ...get(acc[2 * r + 1]), ...v128Store(16)]),
  ];
  const code = [
    ...get(a), ...set(aBlock),
    ...forRange(i, wasm.i32(0), get(rows), wasm.i32(rowsPerBlock), [
      ...forRange(jp, get(p0), get(p1), wasm.i32(1), perPanel),
      ...get(aBlock), ...get(blockStep), ADD, ...set(aBlock),
    ]),
  ];
  return {
    name,
    params: Array<typeof I32>(13).fill(I32),
    results: [],
    locals: [...Array<typeof I32>(6 + rowsPerBlock).fill(I32), ...Array<typeof V128>(2 * rowsPerBlock + 3).fill(V128)],
    code,
  };
}

// packA: params a 0, dst 1, blocks 2, kc 3, ksA 4; i32 locals kk 5, b 6,
// src 7, d 8. For a transposed A (the four rows of a block side by side at
// every k): dst [blocks][kc][4] from a + k · ksA + 16 b.
function packAFunction(): WasmFunction {
  const [a, dst, blocks, kc, ksA, kk, b, src, d] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const perK = [
    ...get(a), ...get(kk), ...get(ksA), MUL, ADD, ...set(src),
    ...get(dst), ...get(kk), ...wasm.i32(16), MUL, ADD, ...set(d),
    ...forRange(b, wasm.i32(0), get(blocks), wasm.i32(1), [
      ...get(d), ...get(src), ...v128Load(0), ...v128Store(0),
      ...wasm.addTo(src, 16),
      ...get(d), ...get(kc), ...wasm.i32(16), MUL, ADD, ...set(d),
    ]),
  ];
  return { name: 'packA', params: Array<typeof I32>(5).fill(I32), results: [], locals: Array<typeof I32>(4).fill(I32), code: forRange(kk, wasm.i32(0), get(kc), wasm.i32(1), perK) };
}

// pack*: params b 0, bp 1, k 2, panels 3, ksB 4 (, csB 5); then i32 locals
// jp, kk, src, dst.
function packFunction(contiguous: boolean): WasmFunction {
  const [b, bp, k, panels, ksB, csB] = [0, 1, 2, 3, 4, 5];
  const first = contiguous ? 5 : 6;
  const [jp, kk, src, dst] = [first, first + 1, first + 2, first + 3];
  const copy = contiguous
    ? [...get(dst), ...get(src), ...v128Load(0), ...v128Store(0), ...get(dst), ...get(src), ...v128Load(16), ...v128Store(16)]
    : Array.from({ length: 8 }, (_, t) => [
        ...get(dst), ...get(src), ...(t === 0 ? [] : [...get(csB), ...wasm.i32(t), MUL, ADD]), ...wasm.f32Load(), ...wasm.f32Store(4 * t),
      ]).flat();
  const perPanel = [
    // src = b + jp · 8 · csB (contiguous: csB = 4)
    ...get(b), ...get(jp), ...(contiguous ? wasm.i32(32) : [...get(csB), ...wasm.i32(8), MUL]), MUL, ADD, ...set(src),
    ...forRange(kk, wasm.i32(0), get(k), wasm.i32(1), [...copy, ...wasm.addTo(dst, 32), ...get(src), ...get(ksB), ADD, ...set(src)]),
  ];
  const code = [...get(bp), ...set(dst), ...forRange(jp, wasm.i32(0), get(panels), wasm.i32(1), perPanel)];
  return {
    name: contiguous ? 'packContiguous' : 'packStrided',
    params: Array<typeof I32>(contiguous ? 5 : 6).fill(I32),
    results: [],
    locals: Array<typeof I32>(4).fill(I32),
    code,
  };
}

/** The module's bytes. */
export function gemmSimdModule(): Uint8Array<ArrayBuffer> {
  return wasmModuleBytes([gemmFunction(4, 'gemm4'), gemmFunction(1, 'gemm1'), packFunction(true), packFunction(false), packAFunction()]);
}

function bindGemm(exports: WebAssembly.Exports, memory: WebAssembly.Memory): GemmSimd {
  const ex = exports as unknown as Omit<GemmSimd, 'memory'>;
  return { memory, gemm4: ex.gemm4, gemm1: ex.gemm1, packContiguous: ex.packContiguous, packStrided: ex.packStrided, packA: ex.packA };
}

/** The SIMD product bound to `backend`'s heap, or null where it cannot run. */
export function gemmSimd(backend?: unknown): GemmSimd | null {
  return instantiateOnBackendMemory(gemmSimdModule, bindGemm, backend);
}

/** A product's operands as views of the module's memory, with its sizes. */
export interface GemmOperands {
  /** A [M, K], or [K, M] when transposeA. */
  a: Float32Array;
  /** B [K, N], or [N, K] when transposeB. */
  b: Float32Array;
  /** C [M, N], written whole. */
  c: Float32Array;
  /** Packed B: at least {@link packedLength}(K, N) floats. */
  packed: Float32Array;
  /** Packed blocks of a transposed A: at least {@link packedALength}(M, K) floats (optional; only read when transposeA). */
  packedA?: Float32Array;
  /** Columns past the last multiple of 8: at least 8·M floats when N % 8 ≠ 0. */
  tail: Float32Array;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** Floats of packed B for K x N. */
export function packedLength(k: number, n: number): number {
  return Math.ceil(n / 8) * 8 * k;
}

/** Floats of packed A blocks for M x K (one K block at a time). */
export function packedALength(m: number, k: number): number {
  return (m & ~3) * Math.min(K_BLOCK, k);
}

/**
 * C = op(A) · op(B) with the module bound to the views' memory (every view
 * must be of `g.memory`'s current buffer).
 */
export function runGemm(g: GemmSimd, o: GemmOperands): void {
  const { a, b, c, packed, packedA, tail, m, k, n, transposeA, transposeB } = o;
  if (k === 0) {
    c.fill(0);
    return;
  }
  if (m === 0 || n === 0) return;
  const full = n >> 3;
  const rest = n & 7;
  const panelStride = 32 * k;
  // B element (kk, j): b[kk·ksB + j·csB] (in floats).
  const [ksB, csB] = transposeB ? [1, k] : [n, 1];
  if (full > 0) {
    if (csB === 1) g.packContiguous(b.byteOffset, packed.byteOffset, k, full, 4 * ksB);
    else g.packStrided(b.byteOffset, packed.byteOffset, k, full, 4 * ksB, 4 * csB);
  }
  if (rest > 0) {
    const base = full * 8 * k;
    for (let kk = 0; kk < k; kk++) {
      for (let t = 0; t < 8; t++) packed[base + kk * 8 + t] = t < rest ? b[kk * ksB + (full * 8 + t) * csB] : 0;
    }
  }
  const [rsA, ksA] = transposeA ? [4, 4 * m] : [4 * k, 4];
  const m4 = m & ~3;
  const ldc = 4 * n;
  const aPtr = a.byteOffset;
  const bPtr = packed.byteOffset;
  const tailPtr = tail.byteOffset - full * 32;
  // A transposed: its four rows of a block lie side by side, a whole row of
  // Aᵀ apart per k (4 KB at m = 1024, where every k maps to the same L1
  // cache set); packing each K block of them first keeps the loop in cache.
  const packA = transposeA && packedA !== undefined && m4 > 0;
  for (let kb = 0; kb < k; kb += K_BLOCK) {
    const kc = Math.min(K_BLOCK, k - kb);
    const acc = kb > 0 ? 1 : 0;
    const aK = aPtr + kb * ksA;
    const bK = bPtr + kb * 32;
    if (packA) g.packA(aK, packedA.byteOffset, m4 >> 2, kc, ksA);
    const rows = (cPtr: number, ldC: number, p0: number, p1: number) => {
      if (m4 > 0) {
        if (packA) g.gemm4(packedA.byteOffset, bK, cPtr, m4, kc, p0, p1, 4, 16, panelStride, ldC, acc, 16 * kc);
        else g.gemm4(aK, bK, cPtr, m4, kc, p0, p1, rsA, ksA, panelStride, ldC, acc, 4 * rsA);
      }
      if (m4 < m) g.gemm1(aK + m4 * rsA, bK, cPtr + m4 * ldC, m - m4, kc, p0, p1, rsA, ksA, panelStride, ldC, acc, rsA);
    };
    for (let p0 = 0; p0 < full; p0 += PANELS_PER_BLOCK) rows(c.byteOffset, ldc, p0, Math.min(p0 + PANELS_PER_BLOCK, full));
    if (rest > 0) rows(tailPtr, 32, full, full + 1);
  }
  if (rest > 0) {
    for (let i = 0; i < m; i++) {
      for (let t = 0; t < rest; t++) c[i * n + full * 8 + t] = tail[i * 8 + t];
    }
  }
}
