const RADIX_BITS = 11;
const BUCKETS = 1 << RADIX_BITS;
const MASK = BUCKETS - 1;
const PASSES = 3; // 11 + 11 + 10 bits cover a 32-bit key

/**
 * Stable LSD radix sort of float32 values into decreasing order; equal
 * values keep their input order (the tie rule of `tf.topk` on every
 * backend). Buffers are reused between calls.
 */
export class DescendingSorter {
  private keys: Uint32Array;
  private keysTmp: Uint32Array;
  private order: Uint32Array;
  private orderTmp: Uint32Array;
  private readonly counts = new Uint32Array(BUCKETS * PASSES);

  constructor(capacity: number) {
    this.keys = new Uint32Array(capacity);
    this.keysTmp = new Uint32Array(capacity);
    this.order = new Uint32Array(capacity);
    this.orderTmp = new Uint32Array(capacity);
  }

  /**
   * Positions in `values` from the largest value to the smallest (a view
   * into a reused buffer, valid until the next call). NaN is not expected.
   */
  sort(values: Float32Array): Uint32Array {
    const n = values.length;
    const bits = new Uint32Array(values.buffer, values.byteOffset, n);
    const counts = this.counts;
    counts.fill(0);
    let keys = this.keys;
    let order = this.order;
    for (let i = 0; i < n; i++) {
      let u = bits[i];
      if (u === 0x80000000) u = 0; // -0 ties with +0
      // An unsigned key whose increasing order is the floats' decreasing order.
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
      // A digit shared by every key leaves the order unchanged.
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
      const kt = keys;
      keys = keysOut;
      keysOut = kt;
      const ot = order;
      order = orderOut;
      orderOut = ot;
    }
    this.keys = keys;
    this.keysTmp = keysOut;
    this.order = order;
    this.orderTmp = orderOut;
    return order.subarray(0, n);
  }
}
