// Benchmark inputs from a seeded integer hash, written so that
// python/torch_bench.py produces the same bytes: every value depends only on
// (seed, flat index), through 32-bit integer arithmetic and one float64
// expression rounded to float32. Both sides report a SHA-1 of each input and
// the bench checks they agree before it compares loss values.
import { createHash } from 'node:crypto';
import { hashUnit } from '@tfjs-losses/test-utils/hash';

/** How the values of one input are drawn. */
export type InputKind =
  /** float32 lo + (hi - lo) * u */
  | { kind: 'uniform'; lo: number; hi: number }
  /** int32 in [lo, hi] inclusive: lo + floor(u * (hi - lo + 1)) */
  | { kind: 'int'; lo: number; hi: number }
  /** 1 where u < p, else 0 (float32 or int32, see `dtype`) */
  | { kind: 'bernoulli'; p: number }
  /** uniform in [lo, hi), then divided by its sum along the last axis (probabilities) */
  | { kind: 'simplex'; lo: number; hi: number }
  /** uniform in [lo, hi), then divided by its L2 norm along the last axis */
  | { kind: 'unit'; lo: number; hi: number };

/** One input of a workload, as both sides generate it. */
export interface InputSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  seed: number;
  gen: InputKind;
  /** Gradients are taken with respect to this input (floating inputs only). */
  grad: boolean;
}

export type HostArray = Float32Array | Int32Array;

/** The hash (see @tfjs-losses/test-utils/hash): u in [0, 1) from (seed, index), exact in float32. */
export { hashUnit };

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Normalizes rows (the last axis) in float64, summing columns in order, then rounds to float32. */
function normalizeRows(raw: Float32Array, lastDim: number, norm: 'sum' | 'l2'): Float32Array {
  const out = new Float32Array(raw.length);
  const rows = raw.length / lastDim;
  for (let r = 0; r < rows; r++) {
    const base = r * lastDim;
    let s = 0;
    for (let c = 0; c < lastDim; c++) {
      const v = raw[base + c];
      s += norm === 'sum' ? v : v * v;
    }
    const d = norm === 'sum' ? s : Math.sqrt(s);
    for (let c = 0; c < lastDim; c++) out[base + c] = raw[base + c] / d;
  }
  return out;
}

/** The values of one input (flat, row-major). */
export function generate(spec: InputSpec): HostArray {
  const n = size(spec.shape);
  const g = spec.gen;
  if (g.kind === 'int') {
    const out = new Int32Array(n);
    const span = g.hi - g.lo + 1;
    for (let i = 0; i < n; i++) out[i] = g.lo + Math.floor(hashUnit(spec.seed, i) * span);
    return spec.dtype === 'int32' ? out : Float32Array.from(out);
  }
  if (g.kind === 'bernoulli') {
    const out = spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = hashUnit(spec.seed, i) < g.p ? 1 : 0;
    return out;
  }
  const raw = new Float32Array(n);
  for (let i = 0; i < n; i++) raw[i] = g.lo + (g.hi - g.lo) * hashUnit(spec.seed, i);
  if (g.kind === 'uniform') return raw;
  const last = spec.shape[spec.shape.length - 1];
  return normalizeRows(raw, last, g.kind === 'simplex' ? 'sum' : 'l2');
}

/** SHA-1 of the little-endian bytes, as Python's hashlib.sha1(array.tobytes()). */
export function digest(values: HostArray): string {
  return createHash('sha1').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}
