import type { HostArray, HostOutput } from '@tfjs-losses/core';
import type { CtcKernelAttrs } from './ctc-loss.kernel';

const NEG_INF = -Infinity;
/** Below this, a sum of shifted exponentials may have lost digits (1e-308 is the smallest normal double). */
const TINY = 1e-280;

/** log(exp(a) + exp(b)), exact at -Infinity. */
function lse2(a: number, b: number): number {
  if (a < b) {
    const t = a;
    a = b;
    b = t;
  }
  if (a === NEG_INF) return NEG_INF;
  return a + Math.log(1 + Math.exp(b - a));
}

/** log(exp(a) + exp(b) + exp(c)), exact at -Infinity. */
function lse3(a: number, b: number, c: number): number {
  let m = a;
  if (b > m) m = b;
  if (c > m) m = c;
  if (m === NEG_INF) return NEG_INF;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m) + Math.exp(c - m));
}

/** Scratch buffers reused across batch items (and calls) to spare the allocator. */
let scratch = new Float64Array(0);
function take(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/**
 * The CTC kernel over typed arrays, for `cpu` and (the same function) `wasm`.
 *
 * Inputs: logits `[B, T, C]` (or `[T, B, C]` with `timeMajor`), labels
 * `[B, S]` int32 (entries past a label's length are never read),
 * logitLengths `[B]`, labelLengths `[B]`. Outputs: the per-sample negative
 * log-likelihood `[B]` and, when `withGrad`, its gradient with respect to
 * the logits (layout of the logits; shape `[0]` otherwise).
 *
 * Per sample, in float64: log-softmax of each frame, the log-space forward
 * variables alpha over the 2L+1 extended-label states (blanks between and
 * around the labels), -log p(labels | logits) from the last two states, then
 * the backward variables beta and the gradient
 *
 *   d loss / d logits[t, c] = softmax[t, c] - sum over states s with label c
 *                             of exp(alpha[t, s] + beta[t, s] - logp[t, c] + loss)
 *
 * (alpha and beta both include frame t's emission). Only states that can be
 * reached from the start and can still reach the end are visited; the others
 * stay at log 0. Frames past the logit length get gradient 0. A sample with
 * no valid alignment has loss Infinity and NaN gradient on its frames, or 0
 * and gradient 0 with `zeroInfinity`, as PyTorch does.
 */
export function ctcHostKernel(inputs: HostArray[], attrs: CtcKernelAttrs): HostOutput[] {
  const [logitsArr, labelsArr, logitLenArr, labelLenArr] = inputs;
  const { blank, timeMajor, zeroInfinity, withGrad } = attrs;
  const x = logitsArr.values;
  const labels = labelsArr.values;
  const [d0, d1, C] = logitsArr.shape;
  const B = timeMajor ? d1 : d0;
  const T = timeMajor ? d0 : d1;
  const S = labelsArr.shape[1] ?? 0;
  const loss = new Float32Array(B);
  const grad = withGrad ? new Float32Array(B * T * C) : new Float32Array(0);
  // Offset of frame t of sample b, and the stride between frames.
  const frameStride = timeMajor ? B * C : C;

  for (let b = 0; b < B; b++) {
    const Tb = Math.min(Math.max(logitLenArr.values[b] | 0, 0), T);
    const L = Math.min(Math.max(labelLenArr.values[b] | 0, 0), S);
    const Sp = 2 * L + 1;
    const base = timeMajor ? b * C : b * T * C;

    if (Tb === 0) {
      // No frames: only the empty label has an alignment (probability 1).
      const nll = L === 0 ? 0 : Infinity;
      loss[b] = nll === Infinity && zeroInfinity ? 0 : nll;
      continue;
    }

    // Extended labels and whether state s may skip from s - 2.
    const ext = new Int32Array(Sp);
    const skip = new Uint8Array(Sp);
    for (let s = 0; s < Sp; s++) {
      ext[s] = s % 2 === 0 ? blank : labels[b * S + ((s - 1) >> 1)];
      skip[s] = s % 2 === 1 && s >= 3 && ext[s] !== ext[s - 2] ? 1 : 0;
    }

    // Buffers: a gradient row [C], probabilities [Tb, C], shifted exponentials
    // [Sp], emissions, alpha and beta [Tb, Sp].
    const n = Tb * Sp;
    const buf = take(C + Tb * C + Sp + 3 * n);
    let off = 0;
    const part = (len: number) => buf.subarray(off, (off += len));
    const gradRow = part(C);
    const probs = part(Tb * C);
    const q = part(Sp);
    const emit = part(n);
    const alpha = part(n);
    const beta = part(n);

    // Log-softmax of each frame; keep the probabilities for the gradient.
    for (let t = 0; t < Tb; t++) {
      const o = base + t * frameStride;
      const pr = t * C;
      let m = NEG_INF;
      for (let c = 0; c < C; c++) if (x[o + c] > m) m = x[o + c];
      let sum = 0;
      for (let c = 0; c < C; c++) sum += probs[pr + c] = Math.exp(x[o + c] - m);
      const inv = 1 / sum;
      for (let c = 0; c < C; c++) probs[pr + c] *= inv;
      const z = m + Math.log(sum);
      const row = t * Sp;
      for (let s = 0; s < Sp; s++) emit[row + s] = x[o + ext[s]] - z;
    }

    // Forward variables. State s at frame t is kept only if it is reachable
    // (s <= 2t + 1) and can still finish (s >= Sp - 2(Tb - t)); others stay
    // at log 0. The log-sum-exps of one frame share one shift, M, the
    // previous frame's largest value: q = exp(alpha - M), alpha' = emit + M +
    // log(sum of q). Where that sum falls below 1e-280 (every predecessor far
    // below M, so q would lose digits or underflow) the state is recomputed
    // with its own shift: the result is log-space exact.
    alpha.fill(NEG_INF);
    alpha[0] = emit[0];
    if (Sp > 1) alpha[1] = emit[1];
    let M = Sp > 1 ? Math.max(emit[0], emit[1]) : emit[0];
    for (let t = 1; t < Tb && M !== NEG_INF; t++) {
      const lo = Math.max(0, Sp - 2 * (Tb - t));
      const hi = Math.min(Sp - 1, 2 * t + 1);
      const row = t * Sp;
      const prev = row - Sp;
      const qLo = Math.max(0, lo - 2);
      for (let s = qLo; s <= hi; s++) q[s] = Math.exp(alpha[prev + s] - M);
      let rowMax = NEG_INF;
      for (let s = lo; s <= hi; s++) {
        let sum = q[s];
        if (s > qLo) sum += q[s - 1];
        if (skip[s]) sum += q[s - 2];
        let v: number;
        if (sum > TINY) {
          v = emit[row + s] + M + Math.log(sum);
        } else {
          const a1 = s > 0 ? alpha[prev + s - 1] : NEG_INF;
          const a2 = skip[s] ? alpha[prev + s - 2] : NEG_INF;
          v = emit[row + s] + lse3(alpha[prev + s], a1, a2);
        }
        alpha[row + s] = v;
        if (v > rowMax) rowMax = v;
      }
      M = rowMax; // -Infinity: nothing alive, no alignment
    }
    const last = (Tb - 1) * Sp;
    const logp =
      M === NEG_INF ? NEG_INF : Sp > 1 ? lse2(alpha[last + Sp - 1], alpha[last + Sp - 2]) : alpha[last + Sp - 1];
    const nll = -logp;
    const impossible = logp === NEG_INF;
    loss[b] = impossible && zeroInfinity ? 0 : nll;

    if (!withGrad) continue;
    if (impossible) {
      if (!zeroInfinity) {
        for (let t = 0; t < Tb; t++) grad.fill(NaN, base + t * frameStride, base + t * frameStride + C);
      }
      continue;
    }

    // Backward variables, mirrored (beta[t, s] from beta[t + 1, s .. s + 2]),
    // and each frame's gradient as soon as its beta row is known: softmax
    // minus the normalized occupation of each class, accumulated in float64
    // and rounded once.
    beta.fill(NEG_INF);
    beta[last + Sp - 1] = emit[last + Sp - 1];
    if (Sp > 1) beta[last + Sp - 2] = emit[last + Sp - 2];
    M = Sp > 1 ? Math.max(emit[last + Sp - 1], emit[last + Sp - 2]) : emit[last];
    for (let t = Tb - 1; t >= 0; t--) {
      const lo = Math.max(0, Sp - 2 * (Tb - t));
      const hi = Math.min(Sp - 1, 2 * t + 1);
      const row = t * Sp;
      if (t < Tb - 1) {
        const next = row + Sp;
        const qHi = Math.min(Sp - 1, hi + 2);
        for (let s = lo; s <= qHi; s++) q[s] = Math.exp(beta[next + s] - M);
        let rowMax = NEG_INF;
        for (let s = lo; s <= hi; s++) {
          let sum = q[s];
          if (s < qHi) sum += q[s + 1];
          if (s + 2 <= qHi && skip[s + 2]) sum += q[s + 2];
          let v: number;
          if (sum > TINY) {
            v = emit[row + s] + M + Math.log(sum);
          } else {
            const n1 = s + 1 < Sp ? beta[next + s + 1] : NEG_INF;
            const n2 = s + 2 < Sp && skip[s + 2] ? beta[next + s + 2] : NEG_INF;
            v = emit[row + s] + lse3(beta[next + s], n1, n2);
          }
          beta[row + s] = v;
          if (v > rowMax) rowMax = v;
        }
        M = rowMax;
      }
      const o = base + t * frameStride;
      const pr = t * C;
      for (let c = 0; c < C; c++) gradRow[c] = probs[pr + c];
      for (let s = lo; s <= hi; s++) {
        const e = alpha[row + s] + beta[row + s] - emit[row + s] + nll;
        if (e !== NEG_INF) gradRow[ext[s]] -= Math.exp(e);
      }
      for (let c = 0; c < C; c++) grad[o + c] = gradRow[c];
    }
  }
  return [
    { values: loss, shape: [B], dtype: 'float32' },
    { values: grad, shape: withGrad ? logitsArr.shape.slice() : [0], dtype: 'float32' },
  ];
}
