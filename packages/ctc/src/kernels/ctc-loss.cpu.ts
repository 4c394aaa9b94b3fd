import type { HostArray, HostOutput } from '@tfjs-losses/core';
import type { CtcKernelAttrs } from './ctc-loss.kernel';

const NEG_INF = -Infinity;
/**
 * A scaled value (exp(log value - frame shift)) at or below this is kept as
 * a plain log instead: it would be near the bottom of float64's normal range
 * (2.2e-308), where products lose digits.
 */
const TINY = 1e-280;
/**
 * A sum of scaled predecessors above this makes the log-form predecessors
 * (each below TINY) negligible: they would change it by less than 1e-29.
 */
const SAFE = 1e-250;

/** log(exp(a) + exp(b)), exact at -Infinity. */
function lse2(a: number, b: number): number {
  if (a < b) {
    const t = a;
    a = b;
    b = t;
  }
  if (a === NEG_INF) return NEG_INF;
  return a + Math.log1p(Math.exp(b - a));
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

/** Scratch typed arrays reused across samples. */
let kinds = new Uint8Array(0);
let preds = new Int32Array(0);
function takeKinds(n: number): Uint8Array {
  if (kinds.length < n) kinds = new Uint8Array(Math.max(n, kinds.length * 2));
  return kinds;
}
function takePreds(n: number): Int32Array {
  if (preds.length < n) preds = new Int32Array(Math.max(n, preds.length * 2));
  return preds;
}

/** Everything one sample's recursion reads. */
interface Sample {
  Tb: number;
  Sp: number;
  C: number;
  ext: Int32Array;
  /** Softmax of frame t at [t * C + c]. */
  probs: Float64Array;
  /** Log-softmax normalizer of frame t. */
  lse: Float64Array;
  x: HostArray['values'];
  /** Offset of frame 0 of this sample in x, and the stride between frames. */
  base: number;
  frameStride: number;
}

/**
 * One direction of the CTC recursion (forward alpha: step 1 from frame 0;
 * backward beta: step -1 from frame Tb - 1), in log space.
 *
 * Every frame t keeps one shift M[t] (its largest log value) and, per state,
 * either q = exp(log value - M[t]) when that is above TINY, or the log value
 * itself (lg, with q = 0). The log-sum-exp of a state's two or three
 * predecessors then needs no exp or log: with all of them scaled by the
 * previous frame's shift,
 *
 *   log value = emit[t, s] + M[t - 1] + log(sum of q),  so
 *   exp(log value - M[t]) = p[t, s] * (sum of q) * exp(M[t - 1] - M[t])
 *
 * where p = exp(emit) is the softmax probability of the state's class: one
 * log per frame (for M[t]) instead of one log and one exp per state. Where
 * that product would lose digits (a sum at or below SAFE, a product at or
 * below TINY) the state is computed from the predecessors' logs with its own
 * log-sum-exp instead; results agree with a plain log-space recursion to
 * float64 rounding, and nothing underflows at any logit scale.
 *
 * Rows have Sp + 1 columns; the last one is an always-empty state that
 * stands for a missing predecessor. Returns false if no state survives (no
 * alignment).
 */
function recurse(
  smp: Sample,
  forward: boolean,
  skip: Uint8Array,
  q: Float64Array,
  lg: Float64Array,
  shift: Float64Array,
  tmp: Float64Array,
): boolean {
  const { Tb, Sp, C, ext, probs, lse, x, base, frameStride } = smp;
  const W = Sp + 1;
  q.fill(0, 0, Tb * W);
  lg.fill(NEG_INF, 0, Tb * W);
  const kind = takeKinds(Sp);
  const pred = takePreds(2 * Sp);
  for (let s = 0; s < Sp; s++) {
    if (forward) {
      pred[2 * s] = s >= 1 ? s - 1 : Sp;
      pred[2 * s + 1] = skip[s] ? s - 2 : Sp;
    } else {
      pred[2 * s] = s + 1 < Sp ? s + 1 : Sp;
      pred[2 * s + 1] = s + 2 < Sp && skip[s + 2] ? s + 2 : Sp;
    }
  }
  const emitLog = (t: number, s: number) => x[base + t * frameStride + ext[s]] - lse[t];

  // First frame: the two start (or end) states, from their emissions.
  const t0 = forward ? 0 : Tb - 1;
  const first = forward ? 0 : Math.max(0, Sp - 2);
  const row0 = t0 * W;
  let M = NEG_INF;
  for (let s = first; s < first + 2 && s < Sp; s++) {
    lg[row0 + s] = emitLog(t0, s);
    if (lg[row0 + s] > M) M = lg[row0 + s];
  }
  for (let s = first; s < first + 2 && s < Sp; s++) {
    const v = Math.exp(lg[row0 + s] - M);
    if (v > TINY) q[row0 + s] = v;
  }
  shift[t0] = M;

  for (let k = 1; k < Tb; k++) {
    const t = forward ? k : Tb - 1 - k;
    const row = t * W;
    const prev = forward ? row - W : row + W;
    const lo = Math.max(0, Sp - 2 * (Tb - t));
    const hi = Math.min(Sp - 1, 2 * t + 1);
    const pr = t * C;
    let mLin = 0;
    let mLog = NEG_INF;
    for (let s = lo; s <= hi; s++) {
      const i1 = prev + pred[2 * s];
      const i2 = prev + pred[2 * s + 1];
      const sum = q[prev + s] + q[i1] + q[i2];
      const u = probs[pr + ext[s]] * sum;
      if (sum > SAFE && u > TINY) {
        tmp[s] = u;
        kind[s] = 1;
        if (u > mLin) mLin = u;
      } else {
        const l0 = q[prev + s] > 0 ? M + Math.log(q[prev + s]) : lg[prev + s];
        const l1 = q[i1] > 0 ? M + Math.log(q[i1]) : lg[i1];
        const l2 = q[i2] > 0 ? M + Math.log(q[i2]) : lg[i2];
        const v = emitLog(t, s) + lse3(l0, l1, l2);
        tmp[s] = v;
        kind[s] = 0;
        if (v > mLog) mLog = v;
      }
    }
    const mFromLin = mLin > 0 ? M + Math.log(mLin) : NEG_INF;
    const next = mFromLin >= mLog ? mFromLin : mLog;
    if (next === NEG_INF) return false;
    // Scale of the linear candidates (relative to M) into the new shift.
    const r = mLin > 0 ? (next === mFromLin ? 1 / mLin : Math.exp(M - next)) : 0;
    for (let s = lo; s <= hi; s++) {
      if (kind[s]) {
        const v = tmp[s] * r;
        if (v > TINY) q[row + s] = v;
        else lg[row + s] = M + Math.log(tmp[s]);
      } else {
        const v = Math.exp(tmp[s] - next);
        if (v > TINY) q[row + s] = v;
        else lg[row + s] = tmp[s];
      }
    }
    M = next;
    shift[t] = M;
  }
  return true;
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
 * Per sample, in float64: log-softmax of each frame, the forward variables
 * alpha over the 2L+1 extended-label states (blanks between and around the
 * labels) in log space (see `recurse`), -log p(labels | logits) from the
 * last two states, then the backward variables beta and the gradient
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
    const W = Sp + 1;
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

    // Buffers: a gradient row [C], probabilities [Tb, C], log-softmax
    // normalizers [Tb], a frame of candidates [Sp], the two recursions'
    // scaled values and logs [Tb, Sp + 1] and shifts [Tb].
    const n = Tb * W;
    const buf = take(C + Tb * C + Tb + Sp + 4 * n + 2 * Tb);
    let off = 0;
    const part = (len: number) => buf.subarray(off, (off += len));
    const gradRow = part(C);
    const probs = part(Tb * C);
    const lse = part(Tb);
    const tmp = part(Sp);
    const qa = part(n);
    const la = part(n);
    const qb = part(n);
    const lb = part(n);
    const Ma = part(Tb);
    const Mb = part(Tb);

    // Softmax of each frame and its log normalizer.
    for (let t = 0; t < Tb; t++) {
      const o = base + t * frameStride;
      const pr = t * C;
      let m = NEG_INF;
      for (let c = 0; c < C; c++) if (x[o + c] > m) m = x[o + c];
      let sum = 0;
      for (let c = 0; c < C; c++) sum += probs[pr + c] = Math.exp(x[o + c] - m);
      const inv = 1 / sum;
      for (let c = 0; c < C; c++) probs[pr + c] *= inv;
      lse[t] = m + Math.log(sum);
    }
    const smp: Sample = { Tb, Sp, C, ext, probs, lse, x, base, frameStride };
    const logOf = (q: Float64Array, lg: Float64Array, M: Float64Array, t: number, s: number) =>
      q[t * W + s] > 0 ? M[t] + Math.log(q[t * W + s]) : lg[t * W + s];

    const alive = recurse(smp, true, skip, qa, la, Ma, tmp);
    const last = Tb - 1;
    const logp = !alive
      ? NEG_INF
      : Sp > 1
        ? lse2(logOf(qa, la, Ma, last, Sp - 1), logOf(qa, la, Ma, last, Sp - 2))
        : logOf(qa, la, Ma, last, 0);
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
    recurse(smp, false, skip, qb, lb, Mb, tmp);

    // Gradient: softmax minus the normalized occupation of each class. A
    // state's occupation exp(alpha + beta - emit - log p) is
    // qa * qb * F / p[t, s] with one F = exp(Ma + Mb - log p) per frame;
    // where a factor is in log form, or too small or large for that product
    // to keep its digits, it is taken from the logs directly. Accumulated in
    // float64 and rounded once.
    for (let t = 0; t < Tb; t++) {
      const o = base + t * frameStride;
      const pr = t * C;
      const row = t * W;
      for (let c = 0; c < C; c++) gradRow[c] = probs[pr + c];
      const F = Math.exp(Ma[t] + Mb[t] + nll);
      const fOk = F < 1e200;
      const lo = Math.max(0, Sp - 2 * (Tb - t));
      const hi = Math.min(Sp - 1, 2 * t + 1);
      for (let s = lo; s <= hi; s++) {
        const a = qa[row + s];
        const bq = qb[row + s];
        const p = probs[pr + ext[s]];
        let occ: number;
        if (fOk && a > 0 && bq > 0 && p > 1e-100) {
          occ = a * (bq * (F / p));
        } else {
          const e = logOf(qa, la, Ma, t, s) + logOf(qb, lb, Mb, t, s) - (x[o + ext[s]] - lse[t]) + nll;
          occ = e === NEG_INF ? 0 : Math.exp(e);
        }
        gradRow[ext[s]] -= occ;
      }
      for (let c = 0; c < C; c++) grad[o + c] = gradRow[c];
    }
  }
  return [
    { values: loss, shape: [B], dtype: 'float32' },
    { values: grad, shape: withGrad ? logitsArr.shape.slice() : [0], dtype: 'float32' },
  ];
}
