import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { canReadSync } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, loadFixture, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { DynamicSmoothL1Loss, type DynamicSmoothL1LossState } from './index';
import { setDeviceHistoryEverywhere } from './dynamic-smooth-l1';
import { smoothL1Loss } from './smooth-l1-loss';

interface Step {
  pred: number[][];
  target: number[][];
  betaUsed: number;
  value: number | number[][];
  gradPred: number[][];
  gradTarget: number[][];
  errors: number[];
  betaAfter: number;
  historyAfter: number[];
  callsAfter: number;
}
interface Case {
  name: string;
  options: { beta: number; kE: number; iterationCount: number };
  callOptions: { reduction?: 'none' | 'mean' | 'sum' };
  steps: Step[];
}

const cases = loadFixture<Case>(import.meta.url, 'dynamic-smooth-l1.json');

/** Runs fn with tensor errors kept on the device on every backend (restored after). */
async function onDevice<T>(fn: () => Promise<T>): Promise<T> {
  const prev = setDeviceHistoryEverywhere(true);
  try {
    return await fn();
  } finally {
    setDeviceHistoryEverywhere(prev);
  }
}

/** Replays a fixture case; errors go in as arrays, tensors, or alternately. */
async function replay(c: Case, errorsAs: 'array' | 'tensor' | 'alternate'): Promise<void> {
  const loss = new DynamicSmoothL1Loss(c.options);
  for (const [i, s] of c.steps.entries()) {
    const f = (p: tf.Tensor, t: tf.Tensor) => loss.call(p, t, c.callOptions);
    const { value, grads } = tf.valueAndGrads(f)([tf.tensor(s.pred), tf.tensor(s.target)]);
    await expectClose(value, s.value);
    await expectClose(grads[0], s.gradPred);
    await expectClose(grads[1], s.gradTarget);
    tf.dispose([value, ...grads]);
    const asTensor = errorsAs === 'tensor' || (errorsAs === 'alternate' && i % 2 === 1);
    if (asTensor) {
      const e = tf.tensor1d(s.errors, 'float32');
      loss.update(e);
      e.dispose();
    } else {
      loss.update(s.errors);
    }
    const state = await loss.getStateAsync();
    // Selections of float32 values: beta and the record are exact.
    expect(state.beta, `beta after step ${i}`).toBe(s.betaAfter);
    expect(loss.beta).toBe(s.betaAfter);
    expect(state.history, `history after step ${i}`).toEqual(s.historyAfter);
    expect(state.calls).toBe(s.callsAfter);
  }
  loss.dispose();
}

