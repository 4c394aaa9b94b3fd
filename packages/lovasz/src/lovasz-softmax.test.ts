import * as tf from '@tensorflow/tfjs-core';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, seededRandom } from '@tfjs-losses/test-utils';
import { describe, expect, it } from 'vitest';
import { lovaszSoftmax, lovaszSoftmaxKeras, type LovaszSoftmaxOptions } from './index';
import { lovaszSoftmaxIsFused } from './kernels/lovasz-softmax.kernel';

/** Shuffled copy of `values` (seeded). */
function shuffled<T>(values: T[], rand: () => number): T[] {
  const out = values.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Mean over the chosen classes of 1 − IoU (hard predictions), ignored pixels left out. */
function oneMinusIoU(labels: number[], preds: number[], numClasses: number, classes: 'present' | 'all', ignore?: number): number {
  const terms: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    let inter = 0;
    let union = 0;
    let gt = 0;
    labels.forEach((l, i) => {
      if (l === ignore) return;
      const a = l === c;
      const b = preds[i] === c;
      if (a) gt++;
      if (a && b) inter++;
      if (a || b) union++;
    });
    if (classes === 'present' && gt === 0) continue;
    terms.push(union === 0 ? 0 : 1 - inter / union);
  }
  return terms.length ? terms.reduce((a, b) => a + b, 0) / terms.length : 0;
}

/**
 * An int32 one-hot [B, H, W, C] moved to [B, C, H, W]. The move goes through
 * float32 values: tfjs-webgpu 4.22 cannot transpose int32 tensors of rank 4.
 */
function intChannelsFirst(t: tf.Tensor): tf.Tensor {
  return tf.cast(tf.transpose(tf.mul(tf.cast(t, 'float32'), 1), [0, 3, 1, 2]), 'int32');
}

