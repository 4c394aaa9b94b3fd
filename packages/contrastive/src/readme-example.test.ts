// The examples of README.md, run as tests: keep both in step. The printed
// values in the README were computed with the PyTorch references of
// fixtures/generate.py on the same inputs.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, toArray } from '@tfjs-losses/test-utils';
import { NegativeQueue, infoNCE, ntXent, supervisedContrastiveLoss, supervisedContrastiveLossKeras } from './index';

describe('README examples', () => {
  it('quick start: the three losses', async () => {
    // Two views of three samples, 3-dimensional embeddings.
    const z1 = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const z2 = tf.tensor2d([[0.9, 0.1, 0], [0.1, 0.9, 0], [0, 0.2, 0.8]]);

    const simclr = ntXent(z1, z2); // temperature 0.5, mean over the 2N = 6 anchors
    const cpc = infoNCE(z1, z2); // temperature 0.1, the other positives are the negatives
    const negatives = tf.tensor2d([[1, 1, 0], [0, 1, 1]]);
    const withNegatives = infoNCE(z1, z2, negatives); // [M, D] negatives shared by all queries

    // SupCon takes [N, V, D] features, normalized by the caller, and [N] labels.
    const features = tf.stack([z1, z2], 1);
    const normalized = tf.div(features, tf.norm(features, 2, -1, true));
    const supcon = supervisedContrastiveLoss(normalized, [0, 1, 0]); // temperature 0.07

    await expectClose(simclr, 0.50914); // simclr.print() → 0.5091448
    await expectClose(cpc, 0.00033580, { rtol: 2e-3 }); // cpc.print() → 0.0003358
    await expectClose(withNegatives, 0.077530); // withNegatives.print() → 0.0775305
    await expectClose(supcon, 6.19252); // supcon.print() → 6.1925168
    await expectClose(ntXent(z1, z2, { reduction: 'none' }), [0.4586, 0.5113, 0.4540, 0.5098, 0.5552, 0.5660], { atol: 1e-4 });
  });

  it('learned temperature', async () => {
    const z1 = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const z2 = tf.tensor2d([[0.9, 0.1, 0], [0.1, 0.9, 0], [0, 0.2, 0.8]]);
    // CLIP style: learn log(1/T) and pass T = exp(-logScale) as a tensor.
    const logScale = tf.variable(tf.scalar(Math.log(1 / 0.5)));
    const { value, grads } = tf.variableGrads(() => ntXent(z1, z2, { temperature: tf.exp(tf.neg(logScale)) }) as tf.Scalar);
    await expectClose(value, 0.50914);
    // These views agree, so a sharper softmax (a larger 1/T) lowers the loss.
    expect((await toArray(grads[logScale.name]))[0]).toBeLessThan(0);
    tf.dispose([value, grads[logScale.name], logScale]);
  });

  it('a memory bank of negatives (MoCo style)', async () => {
    const queue = new NegativeQueue(4096, 3); // capacity, dimension
    const step = (q: tf.Tensor, k: tf.Tensor) => {
      const loss = tf.tidy(() => infoNCE(q, k, queue.negatives())); // loss first...
      queue.enqueue(k); // ...then the batch's keys become negatives for later batches
      return loss;
    };
    const q = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
    const k = tf.tensor2d([[0.9, 0.1, 0], [0.1, 0.9, 0]]);
    await expectClose(step(q, k), 0); // empty queue: nothing to contrast with yet
    expect(queue.length).toBe(2);
    const second = step(q, k);
    await expectClose(second, infoNCE(q, k, k));
    expect(queue.length).toBe(4);
    expectNoLeak(() => step(q, k));
    queue.dispose();
  });

  it('Keras adapter', async () => {
    const z1 = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const z2 = tf.tensor2d([[0.9, 0.1, 0], [0.1, 0.9, 0], [0, 0.2, 0.8]]);
    const features = tf.stack([z1, z2], 1);
    const normalized = tf.div(features, tf.norm(features, 2, -1, true));
    // model.compile({ optimizer: 'adam', loss: supervisedContrastiveLossKeras({ temperature: 0.5, baseTemperature: 0.5 }) })
    const loss = supervisedContrastiveLossKeras({ temperature: 0.5, baseTemperature: 0.5 });
    await expectClose(loss(tf.tensor1d([0, 1, 0]), normalized), 1.37609);
  });
});
