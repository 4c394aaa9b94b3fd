import * as tf from '@tensorflow/tfjs-core';
import { canReadSync } from '@tfjs-losses/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { supervisedContrastiveLoss, supervisedContrastiveLossKeras } from './index';

const unit = (x: tf.Tensor) => tf.div(x, tf.norm(x, 2, -1, true));

describe('supervisedContrastiveLoss', () => {
  for (const c of loadFixture(import.meta.url, 'supervised-contrastive.json')) {
    it(`matches SupContrast's SupConLoss: ${c.name}`, async () => {
      const xs = [tf.tensor(c.features)];
      if (c.temperatureTensor) xs.push(tf.scalar(c.options.temperature));
      const loss = (...a: tf.Tensor[]) => supervisedContrastiveLoss(a[0], c.labels, {
        ...c.options,
        mask: c.mask,
        temperature: c.temperatureTensor ? a[1] : c.options.temperature,
      });
      const value = loss(...xs);
      const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(loss(...a)))(xs);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradFeatures);
      if (c.temperatureTensor) await expectClose(grads[1], c.gradTemperature);
      tf.dispose([value, ...grads, ...xs]);
    });
  }

  it('has the documented shapes: [V*N] view-major for all, [N] for one', () => {
    const f = unit(randomTensor([4, 3, 5], 1));
    const labels = [0, 1, 0, 1];
    expect(supervisedContrastiveLoss(f, labels, { reduction: 'none' }).shape).toEqual([12]);
    expect(supervisedContrastiveLoss(f, labels, { reduction: 'none', contrastMode: 'one' }).shape).toEqual([4]);
    expect(supervisedContrastiveLoss(f, labels, { reduction: 'sum' }).shape).toEqual([]);
    expect(supervisedContrastiveLoss(f, labels).shape).toEqual([]);
  });

  it('orders none view-major: anchor v*N + i is view v of sample i', async () => {
    const f = unit(randomTensor([3, 2, 4], 2));
    const labels = [0, 1, 0];
    const all = await toArray(supervisedContrastiveLoss(f, labels, { reduction: 'none' }));
    const one = supervisedContrastiveLoss(f, labels, { reduction: 'none', contrastMode: 'one' });
    // 'one' keeps the view-0 anchors, and their denominators see the same contrast set.
    await expectClose(one, all.slice(0, 3));
  });

  it('labels equal to their mask', async () => {
    const f = unit(randomTensor([5, 2, 3], 3));
    const labels = [2, 0, 2, 1, 0];
    const mask = labels.map((a) => labels.map((b) => (a === b ? 1 : 0)));
    const fromMask = await toArray(supervisedContrastiveLoss(f, undefined, { mask, reduction: 'none' }));
    await expectClose(supervisedContrastiveLoss(f, labels, { reduction: 'none' }), fromMask);
  });

  it('distinct labels give the SimCLR loss (same as no labels)', async () => {
    const f = unit(randomTensor([4, 2, 3], 4));
    const simclr = await toArray(supervisedContrastiveLoss(f, undefined, { reduction: 'none' }));
    await expectClose(supervisedContrastiveLoss(f, [3, 1, 0, 2], { reduction: 'none' }), simclr);
  });

  it('anchors without positives give exactly 0, stay in the mean, and get no NaN gradient', async () => {
    const f = unit(randomTensor([4, 1, 3], 5));
    const labels = [0, 1, 2, 3];
    await expectClose(supervisedContrastiveLoss(f, labels, { reduction: 'none' }), [0, 0, 0, 0]);
    const g = tf.grad((x: tf.Tensor) => supervisedContrastiveLoss(x, labels))(f);
    await expectClose(g, tf.zeros([4, 1, 3]));
    const mixed = await toArray(supervisedContrastiveLoss(f, [0, 1, 0, 3], { reduction: 'none' }));
    expect(mixed[1]).toBe(0);
    expect(mixed[3]).toBe(0);
    await expectClose(supervisedContrastiveLoss(f, [0, 1, 0, 3]), (mixed[0] + mixed[2]) / 4);
  });

  it('a single sample with a single view gives 0, not NaN', async () => {
    const f = tf.tensor([[[0.6, 0.8]]]);
    await expectClose(supervisedContrastiveLoss(f, [7]), 0);
    await expectClose(tf.grad((x: tf.Tensor) => supervisedContrastiveLoss(x, [7]))(f), [[[0, 0]]]);
  });

  it('agrees with finite differences (labels/all, mask/one)', async () => {
    const f = randomTensor([3, 2, 3], 6);
    const opts = { temperature: 0.5, baseTemperature: 0.5 };
    await gradCheck((x) => supervisedContrastiveLoss(x, [0, 1, 0], opts), [f]);
    await gradCheck((x) => supervisedContrastiveLoss(x, undefined, { ...opts, contrastMode: 'one', mask: [[1, 1, 0], [0, 1, 0], [1, 0, 1]] }), [f]);
  });

  it('learns its temperature (finite gradient, finite differences)', async () => {
    const f = unit(randomTensor([4, 2, 3], 7));
    const t = tf.variable(tf.scalar(0.2));
    const { value, grads } = tf.variableGrads(() => supervisedContrastiveLoss(f, [0, 1, 0, 1], { temperature: t }) as tf.Scalar, [t]);
    expect(Number.isFinite((await toArray(grads[t.name]))[0])).toBe(true);
    await gradCheck((temp) => supervisedContrastiveLoss(f, [0, 1, 0, 1], { temperature: temp }), [tf.scalar(0.2)], { eps: 1e-3 });
    tf.dispose([value, grads[t.name], t]);
  });

  it('stays finite where the authors float32 code underflows (temperature 0.005)', async () => {
    const f = unit(randomTensor([4, 2, 6], 8));
    const loss = (x: tf.Tensor) => supervisedContrastiveLoss(x, [0, 1, 2, 3], { temperature: 0.005 });
    const g = tf.grad(loss)(f);
    for (const v of [...(await toArray(loss(f))), ...(await toArray(g))]) expect(Number.isFinite(v)).toBe(true);
  });

  it('Keras adapter: labels in yTrue ([N] or [N, 1]), features in yPred', async () => {
    const f = unit(randomTensor([4, 2, 3], 9));
    const labels = tf.tensor([0, 1, 1, 0]);
    const direct = (await toArray(supervisedContrastiveLoss(f, labels, { temperature: 0.1 })))[0];
    const keras = supervisedContrastiveLossKeras({ temperature: 0.1 });
    await expectClose(keras(labels, f), direct);
    await expectClose(keras(tf.reshape(labels, [4, 1]), f), direct);
    const oneView = unit(randomTensor([4, 3], 10));
    const viaRank3 = (await toArray(supervisedContrastiveLoss(tf.expandDims(oneView, 1), labels)))[0];
    await expectClose(supervisedContrastiveLossKeras()(labels, oneView), viaRank3);
  });

  it('accepts plain arrays and float labels holding whole numbers', async () => {
    const f = [[[1, 0]], [[0.8, 0.6]], [[0, 1]]];
    const expected = (await toArray(supervisedContrastiveLoss(tf.tensor(f), tf.tensor([0, 0, 1], undefined, 'int32'))))[0];
    await expectClose(supervisedContrastiveLoss(f, [0, 0, 1]), expected);
    await expectClose(supervisedContrastiveLoss(f, new Float32Array([0, 0, 1])), expected);
  });

  it('rejects bad input with LossInputError', () => {
    const f = tf.zeros([3, 2, 4]);
    const fn = 'supervisedContrastiveLoss: ';
    expectLossInputError(() => supervisedContrastiveLoss(tf.zeros([3, 4]), [0, 1, 2]), `${fn}features must have rank 3; got rank 2`);
    expectLossInputError(() => supervisedContrastiveLoss(f, [0, 1]), `${fn}labels must have shape [3]; got [2].`);
    expectLossInputError(() => supervisedContrastiveLoss(f, [[0, 1, 2]]), `${fn}labels must have shape [3]; got [1, 3].`);
    expectLossInputError(() => supervisedContrastiveLoss(f, [0, 1.5, 2]), `${fn}labels must hold whole numbers; got 1.5`);
    expectLossInputError(() => supervisedContrastiveLoss(f, [0, 1, 2 ** 25]), `${fn}labels values must lie in [-16777216, 16777216]; got 33554432`);
    expectLossInputError(() => supervisedContrastiveLoss(f, undefined, { mask: tf.ones([3, 2]) }), `${fn}mask must have shape [3, 3]; got [3, 2].`);
    expectLossInputError(() => supervisedContrastiveLoss(f, undefined, { mask: tf.ones([3]) }), 'mask must have shape [3, 3]; got [3].');
    expectLossInputError(() => supervisedContrastiveLoss(f, [0, 1, 2], { mask: tf.eye(3) }), `${fn}mask cannot be given together with labels`);
    expectLossInputError(() => supervisedContrastiveLoss(f, [0, 1, 2], { temperature: -1 }), `${fn}temperature must be a finite number > 0; got -1.`);
    if (canReadSync()) expectLossInputError(() => supervisedContrastiveLoss(f, [0, 1, 2], { temperature: tf.scalar(-0.5) }), 'temperature must be > 0 and finite; got a tensor holding -0.5.');
    expectLossInputError(() => supervisedContrastiveLoss(f, [0, 1, 2], { baseTemperature: 0 }), `${fn}baseTemperature must be > 0; got 0.`);
    expectLossInputError(() => supervisedContrastiveLoss(f, [0, 1, 2], { contrastMode: 'two' as 'one' }), `${fn}contrastMode must be one of "all", "one"; got "two".`);
    expectLossInputError(() => supervisedContrastiveLoss(tf.zeros([3, 0, 4]), [0, 1, 2]), 'features must have at least one sample and one view');
  });

  it('leaks no tensors', () => {
    const f = randomTensor([3, 2, 4], 11);
    const t = tf.scalar(0.1);
    expectNoLeak(() => tf.grads((x: tf.Tensor, s: tf.Tensor) => supervisedContrastiveLoss(x, [0, 1, 0], { temperature: s }))([f, t]));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => supervisedContrastiveLoss(x, undefined, { contrastMode: 'one', mask: [[1, 0, 1], [0, 1, 0], [1, 1, 1]] }))(f));
    expectNoLeak(() => supervisedContrastiveLoss(f, null, { reduction: 'none' }));
  });
});
