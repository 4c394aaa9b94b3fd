import type * as tf from '@tensorflow/tfjs-core';
import type { HostArray, HostOutput } from '@tfjs-losses/core';
import type { ScoreMeanAttrs } from './score-mean.kernel';

/*
 * Typed-array kernels (cpu and wasm backends) for the mean (or sum) of one per-score
 * term, in float64:
 *   'square'     0.5 (x - target)^2     derivative x - target
 *   'hingeBelow' relu(1 - x)            derivative -1 where x < 1, else 0
 *   'hingeAbove' relu(1 + x)            derivative  1 where x > -1, else 0
 *   'linear'     coef x                 derivative coef
 */

/** Inputs: x. Output: the scalar mean (or sum) of the term. */
export function scoreMeanHost([x]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { term, target, coef, sum } = attrs as unknown as ScoreMeanAttrs;
  const v = x.values;
  const n = v.length;
  let acc = 0;
  if (term === 'square') {
    for (let i = 0; i < n; i++) {
      const d = v[i] - target;
      acc += d * d;
    }
    acc *= 0.5;
  } else if (term === 'hingeBelow') {
    for (let i = 0; i < n; i++) if (v[i] < 1) acc += 1 - v[i];
  } else if (term === 'hingeAbove') {
    for (let i = 0; i < n; i++) if (v[i] > -1) acc += 1 + v[i];
  } else {
    for (let i = 0; i < n; i++) acc += v[i];
    acc *= coef;
  }
  return [{ values: Float32Array.of(sum ? acc : n > 0 ? acc / n : 0), shape: [], dtype: 'float32' }];
}

/** Inputs: x, dy (a scalar). Output: dy times the term's derivative, divided by N for a mean. */
export function scoreMeanGradHost([x, dy]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { term, target, coef, sum } = attrs as unknown as ScoreMeanAttrs;
  const v = x.values;
  const n = v.length;
  const s = sum ? dy.values[0] : n > 0 ? dy.values[0] / n : 0;
  const g = new Float32Array(n);
  if (term === 'square') for (let i = 0; i < n; i++) g[i] = (v[i] - target) * s;
  else if (term === 'hingeBelow') for (let i = 0; i < n; i++) g[i] = v[i] < 1 ? -s : 0;
  else if (term === 'hingeAbove') for (let i = 0; i < n; i++) g[i] = v[i] > -1 ? s : 0;
  else g.fill(coef * s);
  return [{ values: g, shape: x.shape, dtype: 'float32' }];
}
