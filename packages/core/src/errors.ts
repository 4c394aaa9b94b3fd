import * as tf from '@tensorflow/tfjs-core';

/**
 * Thrown for every bad input to a tfjs-losses function. The message names the
 * function, the argument, what was expected and what was received:
 * `sigmoidFocalLoss: targets must have the shape of logits [8, 80]; got [8, 81].`
 *
 * Besides `instanceof`, it is recognised by its `name` (`'LossInputError'`),
 * which survives two copies of this package in one bundle.
 */
export class LossInputError extends Error {
  override readonly name = 'LossInputError';
  readonly fn: string;
  readonly argument: string;
  constructor(fn: string, argument: string, detail: string) {
    super(`${fn}: ${argument} ${detail}`);
    this.fn = fn;
    this.argument = argument;
  }
}

/** True for a `LossInputError` from any copy of this package. */
export function isLossInputError(e: unknown): e is LossInputError {
  return e instanceof Error && e.name === 'LossInputError';
}

/** `[8, 80]`-style rendering of a shape. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A short description of any value, for "got ..." in messages. */
export function describeValue(v: unknown): string {
  if (v instanceof tf.Tensor) return `a ${v.dtype} tensor of shape ${formatShape(v.shape)}`;
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v;
}
