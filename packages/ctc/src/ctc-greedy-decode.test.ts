import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeakAsync } from '@tfjs-losses/test-utils';
import { logSoftmaxRows, peakedLogits, randomLogits } from '../test/helpers';
import { ctcGreedyDecode } from './index';

/** The score by its definition: sum over frames of the largest log-probability. */
function bestPathLogProb(logits: number[][], frames: number): number {
  return logSoftmaxRows(logits)
    .slice(0, frames)
    .reduce((s, row) => s + Math.max(...row), 0);
}

describe('ctcGreedyDecode', () => {
  it('takes the argmax per frame, merges repeats and drops blanks', async () => {
    const a = peakedLogits([1, 1, 0, 1, 2, 2, 0, 3], 4);
    const b = peakedLogits([0, 0, 0, 0, 0, 0, 0, 0], 4);
    const { sequences, scores } = await ctcGreedyDecode([a, b]);
    expect(sequences).toEqual([[1, 1, 2, 3], []]);
    await expectClose(scores, [bestPathLogProb(a, 8), bestPathLogProb(b, 8)]);
  });

  it('keeps repeats with mergeRepeated false', async () => {
    const a = peakedLogits([1, 1, 0, 1, 2, 2, 0, 3], 4);
    const { sequences } = await ctcGreedyDecode([a], { mergeRepeated: false });
    expect(sequences).toEqual([[1, 1, 1, 2, 2, 3]]);
  });

  it('stops at each logit length and honours a blank other than 0', async () => {
    const a = peakedLogits([1, 3, 3, 2, 0, 1], 4);
    const b = peakedLogits([2, 2, 3, 2, 1, 1], 4);
    const { sequences, scores } = await ctcGreedyDecode([a, b], { blank: 3, logitLengths: [4, 6] });
    expect(sequences).toEqual([[1, 2], [2, 2, 1]]);
    await expectClose(scores, [bestPathLogProb(a, 4), bestPathLogProb(b, 6)]);
  });

  it('scores random logits by the best path, for time-major and [T, C] input too', async () => {
    const x = randomLogits(3, 7, 5, 3);
    const batch = await ctcGreedyDecode(x);
    await expectClose(batch.scores, x.map((l) => bestPathLogProb(l, 7)));
    const tm = await ctcGreedyDecode(tf.transpose(tf.tensor(x), [1, 0, 2]), { timeMajor: true });
    expect(tm.sequences).toEqual(batch.sequences);
    await expectClose(tm.scores, batch.scores);
    const one = await ctcGreedyDecode(x[1]);
    expect(one.sequences).toEqual([batch.sequences[1]]);
  });

  it('leaks no tensors', async () => {
    const x = tf.tensor(randomLogits(2, 5, 3, 4));
    await expectNoLeakAsync(() => ctcGreedyDecode(x, { logitLengths: [5, 3] }));
  });

  it('rejects bad input with LossInputError', async () => {
    await expect(ctcGreedyDecode(tf.zeros([4]))).rejects.toMatchObject({
      name: 'LossInputError',
      message: expect.stringContaining('ctcGreedyDecode: logits must have rank 2 or 3; got rank 1'),
    });
    await expect(ctcGreedyDecode(tf.zeros([2, 4, 3]), { blank: 3 })).rejects.toMatchObject({
      name: 'LossInputError',
      message: expect.stringContaining('ctcGreedyDecode: blank must be <= 2; got 3'),
    });
    await expect(ctcGreedyDecode(tf.zeros([2, 4, 3]), { logitLengths: [4, 5] })).rejects.toMatchObject({
      name: 'LossInputError',
      message: expect.stringContaining('ctcGreedyDecode: logitLengths values must lie in [0, 4]; got 5'),
    });
  });
});
