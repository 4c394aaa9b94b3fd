import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, randomTensor } from '@tfjs-losses/test-utils';
import { restoreWasmIdentity, shareWasmIdentity } from './index';

describe(`wasm Identity on ${tf.getBackend()}`, () => {
  const x = randomTensor([6, 5], 11);

  it('a clone keeps its values after the original is disposed, and frees its memory', async () => {
    const bytes = tf.memory().numBytes;
    const a = tf.tensor1d([1.5, -2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(await b.data()).toEqual(new Float32Array([1.5, -2, 3]));
    b.dispose();
    expect(tf.memory().numBytes).toBe(bytes);
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
