import type * as tf from '@tensorflow/tfjs-core';
import { expF64 } from '@tfjs-losses/core';
import type { CtcKernelAttrs } from './ctc-loss.kernel';

const NEG_INF = -Infinity;
/**
 * A scaled value (exp(log value - row shift)) at or below this is kept as a
 * plain log instead: it would be near the bottom of float64's normal range
 * (2.2e-308), where products lose digits.
 */
const TINY = 1e-280;
/**
 * A sum of scaled predecessors above this makes the log-form predecessors
 * (each below TINY) negligible: they would change it by less than 1e-29.
 */
const SAFE = 1e-250;
/**
 * Above this, the per-frame factor exp(log alpha shift + log beta shift +
 * loss) of the occupations is not used as a product (the scaled values it
 * multiplies would be too small to keep their digits).
 */
const BIG = 1e200;

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

/**
 * Below this, exp(d) added to a sum of at least 1 cannot change it (e^-50 is
 * far below half a unit in the last place of 1), so the term is skipped.
 */
const NEGLIGIBLE = -50;
/** Below this, exp(d) is at most TINY (ln 1e-280 = -644.7): the value stays a log. */
const LOG_TINY = -646;
/** Below this, exp(d) underflows to 0 in float64. */
const LOG_ZERO = -746;

/** log(exp(a) + exp(b) + exp(c)), exact at -Infinity (terms that cannot change the sum are skipped). */
function lse3(a: number, b: number, c: number): number {
  let m = a;
  if (b > m) m = b;
  if (c > m) m = c;
  if (m === NEG_INF) return NEG_INF;
  const da = a - m;
  const db = b - m;
  const dc = c - m;
  let sum = 0;
  if (da > NEGLIGIBLE) sum += expF64(da);
  if (db > NEGLIGIBLE) sum += expF64(db);
  if (dc > NEGLIGIBLE) sum += expF64(dc);
  return m + Math.log(sum);
}

/** Scratch arrays, reused across samples and calls (grown when too small). */
let f64 = new Float64Array(0);
let i32 = new Int32Array(0);
let acc = new Float64Array(0);

/**
 * Rows of the recursions hold Sp + 4 values: two always-empty states on
 * each side (stand-ins for missing predecessors, so no index check is
 * needed), and state s at column s + PAD.
 */
const PAD = 2;

/**
 * One sample, in float64: log-softmax, the forward variables alpha, the loss
 * and, when `grad` is given, the backward variables beta and the gradient in
 * the same backward sweep. Returns the negative log-likelihood (Infinity
 * when no alignment exists, leaving the gradient for the caller to fill).
 *
 * Each row t of alpha is stored as one shift M[t] plus, per state, either a
 * scaled value q = exp(log alpha - M[t]) when that is above TINY, or the log
 * itself (q = 0). The shift of row t is the largest value of row t - 1, so
 * the log-sum-exp of a state's two or three predecessors needs no exp or
 * log:
 *
 *   q[t, s] = p[t, class of s] * (sum of the predecessors' q) / max of row t - 1
 *
 * with p the softmax probability: one log per frame (for M[t]) instead of
 * one log and one exp per state. Where that product would lose digits (a
 * sum at or below SAFE, a result at or below TINY) the state is computed
 * from the predecessors' logs with its own log-sum-exp instead; results
 * agree with a plain log-space recursion to float64 rounding, and nothing
 * underflows at any logit scale. Beta is kept the same way, two rows at a
 * time. The occupation of a state, exp(log alpha + log beta - log p + loss),
 * is alpha's q times beta's sum of successors (beta before the emission of
 * frame t, so no division by p) times one factor per frame.
 */
