import * as tf from '@tensorflow/tfjs-core';
import { formatShape, inputs, reduce, type ReductionOptions, type TensorLike } from '@tfjs-losses/core';
import { l2Normalize } from './internal/normalize';
import { matMulLogSumExp, pairedLogits, rowLogSumExp } from './internal/contrastive-lse';
import { EXCLUDED } from './internal/excluded';
import { inverseTemperature, type ContrastiveTemperature } from './internal/temperature';

/** Options of {@link infoNCE}. */
export interface InfoNCEOptions extends ReductionOptions {
  /** Divides the cosine similarities (default 0.1). A number or a scalar tensor/variable (learnable). */
  temperature?: ContrastiveTemperature;
  /**
   * How `negativeKeys` pair with the queries: `'unpaired'` (default), `[M, D]`
   * shared by every query; `'paired'`, `[N, M, D]`, M negatives per query.
   */
  negativeMode?: 'unpaired' | 'paired';
  /**
   * Which negatives count, for padded (ragged) negatives: 0 drops a negative,
   * anything else keeps it. `[M]` or `[N, M]` with negative keys, `[N]` or
   * `[N, N]` (over the keys of the batch) without. A query's own positive is
   * always kept.
   */
  negativeMask?: TensorLike;
}

/**
 * InfoNCE (van den Oord et al. 2018), on L2-normalized vectors:
 *
 *   q̂ = q/‖q‖, k̂ = k/‖k‖, n̂ = n/‖n‖ (norms clamped at 1e-12)
 *   loss_i = −log( exp(q̂_i·k̂_i / T) / (exp(q̂_i·k̂_i / T) + Σ_j exp(q̂_i·n̂_j / T)) )
 *
 * Without `negativeKeys` the other positives of the batch are the negatives
 * (a cross-entropy over `q̂ k̂ᵀ / T` with target i). Unpaired negatives `[M, D]`
 * are shared by all queries; paired negatives `[N, M, D]` belong to one query
 * each. The logits are one matMul; the log-sum-exp is stable (row maximum
 * first) and dropped negatives (`negativeMask`) are excluded, not pushed to
 * -Infinity.
 *
 * @param query        `[N, D]` queries (anchors)
 * @param positiveKey  `[N, D]` one positive key per query
 * @param negativeKeys optional `[M, D]` (`'unpaired'`) or `[N, M, D]` (`'paired'`); M may be 0
 * @param options      temperature (0.1), negativeMode ('unpaired'), negativeMask, reduction ('mean')
 * @returns scalar for `'mean'`/`'sum'`; `[N]` for `'none'`
 * @throws LossInputError for wrong ranks, mismatched N or D, a non-positive
 *   temperature, a bad negativeMode or reduction, or a mask of the wrong shape
 * @see https://arxiv.org/abs/1807.03748 and the info-nce-pytorch package (our reference)
 */
export function infoNCE(
  query: TensorLike,
  positiveKey: TensorLike,
  negativeKeys?: TensorLike | null,
  options: InfoNCEOptions = {},
): tf.Tensor {
  const { temperature = 0.1, negativeMode = 'unpaired', negativeMask, reduction = 'mean' } = options;
  return tf.tidy('infoNCE', () => {
    const arg = inputs('infoNCE');
    const q = arg.float('query', query, { rank: 2 });
    const [n, d] = q.shape;
    if (n < 1) arg.fail('query', `must have at least one row; got shape ${formatShape(q.shape)}.`);
    const k = arg.float('positiveKey', positiveKey, { shapeOf: ['query', q] });
    const mode = arg.oneOf('negativeMode', negativeMode, ['unpaired', 'paired'] as const);
    let negs: tf.Tensor | undefined;
    if (negativeKeys !== undefined && negativeKeys !== null) {
      negs = mode === 'unpaired'
        ? arg.float('negativeKeys', negativeKeys, { shape: [null, d] })
        : arg.float('negativeKeys', negativeKeys, { shape: [n, null, d] });
    }
    const m = negs ? negs.shape[negs.rank - 2] : n;
    let bias: tf.Tensor | undefined;
    if (negativeMask !== undefined) {
      const allowed = !negs ? [[n], [n, n]] : mode === 'unpaired' ? [[m], [n, m]] : [[n, m]];
      bias = maskBias(arg, negativeMask, n, m, allowed, !negs);
    }
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum'] as const);
    const invT = inverseTemperature(arg, temperature);

    // The temperature scales the [N, 1] norm factor of the queries only.
    const qs = l2Normalize(q, invT);
    const kn = l2Normalize(k);
    let perQuery: tf.Tensor;
    if (!negs) {
      // A cross-entropy over S = q̂ k̂ᵀ / T with target i: the positive logit
      // is taken from S itself.
      return reduce(matMulLogSumExp(qs, kn, undefined, { bias, targetShift: 0 }), reduction, undefined, { fn: 'infoNCE' });
    }
    const pos = tf.sum(tf.mul(qs, kn), 1);
    if (m === 0) {
      // Only the positive: the loss is 0 (and stays connected to the inputs).
      perQuery = tf.mul(pos, 0);
    } else if (mode === 'unpaired') {
      perQuery = tf.sub(matMulLogSumExp(qs, l2Normalize(negs), pos, { bias }), pos);
    } else {
      // M logits per query, the negatives normalized on the fly.
      perQuery = tf.sub(rowLogSumExp(pairedLogits(qs, negs), pos, { bias }), pos);
    }
    return reduce(perQuery, reduction, undefined, { fn: 'infoNCE' });
  });
}

/** Additive exclusion bias from a keep mask (0 drops). */
function maskBias(
  arg: ReturnType<typeof inputs>,
  value: TensorLike,
  n: number,
  m: number,
  allowed: number[][],
  keepDiagonal: boolean,
): tf.Tensor {
  const mask = arg.float('negativeMask', value);
  if (!allowed.some((s) => tf.util.arraysEqual(s, mask.shape))) {
    arg.fail('negativeMask', `must have shape ${allowed.map(formatShape).join(' or ')}; got ${formatShape(mask.shape)}.`);
  }
  let keep = tf.cast(tf.notEqual(mask, 0), 'float32');
  // In-batch, entry (i, i) is query i's own positive: always kept.
  if (keepDiagonal) keep = tf.maximum(keep, tf.diag(tf.ones([n])));
  return tf.mul(tf.sub(keep, 1), -EXCLUDED);
}
