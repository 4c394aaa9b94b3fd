import type { HostKernel } from '@tfjs-losses/core';
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
export const pairedLogitsForwardHost: HostKernel = ([q, n]) => {
  const [bn, bm, d] = n.shape;
  const qv = q.values as Float32Array;
  const nv = n.values as Float32Array;
  const s = new Float32Array(bn * bm);
  const r = new Float32Array(bn * bm);
  const keep = new Float32Array(bn * bm);
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
  const shape = [bn, bm];
  return [
    { values: s, shape, dtype: 'float32' },
    { values: r, shape, dtype: 'float32' },
    { values: keep, shape, dtype: 'float32' },
  ];
};

/**
 * Backward of the paired logits: with u = dS ⊙ r,
 *
 *   ∂q_i  = Σ_m u_im n_im
 *   ∂n_im = u_im q_i − keep_im · u_im S_im r_im · n_im
 *
 * (the second term is the normalization's; a clamped norm is a constant).
 */
export const pairedLogitsBackwardHost: HostKernel = ([ds, q, n, s, r, keep]) => {
  const [bn, bm, d] = n.shape;
  const dsv = ds.values as Float32Array;
  const qv = q.values as Float32Array;
  const nv = n.values as Float32Array;
  const sv = s.values as Float32Array;
  const rv = r.values as Float32Array;
  const kv = keep.values as Float32Array;
  const dq = new Float32Array(bn * d);
  const dn = new Float32Array(bn * bm * d);
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
  return [
    { values: dq, shape: [bn, d], dtype: 'float32' },
    { values: dn, shape: [bn, bm, d], dtype: 'float32' },
  ];
};
