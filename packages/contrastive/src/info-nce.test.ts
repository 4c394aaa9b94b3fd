import * as tf from '@tensorflow/tfjs-core';
import { canReadSync } from '@tfjs-losses/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { infoNCE } from './index';
import type { InfoNCEOptions } from './index';

describe('infoNCE', () => {
  for (const c of loadFixture(import.meta.url, 'info-nce.json')) {
    it(`matches PyTorch: ${c.name}`, async () => {
      const xs = [tf.tensor(c.query), tf.tensor(c.positiveKey)];
      if (c.negativeKeys) xs.push(tf.tensor(c.negativeKeys));
      if (c.temperatureTensor) xs.push(tf.scalar(c.options.temperature));
      const loss = (...a: tf.Tensor[]) => infoNCE(a[0], a[1], c.negativeKeys ? a[2] : undefined, {
        ...c.options,
        negativeMask: c.negativeMask,
        temperature: c.temperatureTensor ? a[a.length - 1] : c.options.temperature,
      });
      const value = loss(...xs);
      const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(loss(...a)))(xs);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradQuery);
      await expectClose(grads[1], c.gradPositiveKey);
      if (c.negativeKeys) await expectClose(grads[2], c.gradNegativeKeys);
      if (c.temperatureTensor) await expectClose(grads[grads.length - 1], c.gradTemperature);
      tf.dispose([value, ...grads, ...xs]);
    });
  }

  it('has the documented shape per reduction', () => {
    const q = randomTensor([5, 3], 1);
    const k = randomTensor([5, 3], 2);
    const unpaired = randomTensor([7, 3], 3);
    const paired = randomTensor([5, 4, 3], 4);
    expect(infoNCE(q, k, null, { reduction: 'none' }).shape).toEqual([5]);
    expect(infoNCE(q, k, unpaired, { reduction: 'none' }).shape).toEqual([5]);
    expect(infoNCE(q, k, paired, { negativeMode: 'paired', reduction: 'none' }).shape).toEqual([5]);
    expect(infoNCE(q, k, unpaired, { reduction: 'sum' }).shape).toEqual([]);
    expect(infoNCE(q, k).shape).toEqual([]);
  });

  it('mean and sum agree with the per-query losses', async () => {
    const q = randomTensor([4, 3], 5);
    const k = randomTensor([4, 3], 6);
    const none = await toArray(infoNCE(q, k, null, { reduction: 'none' }));
    const total = none.reduce((a, b) => a + b, 0);
    await expectClose(infoNCE(q, k, null, { reduction: 'sum' }), total);
    await expectClose(infoNCE(q, k), total / 4);
  });

  it('agrees with finite differences (in-batch, unpaired, paired)', async () => {
    const q = randomTensor([3, 4], 11);
    const k = randomTensor([3, 4], 12);
    const un = randomTensor([5, 4], 13);
    const pa = randomTensor([3, 2, 4], 14);
    const opts: InfoNCEOptions = { temperature: 0.5 };
    await gradCheck((a, b) => infoNCE(a, b, null, opts), [q, k]);
    await gradCheck((a, b, c) => infoNCE(a, b, c, opts), [q, k, un]);
    await gradCheck((a, b, c) => infoNCE(a, b, c, { ...opts, negativeMode: 'paired' }), [q, k, pa]);
  });

  it('learns its temperature: a finite gradient that agrees with finite differences', async () => {
    const q = randomTensor([4, 3], 21);
    const k = randomTensor([4, 3], 22);
    const t = tf.variable(tf.scalar(0.2));
    const { value, grads } = tf.variableGrads(() => infoNCE(q, k, null, { temperature: t }) as tf.Scalar, [t]);
    const g = (await toArray(grads[t.name]))[0];
    expect(Number.isFinite(g)).toBe(true);
    expect(g).not.toBe(0);
    await gradCheck((temp) => infoNCE(q, k, null, { temperature: temp }), [tf.scalar(0.2)], { eps: 1e-3 });
    tf.dispose([value, grads[t.name], t]);
  });

  it('a dropped negative is the same as a missing one', async () => {
    const q = randomTensor([3, 4], 31);
    const k = randomTensor([3, 4], 32);
    const negs = randomTensor([5, 4], 33);
    const masked = infoNCE(q, k, negs, { negativeMask: [1, 0, 1, 0, 1], reduction: 'none' });
    const kept = tf.gather(negs, [0, 2, 4]);
    await expectClose(masked, await toArray(infoNCE(q, k, kept, { reduction: 'none' })));
  });

  it('zero negatives (an empty queue) give 0 with zero gradients', async () => {
    const q = randomTensor([3, 4], 34);
    const k = randomTensor([3, 4], 35);
    const f = (a: tf.Tensor) => infoNCE(a, k, tf.zeros([0, 4]));
    await expectClose(f(q), 0);
    await expectClose(tf.grad(f)(q), tf.zeros([3, 4]));
  });

  it('stays finite at temperature 1e-3 with large, nearly parallel inputs', async () => {
    const q = tf.mul(randomTensor([4, 8], 41), 1e3);
    const k = tf.add(q, randomTensor([4, 8], 42));
    const f = (a: tf.Tensor, b: tf.Tensor) => infoNCE(a, b, null, { temperature: 1e-3 });
    const [ga, gb] = tf.grads(f)([q, k]);
    for (const v of [...(await toArray(f(q, k))), ...(await toArray(ga)), ...(await toArray(gb))]) {
      expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('accepts plain arrays', async () => {
    const q = [[1, 0], [0, 1]];
    const k = [[1, 0], [0, 1]];
    const fromTensors = await toArray(infoNCE(tf.tensor(q), tf.tensor(k), null, { temperature: 1 }));
    await expectClose(infoNCE(q, k, null, { temperature: 1 }), fromTensors[0]);
    // identical unit vectors, orthogonal negatives: log(e + e^0) - 1 = log(1 + e^-1)
    await expectClose(infoNCE(q, k, null, { temperature: 1 }), Math.log(1 + Math.exp(-1)));
  });

  it('rejects bad input with LossInputError', () => {
    const q = tf.zeros([2, 3]);
    expectLossInputError(() => infoNCE(tf.zeros([2, 3, 1]), q), 'infoNCE: query must have rank 2; got rank 3');
    expectLossInputError(() => infoNCE(q, tf.zeros([2, 4])), 'infoNCE: positiveKey must have the shape of query [2, 3]; got [2, 4].');
    expectLossInputError(() => infoNCE(q, q, tf.zeros([5, 4])), 'infoNCE: negativeKeys must have shape [*, 3]; got [5, 4].');
    expectLossInputError(() => infoNCE(q, q, tf.zeros([5, 3]), { negativeMode: 'paired' }), 'infoNCE: negativeKeys must have shape [2, *, 3]; got [5, 3].');
    expectLossInputError(() => infoNCE(q, q, tf.zeros([3, 4, 3]), { negativeMode: 'paired' }), 'negativeKeys must have shape [2, *, 3]; got [3, 4, 3]');
    expectLossInputError(() => infoNCE(q, q, null, { temperature: 0 }), 'infoNCE: temperature must be a finite number > 0; got 0.');
    expectLossInputError(() => infoNCE(q, q, null, { temperature: -0.1 }), 'temperature', 'got -0.1');
    expectLossInputError(() => infoNCE(q, q, null, { temperature: tf.zeros([2]) }), 'temperature must be a number or a tensor holding one value; got a tensor of shape [2]');
    if (canReadSync()) expectLossInputError(() => infoNCE(q, q, null, { temperature: tf.scalar(-1) }), 'temperature must be > 0 and finite; got a tensor holding -1.');
    expectLossInputError(() => infoNCE(q, q, null, { negativeMode: 'both' as 'paired' }), 'negativeMode must be one of "unpaired", "paired"; got "both".');
    expectLossInputError(() => infoNCE(q, q, tf.zeros([5, 3]), { negativeMask: [1, 0, 1] }), 'infoNCE: negativeMask must have shape [5] or [2, 5]; got [3].');
    expectLossInputError(() => infoNCE(q, q, null, { negativeMask: tf.ones([3, 3]) }), 'negativeMask must have shape [2] or [2, 2]; got [3, 3].');
    expectLossInputError(() => infoNCE(q, q, tf.zeros([2, 4, 3]), { negativeMode: 'paired', negativeMask: tf.ones([4]) }), 'negativeMask must have shape [2, 4]; got [4].');
    expectLossInputError(() => infoNCE(tf.zeros([0, 3]), tf.zeros([0, 3])), 'query must have at least one row');
    expectLossInputError(() => infoNCE(q, q, null, { reduction: 'avg' as 'mean' }), 'reduction must be one of');
  });

  it('leaks no tensors', () => {
    const q = randomTensor([4, 3], 51);
    const k = randomTensor([4, 3], 52);
    const negs = randomTensor([4, 2, 3], 53);
    const t = tf.scalar(0.3);
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => infoNCE(a, b))([q, k]));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      infoNCE(a, b, c, { negativeMode: 'paired', temperature: d, negativeMask: [[1, 0], [1, 1], [0, 0], [1, 1]] }))([q, k, negs, t]));
    expectNoLeak(() => infoNCE(q, k, null, { reduction: 'none' }));
    const wrong = tf.zeros([4, 5]);
    expectNoLeak(() => {
      try {
        infoNCE(q, wrong);
      } catch {
        /* the failed call must not leak either */
      }
    });
  });
});
