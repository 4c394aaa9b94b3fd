import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { canReadSync } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, gradCheck, loadFixture, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { SelfAdjustingSmoothL1Loss, type SelfAdjustingSmoothL1LossCallOptions, type SelfAdjustingSmoothL1LossState } from './index';
import { smoothL1Composed } from './internal/elementwise';

interface Step {
  pred: number[];
  target: number[];
  callOptions: SelfAdjustingSmoothL1LossCallOptions & { weights?: number[] };
  value: number | number[];
  gradPred: number[];
  gradTarget: number[];
  betaAfter: number[];
  runningMeanAfter: number[];
  runningVarAfter: number[];
}
interface Case {
  name: string;
  options: { momentum?: number; betaMax?: number };
  steps: Step[];
}

const cases = loadFixture<Case>(import.meta.url, 'self-adjusting-smooth-l1.json');

describe(`SelfAdjustingSmoothL1Loss on ${tf.getBackend()}`, () => {
  it('the fixtures move beta (so the replays below test the rule)', () => {
    const moving = cases.filter((c) => new Set(c.steps.map((s) => s.betaAfter.join())).size > 1);
    expect(moving.length).toBe(cases.length - 1);
  });

  for (const c of cases) {
    it(`replays RetinaMask's rule (PyTorch transcription): ${c.name}`, async () => {
      const loss = new SelfAdjustingSmoothL1Loss(c.options);
      expect(loss.beta).toEqual([]);
      for (const [i, s] of c.steps.entries()) {
        const f = (p: tf.Tensor, t: tf.Tensor) => loss.call(p, t, s.callOptions);
        const { value, grads } = tf.valueAndGrads(f)([tf.tensor(s.pred), tf.tensor(s.target)]);
        await expectClose(value, s.value);
        await expectClose(grads[0], s.gradPred);
        await expectClose(grads[1], s.gradTarget);
        tf.dispose([value, ...grads]);
        const state = await loss.getStateAsync();
        await expectClose(state.runningMean as number[], s.runningMeanAfter);
        await expectClose(state.runningVar as number[], s.runningVarAfter);
        await expectClose(loss.beta, s.betaAfter);
        expect(loss.numCoordinates, `step ${i}`).toBe(s.betaAfter.length);
      }
      loss.dispose();
    });
  }

  it("the gradient treats beta as a constant (statistics stay outside the tape)", async () => {
    const p = randomTensor([6, 3], 1, -0.2, 0.2);
    const t = randomTensor([6, 3], 2, -0.2, 0.2);
    const loss = new SelfAdjustingSmoothL1Loss({ momentum: 0.5 });
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => loss.call(a, b))([p, t]);
    await loss.sync();
    const beta = tf.tensor(loss.beta);
    // The same loss with the updated beta as a plain constant.
    const fixed = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.mean(smoothL1Composed(a, b, beta)))([p, t]);
    await expectClose(value, fixed.value);
    await expectClose(grads[0], fixed.grads[0]);
    await expectClose(grads[1], fixed.grads[1]);
    // And training: false leaves the statistics alone, so finite differences apply.
    await gradCheck((a, b) => loss.call(a, b, { training: false }), [p, t], { eps: 1e-3, samples: 18 });
  });

  it('a single row, training: false and a NaN batch variance leave the statistics unchanged', async () => {
    const loss = new SelfAdjustingSmoothL1Loss();
    loss.call(randomTensor([4, 2], 3, -0.1, 0.1), randomTensor([4, 2], 4, -0.1, 0.1)).dispose();
    const state = await loss.getStateAsync();
    loss.call(randomTensor([1, 2], 5), randomTensor([1, 2], 6)).dispose();
    loss.call(randomTensor([1, 1, 2], 5), randomTensor([1, 1, 2], 6)).dispose();
    loss.call(randomTensor([4, 2], 7), randomTensor([4, 2], 8), { training: false }).dispose();
    loss.call(tf.tensor([[NaN, 0], [1, 2]]), tf.zeros([2, 2])).dispose();
    expect(await loss.getStateAsync()).toEqual(state);
  });

  it('getState / JSON / setState round-trips exactly and the run continues identically', async () => {
    const c = cases[0];
    const a = new SelfAdjustingSmoothL1Loss(c.options);
    for (const s of c.steps.slice(0, 3)) a.call(s.pred, s.target).dispose();
    const saved = JSON.stringify(await a.getStateAsync());
    const b = new SelfAdjustingSmoothL1Loss({ momentum: 0.1, betaMax: 5 });
    b.setState(JSON.parse(saved) as SelfAdjustingSmoothL1LossState);
    expect(await b.getStateAsync()).toEqual(JSON.parse(saved));
    await a.sync();
    expect(b.beta).toEqual(a.beta);
    for (const s of c.steps.slice(3)) {
      const va = await toArray(a.call(s.pred, s.target, s.callOptions));
      const vb = await toArray(b.call(s.pred, s.target, s.callOptions));
      expect(vb).toEqual(va);
      expect(await b.getStateAsync()).toEqual(await a.getStateAsync());
    }
    // A fresh state (before any call) round-trips too.
    const fresh = new SelfAdjustingSmoothL1Loss({ betaMax: 0.2 });
    const copy = new SelfAdjustingSmoothL1Loss();
    copy.setState(JSON.parse(JSON.stringify(fresh.getState())) as SelfAdjustingSmoothL1LossState);
    expect(copy.getState()).toEqual({ type: 'SelfAdjustingSmoothL1Loss', momentum: 0.9, betaMax: 0.2, runningMean: null, runningVar: null });
    a.dispose();
    b.dispose();
  });

  it('leaks no tensors over 100 training calls with gradients', async () => {
    const loss = new SelfAdjustingSmoothL1Loss();
    const p = randomTensor([8, 4], 9, -0.3, 0.3);
    const t = randomTensor([8, 4], 10, -0.3, 0.3);
    const step = () => {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => loss.call(a, t, { weights: [1, 1, 2, 2] }))([p]);
      tf.dispose([value, ...grads]);
    };
    step();
    // The loss holds exactly one tensor, its [3, C] statistics.
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) step();
    expect(tf.memory().numTensors - before).toBe(0);
    await loss.sync();
    expect(loss.beta.every((b) => b < 0.11)).toBe(true);
    loss.dispose();
    expect(tf.memory().numTensors - before).toBe(-1);
  });

  it("'none' keeps the input shape; reductions give scalars", () => {
    const loss = new SelfAdjustingSmoothL1Loss();
    const p = tf.zeros([2, 3, 4]);
    expect(loss.call(p, p, { reduction: 'none' }).shape).toEqual([2, 3, 4]);
    expect(loss.call(p, p, { reduction: 'sum' }).shape).toEqual([]);
    expect(loss.call(p, p).shape).toEqual([]);
  });

  it('pred == target gives gradient exactly 0', async () => {
    const loss = new SelfAdjustingSmoothL1Loss();
    const x = tf.tensor([[0.5, -1], [0, 2]]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss.call(a, b))([x, x]);
    expect(await toArray(g[0])).toEqual([0, 0, 0, 0]);
    expect(await toArray(g[1])).toEqual([0, 0, 0, 0]);
  });

  if (!canReadSync()) {
    it('on a backend without synchronous reads, beta and getState ask for sync() after an update', async () => {
      const loss = new SelfAdjustingSmoothL1Loss();
      loss.call(randomTensor([3, 2], 1), randomTensor([3, 2], 2)).dispose();
      expect(() => loss.beta).toThrow(/await loss\.sync\(\)/);
      expect(() => loss.getState()).toThrow(/getStateAsync/);
      await loss.sync();
      expect(loss.beta.length).toBe(2);
      expect(loss.getState().runningMean?.length).toBe(2);
      loss.dispose();
    });
  }

  it('throws LossInputError for bad options, inputs and states (leaving the state unchanged)', async () => {
    expectLossInputError(() => new SelfAdjustingSmoothL1Loss({ momentum: 1.5 }), 'SelfAdjustingSmoothL1Loss: momentum must be <= 1; got 1.5.');
    expectLossInputError(() => new SelfAdjustingSmoothL1Loss({ momentum: -0.1 }), 'SelfAdjustingSmoothL1Loss: momentum must be >= 0; got -0.1.');
    expectLossInputError(() => new SelfAdjustingSmoothL1Loss({ betaMax: 0 }), 'SelfAdjustingSmoothL1Loss: betaMax must be > 0; got 0.');
    expectLossInputError(() => new SelfAdjustingSmoothL1Loss({ betaMax: Infinity }), 'SelfAdjustingSmoothL1Loss: betaMax must be a finite number > 0; got Infinity.');
    const loss = new SelfAdjustingSmoothL1Loss();
    loss.call(randomTensor([3, 4], 1), randomTensor([3, 4], 2)).dispose();
    const state = await loss.getStateAsync();
    const fn = 'SelfAdjustingSmoothL1Loss.call';
    expectLossInputError(() => loss.call(tf.zeros([3, 5]), tf.zeros([3, 5])), `${fn}: pred must have 4 coordinates on its last axis (fixed by the first call); got shape [3, 5].`);
    expectLossInputError(() => loss.call(tf.zeros([3, 4]), tf.zeros([4, 3])), `${fn}: target must have the shape of pred [3, 4]; got [4, 3].`);
    expectLossInputError(() => loss.call(tf.scalar(1), tf.scalar(1)), `${fn}: pred must have rank 1 or more; got rank 0 (shape []).`);
    expectLossInputError(() => loss.call(tf.zeros([3, 4]), tf.zeros([3, 4]), { weights: tf.ones([2]) }), `${fn}: weights must be broadcastable to the unreduced loss [3, 4]; got [2].`);
    expectLossInputError(() => loss.call(tf.zeros([3, 4]), tf.zeros([3, 4]), { reduction: 'avg' as 'mean' }), `${fn}: reduction must be one of "none", "mean", "sum"; got "avg".`);
    expectLossInputError(() => loss.call(tf.zeros([3, 4]), tf.zeros([3, 4]), { training: 1 as unknown as boolean }), `${fn}: training must be one of true, false; got 1.`);
    expectLossInputError(() => new SelfAdjustingSmoothL1Loss().call(tf.zeros([3, 0]), tf.zeros([3, 0])), `${fn}: pred must have at least one coordinate on its last axis; got shape [3, 0].`);
    expect(await loss.getStateAsync()).toEqual(state);
    const bad: [Partial<SelfAdjustingSmoothL1LossState>, string][] = [
      [{ type: 'DynamicSmoothL1Loss' as 'SelfAdjustingSmoothL1Loss' }, 'state.type must be "SelfAdjustingSmoothL1Loss"'],
      [{ momentum: 2 }, 'state.momentum must be <= 1; got 2.'],
      [{ betaMax: -1 }, 'state.betaMax must be > 0; got -1.'],
      [{ runningVar: null }, 'state.runningVar must be null exactly when state.runningMean is null.'],
      [{ runningVar: [0, 0] }, 'state.runningVar must have length 4; got length 2.'],
      [{ runningMean: [0, NaN, 0, 0] }, 'state.runningMean[1] must be a number; got NaN.'],
      [{ runningMean: [], runningVar: [] }, 'state.runningMean must have one entry per coordinate; got an empty array.'],
    ];
    for (const [patch, message] of bad) {
      expectLossInputError(() => loss.setState({ ...state, ...patch }), `SelfAdjustingSmoothL1Loss.setState: ${message}`);
    }
    expect(await loss.getStateAsync()).toEqual(state);
    loss.dispose();
  });
});
