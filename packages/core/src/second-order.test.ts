import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { registerWasmConv2DBackpropFilter, SECOND_ORDER_KERNELS, withStockGradient } from './index';
import { conv2DBackpropFilter } from './gradients/internal-ops';

// The gradient configs of gradients/second-order.ts. Each block shows the
// stock failure, then finite-difference agreement of the repaired gradient.
// (The gan package checks the same ops against PyTorch, second-order-ops.test.ts.)

const img = (seed: number, shape = [2, 5, 5, 2]) => randomTensor(shape, seed) as tf.Tensor4D;

describe('registered kernels', () => {
  it('lists the kernels it repairs or speeds up, each with a gradient', () => {
    for (const k of SECOND_ORDER_KERNELS) expect(tf.getGradient(k), k).toBeDefined();
  });
});

describe('AvgPool and AvgPoolGrad', () => {
  const w = (shape: number[]) => randomTensor(shape, 3);
  it('valid windows: first-order result is exactly tfjs\'s', async () => {
    const x = img(1, [2, 6, 6, 2]);
    const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(v as tf.Tensor4D, 2, 2, 'valid'), w([2, 3, 3, 2])));
    const ours = await tf.grad(f)(x).data();
    const stock = await withStockGradient('AvgPool', () => tf.grad(f)(x)).data();
    expect(Array.from(ours)).toEqual(Array.from(stock));
  });
  it('same padding with partial windows: stock gradient is wrong, ours matches finite differences', async () => {
    const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(v as tf.Tensor4D, 3, 2, 'same'), w([2, 3, 3, 2])));
    const x = img(2);
    await gradCheck(f, [x]);
    const ours = await tf.grad(f)(x).data();
    const stock = await withStockGradient('AvgPool', () => tf.grad(f)(x)).data();
    expect(Math.max(...Array.from(ours, (v, i) => Math.abs(v - stock[i])))).toBeGreaterThan(1e-2);
  });
  // Penalty through a pool: needs AvgPoolGrad's gradient.
  const penalty = (pad: 'valid' | 'same', size: number, stride: number) => (k: tf.Tensor) =>
    tf.sum(tf.square(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.avgPool(tf.tanh(tf.conv2d(v as tf.Tensor4D, k as tf.Tensor4D, 1, 'same')), size, stride, pad)), 0.7)))(img(4))));
  it('stock: AvgPoolGrad has no gradient', () => {
    expect(() => withStockGradient('AvgPoolGrad', () => tf.grad(penalty('valid', 2, 1))(randomTensor([3, 3, 2, 2], 5)))).toThrow(/AvgPoolGrad/);
  });
  for (const [pad, size, stride] of [['valid', 2, 1], ['valid', 2, 2], ['same', 3, 1], ['same', 2, 2]] as const) {
    it(`second order through avgPool ${size}x${size} stride ${stride} ${pad} matches finite differences`, async () => {
      await gradCheck(penalty(pad, size, stride), [randomTensor([3, 3, 2, 2], 5, -0.5, 0.5)]);
    });
  }
});

describe('Conv2DBackpropFilter', () => {
  // A penalty on the filter gradient, differentiated with respect to the input.
  const f = (stride: number, pad: 'same' | 'valid') => (x: tf.Tensor) =>
    tf.sum(tf.square(tf.grad((k: tf.Tensor) => tf.sum(tf.tanh(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, stride, pad))))(randomTensor([3, 3, 2, 3], 7, -0.5, 0.5))));
  it('stock: no gradient', () => {
    expect(() => withStockGradient('Conv2DBackpropFilter', () => tf.grad(f(1, 'same'))(img(8)))).toThrow(/Conv2DBackpropFilter/);
  });
  for (const [stride, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const) {
    it(`gradient matches finite differences (stride ${stride}, ${pad})`, async () => {
      await gradCheck(f(stride, pad), [img(8)], { eps: 2e-2 });
    });
  }
});