function sample(
  x: Float32Array,
  base: number,
  frameStride: number,
  Tb: number,
  C: number,
  ext: Int32Array,
  skip: Float64Array,
  Sp: number,
  grad: Float32Array | null,
  gradScale: number,
): number {
  const W = Sp + 2 * PAD;
  const n = Tb * W;
  // probs [Tb, C], lse [Tb], alpha q and logs [Tb, W], shifts [Tb], beta q and logs [2, W].
  const need = Tb * C + Tb + 2 * n + Tb + 4 * W;
  if (f64.length < need) f64 = new Float64Array(Math.max(need, f64.length * 2));
  if (leftStates.length < Sp) leftStates = new Int32Array(2 * Sp);
  const buf = f64;
  const probs = buf;
  const oLse = Tb * C;
  const oQa = oLse + Tb;
  const oLa = oQa + n;
  const oMa = oLa + n;
  const oQb = oMa + Tb;
  const oLb = oQb + 2 * W;

  // Softmax of each frame (written to the gradient as its first term) and
  // the log normalizer.
  for (let t = 0; t < Tb; t++) {
    const o = base + t * frameStride;
    const pr = t * C;
    let m = NEG_INF;
    for (let c = 0; c < C; c++) if (x[o + c] > m) m = x[o + c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = expF64(x[o + c] - m);
      probs[pr + c] = e;
      sum += e;
    }
    const inv = 1 / sum;
    if (grad !== null) {
      for (let c = 0; c < C; c++) {
        const p = probs[pr + c] * inv;
        probs[pr + c] = p;
        grad[o + c] = p * gradScale;
      }
    } else {
      for (let c = 0; c < C; c++) probs[pr + c] *= inv;
    }
    buf[oLse + t] = m + Math.log(sum);
  }

  // Forward: first frame (shift 0), the two start states.
  let lo = Math.max(0, Sp - 2 * Tb);
  let hi = Math.min(Sp - 1, 1);
  let mx = 0;
  let mLog = NEG_INF;
  {
    const row = oQa + PAD;
    clearEdges(buf, row, oLa + PAD, lo, hi);
    for (let s = lo; s <= hi; s++) {
      const p = probs[ext[s]];
      if (p > TINY) {
        buf[row + s] = p;
        if (p > mx) mx = p;
      } else {
        const lv = x[base + ext[s]] - buf[oLse];
        buf[row + s] = 0;
        buf[oLa + PAD + s] = lv;
        if (lv > mLog) mLog = lv;
      }
    }
    buf[oMa] = 0;
  }
  let M = 0;
  for (let t = 1; t < Tb; t++) {
    if (mx === 0 && mLog === NEG_INF) return Infinity;
    const Mt = mx > 0 ? M + Math.log(mx) : mLog;
    const r = mx > 0 ? 1 / mx : 0;
    lo = Math.max(0, Sp - 2 * (Tb - t));
    hi = Math.min(Sp - 1, 2 * t + 1);
    const prev = oQa + (t - 1) * W + PAD;
    const row = prev + W;
    const lgRow = row - oQa + oLa;
    clearEdges(buf, row, lgRow, lo, hi);
    mx = alphaRowFast(buf, ext, skip, prev, row, t * C, lo, hi, r);
    mLog = NEG_INF;
    if (leftOver > 0) {
      const xo = base + t * frameStride;
      mx = alphaRowCareful(buf, x, ext, skip, prev, row, oLa - oQa, xo, buf[oLse + t], M, Mt, mx);
      mLog = rowMaxLog;
    }
    buf[oMa + t] = Mt;
    M = Mt;
  }
  const lastRow = oQa + (Tb - 1) * W + PAD;
  const lastLg = lastRow - oQa + oLa;
  const endLog = logOf(buf, lastRow + Sp - 1, lastLg + Sp - 1, M);
  const logp = Sp > 1 ? lse2(endLog, logOf(buf, lastRow + Sp - 2, lastLg + Sp - 2, M)) : endLog;
  if (logp === NEG_INF) return Infinity;
  const nll = -logp;
  if (grad === null) return nll;

  // Backward, from the last frame down, with the gradient of each frame as
  // soon as its beta row is known.
  if (acc.length < C) acc = new Float64Array(C);
  const occ = acc;
  occ.fill(0, 0, C);
  const blank = ext[0];
  let Mnext = 0;
  mx = 0;
  mLog = NEG_INF;
  for (let t = Tb - 1; t >= 0; t--) {
    const last = t === Tb - 1;
    if (!last && mx === 0 && mLog === NEG_INF) break; // nothing reaches the end (not for a finite loss)
    const Mt = last ? 0 : mx > 0 ? Mnext + Math.log(mx) : mLog;
    const r = last ? 1 : mx > 0 ? 1 / mx : 0;
    lo = Math.max(0, Sp - 2 * (Tb - t));
    hi = Math.min(Sp - 1, 2 * t + 1);
    const next = oQb + ((t + 1) & 1) * W + PAD;
    const row = oQb + (t & 1) * W + PAD;
    const aRow = oQa + t * W + PAD;
    const Ma = buf[oMa + t];
    // Occupation = alpha's q * w * G, w = beta before frame t's emission
    // (the sum of the successors) scaled by exp(-Mt).
    const G = Math.exp(Ma + Mt + nll);
    const gOk = G < BIG;
    const pr = t * C;
    const o = base + t * frameStride;
    clearEdges(buf, row, row - oQb + oLb, lo, hi);
    mx = 0;
    if (!last && gOk) {
      mx = betaRowFast(buf, ext, skip, next, row, aRow, pr, blank, lo, hi, r, G, occ);
    } else {
      // The last frame (and a frame with a huge factor G): every state the careful way.
      leftOver = 0;
      for (let s = lo; s <= hi; s++) leftStates[leftOver++] = s;
    }
    const careful = leftOver > 0;
    mLog = NEG_INF;
    if (careful) {
      const c: CarefulBeta = {
        x, ext, skip, next, row, lgShift: oLb - oQb, aRow, aLgShift: oLa - oQa, pr, xo: o, lseT: buf[oLse + t],
        r, G, gOk, last, Sp, Mnext, Mt, Ma, nll,
      };
      mx = betaRowCareful(buf, c, occ, mx);
      mLog = rowMaxLog;
    }
    // Gradient of frame t: softmax (already written) minus the occupation
    // of each class that has states here, accumulated in float64.
    for (let s = lo; s <= hi; s++) {
      const k = ext[s];
      const g = occ[k];
      if (g !== 0) {
        grad[o + k] = (probs[pr + k] - g) * gradScale;
        occ[k] = 0;
      }
    }
    Mnext = Mt;
  }
  return nll;
}

