import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { cycleConsistency, cycleConsistencyLoss } from './index';
import type { MappingCase } from './testing/cases';

const c = loadFixture<MappingCase>(import.meta.url, 'cycle-losses.json').find((k) => k.fn === 'cycleConsistency') as unknown as MappingCase;

function mappings(params: Record<string, number[]>) {
  const v = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, tf.variable(tf.tensor(t))]));
  const G = (t: tf.Tensor) => tf.reshape(tf.tanh(tf.add(tf.matMul(tf.reshape(t, [-1, 3]), v.Wg), v.bg)), t.shape);
  const F = (t: tf.Tensor) => tf.reshape(tf.tanh(tf.add(tf.matMul(tf.reshape(t, [-1, 3]), v.Wf), v.bf)), t.shape);
  return { G, F, v };
}

describe('cycleConsistency', () => {
  it(`matches the PyTorch reference, gradients with respect to both mappings: ${c.name}`, async () => {
    const { G, F, v } = mappings(c.params);
    const { value, grads } = tf.variableGrads(() => cycleConsistency(G, F, c.x, c.y, c.options), Object.values(v));
    await expectClose(value, c.value);
    for (const [k, variable] of Object.entries(v)) await expectClose(grads[variable.name], c.grads[k]);
  });

  it('works with model objects (apply(x), as a tf.LayersModel) and returns the translations on request', async () => {
    // 1x1 convolutions with the fixture's weights are the same per-pixel maps.
    const v = Object.fromEntries(Object.entries(c.params).map(([k, t]) => [k, tf.variable(tf.tensor(t))]));
    const conv1x1 = (W: tf.Variable, b: tf.Variable) => ({
      apply: (t: tf.Tensor) => tf.tanh(tf.add(tf.conv2d(t as tf.Tensor4D, tf.reshape(W, [1, 1, 3, 3]) as tf.Tensor4D, 1, 'valid'), b)),
    });
    const G = conv1x1(v.Wg, v.bg);
    const F = conv1x1(v.Wf, v.bf);
    const { value, grads } = tf.variableGrads(() => cycleConsistency(G, F, c.x, c.y, c.options), Object.values(v));
    await expectClose(value, c.value);
    for (const [k, variable] of Object.entries(v)) await expectClose(grads[variable.name], c.grads[k]);
    const out = cycleConsistency(G, F, c.x, c.y, { ...c.options, returnOutputs: true });
    await expectClose(out.loss, c.value);
    await expectClose(out.reconstructedX, F.apply(G.apply(tf.tensor(c.x))));
    await expectClose(out.fakeX, F.apply(tf.tensor(c.y)));
    await expectClose(out.loss, cycleConsistencyLoss(c.x, out.reconstructedX, c.y, out.reconstructedY, c.options));
    expect(out.fakeY.shape).toEqual([2, 3, 3, 3]);
  });

  it('rejects bad mappings with LossInputError', () => {
    const x = tf.zeros([2, 3]);
    const id = (t: tf.Tensor) => t;
    expectLossInputError(() => cycleConsistency(null as unknown as typeof id, id, x, x), 'cycleConsistency: G must be a function of a tensor or an object with apply(x)');
    expectLossInputError(() => cycleConsistency(id, () => [x] as unknown as tf.Tensor, x, x), 'cycleConsistency: F must return one tensor; got an array of length 1.');
    expectLossInputError(() => cycleConsistency(id, (t) => tf.reshape(t, [3, 2]), x, x), 'cycleConsistency: F(G(x)) must have the shape of x [2, 3]; got [3, 2].');
    expectLossInputError(() => cycleConsistency(id, id, 'x' as unknown as tf.Tensor, x), 'cycleConsistency: x must be a tensor');
  });

  it('leaks no tensors', () => {
    const { G, F, v } = mappings(c.params);
    const x = randomTensor([2, 3, 3, 3], 1);
    const y = randomTensor([2, 3, 3, 3], 2);
    expectNoLeak(() => cycleConsistency(G, F, x, y, { returnOutputs: true }));
    expectNoLeak(() => tf.variableGrads(() => cycleConsistency(G, F, x, y), Object.values(v)));
  });
});
