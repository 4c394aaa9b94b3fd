import * as tf from '@tensorflow/tfjs-core';
import { inputs, type KerasLoss, type Reduction, type TensorLike } from '@tfjs-losses/core';
import { prepareCtcInputs } from './inputs';
import { ctcOp, ctcReducedOp } from './kernels/ctc-loss.kernel';

/** Options of {@link ctcLoss}. */
export interface CtcLossOptions {
  /**
   * Frames used per sequence, `[B]` int (a number for one `[T, C]`
   * sequence). Default: every sequence uses all T frames.
   */
  logitLengths?: TensorLike | number;
  /**
   * Label length per sequence, `[B]` int. Required for concatenated 1-D
   * labels. Default: inferred from `padValue` if given, else S (no padding).
   */
  labelLengths?: TensorLike | number;
  /** Index of the blank class. Default 0. */
  blank?: number;
  /** Logits are `[T, B, C]` (PyTorch's layout) instead of `[B, T, C]`. Default false. */
  timeMajor?: boolean;
  /**
   * `'mean'` (default): each sample's loss divided by max(its label length,
   * 1), then averaged over the batch, as PyTorch. `'sum'`, or `'none'` for
   * `[B]` (a scalar for one `[T, C]` sequence).
   */
  reduction?: Reduction;
  /**
   * Samples with no valid alignment (labels too long for their frames) give
   * loss 0 and gradient 0 instead of Infinity and NaN. Default false.
   */
  zeroInfinity?: boolean;
  /**
   * Padded `[B, S]` labels: the value that marks padding (for example -1).
   * Each label ends at its first pad value; padding must come last. Not
   * combined with `labelLengths`.
   */
  padValue?: number;
}

/**
 * Connectionist temporal classification loss (Graves et al. 2006).
 *
 * For each sequence, with log-probabilities lp = logSoftmax(logits) over C
 * classes per frame, the loss is -log p(labels | logits): minus the log of
 * the total probability of every frame-by-frame path (one class per frame)
 * that reads as the labels once repeated classes are merged and blanks
 * removed,
 *
 *   loss = -log sum over paths π with collapse(π) = labels of prod_t exp(lp[t, π_t]).
 *
 * It is computed with the log-space forward (alpha) recursion over the 2L+1
 * states of the labels with blanks around and between them; the gradient
 * comes from the forward and backward (beta) variables exactly, as softmax
 * minus the normalized occupation of each class, in one fused kernel on
 * cpu, wasm and webgpu (composed tensor ops elsewhere), never by autodiff
 * through a loop over time.
 *
 * Logits are normalized with log-softmax inside, so log-probabilities may be
 * passed as they are. A sample whose labels cannot fit in its frames (a
 * repeated label needs a blank between) has loss Infinity and NaN gradient,
 * as in PyTorch, or 0 and gradient 0 with `zeroInfinity`.
 *
 * @param logits  `[B, T, C]` scores (`[T, B, C]` with `timeMajor`; `[T, C]` for one sequence)
 * @param labels  int `[B, S]` padded labels, or 1-D concatenated labels with
 *   `labelLengths` (`[S]` for one sequence); values in [0, C) other than the
 *   blank. Entries past a label's length are never read.
 * @param options see {@link CtcLossOptions}
 * @returns a scalar for `'mean'` and `'sum'`; `[B]` (a scalar for one sequence) for `'none'`
 * @throws LossInputError on a wrong rank or shape, a length outside [0, T]
 *   or [0, S], a label outside [0, C) or equal to the blank, a blank outside
 *   [0, C), padding followed by a label, or a bad option
 * @see torch.nn.functional.ctc_loss (our reference: same value and gradient on log_softmax(logits))
 */
export function ctcLoss(logits: TensorLike, labels: TensorLike, options: CtcLossOptions = {}): tf.Tensor {
  const {
    logitLengths,
    labelLengths,
    blank = 0,
    timeMajor = false,
    reduction = 'mean',
    zeroInfinity = false,
    padValue,
  } = options;
  return tf.tidy('ctcLoss', () => {
    const arg = inputs('ctcLoss');
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum']);
    arg.oneOf('zeroInfinity', zeroInfinity, [true, false]);
    const p = prepareCtcInputs(arg, logits, labels, { logitLengths, labelLengths, blank, timeMajor, padValue });
    const ins = [p.logits, p.labels, p.logitLengths, p.labelLengths];
    const attrs = { blank, timeMajor: p.timeMajor, zeroInfinity, withGrad: tf.engine().isTapeOn() };
    if (reduction !== 'none') return ctcReducedOp(ins, { ...attrs, reduction })[0];
    const [perSample] = ctcOp(ins, attrs);
    return p.unbatched ? tf.reshape(perSample, []) : perSample;
  });
}

/** Options of {@link ctcLossKeras}. */
export interface CtcLossKerasOptions {
  /** Index of the blank class. Default 0. */
  blank?: number;
  /** Value padding `[B, S]` `yTrue` rows after each label. Default -1. */
  padValue?: number;
  /** Default `'mean'` (per-label-length mean, as {@link ctcLoss}). */
  reduction?: Reduction;
  /** Default false. */
  zeroInfinity?: boolean;
}

/**
 * Keras-style adapter: `model.compile({ loss: ctcLossKeras() })` for a
 * model whose output is `[B, T, C]` logits (all T frames used). `yTrue` is
 * either
 *
 * - `[B, T, C]`, the shape of the output (tfjs-layers' `fit` and
 *   `evaluate` reject targets of any other shape): row s of `yTrue[b]` is
 *   the one-hot encoding of label s of sequence b, and the rows after the
 *   last label are all zeros, as `tf.pad(tf.oneHot(paddedLabels, C),
 *   [[0, 0], [0, T - S], [0, 0]])` gives for `[B, S]` labels padded with -1;
 * - or `[B, S]` labels padded with `padValue` (default -1), for calling the
 *   adapter directly.
 *
 * tfjs-layers hands targets over as float32; whole numbers are accepted.
 *
 * @param options see {@link CtcLossKerasOptions}
 * @returns `(yTrue, yPred) => ctcLoss(yPred, labels, { padValue, ... })`
 * @throws LossInputError (when called) for the inputs {@link ctcLoss} rejects
 * @see ctcLoss; keras.backend.ctc_batch_cost (which takes the lengths as extra inputs)
 */
export function ctcLossKeras(options: CtcLossKerasOptions = {}): KerasLoss {
  const { blank = 0, padValue = -1, reduction = 'mean', zeroInfinity = false } = options;
  return (yTrue, yPred) => {
    if (yTrue.rank !== 3 || !tf.util.arraysEqual(yTrue.shape, yPred.shape)) {
      return ctcLoss(yPred, yTrue, { blank, padValue, reduction, zeroInfinity });
    }
    return tf.tidy('ctcLossKeras', () => {
      // One-hot rows -> class indices; an all-zero row is padding (-1 is never a class).
      const labels = tf.where(tf.greater(tf.max(yTrue, 2), 0), tf.argMax(yTrue, 2), tf.scalar(-1, 'int32'));
      return ctcLoss(yPred, labels, { blank, padValue: -1, reduction, zeroInfinity });
    });
  };
}
