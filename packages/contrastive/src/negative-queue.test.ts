import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { NegativeQueue, infoNCE } from './index';

const rows = (start: number, count: number, dim: number) =>
  tf.tensor2d(Array.from({ length: count }, (_, i) => Array.from({ length: dim }, (_, j) => (start + i) * 10 + j)));

describe('NegativeQueue', () => {
  it('starts empty, fills in order and keeps the newest rows, oldest first', async () => {
    const queue = new NegativeQueue(5, 2);
    expect(queue.length).toBe(0);
    expect(queue.negatives().shape).toEqual([0, 2]);
    queue.enqueue(rows(0, 2, 2));
    expect(queue.length).toBe(2);
    queue.enqueue(rows(2, 2, 2));
    await expectClose(queue.negatives(), await rows(0, 4, 2).array());
    queue.enqueue(rows(4, 3, 2)); // 7 rows offered, capacity 5: rows 0 and 1 leave
    expect(queue.isFull).toBe(true);
    await expectClose(queue.negatives(), await rows(2, 5, 2).array());
    queue.enqueue(rows(7, 8, 2)); // a batch larger than the capacity keeps its last 5 rows
    await expectClose(queue.negatives(), await rows(10, 5, 2).array());
    queue.dispose();
  });

  it('hands out tensors that survive later enqueues and dispose', async () => {
    const queue = new NegativeQueue(3, 2);
    queue.enqueue(rows(0, 3, 2));
    const snapshot = queue.negatives();
    queue.enqueue(rows(3, 2, 2));
    queue.dispose();
    await expectClose(snapshot, await rows(0, 3, 2).array());
    snapshot.dispose();
  });

  it('owns exactly one tensor and frees it on dispose (no leaks, also inside tidy)', () => {
    const before = tf.memory().numTensors;
    const queue = new NegativeQueue(4, 3);
    const keys = randomTensor([3, 3], 1);
    for (let i = 0; i < 5; i++) tf.tidy(() => queue.enqueue(keys));
    expect(tf.memory().numTensors - before).toBe(2); // keys and the queue's buffer
    queue.clear();
    expect(queue.length).toBe(0);
    queue.enqueue([[1, 2, 3]]);
    queue.dispose();
    queue.dispose();
    keys.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a MoCo step: the loss against the queue, then enqueue; no leak per step', async () => {
    const queue = new NegativeQueue(8, 4);
    const q = tf.variable(randomTensor([2, 4], 2));
    const k = randomTensor([2, 4], 3);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => infoNCE(q, k, queue.negatives())) as tf.Scalar, [q]);
      queue.enqueue(k);
      return [value, grads[q.name]];
    };
    const first = step();
    await expectClose(first[0], 0); // empty queue: only the positive
    expectNoLeak(step); // two more steps (a warm-up and the measured one)
    expect(queue.length).toBe(6);
    // With negatives queued the loss equals infoNCE against them directly.
    const expected = (await toArray(infoNCE(q, k, tf.concat([k, k, k]))))[0];
    await expectClose(infoNCE(q, k, queue.negatives()), expected);
    tf.dispose([...first, q]);
    queue.dispose();
  });

  it('stores keys without a gradient path', async () => {
    const queue = new NegativeQueue(4, 2);
    const g = tf.grad((x: tf.Tensor) => {
      queue.enqueue(x);
      return tf.add(tf.sum(x), tf.sum(queue.negatives()));
    })(tf.ones([2, 2]));
    await expectClose(g, [[1, 1], [1, 1]]);
    queue.dispose();
  });

  it('rejects bad input with LossInputError', () => {
    expectLossInputError(() => new NegativeQueue(0, 4), 'NegativeQueue: capacity must be >= 1; got 0.');
    expectLossInputError(() => new NegativeQueue(4.5, 4), 'NegativeQueue: capacity must be an integer; got 4.5.');
    expectLossInputError(() => new NegativeQueue(4, -1), 'NegativeQueue: dim must be >= 1; got -1.');
    const queue = new NegativeQueue(4, 3);
    expectLossInputError(() => queue.enqueue(tf.zeros([2, 4])), 'NegativeQueue.enqueue: keys must have shape [*, 3]; got [2, 4].');
    expectLossInputError(() => queue.enqueue(tf.zeros([3])), 'NegativeQueue.enqueue: keys must have shape [*, 3]; got [3].');
    queue.dispose();
    expectLossInputError(() => queue.enqueue(tf.zeros([2, 3])), 'NegativeQueue.enqueue: this is a disposed queue');
    expectLossInputError(() => queue.negatives(), 'NegativeQueue.negatives: this is a disposed queue');
  });
});
