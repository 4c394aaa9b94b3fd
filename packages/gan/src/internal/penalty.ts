import * as tf from '@tensorflow/tfjs-core';
import type { ArgChecker, TensorLike } from '@tfjs-losses/core';
import { reducedPenalty } from '../kernels/grad-penalty.kernel';
import { criticFunction, criticInputGradient, perSampleNorm, type Critic } from './critic';

/** Where the penalty's gradient is taken. */
export type GradientPenaltyMode = 'interpolated' | 'real' | 'fake';

const MODES: readonly GradientPenaltyMode[] = ['interpolated', 'real', 'fake'];

/** Checked `real` and `fake`, and the points `x` where the critic's gradient is taken. */
export function penaltyPoints(arg: ArgChecker, real: TensorLike, fake: TensorLike, mode: unknown, epsilon: TensorLike | number | undefined): { r: tf.Tensor; f: tf.Tensor; x: tf.Tensor } {
  arg.oneOf('mode', mode, MODES);
  const r = arg.float('real', real, { minRank: 1 });
  if (r.shape[0] === 0) arg.fail('real', 'must hold at least one sample; got batch size 0.');
  const f = arg.float('fake', fake, mode === 'interpolated' ? { shapeOf: ['real', r] } : { minRank: 1 });
  if (mode === 'real') return { r, f, x: r };
  if (mode === 'fake') return { r, f, x: f };
  const batch = r.shape[0];
  let eps: tf.Tensor;
  if (epsilon === undefined) eps = tf.randomUniform([batch], 0, 1, 'float32');
  else if (typeof epsilon === 'number') eps = tf.scalar(arg.number('epsilon', epsilon));
  else eps = arg.float('epsilon', epsilon, { shape: [batch] });
  if (eps.rank === 1 && r.rank > 1) eps = tf.reshape(eps, [batch, ...r.shape.slice(1).map(() => 1)]);
  // eps real + (1 - eps) fake, written with one multiply.
  return { r, f, x: tf.add(f, tf.mul(eps, tf.sub(r, f))) };
}

/** Checks lambda, target and oneSided; returns the critic's input gradient at x. */
function checkedInputGradient(arg: ArgChecker, fn: string, critic: Critic, x: tf.Tensor, lambda: number, target: number, oneSided: boolean): tf.Tensor {
  arg.nonNegative('lambda', lambda);
  arg.number('target', target);
  arg.oneOf('oneSided', oneSided, [true, false]);
  return criticInputGradient(fn, criticFunction(fn, critic), x);
}

/** Checks lambda and target; returns the per-sample penalty and norms. */
export function penaltyTerms(arg: ArgChecker, fn: string, critic: Critic, x: tf.Tensor, lambda: number, target: number, oneSided: boolean): [perSample: tf.Tensor, norms: tf.Tensor1D] {
  const norms = perSampleNorm(checkedInputGradient(arg, fn, critic, x, lambda, target, oneSided));
  const gap = tf.sub(norms, target);
  const perSample = tf.mul(tf.square(oneSided ? tf.relu(gap) : gap), lambda);
  return [perSample, norms];
}

/**
 * Checks lambda and target; returns the penalty reduced over the batch
 * ('mean' or 'sum') and the norms. One fused kernel on cpu and wasm (and one
 * for its gradient) instead of a dozen small ones.
 */
export function reducedPenaltyTerms(
  arg: ArgChecker,
  fn: string,
  critic: Critic,
  x: tf.Tensor,
  lambda: number,
  target: number,
  oneSided: boolean,
  reduction: 'mean' | 'sum',
): [penalty: tf.Scalar, norms: tf.Tensor1D] {
  return reducedPenalty(checkedInputGradient(arg, fn, critic, x, lambda, target, oneSided), lambda, target, oneSided, reduction);
}
