import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError } from '@tfjs-losses/test-utils';
import { LossInputError, inputs, isLossInputError } from './index';

describe('inputs() validators', () => {
  const arg = inputs('myLoss');

  it('float: converts arrays and int tensors to float32, checks rank and shapes', async () => {
    const x = arg.float('logits', [[1, 2], [3, 4]]);
    expect(x.dtype).toBe('float32');
    expect(arg.float('x', tf.tensor([1, 2], undefined, 'int32')).dtype).toBe('float32');
    expectLossInputError(() => arg.float('logits', [1, 2], { rank: 2 }), 'myLoss: logits must have rank 2; got rank 1 (shape [2]).');
    expectLossInputError(() => arg.float('logits', [1, 2], { rank: [2, 3] }), 'must have rank 2 or 3');
    expectLossInputError(() => arg.float('logits', [1, 2], { minRank: 2 }), 'must have rank 2 or more; got rank 1');
    expectLossInputError(() => arg.float('t', [[1, 2, 3]], { shapeOf: ['logits', x] }), 'myLoss: t must have the shape of logits [2, 2]; got [1, 3].');
    expectLossInputError(() => arg.float('t', [[1, 2, 3]], { shape: [null, 2] }), 'must have shape [*, 2]; got [1, 3].');
    expectLossInputError(() => arg.float('t', 'abc' as never), 'myLoss: t must be a tensor, a (nested) array or a typed array; got "abc".');
    expectLossInputError(() => arg.float('t', undefined), 'got undefined');
    await expectClose(arg.float('t', new Float32Array([0.5])), [0.5]);
  });

  it('float: rejects disposed tensors and strings', () => {
    const d = tf.tensor([1]);
    d.dispose();
    expectLossInputError(() => arg.float('x', d), 'must be a live tensor');
    expectLossInputError(() => arg.float('x', tf.tensor(['a'])), 'must hold numbers (float32 or int32); got dtype string.');
  });

  it('int: casts whole floats, rejects fractions and out-of-range values', async () => {
    const labels = arg.int('labels', [0, 2, 1], { min: 0, max: 2 });
    expect(labels.dtype).toBe('int32');
    await expectClose(labels, [0, 2, 1]);
    expectLossInputError(() => arg.int('labels', [0, 1.5]), 'myLoss: labels must hold whole numbers; got 1.5 at flat index 1.');
    expectLossInputError(() => arg.int('labels', [0, 3], { min: 0, max: 2 }), 'myLoss: labels values must lie in [0, 2]; got 3 at flat index 1.');
    expectLossInputError(() => arg.int('labels', [-1, 7], { min: 0, max: 2, allow: [-100] }), 'values must lie in [0, 2] (or -100); got -1');
    await expectClose(arg.int('labels', [-100, 1], { min: 0, max: 2, allow: [-100] }), [-100, 1]);
  });

  it('numbers, choices and arrays', () => {
    expect(arg.number('gamma', 2, { min: 0 })).toBe(2);
    expectLossInputError(() => arg.nonNegative('gamma', -1), 'myLoss: gamma must be >= 0; got -1.');
    expectLossInputError(() => arg.positive('temperature', 0), 'myLoss: temperature must be > 0; got 0.');
    expectLossInputError(() => arg.number('beta', NaN), 'beta must be a number; got NaN');
    expectLossInputError(() => arg.number('k', 1.5, { integer: true }), 'k must be an integer; got 1.5.');
    expectLossInputError(() => arg.number('p', 2, { max: 1 }), 'p must be <= 1; got 2.');
    expect(arg.oneOf('mode', 'all', ['all', 'one'] as const)).toBe('all');
    expectLossInputError(() => arg.oneOf('mode', 'both', ['all', 'one']), 'myLoss: mode must be one of "all", "one"; got "both".');
    expect(arg.numberArray('alpha', [0.25, 0.75], { length: 2, min: 0 })).toEqual([0.25, 0.75]);
    expectLossInputError(() => arg.numberArray('alpha', [0.25], { length: 3 }), 'alpha must have length 3; got length 1.');
    expectLossInputError(() => arg.numberArray('alpha', [0.25, -1], { min: 0 }), 'alpha[1] must be >= 0; got -1.');
    expectLossInputError(() => arg.numberArray('alpha', 3), 'alpha must be an array of numbers; got 3.');
  });

  it('weights must broadcast to the loss without growing it', () => {
    expect(arg.weights([[1], [2]], [2, 3])?.shape).toEqual([2, 1]);
    expect(arg.weights(undefined, [2, 3])).toBeUndefined();
    expectLossInputError(() => arg.weights([1, 2], [2, 3]), 'myLoss: weights must be broadcastable to the unreduced loss [2, 3]; got [2].');
    expectLossInputError(() => arg.weights(tf.ones([2, 2, 3]), [2, 3]), 'got [2, 2, 3]');
  });

  it('LossInputError carries fn and argument and is recognised by name', () => {
    const e = new LossInputError('f', 'x', 'must be positive; got -1.');
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('f: x must be positive; got -1.');
    expect([e.fn, e.argument]).toEqual(['f', 'x']);
    const foreign = Object.assign(new Error('f: x bad'), { name: 'LossInputError' });
    expect(isLossInputError(foreign)).toBe(true);
    expect(isLossInputError(new Error('other'))).toBe(false);
  });
});
