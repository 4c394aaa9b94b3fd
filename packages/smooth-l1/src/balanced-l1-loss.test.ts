import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, seededRandom, toArray } from '@tfjs-losses/test-utils';
import { balancedL1Loss, balancedL1LossKeras } from './index';

/** MMDetection's formula in float64, for a single |d| = x. */
function reference(x: number, alpha = 0.5, gamma = 1.5, beta = 1): number {
  const b = Math.exp(gamma / alpha) - 1;
  return x < beta ? (alpha / b) * (b * x + 1) * Math.log((b * x) / beta + 1) - alpha * x : gamma * x + gamma / b - alpha * beta;
}

/** Its derivative in |d| (float64). */
function referenceSlope(x: number, alpha = 0.5, gamma = 1.5, beta = 1): number {
  const b = Math.exp(gamma / alpha) - 1;
  return x < beta ? alpha * Math.log((b * x) / beta + 1) + (alpha * (b * x + 1)) / (b * x + beta) - alpha : gamma;
}

/** pred, target whose differences keep at least `gap` away from 0 and ±beta. */
function awayFromKinks(shape: number[], seed: number, beta: number, gap = 0.1): [tf.Tensor, tf.Tensor] {
  const r = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const t = new Float32Array(n);
  const p = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = 2 * r() - 1;
    const mag = i % 2 === 0 ? gap + (beta - 2 * gap) * r() : beta + gap + 2 * r();
    p[i] = t[i] + (r() < 0.5 ? -mag : mag);
  }
  return [tf.tensor(p, shape), tf.tensor(t, shape)];
}

