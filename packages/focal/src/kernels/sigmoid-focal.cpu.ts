import type * as tf from '@tensorflow/tfjs-core';
import { expF64, log1pF64 } from '@tfjs-losses/core';

/*
 * Typed-array kernels (cpu and wasm backends, through core's fillKernelFunc:
 * the arrays are the backend's own memory, no copies), one pass over the
 * elements in float64 arithmetic. With p and q = 1 - p both formed from
 * e = exp(-|x|) there is no cancellation, and float64 keeps m = 1 - p_t
 * representable up to |x| ~ 745; beyond that m is 0, and the limits below
 * (m^gamma = 0, ce / m -> 1) are exact.
 *
 * All three kernels run one loop, `focalPass`, which writes whichever of
 * loss, d/dlogits and d/dtargets it is given arrays for. gamma = 2 (the
 * default) is written out: m^2 needs no Math.pow, and the gradient's
 * m^gamma * gamma ce / m becomes 2 m ce with no division.
 */

type Floats = Float32Array;

/** Flat index of the first target outside [0, 1] (or NaN) in the last {@link focalPass}, else -1. */
let firstBadTarget = -1;

/**
 * One pass over the elements of logits `xv` and targets `tv`. Writes the
 * per-element loss into `loss`, and d/dlogits, d/dtargets of
 * sum(dy * loss) into `dx`, `dt` (each skipped when null). dy is `dv[i]`, or
 * `dv[0]` when `scalarDy`, or 1 when `dv` is null, times `gradScale`.
 * Returns the sum of the losses (float64).
 */
function focalPass(
  xv: Floats,
  tv: Floats,
  alpha: number,
  gamma: number,
  loss: Floats | null,
  dx: Floats | null,
  dt: Floats | null,
  dv: Floats | null,
  scalarDy: boolean,
  gradScale: number,
): number {
  const n = xv.length;
  const useAlpha = alpha >= 0;
  const a0 = useAlpha ? 1 - alpha : 1;
  const slope = useAlpha ? 2 * alpha - 1 : 0;
  const square = gamma === 2;
  const grads = dx !== null && dt !== null;
  const perElementDy = dv !== null && !scalarDy;
  const g0 = (dv === null ? 1 : dv[0]) * gradScale;
  let total = 0;
  let bad = -1;
  for (let i = 0; i < n; i++) {
    const x = xv[i];
    const t = tv[i];
    if (!(t >= 0 && t <= 1) && bad < 0) bad = i;
    // Branch-free on the sign of x (random signs would defeat the branch
    // predictor): b is 1 for x < 0, else 0, and each blend below has one
    // exact term 0.
    const b = (x < 0) as unknown as number | 0;
    const e = expF64(-Math.abs(x));
    const inv = 1 / (1 + e);
    const l = log1pF64(e);
    const p = inv * (b * e + (1 - b));
    const q = inv * ((1 - b) * e + b);
    const spPos = (1 - b) * x + l;
    const spNeg = l - b * x;
    if (t === 0 && square && grads && !perElementDy) {
      // The common case of the summing kernel (a negative anchor, gamma 2):
      // ce = softplus(x), m = p, w = p^2, a = 1 - alpha; the general lines
      // below with those substituted.
      const aw = a0 * p * p;
      total += aw * spPos;
      dx[i] = aw * (2 * spPos * q + p) * g0;
      dt[i] = p * (p * slope * spPos + a0 * (2 * spPos * (q - p) - p * x)) * g0;
      continue;
    }
    const ce = (1 - t) * spPos + t * spNeg;
    const m = (1 - t) * p + t * q;
    const w = square ? m * m : gamma === 1 ? m : gamma === 0 ? 1 : Math.pow(m, gamma);
    const a = a0 + slope * t;
    const li = a * w * ce;
    total += li;
    if (loss !== null) loss[i] = li;
    if (grads) {
      // w * gamma * ce / m; where m = 0 (saturated hard target) ce / m -> 1.
      const wgr = square ? 2 * m * ce : gamma === 0 ? 0 : w * gamma * (m > 0 ? ce / m : 1);
      const g = perElementDy ? dv[i] * gradScale : g0;
      dx[i] = a * (wgr * p * q * (1 - 2 * t) + w * (p - t)) * g;
      dt[i] = (w * slope * ce + a * (wgr * (q - p) - w * x)) * g;
    }
  }
  firstBadTarget = bad;
  return total;
}

interface SigmoidAttrs {
  alpha: number;
  gamma: number;
}

function attrsOf(attrs: tf.NamedAttrMap): SigmoidAttrs {
  return attrs as unknown as SigmoidAttrs;
}

/** Per-element loss. Inputs: logits, targets; output: the loss. */
export function sigmoidFocalForwardFill(inputs: ArrayLike<number>[], outputs: ArrayLike<number>[], attrs: tf.NamedAttrMap): void {
  const { alpha, gamma } = attrsOf(attrs);
  focalPass(inputs[0] as Floats, inputs[1] as Floats, alpha, gamma, outputs[0] as Floats, null, null, null, false, 1);
}

/**
 * Sum of the per-element losses divided by `divisor`; the flat index of the
 * first target outside [0, 1] or -1 (int32; the loss checks its targets
 * here instead of in a pass of its own); and, when `withGrad`, the gradients
 * of the sum (d/dlogits, d/dtargets) for an upstream gradient of 1, else two
 * empty outputs. Inputs: logits, targets.
 */
export function sigmoidFocalSumFill(inputs: ArrayLike<number>[], outputs: ArrayLike<number>[], attrs: tf.NamedAttrMap): void {
  const { alpha, gamma } = attrsOf(attrs);
  const divisor = attrs.divisor as number;
  const withGrad = attrs.withGrad as boolean;
  const [total, badIndex, dx, dt] = outputs;
  const sum = focalPass(
    inputs[0] as Floats,
    inputs[1] as Floats,
    alpha,
    gamma,
    null,
    withGrad ? (dx as Floats) : null,
    withGrad ? (dt as Floats) : null,
    null,
    false,
    1 / divisor,
  );
  (total as Floats)[0] = sum / divisor;
  (badIndex as Int32Array)[0] = firstBadTarget;
}

/**
 * Gradients (logits, targets) of sum(dy * loss). Inputs: logits, targets,
 * dy, where dy has the shape of logits or is a scalar (the gradient of the sum).
 */
export function sigmoidFocalBackwardFill(inputs: ArrayLike<number>[], outputs: ArrayLike<number>[], attrs: tf.NamedAttrMap): void {
  const { alpha, gamma } = attrsOf(attrs);
  const [x, t, dy] = inputs as Floats[];
  const scalarDy = dy.length === 1 && x.length !== 1;
  focalPass(x, t, alpha, gamma, null, outputs[0] as Floats, outputs[1] as Floats, dy, scalarDy, 1);
}


/**
 * The summing kernel's pass over the elements from `start` on (the tail the
 * SIMD loops leave): the sum of their losses and the flat index of the first
 * bad target among them (-1 if none), with the gradients of the sum times
 * `gradScale` written to `dx`, `dt` from `start` on when given.
 */
export function sigmoidFocalTail(
  x: Float32Array,
  t: Float32Array,
  start: number,
  alpha: number,
  gamma: number,
  dx: Float32Array | null,
  dt: Float32Array | null,
  gradScale: number,
): { sum: number; bad: number } {
  const sum = focalPass(x.subarray(start), t.subarray(start), alpha, gamma, null, dx && dx.subarray(start), dt && dt.subarray(start), null, false, gradScale);
  return { sum, bad: firstBadTarget < 0 ? -1 : start + firstBadTarget };
}
