import type { HostArray, HostOutput } from '@tfjs-losses/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { SigmoidFocalAttrs } from './sigmoid-focal.kernel';

/*
 * Typed-array kernels (cpu and wasm backends): one loop forward, one loop
 * backward, in float64 arithmetic. With p and q = 1 - p both formed from
 * e = exp(-|x|) there is no cancellation, and float64 keeps m = 1 - p_t
 * representable up to |x| ~ 745; beyond that m is 0, and the limits below
 * (m^gamma = 0, ce / m -> 1) are exact.
 */

function attrsOf(attrs: tf.NamedAttrMap): SigmoidFocalAttrs {
  return attrs as unknown as SigmoidFocalAttrs;
}

/** m^gamma with the common exponents spelled out (Math.pow is slow). */
function powGamma(m: number, gamma: number): number {
  if (gamma === 2) return m * m;
  if (gamma === 1) return m;
  if (gamma === 0) return 1;
  return Math.pow(m, gamma);
}

/** The loss of one element (see the formulas in sigmoid-focal.kernel.ts). */
function elementLoss(x: number, t: number, alpha: number, gamma: number): number {
  const e = Math.exp(-Math.abs(x));
  const l = Math.log1p(e);
  const inv = 1 / (1 + e);
  const p = x >= 0 ? inv : e * inv;
  const q = x >= 0 ? e * inv : inv;
  const ce = (1 - t) * ((x > 0 ? x : 0) + l) + t * ((x < 0 ? -x : 0) + l);
  const loss = powGamma((1 - t) * p + t * q, gamma) * ce;
  return alpha >= 0 ? loss * (1 - alpha + (2 * alpha - 1) * t) : loss;
}

/** Per-element loss. Inputs: logits, targets. */
export function sigmoidFocalForwardHost([x, t]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { alpha, gamma } = attrsOf(attrs);
  const xv = x.values;
  const tv = t.values;
  const out = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) out[i] = elementLoss(xv[i], tv[i], alpha, gamma);
  return [{ values: out, shape: x.shape, dtype: 'float32' }];
}

/** Sum of the per-element losses, accumulated in float64. Inputs: logits, targets. */
export function sigmoidFocalSumHost([x, t]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { alpha, gamma } = attrsOf(attrs);
  const xv = x.values;
  const tv = t.values;
  let total = 0;
  for (let i = 0; i < xv.length; i++) total += elementLoss(xv[i], tv[i], alpha, gamma);
  return [{ values: Float32Array.of(total), shape: [], dtype: 'float32' }];
}

/**
 * Gradients (logits, targets) of sum(dy * loss). Inputs: logits, targets, dy,
 * where dy has the shape of logits or is a scalar (the gradient of the sum).
 */
export function sigmoidFocalBackwardHost([x, t, dy]: HostArray[], attrs: tf.NamedAttrMap): HostOutput[] {
  const { alpha, gamma } = attrsOf(attrs);
  const xv = x.values;
  const tv = t.values;
  const dv = dy.values;
  const n = xv.length;
  const scalarDy = dv.length === 1 && n !== 1;
  const dx = new Float32Array(n);
  const dt = new Float32Array(n);
  const useAlpha = alpha >= 0;
  const alphaSlope = useAlpha ? 2 * alpha - 1 : 0;
  for (let i = 0; i < n; i++) {
    const xi = xv[i];
    const ti = tv[i];
    const e = Math.exp(-Math.abs(xi));
    const l = Math.log1p(e);
    const inv = 1 / (1 + e);
    const p = xi >= 0 ? inv : e * inv;
    const q = xi >= 0 ? e * inv : inv;
    const spPos = (xi > 0 ? xi : 0) + l;
    const spNeg = (xi < 0 ? -xi : 0) + l;
    const ce = (1 - ti) * spPos + ti * spNeg;
    const m = (1 - ti) * p + ti * q;
    const w = powGamma(m, gamma);
    // gamma * ce / m; both vanish together only for hard targets, where the ratio tends to 1.
    const gr = gamma * (m > 0 ? ce / m : 1);
    const a = useAlpha ? 1 - alpha + alphaSlope * ti : 1;
    const g = scalarDy ? dv[0] : dv[i];
    dx[i] = a * w * (gr * p * q * (1 - 2 * ti) + p - ti) * g;
    dt[i] = w * (alphaSlope * ce + a * (gr * (q - p) - xi)) * g;
  }
  return [
    { values: dx, shape: x.shape, dtype: 'float32' },
    { values: dt, shape: x.shape, dtype: 'float32' },
  ];
}
