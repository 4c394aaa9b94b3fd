import * as tf from '@tensorflow/tfjs-core';
import { LossInputError, describeValue, inputs, type TensorLike } from '@tfjs-losses/core';
import { cycleConsistencyLoss, type CycleConsistencyLossOptions } from './cycle-consistency-loss';

/** A mapping between domains: a function of a tensor, or anything with `apply(x)` (a `tf.LayersModel`). */
export type CycleMapping = ((x: tf.Tensor) => tf.Tensor) | { apply(inputs: tf.Tensor, kwargs?: Record<string, unknown>): unknown };

/** Options of {@link cycleConsistency}. */
export interface CycleConsistencyOptions extends CycleConsistencyLossOptions {
  /** Also return the translations and reconstructions (to reuse G(x) and F(y) in the adversarial losses). Default false. */
  returnOutputs?: boolean;
}

/** What {@link cycleConsistency} returns with `returnOutputs: true`. */
export type CycleConsistencyResult = {
  /** The cycle-consistency loss. */
  loss: tf.Scalar;
  /** G(x). */
  fakeY: tf.Tensor;
  /** F(y). */
  fakeX: tf.Tensor;
  /** F(G(x)). */
  reconstructedX: tf.Tensor;
  /** G(F(y)). */
  reconstructedY: tf.Tensor;
};

function mappingFunction(name: string, m: unknown): (x: tf.Tensor) => tf.Tensor {
  const call = typeof m === 'function'
    ? (m as (x: tf.Tensor) => unknown)
    : typeof m === 'object' && m !== null && typeof (m as { apply?: unknown }).apply === 'function'
      ? (x: tf.Tensor) => (m as { apply(x: tf.Tensor): unknown }).apply(x)
      : undefined;
  if (!call) throw new LossInputError('cycleConsistency', name, `must be a function of a tensor or an object with apply(x) (a tf.LayersModel); got ${describeValue(m)}.`);
  return (x) => {
    const out = call(x);
    if (!(out instanceof tf.Tensor)) {
      throw new LossInputError('cycleConsistency', name, `must return one tensor; got ${Array.isArray(out) ? `an array of length ${out.length}` : describeValue(out)}.`);
    }
    return out;
  };
}

/**
 * {@link cycleConsistencyLoss} with the reconstructions computed by the two
 * mappings, G: X -> Y and F: Y -> X:
 *
 *     L_cyc = lambdaX E|F(G(x)) - x| + lambdaY E|G(F(y)) - y|
 *
 * Differentiable with respect to the variables of G and F (use it inside
 * `optimizer.minimize`). With `returnOutputs`, also returns G(x), F(y) and
 * both reconstructions, so the adversarial losses need no second pass.
 *
 * @param G the mapping X -> Y (a function of a tensor or a `tf.LayersModel`)
 * @param F the mapping Y -> X
 * @param x a batch from domain X
 * @param y a batch from domain Y
 * @param options as {@link cycleConsistencyLoss}, plus `returnOutputs` (false)
 * @returns the scalar loss; with `returnOutputs`, `{ loss, fakeY, fakeX, reconstructedX, reconstructedY }`
 * @throws LossInputError if a mapping is not callable or returns no tensor,
 *   F(G(x)) does not have the shape of x (or G(F(y)) that of y), or an option is invalid
 * @see cycleConsistencyLoss
 */
export function cycleConsistency(G: CycleMapping, F: CycleMapping, x: TensorLike, y: TensorLike, options: CycleConsistencyOptions & { returnOutputs: true }): CycleConsistencyResult;
export function cycleConsistency(G: CycleMapping, F: CycleMapping, x: TensorLike, y: TensorLike, options?: CycleConsistencyOptions): tf.Scalar;
export function cycleConsistency(G: CycleMapping, F: CycleMapping, x: TensorLike, y: TensorLike, options: CycleConsistencyOptions = {}): tf.Scalar | CycleConsistencyResult {
  const { returnOutputs = false, ...lossOptions } = options;
  return tf.tidy('cycleConsistency', () => {
    const arg = inputs('cycleConsistency');
    const g = mappingFunction('G', G);
    const f = mappingFunction('F', F);
    const xs = arg.float('x', x);
    const ys = arg.float('y', y);
    const fakeY = g(xs);
    const reconstructedX = f(fakeY);
    arg.checkShape('F(G(x))', reconstructedX, { shapeOf: ['x', xs] });
    const fakeX = f(ys);
    const reconstructedY = g(fakeX);
    arg.checkShape('G(F(y))', reconstructedY, { shapeOf: ['y', ys] });
    const loss = cycleConsistencyLoss(xs, reconstructedX, ys, reconstructedY, lossOptions);
    return returnOutputs ? { loss, fakeY, fakeX, reconstructedX, reconstructedY } : loss;
  }) as tf.Scalar | CycleConsistencyResult;
}
