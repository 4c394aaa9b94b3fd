import * as tf from '@tensorflow/tfjs-core';
import { absZeroGrad, accurateMean, type ArgChecker } from '@tfjs-losses/core';

/** How a reconstruction is compared with its original. */
export type CycleDistance = 'l1' | 'l2' | 'smoothL1';

const DISTANCES: readonly CycleDistance[] = ['l1', 'l2', 'smoothL1'];

/** The distance options every function of the package shares. */
export interface CycleDistanceOptions {
  /**
   * `'l1'` (default, CycleGAN): mean |a - b|; `'l2'`: mean (a - b)^2 (the
   * squared error, as PyTorch's `MSELoss`); `'smoothL1'`: mean Huber-style
   * smooth L1 with threshold `beta`.
   */
  distance?: CycleDistance;
  /** Threshold of `'smoothL1'` (PyTorch's `beta`), >= 0; 0 gives L1. Default 1. */
  beta?: number;
}

/** Checks the distance options. */
export function checkDistance(arg: ArgChecker, distance: unknown, beta: unknown): void {
  arg.oneOf('distance', distance, DISTANCES);
  arg.nonNegative('beta', beta);
}

/**
 * Mean over all elements of the distance between `a` and `b` (same shape).
 * The gradient of |d| at d = 0 is 0, as in PyTorch.
 */
export function meanDistance(a: tf.Tensor, b: tf.Tensor, distance: CycleDistance, beta: number): tf.Tensor {
  const d = tf.sub(a, b);
  if (distance === 'l2') return accurateMean(tf.square(d));
  const ad = absZeroGrad(d);
  if (distance === 'l1' || beta === 0) return accurateMean(ad);
  // Smooth L1 in one expression: with m = min(|d|, beta), m (|d| - m / 2) / beta
  // is d^2 / (2 beta) below beta and |d| - beta / 2 above.
  const m = tf.minimum(ad, beta);
  return tf.div(accurateMean(tf.mul(m, tf.sub(ad, tf.mul(m, 0.5)))), beta);
}
