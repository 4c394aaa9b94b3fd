import { expect } from 'vitest';

/**
 * Asserts `fn` throws a `LossInputError` whose message contains every
 * fragment (function name, argument, expectation, what came).
 */
export function expectLossInputError(fn: () => unknown, ...fragments: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a LossInputError to be thrown').toBeInstanceOf(Error);
  const err = caught as Error;
  expect(err.name).toBe('LossInputError');
  for (const f of fragments) {
    if (typeof f === 'string') expect(err.message).toContain(f);
    else expect(err.message).toMatch(f);
  }
}
