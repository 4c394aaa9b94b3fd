import * as tf from '@tensorflow/tfjs-core';
import { formatShape, inputs, reduce, type ReductionOptions, type TensorLike } from '@tfjs-losses/core';
import { l2Normalize } from './internal/normalize';
import { gramLogSumExp } from './internal/contrastive-lse';
import { inverseTemperature, type ContrastiveTemperature } from './internal/temperature';

/** Options of {@link ntXent}. */
export interface NtXentOptions extends ReductionOptions {
  /** Divides the cosine similarities (default 0.5). A number or a scalar tensor/variable (learnable). */
  temperature?: ContrastiveTemperature;
}

/**
 * NT-Xent, SimCLR's normalized temperature-scaled cross-entropy (Chen et al.
 * 2020). The 2N views z = [ẑ1; ẑ2] are L2-normalized inside (norms clamped at
 * 1e-12); view i's positive is the other view of its sample, p(i) = i ± N:
 *
 *   s_ij   = ẑ_i·ẑ_j / T
 *   loss_i = −s_i,p(i) + log Σ_{k≠i} exp(s_ik)
 *
 * Every ordered pair (i, p(i)) counts, so `'mean'` averages the 2N anchors.
 * This is half of google-research/simclr's value, which adds the means of
 * the two directions. Self-similarity is excluded from the log-sum-exp (its
 * term is exactly 0, with no infinity involved); the similarity matrix is one
 * matMul.
 *
 * @param z1      `[N, D]` embeddings of the first views
 * @param z2      `[N, D]` embeddings of the second views, row i pairs with z1's row i
 * @param options temperature (0.5), reduction ('mean')
 * @returns scalar for `'mean'`/`'sum'`; `[2N]` for `'none'`, the anchors of z1 first
 * @throws LossInputError if z1 is not `[N, D]` with N ≥ 1, z2's shape differs,
 *   or the temperature is not positive
 * @see https://arxiv.org/abs/2002.05709 (eq. 1)
 */
export function ntXent(z1: TensorLike, z2: TensorLike, options: NtXentOptions = {}): tf.Tensor {
  const { temperature = 0.5, reduction = 'mean' } = options;
  return tf.tidy('ntXent', () => {
    const arg = inputs('ntXent');
    const a = arg.float('z1', z1, { rank: 2 });
    const [n] = a.shape;
    if (n < 1) arg.fail('z1', `must have at least one row; got shape ${formatShape(a.shape)}.`);
    const b = arg.float('z2', z2, { shapeOf: ['z1', a] });
    arg.oneOf('reduction', reduction, ['none', 'mean', 'sum'] as const);
    const invT = inverseTemperature(arg, temperature);

    const za = l2Normalize(a);
    const zb = l2Normalize(b);
    const z = tf.concat([za, zb], 0);
    // Row i's target is the other view, column (i + N) mod 2N of the same
    // similarity matrix (so that lse − pos cancels exactly where it should).
    const perAnchor = gramLogSumExp(z, invT, { excludeDiagonal: true, targetShift: n });
    return reduce(perAnchor, reduction, undefined, { fn: 'ntXent' });
  });
}
