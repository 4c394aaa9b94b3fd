import * as tf from '@tensorflow/tfjs-core';
import { accurateMean, accurateSum, defineFusedOp, fillKernelFunc, type BackendKernels, type FillKernelSpec } from '@tfjs-losses/core';
import { fillScoreMean, fillScoreMeanGrad, fillScorePair, fillScorePairGrad } from './score-mean.cpu';
import { scoreMeanGradWebGPU, scorePairGradWebGPU } from './score-mean.webgpu';

/** The per-score terms of the GAN losses (see score-mean.cpu.ts). */
export type ScoreTerm = 'square' | 'hingeBelow' | 'hingeAbove' | 'linear';

/** One term: which, with its target ('square') or coefficient ('linear'). */
export interface TermAttrs {
  term: ScoreTerm;
  target: number;
  coef: number;
}

/** Attributes of the score-mean kernels. */
export interface ScoreMeanAttrs extends TermAttrs {
  /** Sum instead of mean. */
  sum: boolean;
}

/** Attributes of the score-pair kernels: one term for the real scores, one for the fake ones. */
export interface ScorePairAttrs {
  realTerm: ScoreTerm;
  realTarget: number;
  realCoef: number;
  fakeTerm: ScoreTerm;
  fakeTarget: number;
  fakeCoef: number;
  /** Sums instead of means. */
  sum: boolean;
}

