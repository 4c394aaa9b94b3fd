import type * as tf from '@tensorflow/tfjs-core';
import { balancedL1Constants, type BalancedL1Attrs } from './balanced-l1.constants';
import type { HostKernelSpec } from './host-kernel';

/*
 * Typed-array kernels of elementwise Balanced L1 for the cpu and wasm backends.
 * With x = |pred − target|, b = e^(γ/α) − 1 and q = min(x, β):
 *
 *   loss  = α ((q + 1/b) log1p(b q / β) − q) + γ (x − q)
 *   slope = α log1p(b x / β) + α (b x + 1) / (b x + β) − α   if x < β, γ otherwise
 *
 * (the loss is MMDetection's inner branch for x < β and its outer branch
 * beyond). Branches are blended with m = +(x < β) as in smooth-l1.cpu.ts;
 * float64 arithmetic, rounded once when stored.
 */

interface Prepared {
  alpha: number;
  gamma: number;
  beta: number;
  b: number;
  invB: number;
}

function prepare(attrs: tf.NamedAttrMap): Prepared {
  const { alpha, gamma, beta } = attrs as unknown as BalancedL1Attrs;
  const { b, invB } = balancedL1Constants(alpha, gamma, beta);
  return { alpha, gamma, beta, b, invB };
}

/**
 * log(1 + u) for u >= 0 to a few float64 ulps, a third faster than
 * Math.log1p in V8 here: the rounding of 1 + u is divided back out.
 */
function log1p(u: number): number {
  const v = 1 + u;
  return v === 1 ? u : Math.log(v) * (u / (v - 1));
}

function lossAt(x: number, k: Prepared): number {
  if (!(x < Infinity)) return k.gamma * x;
  const m = +(x < k.beta);
  const q = m * x + (1 - m) * k.beta;
  return k.alpha * ((q + k.invB) * log1p((q / k.beta) * k.b) - q) + k.gamma * (x - q);
}

function slopeAt(d: number, k: Prepared): number {
  const x = Math.abs(d);
  if (!(x < Infinity)) return Math.sign(d) * k.gamma;
  const m = +(x < k.beta);
  const q = m * x + (1 - m) * k.beta;
  const bq = k.b * q;
  const inner = k.alpha * log1p((q / k.beta) * k.b) + (k.alpha * (bq + 1)) / (bq + k.beta) - k.alpha;
  return (+(d > 0) - +(d < 0)) * (m * inner + (1 - m) * k.gamma);
}

/** Loss per element. Inputs pred, target. */
export const balancedL1Forward: HostKernelSpec = {
  inputNames: ['pred', 'target'],
  outputShapes: (shapes) => [shapes[0]],
  fill: ([p, t], [out], attrs) => {
    const k = prepare(attrs);
    for (let i = 0; i < p.length; i++) out[i] = lossAt(Math.abs(p[i] - t[i]), k);
  },
};

/** Sum of the loss over all elements, accumulated in float64: a scalar. */
export const balancedL1Sum: HostKernelSpec = {
  inputNames: ['pred', 'target'],
  outputShapes: () => [[]],
  fill: ([p, t], [out], attrs) => {
    const k = prepare(attrs);
    let sum = 0;
    for (let i = 0; i < p.length; i++) sum += lossAt(Math.abs(p[i] - t[i]), k);
    out[0] = sum;
  },
};

/**
 * Gradients of sum(dy · loss) with respect to pred and target. Inputs dy (the
 * loss's shape, or one value for the gradient of the sum), pred, target.
 */
export const balancedL1Grad: HostKernelSpec = {
  inputNames: ['dy', 'pred', 'target'],
  outputShapes: (shapes) => [shapes[1], shapes[1]],
  fill: ([dy, p, t], [dPred, dTarget], attrs) => {
    const k = prepare(attrs);
    const scalarDy = dy.length === 1;
    const dy0 = dy[0];
    for (let i = 0; i < p.length; i++) {
      const v = (scalarDy ? dy0 : dy[i]) * slopeAt(p[i] - t[i], k);
      dPred[i] = v;
      dTarget[i] = -v;
    }
  },
};
