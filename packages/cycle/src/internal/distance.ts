import type * as tf from '@tensorflow/tfjs-core';
import type { ArgChecker } from '@tfjs-losses/core';
import { meanDistance as meanDistanceKernel, meanDistance2, type CycleDistance } from '../kernels/mean-distance.kernel';

export type { CycleDistance } from '../kernels/mean-distance.kernel';

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
 * Mean over all elements of the distance between `a` and `b` (same shape),
 * a scalar. One fused kernel on cpu and wasm, composed ops elsewhere.
 */
export function meanDistance(a: tf.Tensor, b: tf.Tensor, distance: CycleDistance, beta: number, weight = 1): tf.Tensor {
  return meanDistanceKernel(a, b, distance, beta, weight);
}

/**
 * `wa mean(dist(a, b)) + wc mean(dist(c, d))`, a scalar: one fused kernel
 * (and one for the four gradients) on cpu and wasm, composed ops elsewhere.
 */
export function weightedMeanDistances(a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, distance: CycleDistance, beta: number, wa: number, wc: number): tf.Tensor {
  return meanDistance2(a, b, c, d, distance, beta, wa, wc);
}
