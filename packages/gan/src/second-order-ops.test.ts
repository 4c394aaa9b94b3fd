import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SECOND_ORDER_KERNELS, withStockGradient } from '@tfjs-losses/core';
import { expectClose, gradCheck, loadFixture } from '@tfjs-losses/test-utils';

// One tiny network per op a critic is made of, against PyTorch (float64,
// create_graph=True): P = sum((d/d inner sum(C * net))^2), and dP/d outer.
// This is the exact check of every second-order gradient the gan package
// relies on; critic-level fixtures are in gradient-penalty.test.ts.

type T = Record<string, tf.Tensor>;
const dense = (t: T) => tf.add(tf.matMul(t.x, t.W), t.b);
const conv = (t: T, stride: number, pad: 'same' | 'valid', bias = true) => {
  const y = tf.conv2d(t.x as tf.Tensor4D, t.K as tf.Tensor4D, stride, pad);
  return bias ? tf.add(y, t.b) : y;
};
const layerNormComposed = (h: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
  const { mean, variance } = tf.moments(h, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-3))), gamma), beta);
};
// What tfjs-layers' LayerNormalization does: moments, tiled to the input's shape, into the FusedBatchNorm kernel.
const layerNormKernel = (h: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
  const { mean, variance } = tf.moments(h, -1, true);
  const [rows, cols] = h.shape;
  return tf.batchNorm(h, tf.tile(mean, [1, cols]), tf.tile(variance, [1, cols]), tf.tile(tf.reshape(beta, [1, cols]), [rows, 1]), tf.tile(tf.reshape(gamma, [1, cols]), [rows, 1]), 1e-3);
};

const NETS: Record<string, (t: T) => tf.Tensor> = {
  'matmul + bias add (square)': (t) => tf.square(dense(t)),
  'batched matmul': (t) => tf.tanh(tf.matMul(t.x, t.W)),
  relu: (t) => tf.matMul(tf.relu(dense(t)), t.V),
  leakyRelu: (t) => tf.matMul(tf.leakyRelu(dense(t), 0.2), t.V),
  elu: (t) => tf.matMul(tf.elu(dense(t)), t.V),
  tanh: (t) => tf.matMul(tf.tanh(dense(t)), t.V),
  sigmoid: (t) => tf.matMul(tf.sigmoid(dense(t)), t.V),
  softplus: (t) => tf.matMul(tf.softplus(dense(t)), t.V),
  'layer norm (moments, rsqrt)': (t) => tf.matMul(tf.tanh(layerNormComposed(dense(t), t.gamma, t.beta)), t.V),
  'layer norm (batchNorm kernel, as tfjs-layers)': (t) => tf.matMul(tf.tanh(layerNormKernel(dense(t), t.gamma, t.beta)), t.V),
  'reshape, transpose, concat': (t) => {
    const h = tf.slice(dense(t), [0, 0], [3, 3]);
    return tf.tanh(tf.concat([h, tf.transpose(tf.reshape(h, [3, 3]))], 1));
  },
  'conv2d same stride 1': (t) => tf.tanh(conv(t, 1, 'same')),
  'conv2d same stride 2 (asymmetric padding)': (t) => tf.tanh(conv(t, 2, 'same')),
  'conv2d valid stride 2': (t) => tf.tanh(conv(t, 2, 'valid')),
  'fused matMul (linear, bias)': (t) => tf.matMul(tf.tanh(tf.fused.matMul({ a: t.x as tf.Tensor2D, b: t.W as tf.Tensor2D, bias: t.b })), t.V),
  'fused conv2d (linear, bias)': (t) => tf.tanh(tf.fused.conv2d({ x: t.x as tf.Tensor4D, filter: t.K as tf.Tensor4D, strides: 1, pad: 'same', bias: t.b })),
  'avgPool 2x2 valid': (t) => tf.tanh(tf.avgPool(tf.tanh(conv(t, 1, 'same')) as tf.Tensor4D, 2, 2, 'valid')),
  'avgPool 3x3 stride 1 same (partial windows)': (t) => tf.tanh(tf.avgPool(tf.tanh(conv(t, 1, 'same')) as tf.Tensor4D, 3, 1, 'same')),
  'conv2DBackpropFilter (penalty on the filter gradient, d/dx)': (t) => tf.tanh(conv(t, 2, 'same', false)),
  'pow exponent': (t) => tf.pow(t.base, t.e),
};

interface OpCase {
  name: string;
  tensors: Record<string, number[]>;
  C: number[];
  inner: string;
  outer: string[];
  value: number;
  grads: Record<string, number[]>;
}

