import * as tf from '@tensorflow/tfjs-core';
import { canReadSync } from '@tfjs-losses/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { ntXent, supervisedContrastiveLoss } from './index';

describe('ntXent', () => {
  for (const c of loadFixture(import.meta.url, 'nt-xent.json')) {
    it(`matches PyTorch: ${c.name}`, async () => {
      const xs = [tf.tensor(c.z1), tf.tensor(c.z2)];
      if (c.temperatureTensor) xs.push(tf.scalar(c.options.temperature));
      const loss = (...a: tf.Tensor[]) => ntXent(a[0], a[1], { ...c.options, temperature: c.temperatureTensor ? a[2] : c.options.temperature });
      const value = loss(...xs);
      const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(loss(...a)))(xs);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradZ1);
      await expectClose(grads[1], c.gradZ2);
      if (c.temperatureTensor) await expectClose(grads[2], c.gradTemperature);
      tf.dispose([value, ...grads, ...xs]);
    });
  }

  it('has the documented shape per reduction: [2N] for none', () => {
    const a = randomTensor([3, 4], 1);
    const b = randomTensor([3, 4], 2);
    expect(ntXent(a, b, { reduction: 'none' }).shape).toEqual([6]);
    expect(ntXent(a, b, { reduction: 'sum' }).shape).toEqual([]);
    expect(ntXent(a, b).shape).toEqual([]);
  });

  it('is symmetric: swapping z1 and z2 leaves the loss unchanged and swaps the halves of none', async () => {
    const a = randomTensor([4, 3], 3);
    const b = randomTensor([4, 3], 4);
    await expectClose(ntXent(b, a), (await toArray(ntXent(a, b)))[0]);
    const ab = await toArray(ntXent(a, b, { reduction: 'none' }));
    await expectClose(ntXent(b, a, { reduction: 'none' }), [...ab.slice(4), ...ab.slice(0, 4)]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => ntXent(x, y))([a, b]);
    const [gb2, ga2] = tf.grads((y: tf.Tensor, x: tf.Tensor) => ntXent(y, x))([b, a]);
    await expectClose(ga2, ga);
    await expectClose(gb2, gb);
  });

  it('equals SupCon without labels on the normalized views (temperature = baseTemperature)', async () => {
    const a = randomTensor([5, 3], 5);
    const b = randomTensor([5, 3], 6);
    const unit = (x: tf.Tensor) => tf.div(x, tf.norm(x, 2, 1, true));
    const feats = tf.stack([unit(a), unit(b)], 1);
    const opts = { temperature: 0.3, baseTemperature: 0.3, reduction: 'none' as const };
    await expectClose(ntXent(a, b, { temperature: 0.3, reduction: 'none' }), await toArray(supervisedContrastiveLoss(feats, undefined, opts)));
  });

  it('does not depend on the scale of the embeddings', async () => {
    const a = randomTensor([4, 3], 7);
    const b = randomTensor([4, 3], 8);
    await expectClose(ntXent(tf.mul(a, 100), tf.mul(b, 0.01)), (await toArray(ntXent(a, b)))[0]);
  });

  it('agrees with finite differences', async () => {
    await gradCheck((a, b) => ntXent(a, b), [randomTensor([3, 4], 9), randomTensor([3, 4], 10)]);
    await gradCheck((a, b) => ntXent(a, b, { temperature: 0.2, reduction: 'sum' }), [randomTensor([2, 3], 11), randomTensor([2, 3], 12)], { eps: 3e-3 });
  });

  it('learns its temperature through a tf.variable', async () => {
    const a = randomTensor([4, 3], 13);
    const b = randomTensor([4, 3], 14);
    const t = tf.variable(tf.scalar(0.4));
    const { value, grads } = tf.variableGrads(() => ntXent(a, b, { temperature: t }) as tf.Scalar, [t]);
    const g = (await toArray(grads[t.name]))[0];
    expect(Number.isFinite(g)).toBe(true);
    await gradCheck((temp) => ntXent(a, b, { temperature: temp }), [tf.scalar(0.4)], { eps: 1e-3 });
    // One SGD step on the temperature lowers the loss.
    const before = (await toArray(value))[0];
    t.assign(tf.sub(t, tf.mul(grads[t.name], 0.01)) as tf.Scalar);
    const after = (await toArray(ntXent(a, b, { temperature: t })))[0];
    expect(after).toBeLessThan(before);
    tf.dispose([value, grads[t.name], t]);
  });

  it('gives finite values and gradients for zero vectors and tiny temperatures', async () => {
    const a = tf.concat([tf.zeros([1, 4]), randomTensor([3, 4], 15)]);
    const b = tf.mul(randomTensor([4, 4], 16), 1e4);
    const f = (x: tf.Tensor, y: tf.Tensor) => ntXent(x, y, { temperature: 1e-3 });
    const [ga, gb] = tf.grads(f)([a, b]);
    for (const v of [...(await toArray(f(a, b))), ...(await toArray(ga)), ...(await toArray(gb))]) {
      expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('accepts plain arrays', async () => {
    // Two samples, orthogonal: each view's positive is itself (cos 1) and its
    // two negatives have cos 0: loss = -2 + log(e^2 + 2).
    await expectClose(ntXent([[1, 0], [0, 1]], [[2, 0], [0, 3]]), -2 + Math.log(Math.exp(2) + 2));
  });

  it('rejects bad input with LossInputError', () => {
    const z = tf.zeros([2, 3]);
    expectLossInputError(() => ntXent(tf.zeros([2]), z), 'ntXent: z1 must have rank 2; got rank 1');
    expectLossInputError(() => ntXent(z, tf.zeros([3, 3])), 'ntXent: z2 must have the shape of z1 [2, 3]; got [3, 3].');
    expectLossInputError(() => ntXent(z, tf.zeros([2, 4])), 'z2 must have the shape of z1 [2, 3]; got [2, 4].');
    expectLossInputError(() => ntXent(z, z, { temperature: 0 }), 'ntXent: temperature must be a finite number > 0; got 0.');
    expectLossInputError(() => ntXent(z, z, { temperature: Number.NaN }), 'temperature', 'NaN');
    if (canReadSync()) expectLossInputError(() => ntXent(z, z, { temperature: tf.scalar(0) }), 'ntXent: temperature must be > 0 and finite; got a tensor holding 0.');
    expectLossInputError(() => ntXent(tf.zeros([0, 3]), tf.zeros([0, 3])), 'z1 must have at least one row');
    expectLossInputError(() => ntXent(z, z, { reduction: 'mean ' as 'mean' }), 'ntXent: reduction must be one of');
  });

  it('leaks no tensors', () => {
    const a = randomTensor([3, 4], 17);
    const b = randomTensor([3, 4], 18);
    const t = tf.scalar(0.5);
    expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor, s: tf.Tensor) => ntXent(x, y, { temperature: s }))([a, b, t]));
    expectNoLeak(() => ntXent(a, b, { reduction: 'none' }));
  });
});
