import * as tf from '@tensorflow/tfjs-core';
import { canReadSync, formatShape, inputs, reduce, type KerasLoss, type ReductionOptions, type TensorLike } from '@tfjs-losses/core';
import { constantTimes, gramLogSumExp, matMulLogSumExp } from './internal/contrastive-lse';
import { inverseTemperature, temperatureRatio, type ContrastiveTemperature } from './internal/temperature';
import { supconAllViews, supconAllViewsAvailable } from './internal/supcon-all';

/** Labels are compared in float32, exact up to 2^24 in magnitude. */
const LABEL_LIMIT = 2 ** 24;

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
 * @param labels   optional `[N]` integer class labels, |label| ≤ 2^24
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
    // Sample-level positives M [N, N] (none: the identity) and their diagonal.
    let same: tf.Tensor | undefined;
    let sameDiagonal: tf.Tensor | undefined;
    const l = hasLabels ? arg.int('labels', labels, { shape: [n], min: -LABEL_LIMIT, max: LABEL_LIMIT }) : undefined;
    if (mask === undefined && mode === 'all' && typeof temperature === 'number' && n * views >= 2 && supconAllViewsAvailable()) {
      // cpu, wasm: the positives per class in D-space, no [N, N] mask (no
      // labels: each sample its own class, the SimCLR loss).
      arg.oneOf('reduction', reduction, ['none', 'mean', 'sum'] as const);
      arg.positive('baseTemperature', baseTemperature);
      const it = inverseTemperature(arg, temperature) as number;
      const contrast = views === 1 ? tf.reshape(f, [n, d]) : tf.reshape(tf.transpose(f, [1, 0, 2]), [views * n, d]);
      const classes = l ? tf.cast(l, 'int32') : tf.range(0, n, 1, 'int32');
      const perAnchor = supconAllViews(contrast, classes, it, 1 / (it * baseTemperature));
      return reduce(perAnchor, reduction, undefined, { fn: 'supervisedContrastiveLoss' });
    }
    if (l) {
      // 1 where the labels agree: 1 − min(|l_i − l_j|, 1) in float32 (exact for
      // labels below 2^24), as wasm's broadcasting Equal and int32 Sub are
      // two orders of magnitude slower than its float32 Sub.
      const lf = tf.cast(l, 'float32');
      same = tf.sub(1, tf.minimum(tf.abs(tf.sub(tf.reshape(lf, [n, 1]), tf.reshape(lf, [1, n]))), 1));
    } else if (mask !== undefined) {
      same = arg.float('mask', mask, { shape: [n, n] });
      sameDiagonal = tf.gather(tf.reshape(same, [n * n]), tf.range(0, n * n, n + 1, 'int32'));
    }
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum'] as const);
    arg.positive('baseTemperature', baseTemperature);
    const invT = inverseTemperature(arg, temperature);

    const anchorViews = mode === 'all' ? views : 1;
    const rows = anchorViews * n;
    // View-major contrast set [V·N, D]; the anchors are its first `rows` rows.
    const contrast = views === 1 ? tf.reshape(f, [n, d]) : tf.reshape(tf.transpose(f, [1, 0, 2]), [views * n, d]);
    const anchors = anchorViews === views ? contrast : tf.slice(contrast, [0, 0], [rows, d]);
    const scaled = tf.mul(anchors, invT);
    // Sample-level rows repeated for each anchor view (concat: wasm's Tile is slow).
    const perView = (t: tf.Tensor) => (anchorViews > 1 ? tf.concat(new Array<tf.Tensor>(anchorViews).fill(t), 0) : t);

    // Positives of anchor i: Σ_p s_ip = a_i · (Σ_j M[b(i), b(j)] c_j − M[b(i), b(i)] c_i),
    // in D-space: Σ_j M[b, b(j)] c_j = (M · Σ_views c)[b], one [N, N] x [N, D] matMul.
    const viewSum = views === 1 ? contrast : tf.sum(tf.reshape(contrast, [views, n, d]), 0);
    const grouped = same ? constantTimes(same, viewSum, hasLabels) : viewSum;
    const diagonal = sameDiagonal ?? tf.ones([n]);
    const selfWeight = tf.reshape(perView(diagonal), [rows, 1]);
    const positiveSum = tf.sub(perView(grouped), tf.mul(anchors, selfWeight));
    const positiveLogits = tf.sum(tf.mul(scaled, positiveSum), 1);
    // |P(i)| = V · (row sum of M) − M[b, b]; the authors divide by 1 below 1e-6.
    const count = perView(tf.sub(tf.mul(same ? tf.sum(same, 1) : tf.onesLike(diagonal), views), diagonal));
    const denom = tf.where(tf.less(count, 1e-6), tf.onesLike(count), count);
    // loss_i = (|P(i)|/denom) · lse_i − (Σ_p s_ip)/denom, self excluded from the lse.
    const lseOptions = { excludeDiagonal: true, scale: tf.div(count, denom) };
    const lse = anchorViews === views
      ? gramLogSumExp(contrast, invT, lseOptions)
      : matMulLogSumExp(scaled, contrast, undefined, lseOptions);
    const perAnchor = tf.sub(lse, tf.div(positiveLogits, denom));
    const scale = temperatureRatio(invT, baseTemperature);
    return reduce(tf.mul(perAnchor, scale), reduction, undefined, { fn: 'supervisedContrastiveLoss' });
  });
}