/** States the last fast row pass left to the careful one (a second return value), listed in `leftStates`. */
let leftOver = 0;
let leftStates = new Int32Array(0);
/** The largest log-form value of the last careful row pass (a second return value). */
let rowMaxLog = NEG_INF;

/**
 * Fast pass over alpha row t, states lo..hi: each state whose predecessors'
 * scaled sum is above SAFE and whose value is above TINY. The others are
 * set to 0 and counted in `leftOver` for {@link alphaRowCareful}. Blank
 * (even) and label (odd) states run as separate loops. Returns the row's
 * largest value.
 */
function alphaRowFast(
  buf: Float64Array,
  ext: Int32Array,
  skip: Float64Array,
  prev: number,
  row: number,
  pr: number,
  lo: number,
  hi: number,
  r: number,
): number {
  let mx = 0;
  let bad = 0;
  const left = leftStates;
  const pBlank = buf[pr + ext[0]];
  for (let s = lo + (lo & 1); s <= hi; s += 2) {
    const sum = buf[prev + s] + buf[prev + s - 1];
    const v = pBlank * (sum * r);
    if (sum > SAFE && v > TINY) {
      buf[row + s] = v;
      if (v > mx) mx = v;
    } else {
      buf[row + s] = 0;
      left[bad++] = s;
    }
  }
  for (let s = lo | 1; s <= hi; s += 2) {
    const sum = buf[prev + s] + buf[prev + s - 1] + skip[s] * buf[prev + s - 2];
    const v = buf[pr + ext[s]] * (sum * r);
    if (sum > SAFE && v > TINY) {
      buf[row + s] = v;
      if (v > mx) mx = v;
    } else {
      buf[row + s] = 0;
      left[bad++] = s;
    }
  }
  leftOver = bad;
  return mx;
}

/**
 * The states {@link alphaRowFast} left (listed in `leftStates`): from the logs of the predecessors,
 * with their own log-sum-exp; stored scaled by exp(-Mt) when above TINY,
 * else as logs (largest in `rowMaxLog`). Returns the row's largest scaled value.
 */
