import type { FillKernelSpec } from '@tfjs-losses/core';
import { EPS_SQ } from '../internal/eps';

/** 1 / max(‖n‖, 1e-12) for a clamped (near-zero) vector. */
const CLAMPED = 1 / Math.sqrt(EPS_SQ);

function pairedForward(
  qv: Float32Array, nv: Float32Array, s: Float32Array, r: Float32Array, keep: Float32Array,
  bn: number, bm: number, d: number,
): void {
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
}

function pairedBackward(
  dsv: Float32Array, qv: Float32Array, nv: Float32Array, sv: Float32Array, rv: Float32Array, kv: Float32Array,
  dq: Float32Array, dn: Float32Array, bn: number, bm: number, d: number,
): void {
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
}

/**
 * Forward of the paired logits, for `cpu` and `wasm`: per query i and
 * negative m, in one pass over `n [N, M, D]`,
 *
 *   S_im = q_i · n_im · r_im,   r_im = 1 / max(‖n_im‖, 1e-12),
 *
 * so the normalized negatives are never materialized. Outputs S, r and
 * `keep` (1 where the norm was not clamped) `[N, M]`.
 */
export const pairedLogitsForwardHost: FillKernelSpec = {
  inputNames: ['q', 'n'],
  outputShapes: ([, [bn, bm]]) => [[bn, bm], [bn, bm], [bn, bm]],
  fill: ([qv, nv], [s, r, keep], _attrs, [, [bn, bm, d]]) =>
    pairedForward(qv as Float32Array, nv as Float32Array, s as Float32Array, r as Float32Array, keep as Float32Array, bn, bm, d),
};

/**
 * Backward of the paired logits: with u = dS ⊙ r,
 *
 *   ∂q_i  = Σ_m u_im n_im
 *   ∂n_im = u_im q_i − keep_im · u_im S_im r_im · n_im
 *
 * (the second term is the normalization's; a clamped norm is a constant).
 */
export const pairedLogitsBackwardHost: FillKernelSpec = {
  inputNames: ['ds', 'q', 'n', 's', 'r', 'keep'],
  outputShapes: ([, [bn, d], [, bm]]) => [[bn, d], [bn, bm, d]],
  fill: ([dsv, qv, nv, sv, rv, kv], [dq, dn], _attrs, [, [bn, d], [, bm]]) =>
    pairedBackward(
      dsv as Float32Array, qv as Float32Array, nv as Float32Array, sv as Float32Array, rv as Float32Array, kv as Float32Array,
      dq as Float32Array, dn as Float32Array, bn, bm, d,
    ),
};
