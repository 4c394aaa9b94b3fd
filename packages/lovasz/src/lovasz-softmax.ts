import * as tf from '@tensorflow/tfjs-core';
import { describeValue, formatShape, inputs, type KerasLoss, type TensorLike } from '@tfjs-losses/core';
import { lovaszSoftmaxOp } from './kernels/lovasz-softmax.kernel';

/**
 * float32 values of `t` in a buffer of their own. tfjs-webgpu 4.22 casts int32
 * and bool to float32 by relabelling the buffer, and its transpose program
 * then misreads the integers (wrong values); an elementwise op writes real
 * floats. Elsewhere, and for float32 input, `t` itself.
 */
function ownFloat(t: tf.Tensor, source: unknown): tf.Tensor {
  const wasFloat = source instanceof tf.Tensor && source.dtype === 'float32';
  return wasFloat || tf.getBackend() !== 'webgpu' ? t : tf.mul(tf.cast(t, 'float32'), 1);
}

/** Options of {@link lovaszSoftmax}. */
export interface LovaszSoftmaxOptions {
  /**
   * Classes averaged: `'present'` (default) those with at least one valid
   * pixel in the labels, `'all'` every class, or a list of class indices.
   */
  classes?: 'present' | 'all' | number[];
  /** Compute the loss per image and average over images (default `false`: the whole batch at once). */
  perImage?: boolean;
  /** Label value whose pixels are left out of the loss. */
  ignoreIndex?: number;
  /** Layout of 4-D input: `'channelsLast'` `[B, H, W, C]` (default) or `'channelsFirst'` `[B, C, H, W]`. */
  dataFormat?: 'channelsLast' | 'channelsFirst';
  /** `true`: the input holds logits and softmax is applied over the class axis inside (default `false`). */
  fromLogits?: boolean;
  /** One non-negative weight per class multiplying that class's term (default: all 1). */
  classWeights?: number[];
}

/**
 * Lovasz-Softmax loss (Berman, Rannen Triki and Blaschko, CVPR 2018): a
 * convex surrogate of the mean Jaccard (IoU) loss over classes.
 *
 * For each class c, with fg_c(i) = [label_i = c] and errors
 * e_c(i) = |fg_c(i) − p_c(i)| over the valid pixels, sorted decreasingly
 * (e_(1) ≥ e_(2) ≥ ...), F = Σ fg_c, and f_k, b_k the numbers of foreground
 * and other pixels among the first k sorted ones:
 *
 *   J_k = 1 − (F − f_k) / (F + b_k),   loss_c = Σ_k e_(k) (J_k − J_{k−1})
 *
 *   loss = Σ_{c ∈ classes} w_c · loss_c / |classes|
 *
 * (for `'present'`, the classes with a valid foreground pixel; w_c = 1
 * unless `classWeights`) *
 * averaged over images when `perImage`. The Jaccard gradient (J_k − J_{k−1})
 * is a constant of the sort, as in the authors' code; ties in the errors are
 * ordered by pixel position, on every backend.
 *
 * Edge cases the authors' code does not handle: an image whose pixels are
 * all ignored contributes 0 and stays in the per-image mean, a batch with
 * no valid pixel gives 0 (no NaN), a single valid pixel is computed
 * normally. With `classes: 'all'` an absent class contributes its largest
 * predicted probability, as in the authors' code.
 *
 * @param probas  class probabilities `[B, H, W, C]` (`[B, C, H, W]` with
 *   `dataFormat: 'channelsFirst'`) or flat `[P, C]`; logits with `fromLogits`
 * @param labels  class indices `[B, H, W]` (flat: `[P]`), int32 or whole
 *   floats, in [0, C − 1] or equal to `ignoreIndex`
 * @param options see {@link LovaszSoftmaxOptions}
 * @returns the loss, a scalar
 * @throws LossInputError for a wrong rank, labels whose shape does not match
 *   probas, labels out of range, an unknown `dataFormat` or `classes`,
 *   `perImage` with flat input, classWeights of the wrong length
 * @see Berman et al., "The Lovász-Softmax loss", CVPR 2018, and the authors'
 *   `lovasz_softmax` (github.com/bermanmaxim/LovaszSoftmax), our reference
 */
