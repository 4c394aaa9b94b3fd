import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { absZeroGrad, registerWasmUnsortedSegmentSum, withStockGradient, ZERO_GRADIENT_KERNELS } from './index';

// Each test first shows the failure with tfjs's own gradient (or kernel), then
// the repaired result with core loaded.

describe('gradients are registered for a tfjs-core-only user', () => {
  it('has tfjs-core gradient configs for common kernels', async () => {
    for (const k of ['Add', 'Multiply', 'BatchMatMul', 'Conv2D', 'Relu', 'Sum', 'GatherV2', 'Softplus', 'Select']) {
      expect(tf.getGradient(k), k).toBeDefined();
    }
  });
});

describe('comparison and logical kernels have zero gradients', () => {
  const f = (x: tf.Tensor) => tf.sum(tf.where(tf.less(x, 0.5), tf.square(x), tf.mul(x, 3)));
  it('stock tfjs: gradient function not found for Less', async () => {
    expect(() => withStockGradient('Less', () => tf.grad(f)(tf.tensor([0.2, 0.9])))).toThrow(/gradient function not found for Less/);
  });
  it('with core: tf.where and masks differentiate', async () => {
    await expectClose(tf.grad(f)(tf.tensor([0.2, 0.9])), [0.4, 3]);
    for (const k of ZERO_GRADIENT_KERNELS) expect(tf.getGradient(k), k).toBeDefined();
    const g = tf.grad((x) => tf.sum(tf.mul(x, tf.cast(tf.logicalAnd(tf.greater(x, 0), tf.lessEqual(x, 1)), 'float32'))))(tf.tensor([-1, 0.5, 2]));
    await expectClose(g, [0, 1, 0]);
  });
  it('leakyRelu has a second-order gradient', async () => {
    const x = tf.tensor([-1.5, 0.7]);
    const w = tf.variable(tf.tensor([0.8, -1.2]));
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.grad((v: tf.Tensor) => tf.sum(tf.leakyRelu(tf.mul(v, w), 0.2)))(x))), [w]);
    // d/dw sum((slope(x w) w)^2) = 2 slope^2 w, slope 0.2 for x w < 0, 1 otherwise.
    await expectClose(grads[w.name], [2 * 0.04 * 0.8, 2 * 0.04 * -1.2]);
  });
});

describe('second-order gradients through Tanh, Sigmoid, Exp, Softmax', () => {
  // Penalty-like function: sum over the input gradient squared, as WGAN-GP does.
  const x = randomTensor([3, 4], 11);
  const make = (act: (t: tf.Tensor) => tf.Tensor) => (w: tf.Tensor) =>
    tf.sum(tf.square(tf.grad((xx: tf.Tensor) => tf.sum(act(tf.matMul(xx, w))))(x)));

  for (const [name, kernel, act] of [
    ['tanh', 'Tanh', tf.tanh],
    ['sigmoid', 'Sigmoid', tf.sigmoid],
    ['exp', 'Exp', (t: tf.Tensor) => tf.exp(tf.mul(t, 0.3))],
    ['softmax', 'Softmax', (t: tf.Tensor) => tf.mul(tf.softmax(t), tf.tensor([1, 2]))],
  ] as const) {
    it(`${name}: stock is wrong, core matches finite differences`, async () => {
      const w = randomTensor([4, 2], 5);
      const f = make(act as (t: tf.Tensor) => tf.Tensor);
      await gradCheck(f, [w], { rtol: 2e-2, atol: 2e-3 });
      const ours = await tf.grad(f)(w).data();
      const stock = await withStockGradient(kernel, () => tf.grad(f)(w)).data();
      let maxDiff = 0;
      for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - stock[i]));
      expect(maxDiff, 'stock second-order gradient differs from ours').toBeGreaterThan(1e-3);
    });
  }

  it('first-order results are unchanged', async () => {
    const t = tf.tensor([-2, 0.3, 4]);
    await expectClose(tf.grad((v) => tf.sum(tf.tanh(v)))(t), withStockGradient('Tanh', () => tf.grad((v) => tf.sum(tf.tanh(v)))(t)));
    await expectClose(tf.grad((v) => tf.sum(tf.sigmoid(v)))(t), withStockGradient('Sigmoid', () => tf.grad((v) => tf.sum(tf.sigmoid(v)))(t)));
  });
});

describe('absZeroGrad', () => {
  it('stock abs has gradient -1 at 0; ours 0 like PyTorch', async () => {
    await expectClose(tf.grad((v) => tf.sum(tf.abs(v)))(tf.tensor([0])), [-1]);
    await expectClose(tf.grad((v) => tf.sum(absZeroGrad(v)))(tf.tensor([0, 2, -3])), [0, 1, -1]);
    await expectClose(absZeroGrad(tf.tensor([-1.5, 0, 2])), [1.5, 0, 2]);
  });
});

describe('gather gradient (UnsortedSegmentSum)', () => {
  const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, tf.tensor1d([2, 0, 2], 'int32')), tf.tensor([[1], [2], [3]])));
  it('differentiates gather on this backend', async () => {
    await expectClose(tf.grad(f)(tf.ones([3, 2])), [[2, 2], [0, 0], [4, 4]]);
  });
  // The missing kernel is a wasm gap; the test exists only in the wasm project.
  if (tf.getBackend() === 'wasm') it('wasm: stock backend lacks the kernel (tfjs issue 8082)', async () => {
    const kernel = tf.getKernel('UnsortedSegmentSum', 'wasm');
    tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
    try {
      expect(() => tf.grad(f)(tf.ones([3, 2]))).toThrow(/UnsortedSegmentSum/);
    } finally {
      if (kernel) tf.registerKernel(kernel);
      else registerWasmUnsortedSegmentSum();
    }
  });
});

describe('TopK values are differentiable', () => {
  it('routes the gradient to the selected positions', async () => {
    const x = tf.tensor([[0.1, 0.9, 0.5], [3, 1, 2]]);
    const g = tf.grad((v) => tf.sum(tf.mul(tf.topk(v, 2).values, tf.tensor([[1, 10]]))))(x);
    await expectClose(g, [[0, 1, 10], [1, 0, 10]]);
  });
});
