import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeakAsync } from '@tfjs-losses/test-utils';
import { allPaths, collapse, logSoftmaxRows, peakedLogits, randomLogits } from '../test/helpers';
import { ctcForcedAlign, ctcLoss } from './index';

describe('ctcForcedAlign', () => {
  it('finds the frames of each token on peaked inputs', async () => {
    const x = peakedLogits([0, 1, 1, 0, 2, 2, 2, 0], 3);
    const { spans, paths, scores } = await ctcForcedAlign([x], [[1, 2]]);
    expect(spans[0].map(({ token, index, start, end }) => ({ token, index, start, end }))).toEqual([
      { token: 1, index: 0, start: 1, end: 3 },
      { token: 2, index: 1, start: 4, end: 7 },
    ]);
    expect(paths[0]).toEqual([0, 1, 1, 0, 2, 2, 2, 0]);
    const lp = logSoftmaxRows(x);
    await expectClose(scores, [paths[0].reduce((s, c, t) => s + lp[t][c], 0)]);
    await expectClose([spans[0][0].logProb], [lp[1][1] + lp[2][1]]);
  });

  it('separates repeated labels with a blank', async () => {
    const x = peakedLogits([1, 1, 0, 1], 3);
    const { spans } = await ctcForcedAlign([x], [[1, 1]]);
    expect(spans[0].map((s) => [s.start, s.end])).toEqual([[0, 2], [3, 4]]);
  });

  it('is the best alignment by brute force; spans cover the labels in order', async () => {
    const cases = [
      { T: 6, C: 3, label: [1, 2], seed: 1 },
      { T: 6, C: 3, label: [2, 2], seed: 2 },
      { T: 5, C: 4, label: [3, 1, 3], seed: 3 },
    ];
    for (const k of cases) {
      const logits = randomLogits(1, k.T, k.C, k.seed, 2)[0];
      let best = -Infinity;
      for (const { path, logProb } of allPaths(logits)) {
        const seq = collapse(path, 0);
        if (seq.length === k.label.length && seq.every((v, i) => v === k.label[i])) best = Math.max(best, logProb);
      }
      const { spans, paths, scores } = await ctcForcedAlign([logits], [k.label]);
      await expectClose(scores, [best]);
      expect(collapse(paths[0], 0)).toEqual(k.label);
      expect(spans[0].map((s) => s.token)).toEqual(k.label);
      expect(spans[0].map((s) => s.index)).toEqual(k.label.map((_, i) => i));
      for (let j = 0; j < spans[0].length; j++) {
        const s = spans[0][j];
        expect(s.start).toBeLessThan(s.end);
        if (j > 0) expect(spans[0][j - 1].end).toBeLessThanOrEqual(s.start);
        for (let t = s.start; t < s.end; t++) expect(paths[0][t]).toBe(s.token);
      }
      expect(spans[0][spans[0].length - 1].end).toBeLessThanOrEqual(k.T);
      // One alignment is at most the sum over all of them.
      const total = -(await ctcLoss([logits], [k.label], { reduction: 'sum' }).data())[0];
      expect(scores[0]).toBeLessThanOrEqual(total + 1e-5);
    }
  });

  it('handles batches with lengths, padding, time-major input and impossible items', async () => {
    const x = randomLogits(3, 6, 4, 4);
    const res = await ctcForcedAlign(x, [[1, 2, -1], [3, 3, 3], [2, -1, -1]], { padValue: -1, logitLengths: [6, 4, 5] });
    expect(res.spans[0].map((s) => s.token)).toEqual([1, 2]);
    // 3 3 3 needs five frames: no alignment in four.
    expect(res.scores[1]).toBe(-Infinity);
    expect(res.spans[1]).toEqual([]);
    expect(res.paths[1]).toEqual([]);
    expect(res.paths[2]).toHaveLength(5);
    const tm = await ctcForcedAlign(tf.transpose(tf.tensor(x), [1, 0, 2]), [1, 2, 3, 3, 3, 2], {
      timeMajor: true,
      labelLengths: [2, 3, 1],
      logitLengths: [6, 4, 5],
    });
    expect(tm.paths).toEqual(res.paths);
    await expectClose(tm.scores, res.scores);
  });

  it('leaks no tensors', async () => {
    const x = tf.tensor(randomLogits(2, 5, 3, 5));
    await expectNoLeakAsync(() => ctcForcedAlign(x, [[1, 2], [2, 0]], { labelLengths: [2, 1] }));
  });

  it('rejects bad input with LossInputError', async () => {
    await expect(ctcForcedAlign(tf.zeros([1, 4, 3]), [[1, 3]])).rejects.toMatchObject({
      name: 'LossInputError',
      message: expect.stringContaining('ctcForcedAlign: labels must be class indices in [0, 2] other than the blank (0)'),
    });
  });
});