/** The per-element term from tfjs ops (also the 'none' reduction's form). */
export function scoreTerm(x: tf.Tensor, { term, target, coef }: TermAttrs): tf.Tensor {
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

/** The real and fake halves of pair attributes. */
function halves(a: ScorePairAttrs): [ScoreMeanAttrs, ScoreMeanAttrs] {
  return [
    { term: a.realTerm, target: a.realTarget, coef: a.realCoef, sum: a.sum },
    { term: a.fakeTerm, target: a.fakeTarget, coef: a.fakeCoef, sum: a.sum },
  ];
}

/** The reduced term from tfjs ops (not differentiated: the composed forms give the gradient). */
function reducedValue(x: tf.Tensor, attrs: ScoreMeanAttrs): tf.Tensor {
  const t = scoreTerm(x, attrs);
  return attrs.sum ? accurateSum(t) : accurateMean(t);
}

/**
 * The composed form of one term: the value from tfjs ops, the closed-form
 * gradient (on webgpu one dispatch, where the backward pass is not itself
 * differentiated).
 */
function composedScoreMean(x: tf.Tensor, attrs: ScoreMeanAttrs): tf.Tensor {
  const op = tf.customGrad(((v: tf.Tensor, save: tf.GradSaveFunc) => {
    save([v]);
    return {
      value: reducedValue(v, attrs),
      gradFunc: (dy: tf.Tensor, [sv]: tf.Tensor[]) => (backwardIsRecorded() ? scoreGradient(sv, dy, attrs) : scoreMeanGradOp([sv, dy], attrs)[0]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor;
}

/** The composed form of a pair: one customGrad over both tensors. */
function composedScorePair(real: tf.Tensor, fake: tf.Tensor, attrs: ScorePairAttrs): tf.Tensor {
  const [ra, fa] = halves(attrs);
  const op = tf.customGrad(((r: tf.Tensor, f: tf.Tensor, save: tf.GradSaveFunc) => {
    save([r, f]);
    return {
      value: tf.add(reducedValue(r, ra), reducedValue(f, fa)),
      gradFunc: (dy: tf.Tensor, [sr, sf]: tf.Tensor[]) =>
        backwardIsRecorded() ? [scoreGradient(sr, dy, ra), scoreGradient(sf, dy, fa)] : scorePairGradOp([sr, sf, dy], attrs),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(real, fake) as tf.Tensor;
}

/** True while an outer tape records the backward pass (a gradient of a gradient). */
function backwardIsRecorded(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

const scalarShape = (): number[][] => [[]];

/** A fill kernel on cpu and wasm (no copies: core's fillKernelFunc). */
function hostKernels(spec: FillKernelSpec): BackendKernels {
  return { cpu: () => fillKernelFunc('cpu', spec), wasm: () => fillKernelFunc('wasm', spec) };
}

/** The gradient of one term as one kernel (cpu, wasm, webgpu); used only where no tape records the backward pass. */
const scoreMeanGradOp = defineFusedOp<ScoreMeanAttrs>({
  kernelName: 'TfjsLossesGanScoreMeanGrad',
  inputNames: ['x', 'dy'],
  kernels: { ...hostKernels({ inputNames: ['x', 'dy'], outputShapes: ([x]) => [x], fill: fillScoreMeanGrad }), webgpu: () => scoreMeanGradWebGPU },
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
  kernels: hostKernels({ inputNames: ['x'], outputShapes: scalarShape, fill: fillScoreMean }),
  composed: ([x], attrs) => composedScoreMean(x, attrs),
  gradient: ([dy], [x], attrs) => (backwardIsRecorded() ? [scoreGradient(x, dy, attrs)] : scoreMeanGradOp([x, dy], attrs)),
});

/** Both gradients of a pair as one kernel (cpu, wasm; two dispatches on webgpu); used only where no tape records the backward pass. */
const scorePairGradOp = defineFusedOp<ScorePairAttrs>({
  kernelName: 'TfjsLossesGanScorePairGrad',
  inputNames: ['real', 'fake', 'dy'],
  kernels: {
    ...hostKernels({ inputNames: ['real', 'fake', 'dy'], outputShapes: ([r, f]) => [r, f], fill: fillScorePairGrad }),
    webgpu: () => scorePairGradWebGPU,
  },
  composed: ([r, f, dy], attrs) => {
    const [ra, fa] = halves(attrs);
    return [scoreGradient(r, dy, ra), scoreGradient(f, dy, fa)];
  },
});

/**
 * reduced(realTerm(real)) + reduced(fakeTerm(fake)) as one kernel on cpu and
 * wasm, and both gradients as one more: a discriminator loss is two kernels
 * (plus the engine's copies of the saved inputs) instead of a handful.
 */
const scorePairOp = defineFusedOp<ScorePairAttrs>({
  kernelName: 'TfjsLossesGanScorePair',
  inputNames: ['real', 'fake'],
  kernels: hostKernels({ inputNames: ['real', 'fake'], outputShapes: scalarShape, fill: fillScorePair }),
  composed: ([r, f], attrs) => composedScorePair(r, f, attrs),
  gradient: ([dy], [r, f], attrs) => {
    if (!backwardIsRecorded()) return scorePairGradOp([r, f, dy], attrs);
    const [ra, fa] = halves(attrs);
    return [scoreGradient(r, dy, ra), scoreGradient(f, dy, fa)];
  },
});

/**
 * Mean (or sum, for reduction 'sum') of a score term, a scalar: the fused
 * kernel on cpu and wasm, the composed form elsewhere.
 */
export function scoreMean(x: tf.Tensor, term: ScoreTerm, reduction: 'mean' | 'sum', target = 0, coef = 1): tf.Tensor {
  return scoreMeanOp([x], { term, target, coef, sum: reduction === 'sum' })[0];
}

/**
 * reduced(realTerm(real)) + reduced(fakeTerm(fake)), each a mean over its
 * own tensor (or a sum for reduction 'sum'), a scalar.
 */
export function scorePairMean(real: tf.Tensor, fake: tf.Tensor, realTerm: TermAttrs, fakeTerm: TermAttrs, reduction: 'mean' | 'sum'): tf.Tensor {
  const attrs: ScorePairAttrs = {
    realTerm: realTerm.term,
    realTarget: realTerm.target,
    realCoef: realTerm.coef,
    fakeTerm: fakeTerm.term,
    fakeTarget: fakeTerm.target,
    fakeCoef: fakeTerm.coef,
    sum: reduction === 'sum',
  };
  return scorePairOp([real, fake], attrs)[0];
}
