import type * as tf from '@tensorflow/tfjs-core';
import { viewsInMemory } from '@tfjs-losses/core';
import type { DistanceKind, SimdDistance } from './distance.simd';
import type { MeanDistanceAttrs } from './mean-distance.kernel';

/*
 * Typed-array kernels (cpu and wasm backends, through core's fillKernelFunc:
 * no copies) for weighted sums of mean distances of pairs of same-shaped
 * tensors, d = a - b:
 *   'l1'      |d|                                         derivative sign(d) (0 at 0)
 *   'l2'      d^2                                         derivative 2 d
 *   'smooth'  d^2 / (2 beta) below beta, |d| - beta / 2   derivative clamp(d / beta, -1, 1)
 * Sums are accumulated in float64. On wasm the loops over groups of four
 * elements run in distance.simd.ts (in the backend's heap); the remainder
 * and the cpu backend use the loops below.
 */

type Inputs = (Float32Array | Int32Array | Uint8Array)[];
type Outputs = (Float32Array | Int32Array)[];

/** Which loop a distance uses (smooth L1 with beta 0 is L1). */
export function distanceKind({ distance, beta }: MeanDistanceAttrs): DistanceKind {
  if (distance === 'l2') return 'l2';
  return distance === 'l1' || beta === 0 ? 'l1' : 'smooth';
}

/** Sum of dist(a[i] - b[i]) for i in [from, n), in float64. */
function sumFrom(kind: DistanceKind, a: Float32Array, b: Float32Array, from: number, beta: number): number {
  const n = a.length;
  let acc = 0;
  if (kind === 'l1') {
    for (let i = from; i < n; i++) acc += Math.abs(a[i] - b[i]);
  } else if (kind === 'l2') {
    for (let i = from; i < n; i++) {
      const d = a[i] - b[i];
      acc += d * d;
    }
  } else {
    const half = 0.5 * beta;
    for (let i = from; i < n; i++) {
      const d = Math.abs(a[i] - b[i]);
      acc += d < beta ? (0.5 * d * d) / beta : d - half;
    }
  }
  return acc;
}

/** da[i] = s dist'(a[i] - b[i]), db[i] = -da[i], for i in [from, n). */
function gradFrom(kind: DistanceKind, a: Float32Array, b: Float32Array, da: Float32Array, db: Float32Array, from: number, s: number, beta: number): void {
  const n = a.length;
  if (kind === 'l1') {
    // sign(d) from two comparisons as numbers: no data-dependent branch.
    for (let i = from; i < n; i++) {
      const d = a[i] - b[i];
      const g = (+(d > 0) - +(d < 0)) * s;
      da[i] = g;
      db[i] = -g;
    }
  } else if (kind === 'l2') {
    const s2 = 2 * s;
    for (let i = from; i < n; i++) {
      const g = (a[i] - b[i]) * s2;
      da[i] = g;
      db[i] = -g;
    }
  } else {
    for (let i = from; i < n; i++) {
      const g = Math.min(Math.max((a[i] - b[i]) / beta, -1), 1) * s;
      da[i] = g;
      db[i] = -g;
    }
  }
}

/** True when every array is a view of the memory the SIMD loops work on. */
function inHeap(simd: SimdDistance | null, arrays: Float32Array[]): simd is SimdDistance {
  return simd !== null && viewsInMemory(simd, arrays);
}

function pairSum(simd: SimdDistance | null, kind: DistanceKind, a: Float32Array, b: Float32Array, beta: number): number {
  if (!inHeap(simd, [a, b])) return sumFrom(kind, a, b, 0, beta);
  const n4 = a.length >> 2;
  return simd.sum(kind, a.byteOffset, b.byteOffset, n4, beta) + sumFrom(kind, a, b, n4 << 2, beta);
}

function pairGrad(simd: SimdDistance | null, kind: DistanceKind, a: Float32Array, b: Float32Array, da: Float32Array, db: Float32Array, s: number, beta: number): void {
  if (!inHeap(simd, [a, b, da, db])) {
    gradFrom(kind, a, b, da, db, 0, s, beta);
    return;
  }
  const n4 = a.length >> 2;
  simd.grad(kind, a.byteOffset, b.byteOffset, da.byteOffset, db.byteOffset, n4, s, beta);
  gradFrom(kind, a, b, da, db, n4 << 2, s, beta);
}

/**
 * The forward fill: inputs a0, b0, a1, b1, ...; output the scalar
 * sum over pairs of weights[k] * mean(dist(a_k - b_k)) (an empty pair adds 0).
 */
export function meanDistanceFill(simd: SimdDistance | null) {
  return (inputs: Inputs, [out]: Outputs, attrs: tf.NamedAttrMap): void => {
    const a = attrs as unknown as MeanDistanceAttrs;
    const kind = distanceKind(a);
    let total = 0;
    for (let k = 0; 2 * k < inputs.length; k++) {
      const x = inputs[2 * k] as Float32Array;
      const y = inputs[2 * k + 1] as Float32Array;
      if (x.length > 0) total += (a.weights[k] * pairSum(simd, kind, x, y, a.beta)) / x.length;
    }
    out[0] = total;
  };
}

/**
 * The gradient fill: inputs a0, b0, a1, b1, ..., dy (a scalar); outputs
 * da0, db0, da1, db1, ... with da_k = dy weights[k] dist'(a_k - b_k) / N_k, db_k = -da_k.
 */
export function meanDistanceGradFill(simd: SimdDistance | null) {
  return (inputs: Inputs, outputs: Outputs, attrs: tf.NamedAttrMap): void => {
    const a = attrs as unknown as MeanDistanceAttrs;
    const kind = distanceKind(a);
    const dy = inputs[inputs.length - 1][0];
    for (let k = 0; 2 * k + 1 < inputs.length - 1; k++) {
      const x = inputs[2 * k] as Float32Array;
      if (x.length === 0) continue;
      const s = (dy * a.weights[k]) / x.length;
      pairGrad(simd, kind, x, inputs[2 * k + 1] as Float32Array, outputs[2 * k] as Float32Array, outputs[2 * k + 1] as Float32Array, s, a.beta);
    }
  };
}