function alphaRowCareful(
  buf: Float64Array,
  x: Float32Array,
  ext: Int32Array,
  skip: Float64Array,
  prev: number,
  row: number,
  lgShift: number,
  xo: number,
  lseT: number,
  M: number,
  Mt: number,
  mx: number,
): number {
  rowMaxLog = NEG_INF;
  const left = leftStates;
  for (let i = 0; i < leftOver; i++) {
    const s = left[i];
    const l0 = logOf(buf, prev + s, prev + lgShift + s, M);
    const l1 = logOf(buf, prev + s - 1, prev + lgShift + s - 1, M);
    const l2 = skip[s] !== 0 ? logOf(buf, prev + s - 2, prev + lgShift + s - 2, M) : NEG_INF;
    mx = storeFromLog(buf, row, lgShift, s, x[xo + ext[s]] - lseT + lse3(l0, l1, l2), Mt, mx);
  }
  return mx;
}

/**
 * Stores state s of a row from its log `lv`: scaled by exp(-Mt) when that is
 * above TINY, else 0 with the log kept at `lgShift` past it (the row's largest
 * such log in `rowMaxLog`). Returns `mx` raised to the stored value.
 */
function storeFromLog(buf: Float64Array, row: number, lgShift: number, s: number, lv: number, Mt: number, mx: number): number {
  const e = lv - Mt > LOG_TINY ? expF64(lv - Mt) : 0;
  if (e > TINY) {
    buf[row + s] = e;
    return e > mx ? e : mx;
  }
  buf[row + s] = 0;
  buf[row + lgShift + s] = lv;
  if (lv > rowMaxLog) rowMaxLog = lv;
  return mx;
}

/**
 * Fast pass over beta row t (t below the last frame) and the occupations
 * of its states: each state whose successors' scaled sum is above SAFE,
 * whose value is above TINY and whose alpha is in scaled form. The others
 * are set to 0 and counted in `leftOver` for {@link betaRowCareful}. The
 * blank's occupation is summed in a local. Returns the row's largest value.
 */
function betaRowFast(
  buf: Float64Array,
  ext: Int32Array,
  skip: Float64Array,
  next: number,
  row: number,
  aRow: number,
  pr: number,
  blank: number,
  lo: number,
  hi: number,
  r: number,
  G: number,
  occ: Float64Array,
): number {
  let mx = 0;
  let bad = 0;
  let blankOcc = 0;
  const left = leftStates;
  const pBlank = buf[pr + blank];
  for (let s = lo + (lo & 1); s <= hi; s += 2) {
    const sum = buf[next + s] + buf[next + s + 1];
    const w = sum * r;
    const v = pBlank * w;
    const a = buf[aRow + s];
    if (sum > SAFE && v > TINY && a > 0) {
      buf[row + s] = v;
      if (v > mx) mx = v;
      blankOcc += a * w;
    } else {
      buf[row + s] = 0;
      left[bad++] = s;
    }
  }
  for (let s = lo | 1; s <= hi; s += 2) {
    const sum = buf[next + s] + buf[next + s + 1] + skip[s + 2] * buf[next + s + 2];
    const w = sum * r;
    const v = buf[pr + ext[s]] * w;
    const a = buf[aRow + s];
    if (sum > SAFE && v > TINY && a > 0) {
      buf[row + s] = v;
      if (v > mx) mx = v;
      occ[ext[s]] += a * w * G;
    } else {
      buf[row + s] = 0;
      left[bad++] = s;
    }
  }
  occ[blank] += blankOcc * G;
  leftOver = bad;
  return mx;
}

/** What {@link betaRowCareful} reads besides the scratch. */
interface CarefulBeta {
  x: Float32Array;
  ext: Int32Array;
  skip: Float64Array;
  next: number;
  row: number;
  lgShift: number;
  aRow: number;
  aLgShift: number;
  pr: number;
  xo: number;
  lseT: number;
  r: number;
  G: number;
  gOk: boolean;
  last: boolean;
  Sp: number;
  Mnext: number;
  Mt: number;
  Ma: number;
  nll: number;
}