/**
 * Keras-style adapter, `model.compile({ loss: supervisedContrastiveLossKeras() })`:
 * `yPred` holds the features (`[N, V, D]`, or `[N, D]` for one view) and
 * `yTrue` the labels, either
 *
 * - in the shape of `yPred` (tfjs-layers' `fit` and `evaluate` reject
 *   targets of any other shape), each sample's label repeated over its
 *   entries, as `tf.tile(tf.reshape(labels, [N, 1]), [1, D])` gives; the
 *   first entry of each sample is read (on backends that read synchronously,
 *   see `canReadSync`, a sample whose entries differ throws), or
 * - `[N]` or `[N, 1]`, for calling the adapter directly.
 *
 * @param options as for {@link supervisedContrastiveLoss}, without `mask`
 * @returns a loss function of `(yTrue, yPred)`
 * @throws LossInputError (when called) if a repeated label varies within a
 *   sample, or for the inputs {@link supervisedContrastiveLoss} rejects
 * @see supervisedContrastiveLoss
 */
export function supervisedContrastiveLossKeras(options: Omit<SupervisedContrastiveLossOptions, 'mask'> = {}): KerasLoss {
  return (yTrue, yPred) => tf.tidy(() => {
    let labels = yTrue;
    if (yTrue.rank >= 2 && yTrue.shape[0] > 0 && tf.util.arraysEqual(yTrue.shape, yPred.shape)) {
      const n = yTrue.shape[0];
      const rows = tf.reshape(yTrue, [n, yTrue.size / n]);
      labels = tf.reshape(tf.slice(rows, [0, 0], [n, 1]), [n]);
      if (canReadSync() && yTrue.size > n && tf.max(tf.abs(tf.sub(rows, tf.reshape(labels, [n, 1])))).dataSync()[0] !== 0) {
        inputs('supervisedContrastiveLossKeras').fail(
          'yTrue',
          `with the shape of yPred ${formatShape(yPred.shape)} must repeat each sample's label over all its entries; got differing entries within a sample.`,
        );
      }
    } else if (yTrue.rank === 2 && yTrue.shape[1] === 1) {
      labels = tf.reshape(yTrue, [yTrue.shape[0]]);
    }
    const feats = yPred.rank === 2 ? tf.expandDims(yPred, 1) : yPred;
    return supervisedContrastiveLoss(feats, labels, options);
  });
}
