import * as tf from '@tensorflow/tfjs-core';
import { gemm } from '@tfjs-losses/core';
import { pairedLogitsBackwardOp, pairedLogitsForwardOp } from '../kernels/paired-logits.kernel';
import { rowSoftmaxOp } from '../kernels/row-softmax.kernel';
import { symmetrizeOp } from '../kernels/symmetrize.kernel';

/** The non-differentiable parts of a row log-sum-exp. */
export interface RowLseOptions {
  /** Drop the entries (i, i): self-similarity (anchors are the first contrast rows). */
  excludeDiagonal?: boolean;
  /** Added before the log-sum-exp: 0 keeps an entry, EXCLUDED drops it. `[m]` or `[n, m]`. */
  bias?: tf.Tensor;
  /** `a [n]`: multiplies each row's value (default 1). */
  scale?: tf.Tensor;
  /**
   * A cross-entropy target: row i's value becomes lse_i − S_i,t(i) with
   * t(i) = (i + targetShift) mod m, the logit taken from S itself so that
   * it cancels exactly against the log-sum-exp. Not with `scale` or an
   * extra logit.
   */
  targetShift?: number;
}

type Saved = { p: tf.Tensor; shareOfS?: tf.Tensor; shareOfX?: tf.Tensor; scale?: tf.Tensor };

const NO_BIAS = () => tf.scalar(0);

/**
 * Forward: per row, lse over the kept logits and, with an extra logit x_i, the
 * log-sum-exp over both, with the shares of S and of x in it (the row factors
 * of the gradient).
 */
function forward(logits: tf.Tensor, x: tf.Tensor | undefined, options: RowLseOptions) {
  const { excludeDiagonal = false, bias, scale, targetShift } = options;
  const [lseS, p, picked] = rowSoftmaxOp([logits, bias ?? NO_BIAS()], { excludeDiagonal, targetShift: targetShift ?? -1 });
  if (targetShift !== undefined) {
    if (x || scale) throw new Error('contrastive-lse: a target goes with neither an extra logit nor a scale');
    return { value: picked, saved: { p } as Saved };
  }
  let lse = lseS;
  let shareOfS: tf.Tensor | undefined;
  let shareOfX: tf.Tensor | undefined;
  if (x) {
    // log(e^u + e^x) = max(u, x) + log1p(e^-|u - x|), on [n] vectors only
    lse = tf.add(tf.maximum(lseS, x), tf.log1p(tf.exp(tf.neg(tf.abs(tf.sub(lseS, x))))));
    shareOfS = tf.exp(tf.sub(lseS, lse));
    shareOfX = tf.exp(tf.sub(x, lse));
  }
  const value = scale ? tf.mul(lse, scale) : lse;
  return { value, saved: { p, shareOfS, shareOfX, scale } as Saved };
}

function pack(saved: Saved): tf.Tensor[] {
  return [saved.p, saved.shareOfS, saved.shareOfX, saved.scale].filter((t): t is tf.Tensor => t !== undefined);
}

function unpack(tensors: tf.Tensor[], layout: Saved): Saved {
  let k = 0;
  const next = (present: unknown) => (present ? tensors[k++] : undefined);
  return { p: next(layout.p) as tf.Tensor, shareOfS: next(layout.shareOfS), shareOfX: next(layout.shareOfX), scale: next(layout.scale) };
}

/** g_i = dy_i · a_i · (share of S in row i), as an `[n, 1]` column. */
function rowFactor(dy: tf.Tensor, s: Saved): tf.Tensor {
  let g = dy;
  if (s.scale) g = tf.mul(g, s.scale);
  if (s.shareOfS) g = tf.mul(g, s.shareOfS);
  return tf.reshape(g, [-1, 1]);
}

function extraGrad(dy: tf.Tensor, s: Saved): tf.Tensor {
  let g = tf.mul(dy, s.shareOfX as tf.Tensor);
  if (s.scale) g = tf.mul(g, s.scale);
  return g;
}

type CustomFn = Parameters<typeof tf.customGrad>[0];