/**
 * The states of a beta row that {@link betaRowFast} left (all of them for
 * the last frame, or when G is too large to use as a factor): beta from
 * the logs of the successors where needed, and the occupation from logs
 * where alpha or beta is in log form. Returns the row's largest scaled value.
 */
function betaRowCareful(buf: Float64Array, c: CarefulBeta, occ: Float64Array, mx: number): number {
  const { x, ext, skip, next, row, lgShift, aRow, aLgShift, pr, xo, lseT, r, G, gOk, last, Sp, Mnext, Mt, Ma, nll } = c;
  rowMaxLog = NEG_INF;
  const left = leftStates;
  for (let i = 0; i < leftOver; i++) {
    const s = left[i];
    const k = ext[s];
    const sum = last ? (s >= Sp - 2 ? 1 : 0) : buf[next + s] + buf[next + s + 1] + skip[s + 2] * buf[next + s + 2];
    const w = sum * r;
    const v = buf[pr + k] * w;
    const a = buf[aRow + s];
    const scaled = sum > SAFE && v > TINY;
    let lw: number; // log of beta before the emission
    if (scaled) {
      buf[row + s] = v;
      if (v > mx) mx = v;
      if (gOk && a > 0) {
        occ[k] += a * w * G;
        continue;
      }
      lw = Mt + Math.log(w);
    } else {
      if (last) lw = sum > 0 ? 0 : NEG_INF;
      else {
        const l0 = logOf(buf, next + s, next + lgShift + s, Mnext);
        const l1 = logOf(buf, next + s + 1, next + lgShift + s + 1, Mnext);
        const l2 = skip[s + 2] !== 0 ? logOf(buf, next + s + 2, next + lgShift + s + 2, Mnext) : NEG_INF;
        lw = lse3(l0, l1, l2);
      }
      mx = storeFromLog(buf, row, lgShift, s, x[xo + k] - lseT + lw, Mt, mx);
    }
    occ[k] += occupation(logOf(buf, aRow + s, aRow + aLgShift + s, Ma), lw, nll);
  }
  return mx;
}

/** The log of a stored value: from its scaled form when it has one. */
function logOf(buf: Float64Array, qi: number, li: number, M: number): number {
  const q = buf[qi];
  return q > 0 ? M + Math.log(q) : buf[li];
}

/** exp(log alpha + log beta-before-emission + loss), 0 at log 0. */
function occupation(logAlpha: number, logW: number, nll: number): number {
  const e = logAlpha + logW + nll;
  if (e > LOG_ZERO) return expF64(e);
  return Number.isNaN(e) ? NaN : 0;
}

/** Marks the two states on each side of [lo, hi] as log 0 (they are read as predecessors). */
function clearEdges(buf: Float64Array, q: number, lg: number, lo: number, hi: number): void {
  buf[q + lo - 2] = 0;
  buf[q + lo - 1] = 0;
  buf[q + hi + 1] = 0;
  buf[q + hi + 2] = 0;
  buf[lg + lo - 2] = NEG_INF;
  buf[lg + lo - 1] = NEG_INF;
  buf[lg + hi + 1] = NEG_INF;
  buf[lg + hi + 2] = NEG_INF;
}

