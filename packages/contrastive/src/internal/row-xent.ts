import * as tf from '@tensorflow/tfjs-core';

/**
 * Added to an excluded logit. Finite (WGSL and the reductions stay away from
 * infinities) yet far below any real logit, so `exp(excluded - rowMax)` is
 * exactly 0 in float32: the entry contributes nothing to the value and gets
 * a gradient of exactly 0. Nothing is ever multiplied by it.
 */
export const EXCLUDED = -1e30;

/** The non-differentiable parts of {@link rowCrossEntropy}. */
export interface RowCrossEntropyParts {
  /**
   * Added to the logits before the log-sum-exp: 0 keeps an entry,
   * {@link EXCLUDED} removes it. Broadcastable to `[n, m]`.
   */
  bias?: tf.Tensor;
  /** Positive weights `W [n, m]` (SupCon's mask, self excluded). */
  weights?: tf.Tensor;
  /** `a [n]`, multiplies each row's log-sum-exp (default 1). */
  lseScale?: tf.Tensor;
  /** `b [n]`, multiplies each row's positive sum `Σ_j W_ij S_ij` (default 1). */
  weightScale?: tf.Tensor;
}

/**
 * Per row i of the logits `S [n, m]` (and an optional extra logit `x [n]`,
 * a column of its own):
 *
 *   lse_i  = log( exp(x_i) + Σ_j exp(S_ij + bias_ij) )      (stable: row max first)
 *   out_i  = a_i · lse_i − b_i · Σ_j W_ij S_ij                (the W term only with weights)
 *
 * One custom gradient for the whole chain, so the backward pass is a single
 * `[n, m]` product:
 *
 *   ∂out_i/∂S_ij = a_i · softmax_ij − b_i · W_ij,   ∂out_i/∂x_i = a_i · softmax_i(x).
 *
 * Excluded entries have softmax exactly 0, so they get no gradient. The row
 * maximum needs no detaching: it only shifts the exponentials, and the
 * gradient is written out.
 */
export function rowCrossEntropy(logits: tf.Tensor, extra: tf.Tensor | undefined, parts: RowCrossEntropyParts = {}): tf.Tensor {
  const { bias, weights, lseScale, weightScale } = parts;
  const [n] = logits.shape;

  const forward = (s: tf.Tensor, x: tf.Tensor | undefined) => {
    const shifted = bias ? tf.add(s, bias) : s;
    let rowMax = tf.max(shifted, 1, true);
    const x2 = x ? tf.reshape(x, [n, 1]) : undefined;
    if (x2) rowMax = tf.maximum(rowMax, x2);
    const e = tf.exp(tf.sub(shifted, rowMax));
    let total = tf.sum(e, 1, true);
    let ex: tf.Tensor | undefined;
    if (x2) {
      ex = tf.exp(tf.sub(x2, rowMax));
      total = tf.add(total, ex);
    }
    let out = tf.reshape(tf.add(tf.log(total), rowMax), [n]);
    if (lseScale) out = tf.mul(out, lseScale);
    if (weights) {
      let pos = tf.sum(tf.mul(weights, s), 1);
      if (weightScale) pos = tf.mul(pos, weightScale);
      out = tf.sub(out, pos);
    }
    return { out, e, total, ex };
  };

  // Everything the gradient reads must be saved: the caller's tidy has
  // disposed its own tensors by the time the backward pass runs.
  const extras = [weights, lseScale, weightScale];
  const gradient = (dy: tf.Tensor, e: tf.Tensor, total: tf.Tensor, kept: (tf.Tensor | undefined)[]) => {
    const [w, a, b] = kept;
    // g_i = a_i · dy_i / Σ_i: the common row factor of the softmax gradient.
    let g = tf.div(tf.reshape(dy, [n, 1]), total);
    if (a) g = tf.mul(g, tf.reshape(a, [n, 1]));
    let ds = tf.mul(e, g);
    if (w) {
      let h = tf.reshape(dy, [n, 1]);
      if (b) h = tf.mul(h, tf.reshape(b, [n, 1]));
      ds = tf.sub(ds, tf.mul(w, h));
    }
    return { ds, g };
  };
  const keptOf = (saved: tf.Tensor[], from: number) => {
    let k = from;
    return extras.map((t) => (t ? saved[k++] : undefined));
  };
  const present = extras.filter((t): t is tf.Tensor => t !== undefined);

  if (extra === undefined) {
    const op = tf.customGrad(((s: tf.Tensor, save: tf.GradSaveFunc) => {
      const { out, e, total } = forward(s, undefined);
      save([e, total, ...present]);
      return {
        value: out,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradient(dy, saved[0], saved[1], keptOf(saved, 2)).ds,
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(logits) as tf.Tensor;
  }
  const op = tf.customGrad(((s: tf.Tensor, x: tf.Tensor, save: tf.GradSaveFunc) => {
    const { out, e, total, ex } = forward(s, x);
    save([e, total, ex as tf.Tensor, ...present]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const { ds, g } = gradient(dy, saved[0], saved[1], keptOf(saved, 3));
        return [ds, tf.reshape(tf.mul(saved[2], g), [n])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits, extra) as tf.Tensor;
}

/**
 * `[n, m]` (m ≥ n) holding `values[i]` at (i, i) and 0 elsewhere: the
 * self-similarity positions when the anchors are the first n contrast rows.
 * One `Diag` kernel (plus a pad when m > n). `tf.oneHot` would be shorter,
 * but tfjs-backend-wasm 4.22 ignores its dtype and writes int32 bits.
 */
export function diagonalMatrix(values: tf.Tensor, m: number): tf.Tensor {
  const d = tf.diag(values);
  const n = values.shape[0];
  return m > n ? tf.pad(d, [[0, 0], [0, m - n]]) : d;
}

/** {@link diagonalMatrix} with one value everywhere on the diagonal. */
export function diagonalFill(n: number, m: number, value: number): tf.Tensor {
  return diagonalMatrix(tf.fill([n], value), m);
}
