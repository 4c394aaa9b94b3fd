// The fused kernels (typed-array on cpu and wasm, WGSL on webgpu) against the
// composed-ops form they replace, which is the oracle: same values, same
// gradients, on every backend the tests run on.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { canReadSync, withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, expectNoLeak, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { sigmoidFocalLoss, softmaxFocalLoss, type SigmoidFocalLossOptions, type SoftmaxFocalLossOptions } from './index';
import { sigmoidFocalBackward, sigmoidFocalOp, sigmoidFocalSumOp } from './kernels/sigmoid-focal.kernel';
import { softmaxFocalBackward, softmaxFocalOp, softmaxFocalSumOp } from './kernels/softmax-focal.kernel';

/** Value and gradients of f on both paths. */
function bothPaths(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]) {
  const run = () => {
    const { value, grads } = tf.valueAndGrads(f)(xs);
    return [value, ...grads];
  };
  return { fused: run(), composed: withComposedOps(run) };
}

async function expectSame(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): Promise<void> {
  const { fused, composed } = bothPaths(f, xs);
  for (let i = 0; i < fused.length; i++) {
    expect((await toArray(fused[i])).every(Number.isFinite), `output ${i} finite`).toBe(true);
    await expectClose(fused[i], composed[i]);
  }
}

/** Names of the kernels one call dispatches. */
async function kernelNames(f: () => tf.TensorContainer): Promise<string[]> {
  const info = await tf.profile(f);
  tf.dispose(info.result as tf.Tensor);
  return info.kernels.map((k) => k.name);
}

// Odd sizes so that the last GPU workgroup is partly idle.
const x = randomTensor([37, 11], 21, -6, 6);
const hard = tf.cast(tf.greater(randomTensor([37, 11], 22, 0, 1), 0.7), 'float32');
const soft = randomTensor([37, 11], 23, 0, 1);
const saturated = tf.tensor([[-100, -30, -15, 0, 15, 30, 100], [100, 30, 15, 0, -15, -30, -100]]);
const satTargets = tf.tensor([[0, 0, 0, 1, 1, 1, 1], [0, 0.3, 1, 0.5, 1, 0.7, 1]]);