/**
 * `a · bᵀ` and `aᵀ · b` for use inside custom gradients: core's `gemm`, which
 * on wasm takes the transpose flags at no cost (tfjs-backend-wasm runs a
 * flagged matMul through a scalar loop) and elsewhere is `tf.matMul`.
 */
export function matMulBt(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return gemm(a, b, false, true);
}

function matMulAt(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return gemm(a, b, true, false);
}

/**
 * Row log-sum-exp of the given logits `S [n, m]` (and an optional extra logit
 * `x [n]`, a column of its own), times `scale`:
 *
 *   value_i = a_i · log( exp(x_i) + Σ_{j kept} exp(S_ij) )
 *
 * One custom gradient: ∂value_i/∂S_ij = a_i · softmax_ij, ∂value_i/∂x_i =
 * a_i · softmax_i(x). Dropped entries have softmax exactly 0.
 */
export function rowLogSumExp(logits: tf.Tensor, x: tf.Tensor | undefined, options: RowLseOptions = {}): tf.Tensor {
  if (options.targetShift !== undefined) throw new Error('rowLogSumExp: no target');
  let layout: Saved = { p: logits };
  const f = (s: tf.Tensor, xs: tf.Tensor | undefined, save: tf.GradSaveFunc) => {
    const { value, saved } = forward(s, xs, options);
    layout = saved;
    save(pack(saved));
    return {
      value,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const sv = unpack(kept, layout);
        const ds = tf.mul(sv.p, rowFactor(dy, sv));
        return xs ? [ds, extraGrad(dy, sv)] : ds;
      },
    };
  };
  if (!x) return tf.customGrad(((s: tf.Tensor, save: tf.GradSaveFunc) => f(s, undefined, save)) as unknown as CustomFn)(logits) as tf.Tensor;
  return tf.customGrad(((s: tf.Tensor, xs: tf.Tensor, save: tf.GradSaveFunc) => f(s, xs, save)) as unknown as CustomFn)(logits, x) as tf.Tensor;
}

/**
 * {@link rowLogSumExp} of `S = A · Bᵀ` (`A [n, D]`, `B [m, D]`), with the
 * matMul inside the custom gradient so that the backward pass needs no
 * `[n, m]` elementwise op:
 *
 *   ∂A = g ⊙_rows (P · B),   ∂B = Pᵀ · (g ⊙_rows A)
 *
 * with P the masked softmax (the one `[n, m]` buffer kept for the backward
 * pass) and g the row factor.
 */
export function matMulLogSumExp(a: tf.Tensor, b: tf.Tensor, x: tf.Tensor | undefined, options: RowLseOptions = {}): tf.Tensor {
  if (options.targetShift !== undefined && (options.targetShift !== 0 || a.shape[0] !== b.shape[0])) {
    throw new Error('matMulLogSumExp: the only target is the diagonal of a square S');
  }
  let layout: Saved = { p: a };
  const f = (aa: tf.Tensor, bb: tf.Tensor, xs: tf.Tensor | undefined, save: tf.GradSaveFunc) => {
    const { value, saved } = forward(matMulBt(aa, bb), xs, options);
    layout = saved;
    save([aa, bb, ...pack(saved)]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const [sa, sb, ...rest] = kept;
        const sv = unpack(rest, layout);
        const g = rowFactor(dy, sv);
        const ga = tf.mul(sa, g);
        if (options.targetShift !== undefined) {
          // S − T with T the identity: ∂A = g ⊙ (P·B − B), ∂B = Pᵀ·(g ⊙ A) − g ⊙ A.
          return [tf.mul(tf.sub(gemm(sv.p, sb), sb), g), tf.sub(matMulAt(sv.p, ga), ga)];
        }
        const da = tf.mul(gemm(sv.p, sb), g);
        const db = matMulAt(sv.p, ga);
        return xs ? [da, db, extraGrad(dy, sv)] : [da, db];
      },
    };
  };
  if (!x) {
    return tf.customGrad(((aa: tf.Tensor, bb: tf.Tensor, save: tf.GradSaveFunc) => f(aa, bb, undefined, save)) as unknown as CustomFn)(a, b) as tf.Tensor;
  }
  return tf.customGrad(((aa: tf.Tensor, bb: tf.Tensor, xs: tf.Tensor, save: tf.GradSaveFunc) => f(aa, bb, xs, save)) as unknown as CustomFn)(a, b, x) as tf.Tensor;
}