describe('lovaszSoftmax', () => {
  const fixtures = loadFixture(import.meta.url, 'lovasz-softmax.json');
  const paths: [string, <T>(fn: () => T) => T][] = [
    ['', (fn) => fn()],
    [' (composed ops)', withComposedOps],
  ];
  for (const [label, run] of paths) {
    for (const c of fixtures) {
      it(`matches the PyTorch reference${label}: ${c.name}`, async () => {
        const f = (p: tf.Tensor) => lovaszSoftmax(p, c.labels, c.options as LovaszSoftmaxOptions);
        const { value, grads } = run(() => tf.valueAndGrads(f)([tf.tensor(c.probas)]));
        await expectClose(value, c.value);
        await expectClose(grads[0], c.gradProbas);
      });
    }
  }

  it('runs the fused kernel on cpu and wasm, composed ops on webgpu', () => {
    expect(lovaszSoftmaxIsFused()).toBe(tf.getBackend() !== 'webgpu');
    expect(withComposedOps(lovaszSoftmaxIsFused)).toBe(false);
  });

  it('fused kernel and composed ops agree on inputs full of ties (value and gradient, every option)', async () => {
    // Probabilities on a grid of eighths: many equal errors, resolved by position on both paths.
    const rand = seededRandom(41);
    const [b, h, w, k] = [3, 5, 4, 4];
    const x = tf.tensor(Array.from({ length: b * h * w * k }, () => Math.floor(rand() * 9) / 8), [b, h, w, k]);
    const labels = tf.tensor(Array.from({ length: b * h * w }, (_, i) => (i < h * w ? 255 : rand() < 0.15 ? 255 : Math.floor(rand() * 3))), [b, h, w], 'int32');
    const options: LovaszSoftmaxOptions[] = [
      { ignoreIndex: 255 },
      { ignoreIndex: 255, classes: 'all', perImage: true },
      { ignoreIndex: 255, classes: [3, 1, 1], classWeights: [0.5, 2, 1, 3] },
      { ignoreIndex: 255, perImage: true, fromLogits: true },
      { ignoreIndex: 255, dataFormat: 'channelsFirst', classes: 'all' },
      { ignoreIndex: 255, dataFormat: 'channelsFirst', perImage: true, classWeights: [1, 0, 2, 1] },
    ];
    for (const o of options) {
      const input = o.dataFormat === 'channelsFirst' ? tf.transpose(x, [0, 3, 1, 2]) : x;
      const f = (p: tf.Tensor) => lovaszSoftmax(p, labels, o);
      const fused = tf.valueAndGrads(f)([input]);
      const comp = withComposedOps(() => tf.valueAndGrads(f)([input]));
      await expectClose(fused.value, await comp.value.data());
      await expectClose(fused.grads[0], await comp.grads[0].array() as number[]);
    }
  });

  it('equals 1 − IoU on hard predictions (Lovasz extension property), over random masks', async () => {
    const rand = seededRandom(21);
    for (let trial = 0; trial < 6; trial++) {
      const [b, h, w, k] = [2, 4, 5, 2 + (trial % 3)];
      const n = b * h * w;
      const ignore = trial % 2 === 1 ? 255 : undefined;
      const labels = Array.from({ length: n }, () => (ignore !== undefined && rand() < 0.2 ? ignore : Math.floor(rand() * k)));
      // Predictions agree with the labels on about half the pixels, so IoUs vary.
      const preds = labels.map((l) => (l !== ignore && rand() < 0.5 ? l : Math.floor(rand() * k)));
      const probas = tf.tensor(preds.flatMap((p) => Array.from({ length: k }, (_, c) => (c === p ? 1 : 0))), [b, h, w, k]);
      const lab = tf.tensor(labels, [b, h, w], 'int32');
      for (const classes of ['present', 'all'] as const) {
        const want = oneMinusIoU(labels, preds, k, classes, ignore);
        await expectClose(lovaszSoftmax(probas, lab, { classes, ignoreIndex: ignore }), want);
        // Per image: the mean of each image's value.
        const half = n / b;
        const perImage = [0, 1].map((i) => oneMinusIoU(labels.slice(i * half, (i + 1) * half), preds.slice(i * half, (i + 1) * half), k, classes, ignore));
        await expectClose(lovaszSoftmax(probas, lab, { classes, ignoreIndex: ignore, perImage: true }), (perImage[0] + perImage[1]) / 2);
      }
    }
  });

  it('with classes "all", an absent class contributes its largest probability', async () => {
    // Two pixels, both class 0; class 1 is absent and predicted at most 0.3.
    const probas = [[0.9, 0.1], [0.7, 0.3]];
    const all = await lovaszSoftmax(probas, [0, 0], { classes: 'all' }).data();
    const present = await lovaszSoftmax(probas, [0, 0]).data();
    // Class 0 alone ('present'); 'all' averages it with 0.3.
    await expectClose(all[0], (present[0] + 0.3) / 2);
  });

  it('agrees with finite differences away from ties (probabilities)', async () => {
    // Every class row gets distinct errors 0.05 apart; p = 1 − e on foreground, e elsewhere.
    const rand = seededRandom(3);
    const [b, h, w, k] = [2, 3, 3, 3];
    const n = b * h * w;
    const labels = Array.from({ length: n }, () => Math.floor(rand() * k));
    const p = new Float32Array(n * k);
    for (let c = 0; c < k; c++) {
      const errs = shuffled(Array.from({ length: n }, (_, i) => 0.04 + 0.05 * i), rand);
      errs.forEach((e, i) => (p[i * k + c] = labels[i] === c ? 1 - e : e));
    }
    const lab = tf.tensor(labels, [b, h, w], 'int32');
    const x = tf.tensor(p, [b, h, w, k]);
    await gradCheck((t) => lovaszSoftmax(t, lab), [x], { eps: 1e-3, samples: 20 });
    await gradCheck((t) => lovaszSoftmax(t, lab, { perImage: true, classes: 'all', classWeights: [1, 2, 0.5] }), [x], { eps: 1e-3, samples: 20 });
  });

  it('agrees with finite differences away from ties (logits)', async () => {
    const labels = [0, 1, 2, 2, 1];
    // Draw logits until the errors of every class row are far apart compared with the step.
    const separated = (logits: number[][]) => {
      const probs = logits.map((r) => {
        const e = r.map((v) => Math.exp(v));
        const z = e.reduce((a, v) => a + v, 0);
        return e.map((v) => v / z);
      });
      return [0, 1, 2].every((c) => {
        const errs = probs.map((r, i) => Math.abs((labels[i] === c ? 1 : 0) - r[c])).sort((a, b) => a - b);
        return errs.every((e, i) => i === 0 || e - errs[i - 1] > 0.02);
      });
    };
    const rand = seededRandom(8);
    let logits: number[][] = [];
    for (let tries = 0; tries < 1000 && !(logits.length && separated(logits)); tries++) {
      logits = labels.map(() => [0, 1, 2].map(() => 4 * rand() - 2));
    }
    expect(separated(logits)).toBe(true);
    await gradCheck((t) => lovaszSoftmax(t, labels, { fromLogits: true, classes: 'all' }), [tf.tensor(logits)], { eps: 1e-3 });
    await gradCheck((t) => lovaszSoftmax(t, labels, { fromLogits: true }), [tf.tensor(logits)], { eps: 1e-3 });
  });

  it('gives 0 and zero gradients without NaN when every pixel is ignored', async () => {
    const x = tf.tensor([[[[0.2, 0.8], [0.6, 0.4]]]]);
    for (const classes of ['present', 'all'] as const) {
      for (const perImage of [false, true]) {
        const { value, grads } = tf.valueAndGrads((p: tf.Tensor) => lovaszSoftmax(p, [[[7, 7]]], { ignoreIndex: 7, classes, perImage }))([x]);
        await expectClose(value, 0);
        await expectClose(grads[0], [[[[0, 0], [0, 0]]]]);
      }
    }
  });

  it('stays finite for saturated logits', async () => {
    const x = tf.tensor([[[[100, -100, 0], [-100, 100, 50]]]]);
    const { value, grads } = tf.valueAndGrads((p: tf.Tensor) => lovaszSoftmax(p, [[[0, 2]]], { fromLogits: true }))([x]);
    const v = await value.data();
    const g = await grads[0].data();
    expect(Number.isFinite(v[0])).toBe(true);
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
  });

  it('channelsFirst equals channelsLast on the transposed input', async () => {
    const rand = seededRandom(4);
    const x = tf.tensor(Array.from({ length: 2 * 3 * 4 * 3 }, () => rand()), [2, 3, 4, 3]);
    const labels = tf.tensor(Array.from({ length: 24 }, () => Math.floor(rand() * 3)), [2, 3, 4], 'int32');
    for (const opts of [{}, { perImage: true }, { fromLogits: true, classes: 'all' as const }]) {
      const last = lovaszSoftmax(x, labels, opts);
      const first = lovaszSoftmax(tf.transpose(x, [0, 3, 1, 2]), labels, { ...opts, dataFormat: 'channelsFirst' });
      await expectClose(first, await last.data());
    }
  });

  it('accepts int32 probabilities (hard one-hot predictions held on the device)', async () => {
    // Large enough that webgpu keeps the one-hot on the GPU (where its int-to-float cast relabels the buffer).
    const rand = seededRandom(31);
    const n = 2 * 16 * 16;
    const labels = Array.from({ length: n }, () => Math.floor(rand() * 3));
    const preds = labels.map((l) => (rand() < 0.6 ? l : Math.floor(rand() * 3)));
    const lab = tf.tensor(labels, [2, 16, 16], 'int32');
    const hard = tf.oneHot(tf.tensor(preds, [2, 16, 16], 'int32'), 3);
    const want = oneMinusIoU(labels, preds, 3, 'present');
    await expectClose(lovaszSoftmax(hard, lab), want);
    await expectClose(lovaszSoftmax(intChannelsFirst(hard), lab, { dataFormat: 'channelsFirst' }), want);
  });

  it('returns a scalar and accepts plain arrays and float labels holding whole numbers', async () => {
    const probas = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]];
    const v = lovaszSoftmax(probas, tf.tensor([0, 1, 1], [3], 'float32'));
    expect(v.shape).toEqual([]);
    await expectClose(v, await lovaszSoftmax(tf.tensor(probas), tf.tensor([0, 1, 1], [3], 'int32')).data());
  });

  it('rejects bad input with LossInputError', () => {
    const x = tf.zeros([2, 3, 3, 4]);
    expectLossInputError(() => lovaszSoftmax(x, tf.zeros([2, 3, 4], 'int32')), 'lovaszSoftmax: labels must have shape [2, 3, 3]; got [2, 3, 4].');
    expectLossInputError(() => lovaszSoftmax(x, tf.zeros([2, 3, 3], 'int32'), { dataFormat: 'channelsFirst' }), 'lovaszSoftmax: labels must have shape [2, 3, 3]; got [2, 3, 3]'.slice(0, 0), 'labels must have shape [2, 3, 4]');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([6, 4]), [0, 1, 2, 3, 4, 0]), 'lovaszSoftmax: labels values must lie in [0, 3]; got 4 at flat index 4.');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, -1, 2]), 'labels values must lie in [0, 3]', 'got -1');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, 254, 2], { ignoreIndex: 255 }), 'labels values must lie in [0, 3] (or 255); got 254');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, 1.5, 2]), 'labels must hold whole numbers');
    expectLossInputError(() => lovaszSoftmax(x, tf.zeros([2, 3, 3], 'int32'), { dataFormat: 'NHWC' as 'channelsLast' }), 'lovaszSoftmax: dataFormat must be one of "channelsLast", "channelsFirst"; got "NHWC".');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([2, 3, 4]), tf.zeros([2, 3], 'int32')), 'lovaszSoftmax: probas must have rank 2 or 4; got rank 3');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([5, 4]), [0, 1, 2, 3, 0], { perImage: true }), 'lovaszSoftmax: probas must be [B, H, W, C]', 'perImage', 'got flat input of shape [5, 4]');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, 1, 2], { classes: 'some' as 'all' }), 'lovaszSoftmax: classes must be "present", "all" or an array of class indices; got "some".');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, 1, 2], { classes: [1, 4] }), 'lovaszSoftmax: classes[1] must be <= 3; got 4.');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, 1, 2], { classes: [] }), 'lovaszSoftmax: classes must list at least one class index');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, 1, 2], { classWeights: [1, 1] }), 'lovaszSoftmax: classWeights must have length 4; got length 2.');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, 1, 2], { classWeights: [1, -1, 1, 1] }), 'classWeights[1] must be >= 0; got -1.');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([3, 4]), [0, 1, 2], { ignoreIndex: 0.5 }), 'lovaszSoftmax: ignoreIndex must be an integer; got 0.5.');
    expectLossInputError(() => lovaszSoftmax(tf.zeros([0, 4]), []), 'lovaszSoftmax: probas must hold at least one pixel');
    expectLossInputError(() => lovaszSoftmax('x' as unknown as tf.Tensor, [0]), 'lovaszSoftmax: probas must be a tensor');
  });

  it('checks tensor label values where the backend reads synchronously', () => {
    const bad = () => lovaszSoftmax(tf.zeros([3, 4]), tf.tensor1d([0, 9, 1], 'int32'));
    if (tf.getBackend() === 'webgpu') {
      // tfjs-webgpu in Node cannot read synchronously: shapes are checked, values are not.
      expect(() => bad().dispose()).not.toThrow();
    } else {
      expectLossInputError(bad, 'labels values must lie in [0, 3]; got 9 at flat index 1.');
    }
  });

  it('leaks no tensors (value and gradient, every option)', () => {
    const rand = seededRandom(9);
    const x = tf.tensor(Array.from({ length: 2 * 3 * 3 * 3 }, () => rand()), [2, 3, 3, 3]);
    const labels = tf.tensor(Array.from({ length: 18 }, (_, i) => (i % 5 === 0 ? 255 : i % 3)), [2, 3, 3], 'int32');
    const options: LovaszSoftmaxOptions[] = [
      { ignoreIndex: 255 },
      { classes: 'all', perImage: true, ignoreIndex: 255 },
      { classes: [2, 0], fromLogits: true, ignoreIndex: 255, classWeights: [1, 2, 3] },
      { dataFormat: 'channelsFirst', fromLogits: true, perImage: true, ignoreIndex: 255 },
    ];
    for (const o of options) {
      expectNoLeak(() => tf.valueAndGrads((p: tf.Tensor) => lovaszSoftmax(p, labels, o))([x]));
      expectNoLeak(() => withComposedOps(() => tf.valueAndGrads((p: tf.Tensor) => lovaszSoftmax(p, labels, o))([x])));
    }
  });

  it('Keras adapter: (yTrue, yPred) with sparse, [B, H, W, 1] or one-hot labels', async () => {
    const rand = seededRandom(12);
    const yPred = tf.tensor(Array.from({ length: 2 * 2 * 3 * 3 }, () => rand()), [2, 2, 3, 3]);
    const labels = [0, 1, 2, 2, 1, 0, 1, 1, 0, 2, 2, 0];
    const sparse = tf.tensor(labels, [2, 2, 3], 'int32');
    const want = await lovaszSoftmax(yPred, sparse, { perImage: true }).data();
    const loss = lovaszSoftmaxKeras({ perImage: true });
    await expectClose(loss(sparse, yPred), want[0]);
    await expectClose(loss(tf.tensor(labels, [2, 2, 3, 1]), yPred), want[0]);
    await expectClose(loss(tf.oneHot(sparse, 3), yPred), want[0]);
    const cf = lovaszSoftmaxKeras({ perImage: true, dataFormat: 'channelsFirst' });
    await expectClose(cf(intChannelsFirst(tf.oneHot(sparse, 3)), tf.transpose(yPred, [0, 3, 1, 2])), want[0]);
  });

  it('Keras adapter: a one-hot row of zeros is an ignored pixel', async () => {
    const rand = seededRandom(13);
    const yPred = tf.tensor(Array.from({ length: 2 * 2 * 3 * 3 }, () => rand()), [2, 2, 3, 3]);
    const labels = [0, 1, 2, 9, 1, 0, 9, 1, 0, 2, 2, 0];
    const sparse = tf.tensor(labels, [2, 2, 3], 'int32');
    // tf.oneHot leaves the row of the out-of-range label 9 at zero.
    const oneHot = tf.oneHot(sparse, 3);
    for (const o of [{}, { ignoreIndex: 9 }, { perImage: true, classes: 'all' as const }]) {
      const want = (await lovaszSoftmax(yPred, sparse, { ...o, ignoreIndex: 9 }).data())[0];
      await expectClose(lovaszSoftmaxKeras(o)(oneHot, yPred), want);
    }
  });
});
