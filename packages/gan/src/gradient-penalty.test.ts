import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { withStockGradient } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { gradientPenalty, r1Penalty, wganGpCriticLoss } from './index';
import { functionCritic, WEIGHT_ORDER, type PenaltyCase } from './testing/critics';
import { evaluate, expectMatches, layersCritic, modelVars } from './testing/penalty-checks';

const cases = loadFixture<PenaltyCase>(import.meta.url, 'gradient-penalty.json');

describe('gradientPenalty matches PyTorch (create_graph=True): value, input and critic-weight gradients', () => {
  for (const c of cases.filter((k) => k.fn === 'gradientPenalty')) {
    it(`function critic: ${c.name}`, async () => {
      const { critic, vars } = functionCritic(c.critic, c.weights);
      await expectMatches(c, evaluate(c, critic, WEIGHT_ORDER[c.critic].map((n) => vars[n])));
      tf.dispose(Object.values(vars));
    });
    it(`tf.LayersModel critic (model.apply): ${c.name}`, async () => {
      const model = layersCritic(c.critic, c.weights);
      await expectMatches(c, evaluate(c, model, modelVars(model)));
      model.dispose();
    });
  }
});

describe('gradientPenalty', () => {
  const tanhCase = cases.find((c) => c.fn === 'gradientPenalty' && c.critic === 'mlp-tanh' && Object.keys(c.options).length === 0) as PenaltyCase;

  it('fails with stock tfjs Tanh gradients and passes with core\'s', async () => {
    const { critic, vars } = functionCritic('mlp-tanh', tanhCase.weights);
    const W1 = vars.W1;
    const real = tf.tensor(tanhCase.real);
    const fake = tf.tensor(tanhCase.fake);
    const f = () => gradientPenalty(critic, real, fake, { epsilon: tanhCase.epsilon }) as tf.Scalar;
    const stock = await withStockGradient('Tanh', () => tf.variableGrads(f, [W1]).grads[W1.name]).data();
    const want = tanhCase.gradWeights.W1.flat(Infinity as 1) as number[];
    const worst = Math.max(...want.map((w, i) => Math.abs(stock[i] - w) / (Math.abs(w) + 1e-3)));
    expect(worst, 'stock tfjs second-order gradient error').toBeGreaterThan(0.05);
    await expectClose(tf.variableGrads(f, [W1]).grads[W1.name], tanhCase.gradWeights.W1, { rtol: 5e-4, atol: 5e-5 });
  });

  // Only the smooth critic: with leaky ReLUs the penalty is piecewise in the
  // weights, and a finite-difference step that moves a unit across its kink
  // measures a jump. The leaky and pooling ops are checked by finite
  // differences one at a time on tiny networks (second-order-ops.test.ts).
  it('critic-weight gradients agree with finite differences (tanh MLP)', async () => {
    for (const kind of ['mlp-tanh'] as const) {
      const c = cases.find((k) => k.critic === kind && k.fn === 'gradientPenalty') as PenaltyCase;
      const real = tf.tensor(c.real);
      const fake = tf.tensor(c.fake);
      const names = WEIGHT_ORDER[kind].filter((n) => n !== 'b2');
      // The penalty as a function of the weights (the last bias does not change it).
      const f = (...ws: tf.Tensor[]) => {
        const weights = { ...c.weights };
        const t: Record<string, tf.Tensor> = {};
        names.forEach((n, i) => (t[n] = ws[i]));
        const critic = (x: tf.Tensor) => withWeights(x, weights, t);
        return gradientPenalty(critic, real, fake, { ...c.options, epsilon: c.epsilon });
      };
      await gradCheck(f, names.map((n) => tf.tensor(c.weights[n])), { samples: 4 });
    }
  });

  it('returns gradient norms on request, equal to the reference', async () => {
    for (const c of cases.filter((k) => k.fn !== 'r1Penalty')) {
      const { critic } = functionCritic(c.critic, c.weights);
      const opts = { ...c.options, epsilon: c.epsilon, returnGradNorms: true as const };
      const r = c.fn === 'gradientPenalty' ? gradientPenalty(critic, c.real, c.fake, opts) : wganGpCriticLoss(critic, c.real, c.fake, opts);
      await expectClose(r.gradNorms, c.gradNorms, { rtol: 2e-4, atol: 1e-5 });
      expect(r.gradNorms.shape).toEqual([c.real.length]);
    }
  });

  it('has the documented shape per reduction', () => {
    const critic = (x: tf.Tensor) => tf.sum(tf.square(x), 1);
    const real = randomTensor([4, 3], 1);
    const fake = randomTensor([4, 3], 2);
    expect(gradientPenalty(critic, real, fake).shape).toEqual([]);
    expect(gradientPenalty(critic, real, fake, { reduction: 'sum' }).shape).toEqual([]);
    expect(gradientPenalty(critic, real, fake, { reduction: 'none' }).shape).toEqual([4]);
  });

  it('identity: D(x) = a.x has gradient norm |a| everywhere, so the penalty is lambda (|a| - target)^2', async () => {
    const a = tf.tensor([[3], [4]]); // |a| = 5
    const critic = (x: tf.Tensor) => tf.matMul(x, a);
    const real = randomTensor([6, 2], 3);
    const fake = randomTensor([6, 2], 4);
    await expectClose(gradientPenalty(critic, real, fake), 10 * 16);
    await expectClose(gradientPenalty(critic, real, fake, { lambda: 2, target: 2, mode: 'real' }), 2 * 9);
    await expectClose(gradientPenalty(critic, real, fake, { oneSided: true, target: 6 }), 0);
    await expectClose(r1Penalty(critic, real, { gamma: 4 }), 2 * 25);
  });

  it('draws epsilon per sample in [0, 1] when none is given', async () => {
    // D(x) = sum(x^2)/2 has gradient x, so ||grad|| at x_hat = |eps r + (1 - eps) f| per sample.
    const critic = (x: tf.Tensor) => tf.mul(tf.sum(tf.square(x), 1), 0.5);
    const real = tf.fill([200, 1], 2);
    const fake = tf.fill([200, 1], 1);
    const { gradNorms } = gradientPenalty(critic, real, fake, { returnGradNorms: true });
    const norms = Array.from(await gradNorms.data());
    expect(Math.min(...norms)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...norms)).toBeLessThanOrEqual(2);
    expect(new Set(norms.map((n) => n.toFixed(4))).size).toBeGreaterThan(100);
  });

  it('a PatchGAN critic (map of scores) differentiates the sum of its outputs', async () => {
    const patch = cases.find((c) => c.critic === 'patch' && c.fn === 'gradientPenalty') as PenaltyCase;
    const { critic } = functionCritic('patch', patch.weights);
    const summed = (x: tf.Tensor) => tf.sum(critic(x), [1, 2, 3]);
    const opts = { epsilon: patch.epsilon };
    await expectClose(gradientPenalty(critic, patch.real, patch.fake, opts), gradientPenalty(summed, patch.real, patch.fake, opts));
  });

  it('a zero gradient gives a finite penalty and zero (not NaN) gradients, as PyTorch', async () => {
    const w = tf.variable(tf.tensor([[1], [2]]));
    const critic = (x: tf.Tensor) => tf.matMul(tf.relu(tf.sub(x, 10)), w); // dead everywhere below 10
    const real = randomTensor([3, 2], 5);
    const fake = randomTensor([3, 2], 6);
    const { value, grads } = tf.variableGrads(() => gradientPenalty(critic, real, fake, { epsilon: [0.1, 0.5, 0.9] }) as tf.Scalar, [w]);
    await expectClose(value, 10);
    if (grads[w.name]) await expectClose(grads[w.name], [[0], [0]]);
    const g = tf.grads((r: tf.Tensor, f: tf.Tensor) => gradientPenalty(critic, r, f, { epsilon: [0.1, 0.5, 0.9] }))([real, fake]);
    for (const t of g) expect(Array.from(await t.data()).every((v) => v === 0)).toBe(true);
  });

  it('accepts plain arrays and a number for epsilon', async () => {
    const critic = (x: tf.Tensor) => tf.mul(tf.sum(tf.square(x), 1), 0.5);
    // x_hat = 0.25 [4] + 0.75 [0] = [1]: norm 1, penalty 0; second sample [0.5 * ...]
    await expectClose(gradientPenalty(critic, [[4], [8]], [[0], [0]], { epsilon: 0.25 }), 10 * (0 + 1) / 2);
    await expectClose(gradientPenalty(critic, [[4], [8]], [[0], [0]], { epsilon: [0.25, 0.125] }), 0);
  });

  it('rejects bad input with LossInputError', () => {
    const critic = (x: tf.Tensor) => tf.sum(x, 1);
    const r = tf.zeros([2, 3]);
    expectLossInputError(() => gradientPenalty(critic, r, tf.zeros([2, 4])), 'gradientPenalty: fake must have the shape of real [2, 3]; got [2, 4].');
    expectLossInputError(() => gradientPenalty(critic, r, r, { epsilon: [0.5] }), 'gradientPenalty: epsilon must have shape [2]; got [1].');
    expectLossInputError(() => gradientPenalty(critic, r, r, { lambda: -1 }), 'gradientPenalty: lambda must be >= 0; got -1.');
    expectLossInputError(() => gradientPenalty(critic, r, r, { mode: 'middle' as 'real' }), 'gradientPenalty: mode must be one of "interpolated", "real", "fake"; got "middle".');
    expectLossInputError(() => gradientPenalty(critic, r, r, { reduction: 'avg' as 'mean' }), 'gradientPenalty: reduction must be one of');
    expectLossInputError(() => gradientPenalty(critic, r, r, { target: Number.NaN }), 'gradientPenalty: target must be a number; got NaN.');
    expectLossInputError(() => gradientPenalty(42 as unknown as typeof critic, r, r), 'gradientPenalty: critic must be a function of a tensor or an object with apply(x)');
    expectLossInputError(() => gradientPenalty(() => [tf.zeros([2])] as unknown as tf.Tensor, r, r), 'gradientPenalty: critic must return one tensor of scores; got an array of length 1.');
    expectLossInputError(() => gradientPenalty(() => tf.zeros([2]), r, r), 'gradientPenalty: critic must compute its output from its input');
    expectLossInputError(() => gradientPenalty(critic, tf.zeros([0, 3]), tf.zeros([0, 3])), 'gradientPenalty: real must hold at least one sample; got batch size 0.');
    expectLossInputError(() => gradientPenalty(critic, 'x' as unknown as tf.Tensor, r), 'gradientPenalty: real must be a tensor');
  });

  it('leaks no tensors, also under tf.variableGrads', () => {
    const { critic, vars } = functionCritic('conv', cases.find((c) => c.critic === 'conv')!.weights);
    const real = randomTensor([2, 8, 8, 2], 7);
    const fake = randomTensor([2, 8, 8, 2], 8);
    expectNoLeak(() => gradientPenalty(critic, real, fake, { epsilon: [0.3, 0.6] }));
    expectNoLeak(() => gradientPenalty(critic, real, fake, { epsilon: [0.3, 0.6], returnGradNorms: true }));
    expectNoLeak(() => tf.variableGrads(() => gradientPenalty(critic, real, fake) as tf.Scalar, Object.values(vars)));
  });
});

/** The tanh MLP critic of the fixture with some weights replaced by given tensors (for finite differences). */
function withWeights(x: tf.Tensor, weights: Record<string, number[]>, given: Record<string, tf.Tensor>): tf.Tensor {
  const w = (n: string) => given[n] ?? tf.tensor(weights[n]);
  return tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w('W1')), w('b1'))), w('W2')), w('b2'));
}