/** The case's P as a function of its outer tensors, and their values. */
function penaltyOf(c: OpCase): { P: (...outer: tf.Tensor[]) => tf.Tensor; at: tf.Tensor[] } {
  const net = NETS[c.name];
  const base: T = Object.fromEntries(Object.entries(c.tensors).map(([k, v]) => [k, tf.tensor(v)]));
  const C = tf.tensor(c.C);
  const P = (...outer: tf.Tensor[]) => {
    const t: T = { ...base };
    c.outer.forEach((n, i) => (t[n] = outer[i]));
    const inner = (v: tf.Tensor) => tf.sum(tf.mul(C, net({ ...t, [c.inner]: v })));
    return tf.sum(tf.square(tf.grad(inner)(t[c.inner])));
  };
  return { P, at: c.outer.map((n) => base[n]) };
}

/** P and dP/d outer for a case, in tfjs. */
function penaltyAndGrads(c: OpCase): { value: tf.Tensor; grads: tf.Tensor[] } {
  const { P, at } = penaltyOf(c);
  return tf.valueAndGrads(P)(at);
}

const cases = loadFixture<OpCase>(import.meta.url, 'second-order-ops.json');

describe('second-order gradients of critic ops match PyTorch (create_graph=True)', () => {
  it('has a network for every fixture case', () => {
    for (const c of cases) expect(NETS[c.name], c.name).toBeDefined();
  });
  for (const c of cases) {
    it(c.name, async () => {
      const { value, grads } = penaltyAndGrads(c);
      await expectClose(value, c.value);
      for (let i = 0; i < c.outer.length; i++) await expectClose(grads[i], c.grads[c.outer[i]], { rtol: 5e-4, atol: 1e-4 });
    });
  }
});

describe('second-order gradients of critic ops agree with finite differences', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { P, at } = penaltyOf(c);
      // P reaches ~300 here, where float32 resolves ~3e-5: a wider step keeps
      // the central difference above that noise.
      const eps = c.value > 200 ? 3e-2 : 1e-2;
      await gradCheck(P, at, { samples: 6, eps });
    });
  }
});

describe('each repair fixes a failure of stock tfjs', () => {
  const byName = (n: string) => cases.find((c) => c.name === n) as OpCase;
  it('covers the kernels core repairs', () => {
    expect([...SECOND_ORDER_KERNELS].sort()).toEqual(['AvgPool', 'AvgPoolGrad', 'BatchMatMul', 'Conv2DBackpropFilter', 'Pow']);
  });
  it('AvgPoolGrad: stock has no gradient', () => {
    expect(() => withStockGradient('AvgPoolGrad', () => penaltyAndGrads(byName('avgPool 2x2 valid')))).toThrow(/gradient function not found for AvgPoolGrad/);
  });
  it('Conv2DBackpropFilter: stock has no gradient', () => {
    expect(() => withStockGradient('Conv2DBackpropFilter', () => penaltyAndGrads(byName('conv2DBackpropFilter (penalty on the filter gradient, d/dx)')))).toThrow(/gradient function not found for Conv2DBackpropFilter/);
  });
  it('Pow: stock loses the exponent path through the saved output', () => {
    expect(() => withStockGradient('Pow', () => penaltyAndGrads(byName('pow exponent')))).toThrow(/Cannot compute gradient/);
  });
  it('Tanh: stock second-order gradient is wrong (or missing)', async () => {
    // With stock Tanh, the path through tanh's saved output is dropped: the
    // bias gets no gradient at all (tfjs throws), and W's differs.
    const c = byName('tanh');
    expect(() => withStockGradient('Tanh', () => penaltyAndGrads(c))).toThrow(/Cannot compute gradient/);
    const W = { ...c, outer: ['W'] };
    const { grads } = withStockGradient('Tanh', () => penaltyAndGrads(W));
    const got = await grads[0].data();
    const want = c.grads.W.flat(Infinity as 1) as number[];
    const worst = Math.max(...want.map((w, i) => Math.abs(got[i] - w) / (Math.abs(w) + 1e-3)));
    expect(worst).toBeGreaterThan(0.05);
    const ours = penaltyAndGrads(W);
    await expectClose(ours.grads[0], c.grads.W, { rtol: 5e-4, atol: 1e-4 });
  });
  it('AvgPool with partial windows: stock first-order gradient is wrong at the border', async () => {
    // d/dx sum(w * avgPool(x)), 3x3 input, 2x2 windows, stride 2, 'same': windows
    // hold 4, 2, 2 and 1 cells, so each cell gets w / (cells in its window).
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const w = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(v as tf.Tensor4D, 2, 2, 'same'), w));
    const exact = [0.25, 0.25, 1, 0.25, 0.25, 1, 1.5, 1.5, 4];
    await expectClose(tf.reshape(tf.grad(f)(x), [-1]), exact);
    const stock = await withStockGradient('AvgPool', () => tf.grad(f)(x)).data();
    expect(Array.from(stock)).not.toEqual(exact);
  });
});
