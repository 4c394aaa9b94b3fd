import * as tf from '@tensorflow/tfjs-core';
import { formatShape, inputs, reduce, type KerasLoss, type ReductionOptions, type TensorLike } from '@tfjs-losses/core';
import { EXCLUDED, diagonalFill, diagonalMatrix, rowCrossEntropy } from './internal/row-xent';
import { inverseTemperature, temperatureRatio, type ContrastiveTemperature } from './internal/temperature';

/** Options of {@link supervisedContrastiveLoss}. */
export interface SupervisedContrastiveLossOptions extends ReductionOptions {
  /** Divides the dot products (default 0.07). A number or a scalar tensor/variable (learnable). */
  temperature?: ContrastiveTemperature;
  /** The loss is scaled by `temperature / baseTemperature` (default 0.07). */
  baseTemperature?: number;
  /** `'all'` (default): every view is an anchor; `'one'`: only the first view of each sample. */
  contrastMode?: 'all' | 'one';
  /**
   * `[N, N]` positive mask instead of labels: entry (i, j) > 0 makes sample j
   * a positive of anchor i (may be asymmetric; the value weights the pair).
   * Call as `(features, undefined, { mask })`.
   */
  mask?: TensorLike;
}

/**
 * Supervised contrastive loss, SupCon (Khosla et al. 2020), as the authors'
 * `SupConLoss`. Features `[N, V, D]` are used as given (normalize them first);
 * the contrast set is all V·N views, view-major (view 0 of every sample, then
 * view 1, ...). With P(i) the positives of anchor i (same label, or the mask,
 * every view, i itself left out) and A(i) every view but i:
 *
 *   s_ij   = f_i·f_j / T
 *   loss_i = −(T / T_base) · (1/|P(i)|) Σ_{p∈P(i)} ( s_ip − log Σ_{a∈A(i)} exp(s_ia) )
 *
 * With a mask the terms are weighted by its entries and divided by their sum.
 * An anchor with no positive contributes 0 and stays in the mean (never NaN).
 * With neither labels nor mask, the positives are the other views of the same
 * sample: the SimCLR loss. Self-similarity is excluded from the log-sum-exp,
 * which is stable without a detached maximum; the similarity matrix is one
 * matMul.
 *
 * @param features `[N, V, D]` embeddings, V views of N samples
 * @param labels   optional `[N]` integer class labels
 * @param options  temperature (0.07), baseTemperature (0.07), contrastMode ('all'), mask, reduction ('mean')
 * @returns scalar for `'mean'`/`'sum'`; for `'none'` one loss per anchor:
 *   `[V·N]` view-major for `'all'`, `[N]` for `'one'`
 * @throws LossInputError for features not of rank 3, labels not `[N]`, a mask
 *   not `[N, N]`, both labels and mask, a non-positive temperature or
 *   baseTemperature, or a bad contrastMode or reduction
 * @see https://arxiv.org/abs/2004.11362 and github.com/HobbitLong/SupContrast (losses.py, our reference)
 */
export function supervisedContrastiveLoss(
  features: TensorLike,
  labels?: TensorLike | null,
  options: SupervisedContrastiveLossOptions = {},
): tf.Tensor {
  const { temperature = 0.07, baseTemperature = 0.07, contrastMode = 'all', mask, reduction = 'mean' } = options;
  return tf.tidy('supervisedContrastiveLoss', () => {
    const arg = inputs('supervisedContrastiveLoss');
    const f = arg.float('features', features, { rank: 3 });
    const [n, views, d] = f.shape;
    if (n < 1 || views < 1) arg.fail('features', `must have at least one sample and one view; got shape ${formatShape(f.shape)}.`);
    const hasLabels = labels !== undefined && labels !== null;
    if (hasLabels && mask !== undefined) arg.fail('mask', 'cannot be given together with labels; pass one of them.');
    const mode = arg.oneOf('contrastMode', contrastMode, ['all', 'one'] as const);
    // Sample-level positives [N, N] and their diagonal [N].
    let sameSample: tf.Tensor | undefined;
    let sameDiagonal: tf.Tensor | undefined;
    if (hasLabels) {
      const l = arg.int('labels', labels, { shape: [n] });
      sameSample = tf.cast(tf.equal(tf.reshape(l, [n, 1]), tf.reshape(l, [1, n])), 'float32');
    } else if (mask !== undefined) {
      sameSample = arg.float('mask', mask, { shape: [n, n] });
      sameDiagonal = tf.gather(tf.reshape(sameSample, [n * n]), tf.range(0, n * n, n + 1, 'int32'));
    }
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum'] as const);
    arg.positive('baseTemperature', baseTemperature);
    const invT = inverseTemperature(arg, temperature);

    const anchorViews = mode === 'all' ? views : 1;
    const rows = anchorViews * n;
    const cols = views * n;
    // View-major contrast set [V·N, D]; the anchors are its first `rows` rows.
    const contrast = views === 1 ? tf.reshape(f, [n, d]) : tf.reshape(tf.transpose(f, [1, 0, 2]), [cols, d]);
    const anchors = rows === cols ? contrast : tf.slice(contrast, [0, 0], [rows, d]);
    const logits = tf.matMul(tf.mul(anchors, invT), contrast, false, true);

    // Positive weights: the sample-level mask tiled over the views, self left
    // out (minus its diagonal). Without labels or mask the positives of
    // sample i are its other views.
    const diagonal = sameDiagonal ?? tf.ones([n]);
    const selfWeights = diagonalMatrix(anchorViews > 1 ? tf.tile(diagonal, [anchorViews]) : diagonal, cols);
    const positives = tf.sub(tf.tile(sameSample ?? tf.diag(diagonal), [anchorViews, views]), selfWeights);
    // Positives per anchor, from the [N, N] mask: V · rowsum − self.
    const perSample = tf.sub(tf.mul(sameSample ? tf.sum(sameSample, 1) : tf.onesLike(diagonal), views), diagonal);
    const count = anchorViews > 1 ? tf.tile(perSample, [anchorViews]) : perSample;
    // As the authors: a count below 1e-6 divides by 1 (so no positive gives 0).
    const denom = tf.where(tf.less(count, 1e-6), tf.onesLike(count), count);
    const perAnchor = rowCrossEntropy(logits, undefined, {
      bias: diagonalFill(rows, cols, EXCLUDED),
      weights: positives,
      lseScale: tf.div(count, denom),
      weightScale: tf.reciprocal(denom),
    });
    const scale = temperatureRatio(invT, baseTemperature);
    return reduce(tf.mul(perAnchor, scale), reduction, undefined, { fn: 'supervisedContrastiveLoss' });
  });
}

/**
 * Keras-style adapter, `model.compile({ loss: supervisedContrastiveLossKeras() })`:
 * `yTrue` holds the labels (`[N]` or `[N, 1]`), `yPred` the features
 * (`[N, V, D]`, or `[N, D]` for one view).
 */
export function supervisedContrastiveLossKeras(options: Omit<SupervisedContrastiveLossOptions, 'mask'> = {}): KerasLoss {
  return (yTrue, yPred) => tf.tidy(() => {
    const labels = yTrue.rank === 2 && yTrue.shape[1] === 1 ? tf.reshape(yTrue, [yTrue.shape[0]]) : yTrue;
    const feats = yPred.rank === 2 ? tf.expandDims(yPred, 1) : yPred;
    return supervisedContrastiveLoss(feats, labels, options);
  });
}
