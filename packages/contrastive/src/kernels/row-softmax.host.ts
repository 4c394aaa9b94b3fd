import type { TypedKernel } from './typed-kernel';
import { EXCLUDED } from '../internal/excluded';

/**
 * Typed-array kernel of the masked row softmax, for the `cpu` backend (whose
 * broadcasting binary ops cost about 70 ns per element): one pass per row.
 *
 * Inputs: `logits [n, m]`, `bias` (`[]` for none, `[m]` or `[n, m]`, 0 keeps,
 * EXCLUDED drops). Attr `excludeDiagonal` drops (i, i). Outputs:
 * `lse [n]`, the log-sum-exp over the kept entries (EXCLUDED for a row with
 * none), and `p [n, m]`, their softmax (0 at dropped entries).
 */
export const rowSoftmaxHost: TypedKernel = {
  outputShapes: ([[n, m]]) => [[n], [n, m]],
  run: ([x, b], [[n, m], biasShape], [lse, p], attrs) => {
    const biasRows = biasShape.length === 2;
    const hasBias = biasShape.length > 0;
    const excludeDiagonal = Boolean(attrs.excludeDiagonal);
    p.fill(0);
    const dropped = EXCLUDED / 2;
    for (let i = 0; i < n; i++) {
      const row = i * m;
      const brow = biasRows ? row : 0;
      let max = -Infinity;
      for (let j = 0; j < m; j++) {
        const v = hasBias ? x[row + j] + b[brow + j] : x[row + j];
        if (v > max && v > dropped && !(excludeDiagonal && j === i)) max = v;
      }
      if (max === -Infinity) {
        // No kept entry (p stays 0); NaN logits also end here and stay NaN.
        lse[i] = Number.isNaN(x[row]) ? Number.NaN : EXCLUDED;
        continue;
      }
      let sum = 0;
      for (let j = 0; j < m; j++) {
        const v = hasBias ? x[row + j] + b[brow + j] : x[row + j];
        if (v <= dropped || (excludeDiagonal && j === i)) continue;
        const e = Math.exp(v - max);
        p[row + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = row; j < row + m; j++) p[j] *= inv;
      lse[i] = max + Math.log(sum);
    }
  },
};
