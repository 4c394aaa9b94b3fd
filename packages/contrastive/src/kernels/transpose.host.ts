import type { TypedKernel } from './typed-kernel';

/** Tile edge: a 64x64 float tile of the input and of the output stay in L1. */
const TILE = 64;

/**
 * Transpose of a matrix `x [n, m]` in tiles, for `cpu` and `wasm`. On wasm it
 * measured 7.5 ms for 1024x1024 (48 ms for 2048x2048) against 19.5 ms (90 ms)
 * for the backend's Transpose, which walks the output a whole row apart.
 */
export const transposeHost: TypedKernel = {
  outputShapes: ([[n, m]]) => [[m, n]],
  run: ([v], [[n, m]], [out]) => {
    for (let i0 = 0; i0 < n; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, n);
      for (let j0 = 0; j0 < m; j0 += TILE) {
        const j1 = Math.min(j0 + TILE, m);
        for (let j = j0; j < j1; j++) {
          const orow = j * n;
          for (let i = i0; i < i1; i++) out[orow + i] = v[i * m + j];
        }
      }
    }
  },
};
