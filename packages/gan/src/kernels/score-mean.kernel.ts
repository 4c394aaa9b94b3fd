import * as tf from '@tensorflow/tfjs-core';
import { accurateMean, accurateSum, defineFusedOp, hostKernelFunc } from '@tfjs-losses/core';
import { scoreMeanGradHost, scoreMeanHost } from './score-mean.cpu';

/** The per-score terms of the GAN losses (see score-mean.cpu.ts). */
export type ScoreTerm = 'square' | 'hingeBelow' | 'hingeAbove' | 'linear';

/** Attributes of the score-mean kernels. */
export interface ScoreMeanAttrs {
  term: ScoreTerm;
  /** Target of 'square'. */
  target: number;
  /** Coefficient of 'linear'. */
  coef: number;
  /** Sum instead of mean. */
  sum: boolean;
}

/** The per-element term from tfjs ops (also the 'none' reduction's form). */
export function scoreTerm(x: tf.Tensor, { term, target, coef }: Pick<ScoreMeanAttrs, 'term' | 'target' | 'coef'>): tf.Tensor {
  if (term === 'square') return tf.mul(tf.squaredDifference(x, target), 0.5);
  if (term === 'hingeBelow') return tf.relu(tf.sub(1, x));
  if (term === 'hingeAbove') return tf.relu(tf.add(x, 1));
  return coef === 1 ? x : tf.mul(x, coef);
}

/**
 * dy times the derivative of the mean (or sum) of the term, from tfjs ops
 * (so it differentiates again). At the hinge the derivative is 0, as
 * PyTorch's relu gives.
 */
function scoreGradient(x: tf.Tensor, dy: tf.Tensor, { term, target, coef, sum }: ScoreMeanAttrs): tf.Tensor {
  const s = sum ? dy : tf.div(dy, Math.max(x.size, 1));
  if (term === 'square') return tf.mul(tf.sub(x, target), s);
  if (term === 'hingeBelow') return tf.mul(tf.step(tf.sub(1, x)), tf.neg(s));
  if (term === 'hingeAbove') return tf.mul(tf.step(tf.add(x, 1)), s);
  return tf.broadcastTo(tf.reshape(tf.mul(s, coef), x.shape.map(() => 1)), x.shape);
}

/** The composed form: the value from tfjs ops, the closed-form gradient above. */
function composedScoreMean(x: tf.Tensor, attrs: ScoreMeanAttrs): tf.Tensor {
  const op = tf.customGrad(((v: tf.Tensor, save: tf.GradSaveFunc) => {
    save([v]);
    const t = scoreTerm(v, attrs);
    return {
      value: attrs.sum ? accurateSum(t) : accurateMean(t),
      gradFunc: (dy: tf.Tensor, [sv]: tf.Tensor[]) => scoreGradient(sv, dy, attrs),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor;
}

/** The gradient as one kernel on cpu and wasm; used only where no tape records the backward pass. */
const scoreMeanGradOp = defineFusedOp<ScoreMeanAttrs>({
  kernelName: 'TfjsLossesGanScoreMeanGrad',
  inputNames: ['x', 'dy'],
  kernels: {
    cpu: () => hostKernelFunc('cpu', ['x', 'dy'], scoreMeanGradHost),
    wasm: () => hostKernelFunc('wasm', ['x', 'dy'], scoreMeanGradHost),
  },
  composed: ([x, dy], attrs) => scoreGradient(x, dy, attrs),
});

/**
 * Mean (or sum) of one per-score term as one kernel on cpu and wasm (a loop
 * in float64). Its gradient is one kernel too, unless the backward pass is
 * itself differentiated: then it is made of tfjs ops.
 */
const scoreMeanOp = defineFusedOp<ScoreMeanAttrs>({
  kernelName: 'TfjsLossesGanScoreMean',
  inputNames: ['x'],
  kernels: {
    cpu: () => hostKernelFunc('cpu', ['x'], scoreMeanHost),
    wasm: () => hostKernelFunc('wasm', ['x'], scoreMeanHost),
  },
  composed: ([x], attrs) => composedScoreMean(x, attrs),
  gradient: ([dy], [x], attrs) => (tf.engine().state.gradientDepth > 0 ? [scoreGradient(x, dy, attrs)] : scoreMeanGradOp([x, dy], attrs)),
});

/**
 * Above this many scores, wasm runs the composed form: its SIMD elementwise
 * kernels then beat a JavaScript loop over a copy of the scores, while below
 * it the fixed cost of each of the composed form's kernels dominates.
 */
const WASM_LOOP_LIMIT = 1 << 16;

/**
 * Mean (or sum, for reduction 'sum') of a score term, a scalar: the fused
 * kernel on cpu and (up to 65536 scores) wasm, the composed form elsewhere.
 */
export function scoreMean(x: tf.Tensor, term: ScoreTerm, reduction: 'mean' | 'sum', target = 0, coef = 1): tf.Tensor {
  const attrs: ScoreMeanAttrs = { term, target, coef, sum: reduction === 'sum' };
  if (tf.getBackend() === 'wasm' && x.size > WASM_LOOP_LIMIT) return composedScoreMean(x, attrs);
  return scoreMeanOp([x], attrs)[0];
}
