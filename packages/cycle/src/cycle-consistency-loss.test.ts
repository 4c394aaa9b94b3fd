import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { cycleConsistencyLoss, cycleConsistencyLossKeras } from './index';
import type { LossCase } from './testing/cases';

const cases = loadFixture<LossCase>(import.meta.url, 'cycle-losses.json').filter((c) => c.fn === 'cycleConsistencyLoss');

describe('cycleConsistencyLoss', () => {
  for (const c of cases) {
    it(`matches the PyTorch reference: ${c.name}`, async () => {
      const f = (x: tf.Tensor, rx: tf.Tensor, y: tf.Tensor, ry: tf.Tensor) => cycleConsistencyLoss(x, rx, y, ry, c.options);
      const { value, grads } = tf.valueAndGrads(f)([c.realX, c.otherX, c.realY, c.otherY].map((v) => tf.tensor(v)));
      await expectClose(value, c.value);
      for (let i = 0; i < 4; i++) await expectClose(grads[i], c.grads[i]);
    });
  }

  it('the fused kernel (cpu, wasm) agrees with the composed ops: values and gradients', async () => {
    // Includes exact matches (d = 0), differences of exactly beta and a subnormal difference.
    const x = tf.concat([randomTensor([40], 8, -2, 2), tf.tensor([0.5, 1, -1, 0, 0])]);
    const rx = tf.concat([randomTensor([40], 9, -2, 2), tf.tensor([0.5, 1.5, -0.5, 1, -1e-40])]);
    const y = randomTensor([3, 5], 10);
    const ry = randomTensor([3, 5], 11);
    for (const options of [{}, { distance: 'l2' as const }, { distance: 'smoothL1' as const, beta: 0.5 }, { distance: 'smoothL1' as const, beta: 0 }]) {
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => cycleConsistencyLoss(a, b, c, d, { ...options, lambdaX: 3 });
      const fused = tf.valueAndGrads(f)([x, rx, y, ry]);
      const composed = withComposedOps(() => tf.valueAndGrads(f)([x, rx, y, ry]));
      await expectClose(fused.value, composed.value);
      for (let i = 0; i < 4; i++) await expectClose(fused.grads[i], composed.grads[i]);
    }
  });

  it('l1 gradient is sign(d) / N, also for subnormal differences, and 0 at d = 0', async () => {
    const g = tf.grad((r: tf.Tensor) => cycleConsistencyLoss([0, 0, 0, 0], r, [0], [0]))(tf.tensor([1e-40, -1e-42, 0, 3]));
    await expectClose(g, [0.25, -0.25, 0, 0.25], { rtol: 0, atol: 0 });
  });

  it('differentiates twice (the gradient is made of tfjs ops)', async () => {
    // d/dr of sum((d L / d rx)^2) for L2: dL/drx = 2 (rx - x) / N, so the result is 8 (rx - x) / N^2.
    const x = randomTensor([2, 3], 12);
    const rx = randomTensor([2, 3], 13);
    const y = tf.zeros([1]);
    const g = tf.grad((r: tf.Tensor) => tf.sum(tf.square(tf.grad((q: tf.Tensor) => cycleConsistencyLoss(x, q, y, y, { distance: 'l2' }))(r))))(rx);
    await expectClose(g, tf.mul(tf.sub(rx, x), 8 / 36));
  });

  it('returns a scalar', () => {
    const a = tf.zeros([2, 4, 4, 3]);
    expect(cycleConsistencyLoss(a, a, a, a).shape).toEqual([]);
  });

  it('agrees with finite differences for each distance', async () => {
    for (const distance of ['l1', 'l2', 'smoothL1'] as const) {
      const inputs = [randomTensor([2, 3], 1), randomTensor([2, 3], 2), randomTensor([4], 3), randomTensor([4], 4, -3, 3)];
      await gradCheck((x, rx, y, ry) => cycleConsistencyLoss(x, rx, y, ry, { distance, lambdaX: 2, beta: 0.5 }), inputs);
    }
  });

  it('identities: 0 for perfect reconstructions, smooth L1 is L1 - beta/2 beyond beta and L1 at beta = 0', async () => {
    const x = randomTensor([3, 4], 5);
    const y = randomTensor([2, 2], 6);
    await expectClose(cycleConsistencyLoss(x, x, y, y, { lambdaX: 10, lambdaY: 10 }), 0);
    const far = tf.add(x, 3);
    await expectClose(cycleConsistencyLoss(x, far, y, y, { distance: 'smoothL1' }), 3 - 0.5);
    const near = tf.add(x, randomTensor([3, 4], 7, -2, 2));
    await expectClose(cycleConsistencyLoss(x, near, y, y, { distance: 'smoothL1', beta: 0 }), cycleConsistencyLoss(x, near, y, y));
    await expectClose(cycleConsistencyLoss(x, far, y, y, { distance: 'l2' }), 9);
  });

  it('gives a zero gradient where the reconstruction is exact (as PyTorch)', async () => {
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => cycleConsistencyLoss(a, b, [0], [0]))([tf.tensor([1, 2]), tf.tensor([1, 3])]);
    await expectClose(g[0], [0, -0.5]);
    await expectClose(g[1], [0, 0.5]);
  });

  it('stays finite on extreme values', async () => {
    const v = await cycleConsistencyLoss([1e30], [-1e30], [0], [0], { distance: 'smoothL1' }).data();
    expect(Number.isFinite(v[0])).toBe(true);
  });

  it('accepts plain arrays; the Keras adapter scores one cycle', async () => {
    await expectClose(cycleConsistencyLoss([[1, 2]], [[2, 2]], [3], [1]), 0.5 + 2);
    await expectClose(cycleConsistencyLossKeras({ lambda: 10 })(tf.tensor([1, 2]), tf.tensor([2, 2])), 5);
    await expectClose(cycleConsistencyLossKeras({ distance: 'l2' })(tf.tensor([1, 2]), tf.tensor([3, 2])), 2);
  });

  it('rejects bad input with LossInputError', () => {
    const a = tf.zeros([2, 3]);
    expectLossInputError(() => cycleConsistencyLoss(a, tf.zeros([3, 2]), a, a), 'cycleConsistencyLoss: reconstructedX must have the shape of realX [2, 3]; got [3, 2].');
    expectLossInputError(() => cycleConsistencyLoss(a, a, a, tf.zeros([2])), 'cycleConsistencyLoss: reconstructedY must have the shape of realY [2, 3]; got [2].');
    expectLossInputError(() => cycleConsistencyLoss(a, a, a, a, { lambdaX: -1 }), 'cycleConsistencyLoss: lambdaX must be >= 0; got -1.');
    expectLossInputError(() => cycleConsistencyLoss(a, a, a, a, { distance: 'l3' as 'l1' }), 'cycleConsistencyLoss: distance must be one of "l1", "l2", "smoothL1"; got "l3".');
    expectLossInputError(() => cycleConsistencyLoss(a, a, a, a, { beta: -0.5 }), 'cycleConsistencyLoss: beta must be >= 0; got -0.5.');
    expectLossInputError(() => cycleConsistencyLoss(a, a, undefined as unknown as tf.Tensor, a), 'cycleConsistencyLoss: realY must be a tensor');
    expectLossInputError(() => cycleConsistencyLossKeras()(tf.zeros([2]), tf.zeros([3])), 'cycleConsistencyLossKeras: yTrue must have the shape of yPred [3]; got [2].');
  });

  it('leaks no tensors', () => {
    const inputs = [randomTensor([2, 3], 1), randomTensor([2, 3], 2), randomTensor([4], 3), randomTensor([4], 4)];
    for (const distance of ['l1', 'l2', 'smoothL1'] as const) {
      expectNoLeak(() => tf.grads((x: tf.Tensor, rx: tf.Tensor, y: tf.Tensor, ry: tf.Tensor) => cycleConsistencyLoss(x, rx, y, ry, { distance }))(inputs));
    }
    expectNoLeak(() => cycleConsistencyLossKeras()(inputs[0], inputs[1]));
    expectNoLeak(() => withComposedOps(() => tf.grads((x: tf.Tensor, rx: tf.Tensor, y: tf.Tensor, ry: tf.Tensor) => cycleConsistencyLoss(x, rx, y, ry))(inputs)));
  });
});
