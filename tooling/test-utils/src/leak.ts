import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/**
 * Runs `fn`, disposes whatever tensors it returns, and asserts the number of
 * live tensors is what it was before. Warm-up runs once first so lazily
 * created constants (kernel registration, backend caches) are not counted.
 */
export function expectNoLeak(fn: () => unknown, { warmup = true } = {}): void {
  const run = () => tf.dispose(collect(fn()));
  if (warmup) run();
  const before = tf.memory().numTensors;
  run();
  expect(tf.memory().numTensors - before, 'tensors leaked').toBe(0);
}

/** Async variant of {@link expectNoLeak} (for decoders and other async APIs). */
export async function expectNoLeakAsync(fn: () => Promise<unknown>, { warmup = true } = {}): Promise<void> {
  const run = async () => tf.dispose(collect(await fn()));
  if (warmup) await run();
  const before = tf.memory().numTensors;
  await run();
  expect(tf.memory().numTensors - before, 'tensors leaked').toBe(0);
}

function collect(v: unknown): tf.Tensor[] {
  if (v instanceof tf.Tensor) return [v];
  if (Array.isArray(v)) return v.flatMap(collect);
  if (v && typeof v === 'object') return Object.values(v).flatMap(collect);
  return [];
}