describe(`DynamicSmoothL1Loss on ${tf.getBackend()}`, () => {
  it('the fixtures move beta (so the replays below test the rule)', () => {
    for (const c of cases) expect(new Set(c.steps.map((s) => s.betaAfter)).size).toBeGreaterThan(1);
  });

  for (const c of cases) {
    it(`replays the Dynamic R-CNN rule (PyTorch transcription), errors as arrays: ${c.name}`, async () => {
      await replay(c, 'array');
    });
    it(`replays the rule with tensor errors (read where possible): ${c.name}`, async () => {
      await replay(c, 'alternate');
    });
    it(`replays the rule with errors kept on the device: ${c.name}`, async () => {
      await onDevice(() => replay(c, 'alternate'));
    });
  }

  it('call is smoothL1Loss with the current beta, including weights and avgFactor', async () => {
    const loss = new DynamicSmoothL1Loss({ beta: 0.5, kE: 1, iterationCount: 1 });
    const p = randomTensor([4, 4], 1);
    const t = randomTensor([4, 4], 2);
    const options = { weights: tf.tensor([[1], [0], [2], [0.5]]), avgFactor: 3 };
    await expectClose(loss.call(p, t, options), smoothL1Loss(p, t, { beta: 0.5, ...options }));
    loss.update([0.2, 0.1, 0.3]);
    expect(loss.beta).toBe(Math.fround(0.1));
    await expectClose(loss.call(p, t, { reduction: 'none' }), smoothL1Loss(p, t, { beta: Math.fround(0.1), reduction: 'none' }));
    expect(loss.call(p, t, { reduction: 'none' }).shape).toEqual([4, 4]);
  });

  it('an initial beta of 0 is L1 with no NaN gradient', async () => {
    const loss = new DynamicSmoothL1Loss({ beta: 0 });
    const g = tf.grad((p: tf.Tensor) => loss.call(p, [0, 0, 0], { reduction: 'sum' }))(tf.tensor([0, 2, -3]));
    expect(await toArray(g)).toEqual([0, 1, -1]);
  });

  it('statistics stay out of the gradient: update inside tf.grad changes nothing', async () => {
    const t = randomTensor([6, 4], 4);
    const p = randomTensor([6, 4], 5);
    const plain = new DynamicSmoothL1Loss({ kE: 2, iterationCount: 1 });
    const inside = new DynamicSmoothL1Loss({ kE: 2, iterationCount: 1 });
    const g0 = tf.grad((x: tf.Tensor) => plain.call(x, t))(p);
    const g1 = tf.grad((x: tf.Tensor) => {
      const l = inside.call(x, t);
      // Errors computed from the prediction itself, while the tape records.
      inside.update(tf.mean(tf.abs(tf.sub(x, t)), 1));
      return l;
    })(p);
    expect(await toArray(g1)).toEqual(await toArray(g0));
    await inside.sync();
    expect(inside.beta).toBeLessThan(1);
  });

  it('an empty error list records nothing but counts as a call', async () => {
    const loss = new DynamicSmoothL1Loss({ kE: 3, iterationCount: 2 });
    loss.update([]);
    loss.update(tf.tensor1d([], 'float32'));
    expect((await loss.getStateAsync()).beta).toBe(1);
    loss.update([0.4, 0.2]);
    expect(await loss.getStateAsync()).toMatchObject({ history: [Math.fround(0.4)], calls: 1 });
    loss.update([0.6]);
    expect((await loss.getStateAsync()).beta).toBe(Math.fround(0.6));
  });

  it('getState / JSON / setState round-trips exactly and the run continues identically', async () => {
    const c = cases[0];
    for (const device of [false, true]) {
      const prev = setDeviceHistoryEverywhere(device);
      try {
        const a = new DynamicSmoothL1Loss(c.options);
        const half = 4;
        for (const s of c.steps.slice(0, half)) a.update(tf.tensor1d(s.errors, 'float32'));
        const saved = JSON.stringify(await a.getStateAsync());
        const b = new DynamicSmoothL1Loss();
        b.setState(JSON.parse(saved) as DynamicSmoothL1LossState);
        expect(b.getState()).toEqual(JSON.parse(saved));
        for (const s of c.steps.slice(half)) {
          const va = await toArray(a.call(s.pred, s.target));
          const vb = await toArray(b.call(s.pred, s.target));
          expect(vb).toEqual(va);
          a.update(s.errors);
          b.update(tf.tensor1d(s.errors, 'float32'));
          expect(await b.getStateAsync()).toEqual(await a.getStateAsync());
        }
        expect(b.beta).toBe(c.steps[c.steps.length - 1].betaAfter);
        a.dispose();
        b.dispose();
      } finally {
        setDeviceHistoryEverywhere(prev);
      }
    }
  });

  it('leaks no tensors over 100 training iterations (call, gradient, update)', async () => {
    for (const device of [false, true]) {
      const prev = setDeviceHistoryEverywhere(device);
      try {
        const loss = new DynamicSmoothL1Loss({ kE: 3, iterationCount: 7 });
        const p = randomTensor([8, 4], 6);
        const t = randomTensor([8, 4], 7);
        const before = tf.memory().numTensors;
        let held = 0;
        for (let i = 0; i < 100; i++) {
          const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => loss.call(x, t))([p]);
          tf.dispose([value, ...grads]);
          const e = tf.tidy(() => tf.mean(tf.abs(tf.sub(p, t)), 1));
          loss.update(e);
          e.dispose();
          held = Math.max(held, tf.memory().numTensors - before);
        }
        // At most the device-side record and median are held between calls.
        expect(held).toBeLessThanOrEqual(device || !canReadSync() ? 2 : 0);
        await loss.sync();
        expect(tf.memory().numTensors - before).toBe(0);
        expect(loss.beta).toBeLessThan(1);
      } finally {
        setDeviceHistoryEverywhere(prev);
      }
    }
  });

  it('dispose frees what the loss holds', async () => {
    await onDevice(async () => {
      const before = tf.memory().numTensors;
      const loss = new DynamicSmoothL1Loss({ kE: 1, iterationCount: 2 });
      loss.update(tf.tensor1d([0.3]));
      loss.update(tf.tensor1d([0.2]));
      loss.update(tf.tensor1d([0.1]));
      expect(tf.memory().numTensors - before).toBeGreaterThan(0);
      loss.dispose();
      // The three error tensors are the caller's.
      expect(tf.memory().numTensors - before).toBe(3);
    });
  });

  if (!canReadSync()) {
    it('on a backend without synchronous reads, beta and getState ask for sync() while values are on the device', async () => {
      const loss = new DynamicSmoothL1Loss({ kE: 1, iterationCount: 1 });
      loss.update([0.25]);
      expect(loss.beta).toBe(0.25);
      loss.update(tf.tensor1d([0.125]));
      expect(() => loss.beta).toThrow(/await loss\.sync\(\)/);
      expect(() => loss.getState()).toThrow(/getStateAsync/);
      // call still works, with the device-side beta.
      await expectClose(loss.call([1, 0], [0, 0], { reduction: 'sum' }), 1 - 0.0625);
      await loss.sync();
      expect(loss.beta).toBe(0.125);
    });
  }

  it('throws LossInputError for bad options, errors and states (leaving the state unchanged)', async () => {
    expectLossInputError(() => new DynamicSmoothL1Loss({ beta: -0.5 }), 'DynamicSmoothL1Loss: beta must be >= 0; got -0.5.');
    expectLossInputError(() => new DynamicSmoothL1Loss({ kE: 0 }), 'DynamicSmoothL1Loss: kE must be >= 1; got 0.');
    expectLossInputError(() => new DynamicSmoothL1Loss({ kE: 2.5 }), 'DynamicSmoothL1Loss: kE must be an integer; got 2.5.');
    expectLossInputError(() => new DynamicSmoothL1Loss({ iterationCount: 0 }), 'DynamicSmoothL1Loss: iterationCount must be >= 1; got 0.');
    const loss = new DynamicSmoothL1Loss({ kE: 1, iterationCount: 3 });
    loss.update([0.5]);
    const state = loss.getState();
    expectLossInputError(() => loss.update(tf.zeros([2, 2])), 'DynamicSmoothL1Loss.update: errors must have rank 1; got rank 2 (shape [2, 2]).');
    expectLossInputError(() => loss.update([0.1, -0.2]), 'DynamicSmoothL1Loss.update: errors[1] must be >= 0; got -0.2.');
    expectLossInputError(() => loss.update([0.1, NaN]), 'DynamicSmoothL1Loss.update: errors[1] must be a number; got NaN.');
    expectLossInputError(() => loss.update('0.1' as unknown as number[]), 'DynamicSmoothL1Loss.update: errors must be an array of numbers; got "0.1".');
    if (canReadSync()) {
      expectLossInputError(() => loss.update(tf.tensor1d([0.3, -1])), 'DynamicSmoothL1Loss.update: errors must hold numbers >= 0; got -1 at index 1.');
    }
    expect(loss.getState()).toEqual(state);
    expectLossInputError(() => loss.call(tf.zeros([2]), tf.zeros([3])), 'DynamicSmoothL1Loss.call: target must have the shape of pred [2]; got [3].');
    expectLossInputError(() => loss.call(tf.zeros([2]), tf.zeros([2]), { avgFactor: 0 }), 'DynamicSmoothL1Loss.call: avgFactor must be a number > 0; got 0.');
    const bad: [Partial<DynamicSmoothL1LossState>, string][] = [
      [{ type: 'SelfAdjustingSmoothL1Loss' as 'DynamicSmoothL1Loss' }, 'state.type must be "DynamicSmoothL1Loss"'],
      [{ calls: 3 }, 'state.calls must be <= 2; got 3.'],
      [{ beta: 2 }, 'state.beta must be <= state.initialBeta 1; got 2.'],
      [{ history: [0.1, 0.2] }, 'state.history must have at most state.calls (1) entries; got 2.'],
      [{ history: [-1] }, 'state.history[0] must be >= 0; got -1.'],
      [{ kE: 0 }, 'state.kE must be >= 1; got 0.'],
    ];
    for (const [patch, message] of bad) {
      expectLossInputError(() => loss.setState({ ...state, ...patch }), `DynamicSmoothL1Loss.setState: ${message}`);
    }
    expectLossInputError(() => loss.setState(null as unknown as DynamicSmoothL1LossState), 'DynamicSmoothL1Loss.setState: state must be an object from getState(); got null.');
    expect(loss.getState()).toEqual(state);
  });
});
