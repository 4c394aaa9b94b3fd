import type { TypedKernel } from './typed-kernel';
import { EPS_SQ } from '../internal/normalize';

/** 1 / max(‖n‖, 1e-12) for a clamped (near-zero) vector. */
const CLAMPED = 1 / Math.sqrt(EPS_SQ);

/**
 * Forward of the paired logits, for `cpu` and `wasm`: per query i and
 * negative m, in one pass over `n [N, M, D]`,
 *
 *   S_im = q_i · n_im · r_im,   r_im = 1 / max(‖n_im‖, 1e-12),
 *
 * so the normalized negatives are never materialized. Outputs S, r and
 * `keep` (1 where the norm was not clamped) `[N, M]`.
 */
export const pairedLogitsForwardHost: TypedKernel = {
  outputShapes: ([, [bn, bm]]) => [[bn, bm], [bn, bm], [bn, bm]],
  run: ([qv, nv], [, [bn, bm, d]], [s, r, keep]) => {
    for (let i = 0; i < bn; i++) {
      const qo = i * d;
      for (let m = 0; m < bm; m++) {
        const no = (i * bm + m) * d;
        let dot = 0;
        let ss = 0;
        for (let k = 0; k < d; k++) {
          const v = nv[no + k];
          dot += qv[qo + k] * v;
          ss += v * v;
        }
        const kept = ss > EPS_SQ;
        const rr = kept ? 1 / Math.sqrt(ss) : CLAMPED;
        const at = i * bm + m;
        s[at] = dot * rr;
        r[at] = rr;
        keep[at] = kept ? 1 : 0;
      }
    }
  },
};

/**
 * Backward of the paired logits: with u = dS ⊙ r,
 *
 *   ∂q_i  = Σ_m u_im n_im
 *   ∂n_im = u_im q_i − keep_im · u_im S_im r_im · n_im
 *
 * (the second term is the normalization's; a clamped norm is a constant).
 */
export const pairedLogitsBackwardHost: TypedKernel = {
  outputShapes: ([, [bn, d], [, bm]]) => [[bn, d], [bn, bm, d]],
  run: ([dsv, qv, nv, sv, rv, kv], [, [bn, d], [, bm]], [dq, dn]) => {
    dq.fill(0);
    for (let i = 0; i < bn; i++) {
      const qo = i * d;
      for (let m = 0; m < bm; m++) {
        const at = i * bm + m;
        const u = dsv[at] * rv[at];
        const c = kv[at] * u * sv[at] * rv[at];
        const no = at * d;
        for (let k = 0; k < d; k++) {
          const v = nv[no + k];
          dq[qo + k] += u * v;
          dn[no + k] = u * qv[qo + k] - c * v;
        }
      }
    }
  },
};