/**
 * The CTC kernel over typed arrays, for `cpu` and `wasm` (core's
 * `fillKernelFunc`: on wasm the arrays are views of the heap, no copies).
 *
 * Inputs: logits `[B, T, C]` (or `[T, B, C]` with `timeMajor`), labels
 * `[B, S]` int32 (entries past a label's length are never read),
 * logitLengths `[B]`, labelLengths `[B]`. Outputs: the per-sample negative
 * log-likelihood `[B]` and, when `withGrad`, its gradient with respect to
 * the logits (layout of the logits; shape `[0]` otherwise).
 *
 * With `reduction` 'mean' or 'sum' (attribute; default 'none') the first
 * output is the reduced scalar instead, summed in float64 (for 'mean' each
 * loss divided by max(its label length, 1), then by B, as PyTorch), and the
 * gradient is that of the reduced loss.
 *
 * Per sample, in float64: log-softmax of each frame, the forward variables
 * alpha over the 2L+1 extended-label states (blanks between and around the
 * labels) in log space (see `sample`), -log p(labels | logits) from the
 * last two states, then the backward variables beta and the gradient
 *
 *   d loss / d logits[t, c] = softmax[t, c] - sum over states s with label c
 *                             of exp(alpha[t, s] + beta[t, s] - logp[t, c] + loss)
 *
 * (alpha and beta both include frame t's emission). Only states that can be
 * reached from the start and can still reach the end are visited. Frames
 * past the logit length get gradient 0. A sample with no valid alignment
 * has loss Infinity and NaN gradient on its frames, or 0 and gradient 0
 * with `zeroInfinity`, as PyTorch does.
 */
export function ctcFill(
  inputs: (Float32Array | Int32Array | Uint8Array)[],
  outputs: (Float32Array | Int32Array)[],
  attrs: tf.NamedAttrMap,
  shapes: number[][],
): void {
  const { blank, timeMajor, zeroInfinity, withGrad, reduction = 'none' } = attrs as unknown as CtcKernelAttrs;
  const x = inputs[0] as Float32Array;
  const labels = inputs[1];
  const logitLen = inputs[2];
  const labelLen = inputs[3];
  const loss = outputs[0] as Float32Array;
  const grad = withGrad ? (outputs[1] as Float32Array) : null;
  const [d0, d1, C] = shapes[0];
  const B = timeMajor ? d1 : d0;
  const T = timeMajor ? d0 : d1;
  const S = shapes[1][1] ?? 0;
  const frameStride = timeMajor ? B * C : C;
  const mean = reduction === 'mean';
  const reduced = mean || reduction === 'sum';
  let total = 0;

  for (let b = 0; b < B; b++) {
    const Tb = Math.min(Math.max(logitLen[b] | 0, 0), T);
    const L = Math.min(Math.max(labelLen[b] | 0, 0), S);
    const Sp = 2 * L + 1;
    const base = timeMajor ? b * C : b * T * C;
    if (grad !== null) {
      for (let t = Tb; t < T; t++) grad.fill(0, base + t * frameStride, base + t * frameStride + C);
    }

    // Extended labels (padded with two blanks past the end for `skip`) and
    // whether state s may be entered from s - 2.
    if (i32.length < Sp + 2) i32 = new Int32Array(2 * (Sp + 2));
    const ext = i32;
    const skip = takeSkip(Sp + 2);
    for (let s = 0; s < Sp + 2; s++) {
      ext[s] = s % 2 === 0 || s >= Sp ? blank : labels[b * S + ((s - 1) >> 1)];
      skip[s] = s % 2 === 1 && s >= 3 && s < Sp && ext[s] !== ext[s - 2] ? 1 : 0;
    }

    // No frames: only the empty label has an alignment (probability 1).
    // More labels than frames: none has.
    // Per-sample weight of the reduced loss ('mean': 1 / (max(L, 1) * B)).
    const perLabel = mean ? 1 / Math.max(labelLen[b], 1) : 1;
    const gradScale = mean ? perLabel / B : 1;
    const nll =
      Tb === 0 ? (L === 0 ? 0 : Infinity) : L > Tb ? Infinity : sample(x, base, frameStride, Tb, C, ext, skip, Sp, grad, gradScale);
    const impossible = nll === Infinity;
    const value = impossible && zeroInfinity ? 0 : nll;
    if (reduced) total += value * perLabel;
    else loss[b] = value;
    if (grad !== null && !Number.isFinite(nll)) {
      const fill = impossible && zeroInfinity ? 0 : NaN;
      for (let t = 0; t < Tb; t++) grad.fill(fill, base + t * frameStride, base + t * frameStride + C);
    }
  }
  if (reduced) loss[0] = mean ? total / B : total;
}

let skipBuf = new Float64Array(0);
function takeSkip(n: number): Float64Array {
  if (skipBuf.length < n) skipBuf = new Float64Array(2 * n);
  return skipBuf;
}
