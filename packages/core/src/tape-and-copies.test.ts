import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, randomTensor } from '@tfjs-losses/test-utils';
import { restoreWasmIdentity, shareWasmIdentity, withStockGradient } from './index';

// A WGAN-GP-style penalty: the squared input-gradient norm of a ReLU MLP,
// differentiated again with respect to the first layer's weights.
function penaltyGrads(x: tf.Tensor2D, w1: tf.Variable, w2: tf.Variable): tf.NamedTensorMap {
  const critic = (v: tf.Tensor): tf.Tensor => tf.sum(tf.matMul(tf.relu(tf.matMul(v, w1)), w2));
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.grad(critic)(x))) as tf.Scalar, [w1, w2]);
  value.dispose();
  return grads;
}

describe(`gradient tape and copies on ${tf.getBackend()}`, () => {
  const x = randomTensor([6, 5], 11) as tf.Tensor2D;
  const w1 = tf.variable(randomTensor([5, 7], 12), true, 'tapeTestW1');
  const w2 = tf.variable(randomTensor([7, 1], 13), true, 'tapeTestW2');

  it("Relu's gradient keeps tfjs's values and its mask off the tape (one matMul fewer in second order)", async () => {
    const count = async (fn: () => tf.NamedTensorMap) => {
      let grads: tf.NamedTensorMap = {};
      const info = await tf.profile(() => {
        grads = fn();
        return Object.values(grads);
      });
      return { grads, matMuls: info.kernels.filter((k) => k.name === 'BatchMatMul').length };
    };
    const ours = await count(() => penaltyGrads(x, w1, w2));
    const stock = await count(() => withStockGradient('Relu', () => penaltyGrads(x, w1, w2)));
    await expectClose(ours.grads[w1.name], stock.grads[w1.name]);
    await expectClose(ours.grads[w2.name], stock.grads[w2.name]);
    expect(ours.matMuls).toBe(stock.matMuls - 1);
    tf.dispose([...Object.values(ours.grads), ...Object.values(stock.grads)]);
  });

  it('the penalty gradients leak nothing', () => {
    expectNoLeak(() => Object.values(penaltyGrads(x, w1, w2)));
  });

  if (tf.getBackend() === 'wasm') {
    const backend = () => tf.backend() as unknown as { refCount(id: tf.DataId): number };

    it('Identity shares the data of its input on wasm; the stock kernel copies', async () => {
      expect(shareWasmIdentity()).toBe(true);
      const a = tf.tensor1d([1, 2, 3]);
      const bytes = tf.memory().numBytes;
      const b = tf.clone(a);
      expect(backend().refCount(b.dataId)).toBe(2);
      a.dispose();
      expect(await b.data()).toEqual(new Float32Array([1, 2, 3]));
      b.dispose();
      expect(tf.memory().numBytes).toBe(bytes - 12);

      restoreWasmIdentity();
      try {
        const c = tf.tensor1d([4, 5]);
        const d = tf.clone(c);
        expect(backend().refCount(d.dataId)).toBe(1);
        tf.dispose([c, d]);
      } finally {
        expect(shareWasmIdentity()).toBe(true);
      }
    });

    it('gradients that save their inputs are unchanged with the shared Identity', async () => {
      const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.square(v), tf.sin(v)));
      const shared = tf.grad(f)(x);
      restoreWasmIdentity();
      let copied: tf.Tensor;
      try {
        copied = tf.grad(f)(x);
      } finally {
        shareWasmIdentity();
      }
      await expectClose(shared, copied);
      tf.dispose([shared, copied]);
    });
  }
});
