import type { HostArray, HostOutput } from '@tfjs-losses/core';

const RADIX_BITS = 11;
const BUCKETS = 1 << RADIX_BITS;
const MASK = BUCKETS - 1;
const PASSES = 3; // 11 + 11 + 10 bits cover a 32-bit key

/**
 * Stable LSD radix sort of float32 values into descending order; equal
 * values keep ascending position (the order `tf.topk` gives on every
 * backend). Buffers are reused between rows of one kernel call.
 */
class DescendingSorter {
  private keys: Uint32Array;
  private keysTmp: Uint32Array;
  private order: Uint32Array;
  private orderTmp: Uint32Array;
  private readonly counts = new Uint32Array(BUCKETS * PASSES);

  constructor(n: number) {
    this.keys = new Uint32Array(n);
    this.keysTmp = new Uint32Array(n);
    this.order = new Uint32Array(n);
    this.orderTmp = new Uint32Array(n);
  }

  /** Positions of `values` from largest to smallest value. */
  sort(values: Float32Array): Uint32Array {
    const n = values.length;
    const bits = new Uint32Array(values.buffer, values.byteOffset, n);
    const counts = this.counts;
    counts.fill(0);
    let keys = this.keys;
    let order = this.order;
    for (let i = 0; i < n; i++) {
      let u = bits[i];
      if (u === 0x80000000) u = 0; // -0 sorts with +0
      // Unsigned key whose ascending order is the floats' descending order.
      const k = (u & 0x80000000 ? u : u ^ 0x7fffffff) >>> 0;
      keys[i] = k;
      order[i] = i;
      counts[k & MASK]++;
      counts[BUCKETS + ((k >>> RADIX_BITS) & MASK)]++;
      counts[2 * BUCKETS + (k >>> (2 * RADIX_BITS))]++;
    }
    let keysOut = this.keysTmp;
    let orderOut = this.orderTmp;
    for (let pass = 0; pass < PASSES; pass++) {
      const base = pass * BUCKETS;
      const shift = pass * RADIX_BITS;
      // A digit shared by every key leaves the order as it is.
      let skip = false;
      let sum = 0;
      for (let b = 0; b < BUCKETS; b++) {
        const c = counts[base + b];
        if (c === n) skip = true;
        counts[base + b] = sum;
        sum += c;
      }
      if (skip) continue;
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        const pos = counts[base + ((k >>> shift) & MASK)]++;
        keysOut[pos] = k;
        orderOut[pos] = order[i];
      }
      [keys, keysOut] = [keysOut, keys];
      [order, orderOut] = [orderOut, order];
    }
    this.keys = keys;
    this.keysTmp = keysOut;
    this.order = order;
    this.orderTmp = orderOut;
    return order;
  }
}

/**
 * The Lovasz extension of the Jaccard loss, row by row, on typed arrays.
 *
 * Inputs: `errors` [R, N] (negative entries are excluded: they sort last and
 * contribute nothing) and `fg` [R, N] (1 for foreground, else 0). Each row is
 * sorted by decreasing error; with F the row's foreground count and, after
 * the first i sorted entries, f_i foreground and b_i others,
 *
 *   J_i = 1 - (F - f_i) / (F + b_i),   g_i = J_i - J_{i-1}  (J_0 = 0),
 *   loss = sum_i max(e_(i), 0) g_i.
 *
 * Outputs: `loss` [R] and `weights` [R, N], the gradient of each row's loss
 * with respect to its errors in the original order (g at the entry's sorted
 * rank where its error is > 0, else 0). Accumulates in float64.
 */
export function lovaszHost([errors, fg]: HostArray[]): HostOutput[] {
  const [rows, n] = errors.shape;
  const loss = new Float32Array(rows);
  const weights = new Float32Array(rows * n);
  const sorter = new DescendingSorter(n);
  const ev = errors.values as Float32Array;
  const fv = fg.values;
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    const e = ev.subarray(off, off + n);
    let total = 0;
    for (let i = 0; i < n; i++) total += fv[off + i];
    const order = sorter.sort(e);
    let cumFg = 0;
    let prevJac = 0;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const j = order[i];
      cumFg += fv[off + j];
      const jac = 1 - (total - cumFg) / (total + (i + 1 - cumFg));
      const ej = e[j];
      if (ej > 0) {
        const g = jac - prevJac;
        weights[off + j] = g;
        acc += ej * g;
      } else if (!(ej <= 0)) {
        // NaN error: propagate like the composed ops do.
        weights[off + j] = NaN;
        acc = NaN;
      }
      prevJac = jac;
    }
    loss[r] = acc;
  }
  return [
    { values: loss, shape: [rows], dtype: 'float32' },
    { values: weights, shape: [rows, n], dtype: 'float32' },
  ];
}
