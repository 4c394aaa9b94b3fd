import * as tf from '@tensorflow/tfjs-core';
import { inputs, type ArgChecker, type KerasLoss, type TensorLike } from '@tfjs-losses/core';
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

/** Options of a loss over both mappings: the two weights and the distance. */
export interface TwoSidedDistanceOptions extends CycleDistanceOptions {
  lambdaX?: number;
  lambdaY?: number;
}

/**
 * `lambdaX mean(dist(mappedX, realX)) + lambdaY mean(dist(mappedY, realY))`
 * for the public function `fn`, whose arguments are named `names`
 * ([realX, mappedX, realY, mappedY]) in its error messages. The body of
 * `cycleConsistencyLoss` and `identityLoss`.
 */
export function twoSidedDistanceLoss(
  fn: string,
  names: readonly [string, string, string, string],
  [realX, mappedX, realY, mappedY]: readonly [TensorLike, TensorLike, TensorLike, TensorLike],
  options: TwoSidedDistanceOptions,
): tf.Scalar {
  const { lambdaX = 1, lambdaY = 1, distance = 'l1', beta = 1 } = options;
  return tf.tidy(fn, () => {
    const arg = inputs(fn);
    const x = arg.float(names[0], realX);
    const mx = arg.float(names[1], mappedX, { shapeOf: [names[0], x] });
    const y = arg.float(names[2], realY);
    const my = arg.float(names[3], mappedY, { shapeOf: [names[2], y] });
    arg.nonNegative('lambdaX', lambdaX);
    arg.nonNegative('lambdaY', lambdaY);
    checkDistance(arg, distance, beta);
    return weightedMeanDistances(mx, x, my, y, distance, beta, lambdaX, lambdaY) as tf.Scalar;
  });
}

/**
 * The Keras-style adapter `(yTrue, yPred) => lambda mean(dist(yPred, yTrue))`
 * for the public function `fn` (`cycleConsistencyLossKeras`, `identityLossKeras`).
 */
export function distanceLossKeras(fn: string, options: CycleDistanceOptions & { lambda?: number }): KerasLoss {
  const { lambda = 1, distance = 'l1', beta = 1 } = options;
  return (yTrue, yPred) =>
    tf.tidy(fn, () => {
      const arg = inputs(fn);
      const p = arg.float('yPred', yPred);
      const t = arg.float('yTrue', yTrue, { shapeOf: ['yPred', p] });
      arg.nonNegative('lambda', lambda);
      checkDistance(arg, distance, beta);
      return meanDistance(p, t, distance, beta, lambda);
    });
}
