import type * as tf from '@tensorflow/tfjs-core';
import type { ScoreMeanAttrs, ScorePairAttrs, ScoreTerm } from './score-mean.kernel';

/*
 * Typed-array kernels (cpu and wasm backends, through core's fillKernelFunc:
 * no copies) for the mean (or sum) of per-score terms, summed in float64:
 *   'square'     0.5 (x - target)^2     derivative x - target
 *   'hingeBelow' relu(1 - x)            derivative -1 where x < 1, else 0
 *   'hingeAbove' relu(1 + x)            derivative  1 where x > -1, else 0
 *   'linear'     coef x                 derivative coef
 * A mean divides by the element count of its own tensor (0 for an empty one).
 */

type Inputs = (Float32Array | Int32Array | Uint8Array)[];
type Outputs = (Float32Array | Int32Array)[];

/** Sum of the term over v, in float64 (four running sums, one pass). */
function termSum(v: Float32Array, term: ScoreTerm, target: number, coef: number): number {
  const n = v.length;
  const m = n & ~3;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  if (term === 'square') {
    for (; i < m; i += 4) {
      const d0 = v[i] - target;
      const d1 = v[i + 1] - target;
      const d2 = v[i + 2] - target;
      const d3 = v[i + 3] - target;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; i < n; i++) {
      const d = v[i] - target;
      s0 += d * d;
    }
    return 0.5 * (s0 + s1 + s2 + s3);
  }
  if (term === 'hingeBelow' || term === 'hingeAbove') {
    // relu(1 - x) or relu(1 + x): relu(1 + sign x), sign -1 or 1.
    const k = term === 'hingeBelow' ? -1 : 1;
    for (; i < m; i += 4) {
      s0 += Math.max(1 + k * v[i], 0);
      s1 += Math.max(1 + k * v[i + 1], 0);
      s2 += Math.max(1 + k * v[i + 2], 0);
      s3 += Math.max(1 + k * v[i + 3], 0);
    }
    for (; i < n; i++) s0 += Math.max(1 + k * v[i], 0);
    return s0 + s1 + s2 + s3;
  }
  for (; i < m; i += 4) {
    s0 += v[i];
    s1 += v[i + 1];
    s2 += v[i + 2];
    s3 += v[i + 3];
  }
  for (; i < n; i++) s0 += v[i];
  return coef * (s0 + s1 + s2 + s3);
}

/** g = s times the term's derivative at v. */
function termGrad(v: Float32Array, g: Float32Array, term: ScoreTerm, target: number, coef: number, s: number): void {
  const n = v.length;
  if (term === 'square') {
    for (let i = 0; i < n; i++) g[i] = (v[i] - target) * s;
  } else if (term === 'hingeBelow') {
    // Selects instead of branches (random scores defeat the branch
    // predictor); 0 − (s · 0) and s · 0 + 0 keep the zeros +0.
    for (let i = 0; i < n; i++) g[i] = 0 - s * (v[i] < 1 ? 1 : 0);
  } else if (term === 'hingeAbove') {
    for (let i = 0; i < n; i++) g[i] = s * (v[i] > -1 ? 1 : 0) + 0;
  } else {
    g.fill(coef * s);
  }
}

/** The divisor of a reduction over n elements (0 marks an empty mean, whose value and gradient are 0). */
function divisor(n: number, sum: boolean): number {
  return sum ? 1 : n;
}

function scaled(total: number, div: number): number {
  return div > 0 ? total / div : 0;
}

/** Inputs: x. Output: the scalar mean (or sum) of the term. */
export function fillScoreMean([x]: Inputs, [out]: Outputs, attrs: tf.NamedAttrMap): void {
  const { term, target, coef, sum } = attrs as unknown as ScoreMeanAttrs;
  const v = x as Float32Array;
  out[0] = scaled(termSum(v, term, target, coef), divisor(v.length, sum));
}

/** Inputs: x, dy (a scalar). Output: dy times the term's derivative, divided by N for a mean. */
export function fillScoreMeanGrad([x, dy]: Inputs, [g]: Outputs, attrs: tf.NamedAttrMap): void {
  const { term, target, coef, sum } = attrs as unknown as ScoreMeanAttrs;
  const v = x as Float32Array;
  termGrad(v, g as Float32Array, term, target, coef, scaled(dy[0], divisor(v.length, sum)));
}

/** Inputs: real, fake. Output: the scalar sum of both reduced terms. */
export function fillScorePair([real, fake]: Inputs, [out]: Outputs, attrs: tf.NamedAttrMap): void {
  const a = attrs as unknown as ScorePairAttrs;
  const r = real as Float32Array;
  const f = fake as Float32Array;
  out[0] =
    scaled(termSum(r, a.realTerm, a.realTarget, a.realCoef), divisor(r.length, a.sum)) +
    scaled(termSum(f, a.fakeTerm, a.fakeTarget, a.fakeCoef), divisor(f.length, a.sum));
}

/** Inputs: real, fake, dy (a scalar). Outputs: both gradients. */
export function fillScorePairGrad([real, fake, dy]: Inputs, [gr, gf]: Outputs, attrs: tf.NamedAttrMap): void {
  const a = attrs as unknown as ScorePairAttrs;
  const r = real as Float32Array;
  const f = fake as Float32Array;
  termGrad(r, gr as Float32Array, a.realTerm, a.realTarget, a.realCoef, scaled(dy[0], divisor(r.length, a.sum)));
  termGrad(f, gf as Float32Array, a.fakeTerm, a.fakeTarget, a.fakeCoef, scaled(dy[0], divisor(f.length, a.sum)));
}