export function lovaszSoftmax(probas: TensorLike, labels: TensorLike, options: LovaszSoftmaxOptions = {}): tf.Scalar {
  const {
    classes = 'present',
    perImage = false,
    ignoreIndex,
    dataFormat = 'channelsLast',
    fromLogits = false,
    classWeights,
  } = options;
  return tf.tidy('lovaszSoftmax', () => {
    const arg = inputs('lovaszSoftmax');
    arg.oneOf('dataFormat', dataFormat, ['channelsLast', 'channelsFirst']);
    arg.oneOf('perImage', perImage, [true, false]);
    arg.oneOf('fromLogits', fromLogits, [true, false]);
    if (ignoreIndex !== undefined) arg.number('ignoreIndex', ignoreIndex, { integer: true });
    const x = ownFloat(arg.float('probas', probas, { rank: [2, 4] }), probas);
    const s = x.shape as number[];
    const flat = x.rank === 2;
    if (perImage && flat) {
      arg.fail('probas', `must be [B, H, W, C] (or [B, C, H, W]) when perImage is true; got flat input of shape ${formatShape(x.shape)}.`);
    }
    const first = !flat && dataFormat === 'channelsFirst';
    const numClasses = s[first ? 1 : s.length - 1];
    const labelShape = flat ? [s[0]] : first ? [s[0], s[2], s[3]] : s.slice(0, 3);
    if (x.size === 0) arg.fail('probas', `must hold at least one pixel and one class; got shape ${formatShape(x.shape)}.`);
    const y = arg.int('labels', labels, {
      shape: labelShape,
      min: 0,
      max: numClasses - 1,
      allow: ignoreIndex === undefined ? [] : [ignoreIndex],
    });

    let list: number[] | undefined;
    if (Array.isArray(classes)) {
      list = arg.numberArray('classes', classes, { integer: true, min: 0, max: numClasses - 1 });
      if (list.length === 0) arg.fail('classes', 'must list at least one class index; got an empty array.');
    } else if (classes !== 'present' && classes !== 'all') {
      arg.fail('classes', `must be "present", "all" or an array of class indices; got ${describeValue(classes)}.`);
    }
    const weights = classWeights === undefined ? undefined : arg.numberArray('classWeights', classWeights, { length: numClasses, min: 0 });

    const cls = list ?? Array.from({ length: numClasses }, (_, c) => c);
    const batch = flat ? 1 : s[0];
    const size = x.size / numClasses / batch;
    // [B, S, C] (or [B, C, S]): the layouts the op reads without moving data.
    const p3 = tf.reshape(x, first ? [batch, numClasses, size] : [batch, size, numClasses]);
    const probs = !fromLogits ? p3 : first ? tf.exp(tf.sub(p3, tf.logSumExp(p3, 1, true))) : tf.softmax(p3);
    return lovaszSoftmaxOp(probs, tf.reshape(y, [batch, size]), {
      classes: cls,
      weights: cls.map((c) => (weights ? weights[c] : 1)),
      present: classes === 'present',
      perImage,
      channelsFirst: first,
      hasIgnore: ignoreIndex !== undefined,
      ignoreIndex: ignoreIndex ?? 0,
    }) as tf.Scalar;
  });
}

/**
 * Keras-style adapter: `model.compile({ loss: lovaszSoftmaxKeras() })`.
 * `yTrue` holds class indices `[B, H, W]` or `[B, H, W, 1]`, or one-hot
 * labels of the shape of `yPred` (what tfjs-layers passes for a custom
 * loss), read by argmax over the class axis; a one-hot row of zeros marks
 * a pixel without class, which is ignored.
 */
export function lovaszSoftmaxKeras(options: LovaszSoftmaxOptions = {}): KerasLoss {
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const classAxis = yPred.rank === 4 && options.dataFormat === 'channelsFirst' ? 1 : yPred.rank - 1;
      const numClasses = yPred.shape[classAxis];
      if (yTrue.rank === yPred.rank && numClasses > 1 && tf.util.arraysEqual(yTrue.shape, yPred.shape)) {
        const oneHot = ownFloat(yTrue, yTrue);
        // −1 is never a class: it marks the empty rows unless the caller has an ignore index.
        const ignoreIndex = options.ignoreIndex ?? -1;
        const labels = tf.where(tf.greater(tf.max(oneHot, classAxis), 0), tf.argMax(oneHot, classAxis), tf.scalar(ignoreIndex, 'int32'));
        return lovaszSoftmax(yPred, labels, { ...options, ignoreIndex });
      }
      const labels = yTrue.rank === yPred.rank && yTrue.shape[classAxis] === 1 ? tf.squeeze(yTrue, [classAxis]) : yTrue;
      return lovaszSoftmax(yPred, labels, options);
    });
}