describe(`balancedL1Loss on ${tf.getBackend()}`, () => {
  for (const c of loadFixture(import.meta.url, 'balanced-l1-loss.json')) {
    it(`matches MMDetection's balanced_l1_loss (PyTorch): ${c.name}`, async () => {
      const f = (p: tf.Tensor, t: tf.Tensor) => balancedL1Loss(p, t, c.options);
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor(c.pred), tf.tensor(c.target)]);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradPred);
      await expectClose(grads[1], c.gradTarget);
    });
  }

  it('has the documented shape per reduction', () => {
    const p = tf.zeros([2, 5, 4]);
    expect(balancedL1Loss(p, p, { reduction: 'none' }).shape).toEqual([2, 5, 4]);
    expect(balancedL1Loss(p, p, { reduction: 'sum' }).shape).toEqual([]);
    expect(balancedL1Loss(p, p).shape).toEqual([]);
  });

  for (const [alpha, gamma, beta] of [[0.5, 1.5, 1], [0.25, 1, 0.5], [1, 2, 2]]) {
    it(`agrees with finite differences away from the kinks (alpha ${alpha}, gamma ${gamma}, beta ${beta})`, async () => {
      const [p, t] = awayFromKinks([4, 4], 3 + beta * 7, beta);
      await gradCheck((a, b) => balancedL1Loss(a, b, { alpha, gamma, beta }), [p, t], { samples: 16 });
    });
  }

  it('follows the float64 formula over a sweep of |d| (both branches)', async () => {
    for (const [alpha, gamma, beta] of [[0.5, 1.5, 1], [0.25, 1, 0.5], [1, 2, 2]]) {
      const xs = [0, 1e-6, 1e-3, 0.05, 0.3, 0.49, 0.5, 0.51, 0.99, 1, 1.01, 1.7, 2, 2.5, 40, 1e6].map(Math.fround);
      const d = tf.tensor(xs);
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => balancedL1Loss(a, tf.zerosLike(a), { alpha, gamma, beta, reduction: 'none' }))([d]);
      await expectClose(value, xs.map((x) => reference(x, alpha, gamma, beta)));
      await expectClose(grads[0], xs.map((x) => (x === 0 ? 0 : referenceSlope(x, alpha, gamma, beta))));
    }
  });

  it('is continuous at beta; its slope jumps there when beta != 1 (MMDetection form)', async () => {
    const alpha = 0.5;
    const gamma = 1.5;
    const b = Math.exp(gamma / alpha) - 1;
    for (const beta of [0.5, 1, 2]) {
      const inside = Math.fround(beta * (1 - 1e-3));
      const xs = [inside, beta];
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => balancedL1Loss(a, tf.zerosLike(a), { beta, reduction: 'none' }))([tf.tensor(xs)]);
      const [vIn, vAt] = await toArray(value);
      const [gIn, gAt] = await toArray(grads[0]);
      expect(Math.abs(vAt - vIn)).toBeLessThan(2 * gamma * (beta - inside));
      // Slope just inside tends to gamma + alpha((b beta + 1) / (beta (b + 1)) - 1); at beta it is gamma.
      const jump = alpha * ((b * beta + 1) / (beta * (b + 1)) - 1);
      expect(gAt).toBeCloseTo(gamma, 5);
      expect(Math.abs(gIn - (gamma + jump))).toBeLessThan(Math.abs(jump) / 4 + 1e-3);
      // The jump is 0 for beta 1, +0.0249 for beta 0.5 and -0.0124 for beta 2 (alpha 0.5, gamma 1.5).
      if (beta === 1) expect(Math.abs(jump)).toBeLessThan(1e-12);
      else expect(Math.abs(jump)).toBeGreaterThan(0.01);
    }
  });

  it('pred == target gives loss 0 and gradient exactly 0', async () => {
    const x = tf.tensor([[-2, 0, 1e-3], [5, -1e-20, 7]]);
    for (const beta of [1, 0.5]) {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => balancedL1Loss(a, b, { beta }))([x, x]);
      expect(await toArray(value)).toEqual([0]);
      expect((await toArray(grads[0])).every((g) => g === 0)).toBe(true);
      expect((await toArray(grads[1])).every((g) => g === 0)).toBe(true);
    }
  });

  it('stays finite on extreme inputs and parameters', async () => {
    const p = tf.tensor([1e30, -1e30, 1e-30, 1e-7, 0]);
    const t = tf.zeros([5]);
    for (const [alpha, gamma, beta] of [[0.5, 1.5, 1], [0.05, 4, 1e-6], [2, 0.01, 1e6]]) {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => balancedL1Loss(a, t, { alpha, gamma, beta, reduction: 'none' }))([p]);
      expect((await toArray(value)).every((v) => Number.isFinite(v))).toBe(true);
      expect((await toArray(grads[0])).every((g) => Number.isFinite(g))).toBe(true);
    }
  });

  it('weights scale the loss; avgFactor replaces the mean denominator', async () => {
    const [p, t] = awayFromKinks([3, 4], 4, 1);
    const w = tf.tensor([0.5, 0, 1, 2]);
    const weighted = tf.mul(balancedL1Loss(p, t, { reduction: 'none' }), w);
    await expectClose(balancedL1Loss(p, t, { weights: w }), tf.div(tf.sum(weighted), 12));
    await expectClose(balancedL1Loss(p, t, { weights: w, avgFactor: 4 }), tf.div(tf.sum(weighted), 4));
    await expectClose(balancedL1Loss(p, t, { weights: w, reduction: 'none' }), weighted);
  });

  it('accepts plain arrays; the Keras adapter takes (yTrue, yPred)', async () => {
    await expectClose(balancedL1Loss([[2, 0]], [[0, 0]], { reduction: 'sum' }), reference(2));
    const keras = balancedL1LossKeras({ beta: 0.5 });
    const yTrue = tf.tensor([0, 1]);
    const yPred = tf.tensor([0.25, 3]);
    await expectClose(keras(yTrue, yPred), balancedL1Loss(yPred, yTrue, { beta: 0.5 }));
    const g = tf.grad((y: tf.Tensor) => keras(yTrue, y))(yPred);
    await expectClose(g, [referenceSlope(0.25, 0.5, 1.5, 0.5) / 2, 1.5 / 2]);
  });

  it('throws LossInputError for bad input', () => {
    const p = tf.zeros([2, 3]);
    expectLossInputError(() => balancedL1Loss(p, tf.zeros([3, 2])), 'balancedL1Loss: target must have the shape of pred [2, 3]; got [3, 2].');
    expectLossInputError(() => balancedL1Loss(p, p, { beta: 0 }), 'balancedL1Loss: beta must be > 0; got 0.');
    expectLossInputError(() => balancedL1Loss(p, p, { beta: -1 }), 'balancedL1Loss: beta must be > 0; got -1.');
    expectLossInputError(() => balancedL1Loss(p, p, { alpha: 0 }), 'balancedL1Loss: alpha must be > 0; got 0.');
    expectLossInputError(() => balancedL1Loss(p, p, { gamma: -1.5 }), 'balancedL1Loss: gamma must be > 0; got -1.5.');
    expectLossInputError(() => balancedL1Loss(p, p, { gamma: Infinity }), 'balancedL1Loss: gamma must be a finite number > 0; got Infinity.');
    expectLossInputError(() => balancedL1Loss(p, p, { alpha: 0.01, gamma: 2 }), 'balancedL1Loss: gamma / alpha must keep e^(gamma / alpha) - 1 within float32');
    expectLossInputError(() => balancedL1Loss(p, p, { weights: [1, 2] }), 'balancedL1Loss: weights must be broadcastable to the unreduced loss [2, 3]; got [2].');
    expectLossInputError(() => balancedL1Loss(p, p, { avgFactor: -2 }), 'balancedL1Loss: avgFactor must be a number > 0; got -2.');
    expectLossInputError(() => balancedL1Loss(p, p, { reduction: 'max' as 'sum' }), 'balancedL1Loss: reduction must be one of');
  });

  it('leaks no tensors', () => {
    const [p, t] = awayFromKinks([4, 4], 8, 1);
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => balancedL1Loss(a, b, { weights: tf.ones([4]), avgFactor: 2 }))([p, t]));
    expectNoLeak(() => balancedL1Loss([1, 2], [0, 0], { reduction: 'none' }));
  });
});
