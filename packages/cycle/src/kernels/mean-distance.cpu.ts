import type * as tf from '@tensorflow/tfjs-core';
import type { HostArray, HostOutput } from '@tfjs-losses/core';
import type { MeanDistanceAttrs } from './mean-distance.kernel';

/**
 * Mean distance of two same-shaped arrays in one loop (cpu backend),
 * accumulated in float64. Inputs: a, b. Output: a scalar.
 */
export function meanDistanceHost([a, b]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { distance, beta } = attrs as unknown as MeanDistanceAttrs;
  const av = a.values;
  const bv = b.values;
  const n = av.length;
  let acc = 0;
  if (distance === 'l2') {
    for (let i = 0; i < n; i++) {
      const d = av[i] - bv[i];
      acc += d * d;
    }
  } else if (distance === 'l1' || beta === 0) {
    for (let i = 0; i < n; i++) acc += Math.abs(av[i] - bv[i]);
  } else {
    const half = 0.5 / beta;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(av[i] - bv[i]);
      acc += d < beta ? half * d * d : d - 0.5 * beta;
    }
  }
  return [{ values: Float32Array.of(n > 0 ? acc / n : 0), shape: [], dtype: 'float32' }];
}

/**
 * Gradients of `dy * mean(dist(a, b))` with respect to a and b in one loop.
 * Inputs: a, b, dy (a scalar). Outputs: da, db = -da.
 */
export function meanDistanceGradHost([a, b, dy]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { distance, beta } = attrs as unknown as MeanDistanceAttrs;
  const av = a.values;
  const bv = b.values;
  const n = av.length;
  const s = n > 0 ? dy.values[0] / n : 0;
  const da = new Float32Array(n);
  const db = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const d = av[i] - bv[i];
    let g: number;
    if (distance === 'l2') g = 2 * d * s;
    else if (distance === 'l1' || beta === 0) g = d > 0 ? s : d < 0 ? -s : 0;
    else g = (d >= beta ? 1 : d <= -beta ? -1 : d / beta) * s;
    da[i] = g;
    db[i] = -g;
  }
  return [
    { values: da, shape: a.shape, dtype: 'float32' },
    { values: db, shape: b.shape, dtype: 'float32' },
  ];
}
