import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { r1Penalty } from './index';
import { functionCritic, WEIGHT_ORDER, type PenaltyCase } from './testing/critics';
import { evaluate, expectMatches, layersCritic, modelVars } from './testing/penalty-checks';

const cases = loadFixture<PenaltyCase>(import.meta.url, 'gradient-penalty.json').filter((c) => c.fn === 'r1Penalty');

describe('r1Penalty', () => {
  for (const c of cases) {
    it(`matches PyTorch (create_graph=True), function critic: ${c.name}`, async () => {
      const { critic, vars } = functionCritic(c.critic, c.weights);
      await expectMatches(c, evaluate(c, critic, WEIGHT_ORDER[c.critic].map((n) => vars[n])));
    });
    it(`matches PyTorch, tf.LayersModel critic: ${c.name}`, async () => {
      const model = layersCritic(c.critic, c.weights);
      await expectMatches(c, evaluate(c, model, modelVars(model)));
      const { gradNorms } = r1Penalty(model, c.real, { ...c.options, returnGradNorms: true });
      await expectClose(gradNorms, c.gradNorms, { rtol: 2e-4, atol: 1e-5 });
      model.dispose();
    });
  }

  it('has the documented shape per reduction', () => {
    const critic = (x: tf.Tensor) => tf.sum(tf.square(x), [1, 2]);
    const real = randomTensor([3, 2, 2], 1);
    expect(r1Penalty(critic, real).shape).toEqual([]);
    expect(r1Penalty(critic, real, { reduction: 'sum' }).shape).toEqual([]);
    expect(r1Penalty(critic, real, { reduction: 'none' }).shape).toEqual([3]);
  });

  it('is (gamma / 2) E||x||^2 for D(x) = ||x||^2 / 2', async () => {
    const critic = (x: tf.Tensor) => tf.mul(tf.sum(tf.square(x), 1), 0.5);
    await expectClose(r1Penalty(critic, [[3, 4], [0, 1]], { gamma: 2 }), (25 + 1) / 2);
    await expectClose(r1Penalty(critic, [[3, 4], [0, 1]], { gamma: 2, reduction: 'none' }), [25, 1]);
  });

  it('rejects bad input with LossInputError', () => {
    const critic = (x: tf.Tensor) => tf.sum(x, 1);
    expectLossInputError(() => r1Penalty(critic, [[1]], { gamma: -1 }), 'r1Penalty: gamma must be >= 0; got -1.');
    expectLossInputError(() => r1Penalty(critic, 5 as unknown as number[]), 'r1Penalty: real must have rank 1 or more; got rank 0');
    expectLossInputError(() => r1Penalty({} as unknown as typeof critic, [[1]]), 'r1Penalty: critic must be a function of a tensor or an object with apply(x)');
  });

  it('leaks no tensors', () => {
    const { critic, vars } = functionCritic('mlp-tanh', cases[0].weights);
    const real = randomTensor([4, 3], 2);
    expectNoLeak(() => r1Penalty(critic, real, { returnGradNorms: true }));
    expectNoLeak(() => tf.variableGrads(() => r1Penalty(critic, real) as tf.Scalar, Object.values(vars)));
  });
});