/**
 * {@link rowLogSumExp} of the symmetric `S = invT · c · cᵀ` (`c [n, D]`, the
 * anchors are the contrast rows: NT-Xent, SupCon 'all'). S's symmetry folds
 * the two backward matMuls into one:
 *
 *   K = G·P + (G·P)ᵀ,   ∂c = invT · K · c,   ∂invT = ½ Σ_i c_i · (K · c)_i
 *
 * with G the row factors and P the masked softmax. `invT` is a number or a
 * scalar tensor (then differentiable).
 */
export function gramLogSumExp(c: tf.Tensor, invT: number | tf.Tensor, options: RowLseOptions = {}): tf.Tensor {
  let layout: Saved = { p: c };
  const f = (cc: tf.Tensor, it: number | tf.Tensor, save: tf.GradSaveFunc) => {
    const { value, saved } = forward(matMulBt(tf.mul(cc, it), cc), undefined, options);
    layout = saved;
    save([cc, ...(typeof it === 'number' ? [] : [it]), ...pack(saved)]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const sc = kept[0];
        const st = typeof it === 'number' ? it : kept[1];
        const sv = unpack(kept.slice(typeof it === 'number' ? 1 : 2), layout);
        const k = symmetrizeOp([sv.p, tf.reshape(rowFactor(dy, sv), [-1])], { targetShift: options.targetShift ?? -1 })[0];
        const w = gemm(k, sc);
        const dc = tf.mul(w, st);
        if (typeof it === 'number') return dc;
        return [dc, tf.mul(tf.sum(tf.mul(sc, w)), 0.5)];
      },
    };
  };
  if (typeof invT === 'number') {
    return tf.customGrad(((cc: tf.Tensor, save: tf.GradSaveFunc) => f(cc, invT, save)) as unknown as CustomFn)(c) as tf.Tensor;
  }
  return tf.customGrad(((cc: tf.Tensor, it: tf.Tensor, save: tf.GradSaveFunc) => f(cc, it, save)) as unknown as CustomFn)(c, invT) as tf.Tensor;
}

/**
 * `m · b` for a constant (non-differentiable) `m [k, k']`, with the gradient
 * `∂b = mᵀ · dy` (`symmetric`: `m · dy`, the same for a symmetric m).
 */
export function constantTimes(m: tf.Tensor, b: tf.Tensor, symmetric: boolean): tf.Tensor {
  return tf.customGrad(((bb: tf.Tensor, save: tf.GradSaveFunc) => {
    save([m]);
    return {
      value: gemm(m, bb),
      gradFunc: (dy: tf.Tensor, [sm]: tf.Tensor[]) => gemm(sm, dy, !symmetric, false),
    };
  }) as unknown as CustomFn)(b) as tf.Tensor;
}

/**
 * Paired logits `S [N, M]`, `S_im = q_i · n̂_im` with `n̂` the L2-normalized
 * negatives `n [N, M, D]` (norm clamped at 1e-12, as `F.normalize`), for
 * `q [N, D]` (already normalized and scaled). One custom gradient: the
 * normalized negatives are never materialized.
 */
export function pairedLogits(q: tf.Tensor, n: tf.Tensor): tf.Tensor {
  return tf.customGrad(((qq: tf.Tensor, nn: tf.Tensor, save: tf.GradSaveFunc) => {
    const [s, r, keep] = pairedLogitsForwardOp([qq, nn], {});
    save([qq, nn, s, r, keep]);
    return {
      value: s,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => pairedLogitsBackwardOp([dy, ...saved], {}),
    };
  }) as unknown as CustomFn)(q, n) as tf.Tensor;
}
