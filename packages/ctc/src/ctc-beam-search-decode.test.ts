import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeakAsync } from '@tfjs-losses/test-utils';
import { naiveBeamSearch, peakedLogits, randomLogits, sequenceLogProbs } from '../test/helpers';
import { ctcBeamSearchDecode, ctcGreedyDecode, ctcLoss, type CtcTopPathsResult } from './index';

describe('ctcBeamSearchDecode', () => {
  it('with beam width 1 equals greedy decoding on peaked inputs', async () => {
    const x = [
      peakedLogits([1, 1, 0, 2, 2, 0, 1, 3], 4, 12),
      peakedLogits([3, 0, 3, 3, 2, 0, 0, 1], 4, 12),
    ];
    const greedy = await ctcGreedyDecode(x);
    const beam = await ctcBeamSearchDecode(x, { beamWidth: 1 });
    expect(beam.sequences).toEqual(greedy.sequences);
    // One path carries nearly all the mass, so the scores nearly agree too.
    await expectClose(beam.scores, greedy.scores, { rtol: 1e-3, atol: 1e-3 });
  });

  it('finds the most likely sequence where greedy decoding fails', async () => {
    // Each frame: blank 0.4, a 0.35, b 0.25. Greedy reads blank blank: "" (p 0.16),
    // but p("a") = 0.35^2 + 2 * 0.35 * 0.4 = 0.4025.
    const frame = [Math.log(0.4), Math.log(0.35), Math.log(0.25)];
    const x = [[frame, frame]];
    expect((await ctcGreedyDecode(x)).sequences).toEqual([[]]);
    const beam = await ctcBeamSearchDecode(x);
    expect(beam.sequences).toEqual([[1]]);
    await expectClose(beam.scores, [Math.log(0.4025)]);
  });

  it('ranks sequences exactly as brute force when nothing is pruned, scores = -ctcLoss', async () => {
    const cases = [
      { T: 4, C: 3, blank: 0, seed: 5 },
      { T: 5, C: 3, blank: 2, seed: 6 },
      { T: 3, C: 4, blank: 1, seed: 7 },
    ];
    for (const k of cases) {
      const logits = randomLogits(1, k.T, k.C, k.seed, 1.5)[0];
      const all = [...sequenceLogProbs(logits, k.blank).values()].sort((a, b) => b.logProb - a.logProb);
      const top = 4;
      const res = (await ctcBeamSearchDecode([logits], { blank: k.blank, beamWidth: 1000, topPaths: top })) as CtcTopPathsResult;
      for (let p = 0; p < top; p++) {
        expect(res.sequences[p][0]).toEqual(all[p].seq);
        await expectClose([res.scores[p][0]], [all[p].logProb]);
        const loss = ctcLoss([logits], [all[p].seq.length ? all[p].seq : [0]], {
          blank: k.blank,
          labelLengths: [all[p].seq.length],
          reduction: 'none',
        });
        await expectClose(tf.neg(loss), [res.scores[p][0]]);
      }
    }
  });

  it('equals a plain prefix beam search at narrow widths (its pruning changes nothing)', async () => {
    for (const [width, seed] of [[2, 11], [3, 12], [5, 13], [8, 14]]) {
      const logits = randomLogits(1, 9, 5, seed, 2)[0];
      const expected = naiveBeamSearch(logits, 0, width);
      const res = (await ctcBeamSearchDecode([logits], { beamWidth: width, topPaths: width })) as CtcTopPathsResult;
      for (let p = 0; p < expected.length; p++) {
        expect(res.sequences[p][0]).toEqual(expected[p].seq);
        await expectClose([res.scores[p][0]], [expected[p].score]);
      }
    }
  });

  it('returns topPaths as sequences[path][item] and fills missing paths with -Infinity', async () => {
    // One frame over {blank, 1}: only "" and "1" exist.
    const x = [[[0.2, 0.1]], [[0.1, 0.9]]];
    const res = (await ctcBeamSearchDecode(x, { topPaths: 3, beamWidth: 4 })) as CtcTopPathsResult;
    expect(res.sequences).toEqual([[[], [1]], [[1], []], [[], []]]);
    expect(res.scores[2]).toEqual([-Infinity, -Infinity]);
    await expectClose(res.scores[0], [Math.log(Math.exp(0.2) / (Math.exp(0.2) + Math.exp(0.1))), Math.log(Math.exp(0.9) / (Math.exp(0.1) + Math.exp(0.9)))]);
  });

  it('tokenMinLogProb prunes unlikely tokens from the extensions', async () => {
    const frame = [Math.log(0.5), Math.log(0.45), Math.log(0.05)];
    const x = [[frame, frame, frame]];
    const all = (await ctcBeamSearchDecode(x, { topPaths: 10, beamWidth: 20 })) as CtcTopPathsResult;
    expect(all.sequences.some((p) => p[0].includes(2))).toBe(true);
    const pruned = (await ctcBeamSearchDecode(x, { topPaths: 10, beamWidth: 20, tokenMinLogProb: Math.log(0.1) })) as CtcTopPathsResult;
    expect(pruned.sequences.every((p) => !p[0].includes(2))).toBe(true);
    expect(pruned.sequences[0]).toEqual(all.sequences[0]);
  });

  it('honours logit lengths and time-major input', async () => {
    const x = randomLogits(2, 6, 4, 8);
    const a = await ctcBeamSearchDecode(x, { logitLengths: [6, 3], beamWidth: 8 });
    const b = await ctcBeamSearchDecode([x[1].slice(0, 3)], { beamWidth: 8 });
    expect(a.sequences[1]).toEqual(b.sequences[0]);
    await expectClose([a.scores[1]], b.scores);
    const tm = await ctcBeamSearchDecode(tf.transpose(tf.tensor(x), [1, 0, 2]), { timeMajor: true, logitLengths: [6, 3], beamWidth: 8 });
    expect(tm.sequences).toEqual(a.sequences);
  });

  it('leaks no tensors', async () => {
    const x = tf.tensor(randomLogits(2, 5, 3, 9));
    await expectNoLeakAsync(() => ctcBeamSearchDecode(x, { beamWidth: 4 }));
  });

  it('rejects bad options with LossInputError', async () => {
    const x = tf.zeros([1, 3, 3]);
    await expect(ctcBeamSearchDecode(x, { beamWidth: 0 })).rejects.toMatchObject({
      name: 'LossInputError',
      message: expect.stringContaining('ctcBeamSearchDecode: beamWidth must be >= 1; got 0'),
    });
    await expect(ctcBeamSearchDecode(x, { beamWidth: 2, topPaths: 3 })).rejects.toMatchObject({
      name: 'LossInputError',
      message: expect.stringContaining('ctcBeamSearchDecode: topPaths must be <= 2; got 3'),
    });
    await expect(ctcBeamSearchDecode(x, { tokenMinLogProb: 1 })).rejects.toMatchObject({
      name: 'LossInputError',
      message: expect.stringContaining('ctcBeamSearchDecode: tokenMinLogProb must be <= 0; got 1'),
    });
  });
});
