import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { GEMM_KERNEL } from '@tfjs-losses/core';
import { gradientPenalty, wassersteinCriticLoss, wganGpCriticLoss } from './index';
import { functionCritic, WEIGHT_ORDER, type PenaltyCase } from './testing/critics';
import { evaluate, expectMatches, layersCritic, modelVars } from './testing/penalty-checks';

const cases = loadFixture<PenaltyCase>(import.meta.url, 'gradient-penalty.json').filter((c) => c.fn === 'wganGpCriticLoss');

describe('wganGpCriticLoss', () => {
  for (const c of cases) {
    it(`matches PyTorch (create_graph=True), function critic: ${c.name}`, async () => {
      const { critic, vars } = functionCritic(c.critic, c.weights);
      await expectMatches(c, evaluate(c, critic, WEIGHT_ORDER[c.critic].map((n) => vars[n])));
    });
    it(`matches PyTorch, tf.LayersModel critic: ${c.name}`, async () => {
      const model = layersCritic(c.critic, c.weights);
      await expectMatches(c, evaluate(c, model, modelVars(model)));
      model.dispose();
    });
  }

  it('one optimizer.minimize step moves the weights by -lr times the reference gradient (LayersModel critic)', async () => {
    for (const c of cases.filter((k) => k.critic === 'mlp-tanh' || k.critic === 'conv')) {
      const model = layersCritic(c.critic, c.weights);
      const vars = modelVars(model);
      const before = await Promise.all(vars.map((v) => v.data()));
      const lr = 0.1;
      const optimizer = tf.train.sgd(lr);
      const loss = optimizer.minimize(() => wganGpCriticLoss(model, c.real, c.fake, { ...c.options, epsilon: c.epsilon }), true, vars);
      await expectClose(loss!, c.value, { rtol: 5e-4, atol: 5e-5 });
      for (const [i, name] of WEIGHT_ORDER[c.critic].entries()) {
        const step = tf.sub(vars[i], tf.tensor(before[i], vars[i].shape));
        await expectClose(step, tf.mul(tf.tensor(c.gradWeights[name]), -lr), { rtol: 5e-4, atol: 5e-6 });
      }
      optimizer.dispose();
      model.dispose();
    }
  });

  it('is the Wasserstein critic loss plus the gradient penalty, and returns its parts on request', async () => {
    const c = cases[0];
    const { critic } = functionCritic(c.critic, c.weights);
    const opts = { ...c.options, epsilon: c.epsilon };
    const parts = wganGpCriticLoss(critic, c.real, c.fake, { ...opts, returnGradNorms: true });
    await expectClose(parts.loss, c.value, { rtol: 5e-4, atol: 5e-5 });
    await expectClose(parts.criticLoss, wassersteinCriticLoss(critic(tf.tensor(c.real)), critic(tf.tensor(c.fake))));
    await expectClose(parts.penalty, gradientPenalty(critic, c.real, c.fake, opts));
    await expectClose(parts.loss, tf.add(parts.criticLoss, parts.penalty));
    await expectClose(parts.gradNorms, c.gradNorms, { rtol: 2e-4, atol: 1e-5 });
    expect(parts.loss.shape).toEqual([]);
  });

  it('ReLU critic: the same gradients as the critic loss plus gradientPenalty, with one matMul fewer (masks off the tape)', async () => {
    const w1 = tf.variable(randomTensor([6, 8], 31, -0.5, 0.5), true, 'wganReluW1');
    const b1 = tf.variable(randomTensor([8], 32, -0.2, 0.2), true, 'wganReluB1');
    const w2 = tf.variable(randomTensor([8, 1], 33, -0.5, 0.5), true, 'wganReluW2');
    const vars = [w1, b1, w2];
    const critic = (x: tf.Tensor) => tf.reshape(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), [-1]);
    const real = randomTensor([5, 6], 34);
    const fake = randomTensor([5, 6], 35);
    const epsilon = tf.tensor1d([0.1, 0.5, 0.9, 0.3, 0.7]);
    const run = async (f: () => tf.Scalar) => {
      let r = { value: tf.scalar(0), grads: {} as tf.NamedTensorMap };
      const info = await tf.profile(() => {
        r.value.dispose();
        r = tf.variableGrads(f, vars);
        return [r.value, ...Object.values(r.grads)];
      });
      return { ...r, matMuls: info.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === GEMM_KERNEL).length };
    };
    const fused = await run(() => wganGpCriticLoss(critic, real, fake, { epsilon }));
    const parts = await run(() => tf.add(wassersteinCriticLoss(critic(real), critic(fake)), gradientPenalty(critic, real, fake, { epsilon })) as tf.Scalar);
    await expectClose(fused.value, parts.value);
    for (const v of vars) await expectClose(fused.grads[v.name], parts.grads[v.name]);
    expect(fused.matMuls).toBe(parts.matMuls - 1);
    tf.dispose([fused.value, parts.value, ...Object.values(fused.grads), ...Object.values(parts.grads), ...vars]);
  });

  it('takes mode and oneSided like gradientPenalty', async () => {
    const a = tf.tensor([[3], [4]]); // D(x) = a.x, ||grad|| = 5
    const critic = (x: tf.Tensor) => tf.matMul(x, a);
    const real = tf.tensor([[1, 0], [0, 1]]);
    const fake = tf.tensor([[0, 0], [0, 0]]);
    await expectClose(wganGpCriticLoss(critic, real, fake, { mode: 'real', lambda: 1 }), -3.5 + 16);
    await expectClose(wganGpCriticLoss(critic, real, fake, { oneSided: true, target: 7 }), -3.5);
  });

  it('rejects bad input with LossInputError', () => {
    const critic = (x: tf.Tensor) => tf.sum(x, 1);
    expectLossInputError(() => wganGpCriticLoss(critic, tf.zeros([2, 3]), tf.zeros([3, 3])), 'wganGpCriticLoss: fake must have the shape of real [2, 3]; got [3, 3].');
    expectLossInputError(() => wganGpCriticLoss(critic, tf.zeros([2, 3]), tf.zeros([2, 3]), { lambda: -2 }), 'wganGpCriticLoss: lambda must be >= 0; got -2.');
    expectLossInputError(() => wganGpCriticLoss(() => [] as unknown as tf.Tensor, tf.zeros([2, 3]), tf.zeros([2, 3])), 'wganGpCriticLoss: critic must return one tensor of scores; got an array of length 0.');
  });

  it('leaks no tensors, also inside optimizer.minimize', () => {
    const { critic, vars } = functionCritic('mlp-leaky', cases[0].weights);
    const real = randomTensor([4, 3], 2);
    const fake = randomTensor([4, 3], 3);
    const optimizer = tf.train.adam(1e-3);
    expectNoLeak(() => wganGpCriticLoss(critic, real, fake, { returnGradNorms: true }));
    // Adam creates its slots on the first step (the warm-up run), none after.
    expectNoLeak(() => optimizer.minimize(() => wganGpCriticLoss(critic, real, fake), true, Object.values(vars)));
    optimizer.dispose();
  });
});