describe('Conv2DBackpropFilter kernel on every backend (typed-array kernel on wasm)', () => {
  // <BPF(x, dy), K> = <conv2d(x, K), dy> for every K: the filter gradient is the adjoint of the convolution.
  for (const [stride, pad] of [[1, 'same'], [2, 'same'], [2, 'valid'], [1, 'valid']] as const) {
    it(`is the adjoint of conv2d (stride ${stride}, ${pad})`, async () => {
      const x = img(9, [2, 7, 6, 3]);
      const K = randomTensor([3, 2, 3, 4], 10) as tf.Tensor4D;
      const y = tf.conv2d(x, K, stride, pad);
      const dy = randomTensor(y.shape, 11);
      const dW = conv2DBackpropFilter(x, dy, K.shape, stride, pad);
      await expectClose(tf.sum(tf.mul(dW, K)), tf.sum(tf.mul(y, dy)), { rtol: 1e-4, atol: 1e-4 });
      // Channels-first input gives the same filter gradient.
      const dWFirst = conv2DBackpropFilter(tf.transpose(x, [0, 3, 1, 2]), tf.transpose(dy, [0, 3, 1, 2]), K.shape, stride, pad, 'NCHW');
      await expectClose(dWFirst, dW, { rtol: 1e-4, atol: 1e-5 });
    });
  }
  it('tf.conv2d filter gradient matches finite differences', async () => {
    const x = img(12);
    await gradCheck((k) => tf.sum(tf.mul(tf.conv2d(x, k as tf.Tensor4D, 2, 'same'), 0.3)), [randomTensor([3, 3, 2, 3], 13)]);
  });
  if (tf.getBackend() === 'wasm') it('wasm: the stock backend lacks the kernel', () => {
    const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
    try {
      expect(() => tf.grad((k: tf.Tensor) => tf.sum(tf.conv2d(img(14), k as tf.Tensor4D, 1, 'same')))(randomTensor([3, 3, 2, 3], 15))).toThrow(/Conv2DBackpropFilter/);
    } finally {
      if (kernel) tf.registerKernel(kernel);
      else registerWasmConv2DBackpropFilter();
    }
  });
});

describe('BatchMatMul', () => {
  // Every transpose combination, rank 2 and 3: the same gradients as tfjs's
  // config (on wasm the transposes are materialised first; elsewhere the code is tfjs's).
  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    it(`transposeA ${ta}, transposeB ${tb}: first order equals tfjs's, second order matches finite differences`, async () => {
      for (const batch of [[], [2]]) {
        const a = randomTensor([...batch, ...(ta ? [4, 3] : [3, 4])], 20);
        const b = randomTensor([...batch, ...(tb ? [5, 4] : [4, 5])], 21);
        const w = randomTensor([...batch, 3, 5], 22);
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), w));
        const ours = tf.grads(f)([a, b]);
        const stock = withStockGradient('BatchMatMul', () => tf.grads(f)([a, b]));
        for (let i = 0; i < 2; i++) await expectClose(ours[i], stock[i], { rtol: 1e-5, atol: 1e-6 });
        const penalty = (y: tf.Tensor) => tf.sum(tf.square(tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.matMul(x, y, ta, tb)), w)))(a)));
        await gradCheck(penalty, [b]);
      }
    });
  }
});

describe('Pow', () => {
  const base = randomTensor([2, 3], 16, 0.4, 2);
  const f = (e: tf.Tensor) => tf.sum(tf.square(tf.grad((v: tf.Tensor) => tf.sum(tf.pow(base, v)))(e)));
  const e0 = randomTensor([2, 3], 17, 0.5, 2.5);
  it('stock: the exponent\'s second-order path is lost (saved output)', () => {
    expect(() => withStockGradient('Pow', () => tf.grad(f)(e0))).toThrow(/Cannot compute gradient/);
  });
  it('second order in the exponent matches finite differences', async () => {
    await gradCheck(f, [e0]);
  });
  it('first-order results are exactly tfjs\'s', async () => {
    const g = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.pow(a, b));
    const ours = tf.grads(g)([base, e0]);
    const stock = withStockGradient('Pow', () => tf.grads(g)([base, e0]));
    for (let i = 0; i < 2; i++) expect(Array.from(await ours[i].data())).toEqual(Array.from(await stock[i].data()));
  });
});
