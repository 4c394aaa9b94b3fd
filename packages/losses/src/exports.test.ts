import { describe, expect, it } from 'vitest';
import * as all from './index';

describe('@tfjs-losses/losses', () => {
  it('re-exports core', () => {
    expect(typeof all.reduce).toBe('function');
    expect(typeof all.setupBackend).toBe('function');
    expect(new all.LossInputError('f', 'x', 'bad').name).toBe('LossInputError');
  });
});
