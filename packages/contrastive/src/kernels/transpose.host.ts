import { viewsInMemory, type FillKernelSpec } from '@tfjs-losses/core';
import type { TransposeSimd } from './transpose.simd';

/** Tile edge: a 64x64 float tile of the input and of the output stay in L1. */
const TILE = 64;

/**
 * Blocked transpose of `v [n, m]` into `out [m, n]`: per tile, four output
 * rows at a time, so that each input row gives four consecutive values per
 * visit (measured twice as fast as one output row at a time).
 */
function transposeTiles(v: Float32Array, out: Float32Array, n: number, m: number): void {
  for (let j0 = 0; j0 < m; j0 += TILE) {
    const j1 = Math.min(j0 + TILE, m);
    for (let i0 = 0; i0 < n; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, n);
      let j = j0;
      for (; j + 3 < j1; j += 4) {
        const o0 = j * n;
        const o1 = o0 + n;
        const o2 = o1 + n;
        const o3 = o2 + n;
        for (let i = i0; i < i1; i++) {
          const at = i * m + j;
          out[o0 + i] = v[at];
          out[o1 + i] = v[at + 1];
          out[o2 + i] = v[at + 2];
          out[o3 + i] = v[at + 3];
        }
      }
      for (; j < j1; j++) {
        const orow = j * n;
        for (let i = i0; i < i1; i++) out[orow + i] = v[i * m + j];
      }
    }
  }
}

/**
 * Transpose of a matrix `x [n, m]` in tiles, for `cpu` and `wasm` (through
 * core's `fillKernelFunc`, in place on the wasm heap). On wasm the
 * backend's Transpose walks the output a whole row apart and took two to
 * three times as long on 1024x1024.
 */
export const transposeHost: FillKernelSpec = {
  inputNames: ['x'],
  outputShapes: ([[n, m]]) => [[m, n]],
  fill: ([v], [out], _attrs, [[n, m]]) => transposeTiles(v as Float32Array, out as Float32Array, n, m),
};

/**
 * {@link transposeHost} for the wasm backend: the SIMD loop of
 * transpose.simd.ts where both sizes are multiples of 4 and the views are in
 * its memory (about three times faster at 1024x1024), the JavaScript tiles
 * otherwise.
 */
export function transposeWasm(simd: TransposeSimd | null): FillKernelSpec {
  if (simd === null) return transposeHost;
  return {
    ...transposeHost,
    fill: (inputs, outputs, attrs, shapes) => {
      const [n, m] = shapes[0];
      const v = inputs[0] as Float32Array;
      const out = outputs[0] as Float32Array;
      if (n % 4 !== 0 || m % 4 !== 0 || !viewsInMemory(simd.memory, [v, out])) {
        transposeHost.fill(inputs, outputs, attrs, shapes);
        return;
      }
      simd.transpose(v.byteOffset, out.byteOffset, n, m);
    },
  };
}