describe(`fused kernels vs composed ops on ${tf.getBackend()}`, () => {
  it('the fused path is the one that runs (kernel names in tf.profile)', async () => {
    expect(sigmoidFocalOp.isFused() && sigmoidFocalBackward.isFused()).toBe(true);
    expect(softmaxFocalOp.isFused() && softmaxFocalBackward.isFused()).toBe(true);
    const sig = await kernelNames(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b))([x, soft]));
    // cpu and wasm sum inside the kernel; webgpu runs the elementwise kernel and tf.sum.
    const summed = tf.getBackend() !== 'webgpu';
    expect(sigmoidFocalSumOp.isFused()).toBe(summed);
    expect(sig).toContain(summed ? 'TfjsLossesSigmoidFocalSum' : 'TfjsLossesSigmoidFocal');
    // cpu and wasm: the summing kernel computes the gradient too; webgpu runs the backward kernel.
    if (summed) expect(sig).not.toContain('TfjsLossesSigmoidFocalGrad');
    else expect(sig).toContain('TfjsLossesSigmoidFocalGrad');
    const weighted = await kernelNames(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b, { weights: [2] }))([x, soft]));
    expect(weighted).toContain('TfjsLossesSigmoidFocal');
    expect(weighted).toContain('TfjsLossesSigmoidFocalGrad');
    const smx = await kernelNames(() => tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, tf.zeros([37], 'int32')))(x));
    expect(softmaxFocalSumOp.isFused()).toBe(summed);
    if (summed) {
      expect(smx).toContain('TfjsLossesSoftmaxFocalSum');
      expect(smx).not.toContain('TfjsLossesSoftmaxFocalGrad');
    } else {
      expect(smx).toContain('TfjsLossesSoftmaxFocal');
      expect(smx).toContain('TfjsLossesSoftmaxFocalGrad');
    }
    const smxNone = await kernelNames(() => tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, tf.zeros([37], 'int32'), { reduction: 'none' }))(x));
    expect(smxNone).toContain('TfjsLossesSoftmaxFocal');
    expect(smxNone).toContain('TfjsLossesSoftmaxFocalGrad');
    const composed = await kernelNames(() => withComposedOps(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b))([x, soft])));
    expect(composed.some((n) => n.startsWith('TfjsLosses'))).toBe(false);
  });

  const sigmoidOptions: SigmoidFocalLossOptions[] = [
    {},
    { gamma: 0, alpha: -1 },
    { gamma: 0.5, alpha: 0.75 },
    { gamma: 1, alpha: 0 },
    { gamma: 5, reduction: 'sum' },
    { gamma: 1.7, labelSmoothing: 0.1, avgFactor: 3 },
  ];
  for (const options of sigmoidOptions) {
    it(`sigmoidFocalLoss ${JSON.stringify(options)}: hard, soft and saturated targets`, async () => {
      const f = (a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b, options);
      await expectSame(f, [x, hard]);
      await expectSame(f, [x, soft]);
      await expectSame(f, [saturated, satTargets]);
    });
  }

  it('the sigmoid backward kernel takes a scalar upstream gradient (the gradient of a sum)', async () => {
    const attrs = { alpha: 0.25, gamma: 2 };
    const dy = tf.scalar(0.37);
    const fused = sigmoidFocalBackward([x, soft, dy], attrs);
    const composed = withComposedOps(() => sigmoidFocalBackward([x, soft, dy], attrs));
    const full = sigmoidFocalBackward([x, soft, tf.fill(x.shape, 0.37)], attrs);
    for (let i = 0; i < 2; i++) {
      await expectClose(fused[i], composed[i]);
      await expectClose(fused[i], full[i]);
    }
  });

  it('sigmoidFocalLoss reduction none with weights', async () => {
    const up = randomTensor([37, 11], 24);
    const w = randomTensor([11], 25, 0, 2);
    await expectSame((a, b, c) => tf.sum(tf.mul(sigmoidFocalLoss(a, b, { reduction: 'none', weights: c }), up)), [x, soft, w]);
  });

  const softmaxOptions: SoftmaxFocalLossOptions[] = [
    {},
    { gamma: 0 },
    { gamma: 0.5, alpha: 0.25 },
    { gamma: 3, alpha: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1], ignoreIndex: -1 },
    { gamma: 2, ignoreIndex: 4, reduction: 'sum' },
  ];
  const labels = tf.tensor1d(Array.from({ length: 37 }, (_, i) => (i % 9 === 0 ? -1 : (i * 7) % 11)), 'int32');
  const satLabels = tf.tensor1d([0, 6], 'int32');
  for (const options of softmaxOptions) {
    it(`softmaxFocalLoss ${JSON.stringify(options)}`, async () => {
      const y = options.ignoreIndex === -1 ? labels : tf.maximum(labels, 0);
      await expectSame((a) => softmaxFocalLoss(a, y, options), [x]);
      await expectSame((a) => softmaxFocalLoss(a, satLabels, { gamma: options.gamma, alpha: Array.isArray(options.alpha) ? undefined : options.alpha }), [saturated]);
    });
  }

  it('softmaxFocalLoss with two classes and with many rows of a 3-d input', async () => {
    const y2 = tf.tensor1d(Array.from({ length: 37 }, (_, i) => i % 2), 'int32');
    await expectSame((a) => softmaxFocalLoss(a, y2, { alpha: [0.25, 0.75] }), [randomTensor([37, 2], 26, -5, 5)]);
    const y3 = tf.tensor2d(Array.from({ length: 6 }, (_, i) => Array.from({ length: 13 }, (_, j) => (i + j) % 7)), [6, 13], 'int32');
    await expectSame((a) => softmaxFocalLoss(a, y3, { reduction: 'sum', gamma: 1 }), [randomTensor([6, 13, 7], 27, -3, 3)]);
  });

  it('a scaled loss (upstream gradient other than 1) and a sum of two losses', async () => {
    await expectSame((a, b) => tf.mul(sigmoidFocalLoss(a, b), 0.3), [x, soft]);
    await expectSame((a, b) => tf.add(sigmoidFocalLoss(a, b, { reduction: 'sum' }), sigmoidFocalLoss(tf.mul(a, 0.5), b)), [x, soft]);
    const y = tf.maximum(labels, 0);
    await expectSame((a) => tf.mul(softmaxFocalLoss(a, y, { alpha: 0.4 }), -2.5), [x]);
    await expectSame((a) => tf.add(softmaxFocalLoss(a, y), softmaxFocalLoss(tf.mul(a, 2), y, { reduction: 'sum', gamma: 0.5 })), [x]);
  });

  it('summing ops: without a tape the kernel writes no gradients; with one it keeps them and runs no backward kernel', async () => {
    const y = tf.maximum(labels, 0);
    const alpha = tf.ones([11]);
    // Forward only, and forward plus backward, agree on the value.
    const sig = sigmoidFocalSumOp([x, soft], { alpha: 0.25, gamma: 2, divisor: 7 });
    await expectClose(sig[0], tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b, { avgFactor: 7 }))([x, soft]).value);
    const smx = softmaxFocalSumOp([x, y, alpha], { gamma: 2, divisor: 1 });
    await expectClose(smx[0], tf.valueAndGrad((a: tf.Tensor) => softmaxFocalLoss(a, y, { reduction: 'sum' }))(x).value);
    if (tf.getBackend() === 'webgpu') return;
    const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) =>
      tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as unknown as tf.Tensor[];
    const off = kernel('TfjsLossesSigmoidFocalSum', { logits: x, targets: soft }, { alpha: 0.25, gamma: 2, divisor: 7, withGrad: false });
    expect(off.map((t) => t.size)).toEqual([1, 1, 0, 0]);
    const on = kernel('TfjsLossesSoftmaxFocalSum', { logits: x, labels: y, alpha }, { gamma: 2, divisor: 1, withGrad: true });
    expect(on.map((t) => t.size)).toEqual([1, 37 * 11]);
    const names = await kernelNames(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(sigmoidFocalLoss(a, b), 3))([x, soft]));
    expect(names.filter((n) => n.startsWith('TfjsLosses'))).toEqual(['TfjsLossesSigmoidFocalSum', 'TfjsLossesCarriedScale', 'TfjsLossesCarriedScale']);
  });

  // The summing kernel checks the targets in its own pass; every other path reads them first.
  if (canReadSync()) {
    it('targets outside [0, 1] are refused on every path, also under a tape', () => {
      const bad = tf.tensor2d([[0, 1, 0.5], [1, Number.NaN, 0]]);
      const zs = tf.zeros([2, 3]);
      const message = 'sigmoidFocalLoss: targets values must lie in [0, 1]; got NaN at flat index 4.';
      const options: SigmoidFocalLossOptions[] = [{}, { reduction: 'sum' }, { reduction: 'none' }, { weights: [1, 2, 3] }, { labelSmoothing: 0.1 }];
      for (const o of options) {
        expectLossInputError(() => sigmoidFocalLoss(zs, bad, o), message);
        expectLossInputError(() => withComposedOps(() => sigmoidFocalLoss(zs, bad, o)), message);
      }
      expectLossInputError(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b))([zs, bad]), message);
      expectLossInputError(() => sigmoidFocalLoss(zs, tf.tensor2d([[0, 1, 0.5], [1, 0, -2]])), 'got -2 at flat index 5.');
    });
  }

  it('softmaxFocalLoss with logit gaps beyond float64 exp range (the kernels change reference)', async () => {
    const wide = tf.tensor2d([
      [1000, 0, -500, 2],
      [-1000, 0, 3, 1],
      [0, 800, -800, 1],
      [5, -3, 700, 699.5],
    ]);
    const y = tf.tensor1d([0, 0, 1, 3], 'int32');
    for (const gamma of [0, 0.5, 2]) {
      await expectSame((a) => softmaxFocalLoss(a, y, { gamma }), [wide]);
      await expectSame((a) => softmaxFocalLoss(a, y, { gamma, reduction: 'none' }), [wide]);
    }
  });

  it('leaks no tensors on the fused path', () => {
    const y = tf.maximum(labels, 0);
    expectNoLeak(() => sigmoidFocalLoss(x, soft));
    expectNoLeak(() => softmaxFocalLoss(x, y));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(sigmoidFocalLoss(a, b), 2))([x, soft]));
    expectNoLeak(() => tf.grad((a: tf.Tensor) => tf.mul(softmaxFocalLoss(a, y), 2))(x));
    expectNoLeak(() => tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, y))(x));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b))([x, soft]));
    expectNoLeak(() => tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, labels, { ignoreIndex: -1 }))(x));
  });
});
