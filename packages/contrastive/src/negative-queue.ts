import * as tf from '@tensorflow/tfjs-core';
import { inputs, type TensorLike } from '@tfjs-losses/core';

/** Identity whose gradient is 0: what is stored never leads back to the encoder. */
const detach = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * A MoCo-style memory bank of negative keys (He et al. 2020): a first-in,
 * first-out queue of at most `capacity` rows of `dim` values, so that small
 * batches (a browser's) still contrast against many negatives.
 *
 * Order: `negatives()` returns the stored keys oldest first; `enqueue(keys)`
 * appends the batch's rows in their order and drops the oldest rows beyond
 * `capacity` (a batch larger than the capacity keeps its last `capacity`
 * rows). Stored keys are copies cut off from the gradient.
 *
 * Use: compute the loss against `negatives()`, then enqueue the batch's
 * positive keys, so no query ever meets its own positive as a negative:
 *
 * ```ts
 * const loss = infoNCE(q, k, queue.negatives());
 * queue.enqueue(k);
 * ```
 *
 * The queue owns one tensor (none while empty); `dispose()` frees it.
 *
 * @see https://arxiv.org/abs/1911.05722 (MoCo)
 */
export class NegativeQueue {
  /** Largest number of stored rows. */
  readonly capacity: number;
  /** Length of each stored row. */
  readonly dim: number;
  private stored: tf.Tensor | undefined;
  private disposedFlag = false;

  /**
   * @param capacity largest number of stored keys (integer ≥ 1)
   * @param dim      length of each key (integer ≥ 1)
   * @throws LossInputError if either is not a positive integer
   */
  constructor(capacity: number, dim: number) {
    const arg = inputs('NegativeQueue');
    this.capacity = arg.number('capacity', capacity, { integer: true, min: 1 });
    this.dim = arg.number('dim', dim, { integer: true, min: 1 });
  }

  /** Number of stored keys (0 to `capacity`). */
  get length(): number {
    return this.stored ? this.stored.shape[0] : 0;
  }

  /** True once `capacity` keys are stored. */
  get isFull(): boolean {
    return this.length === this.capacity;
  }

  /** True after `dispose()`. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /**
   * The stored keys, `[length, dim]`, oldest first (`[0, dim]` while empty).
   * The caller owns the returned tensor (a view sharing the queue's data: no
   * copy); it stays valid after later `enqueue` calls.
   *
   * @throws LossInputError after `dispose()`
   */
  negatives(): tf.Tensor2D {
    this.assertLive('negatives');
    return (this.stored ? tf.clone(this.stored) : tf.zeros([0, this.dim])) as tf.Tensor2D;
  }

  /**
   * Appends `keys [B, dim]` (copied, without gradient) and drops the oldest
   * rows beyond `capacity`. Call it after computing the loss.
   *
   * @param keys `[B, dim]` new keys, usually the batch's positive keys
   * @throws LossInputError if keys is not `[B, dim]`, or after `dispose()`
   */
  enqueue(keys: TensorLike): void {
    this.assertLive('enqueue');
    const next = tf.tidy(() => {
      const arg = inputs('NegativeQueue.enqueue');
      const k = arg.float('keys', keys, { shape: [null, this.dim] });
      const batch = k.shape[0];
      if (batch === 0) return undefined;
      const fresh = detach(batch > this.capacity ? tf.slice(k, [batch - this.capacity, 0], [this.capacity, this.dim]) : k) as tf.Tensor;
      const old = this.stored;
      if (!old) return fresh;
      const drop = old.shape[0] + fresh.shape[0] - this.capacity;
      if (drop >= old.shape[0]) return fresh;
      const kept = drop > 0 ? tf.slice(old, [drop, 0], [old.shape[0] - drop, this.dim]) : old;
      return tf.concat([kept, fresh], 0);
    });
    if (!next) return;
    const previous = this.stored;
    this.stored = tf.keep(next);
    if (previous && previous !== next) previous.dispose();
  }

  /** Empties the queue (frees its tensor); it can be filled again. */
  clear(): void {
    this.assertLive('clear');
    this.stored?.dispose();
    this.stored = undefined;
  }

  /** Frees the queue's tensor; any later call throws. Safe to call twice. */
  dispose(): void {
    this.stored?.dispose();
    this.stored = undefined;
    this.disposedFlag = true;
  }

  private assertLive(method: string): void {
    if (this.disposedFlag) inputs(`NegativeQueue.${method}`).fail('this', 'is a disposed queue; create a new NegativeQueue.');
  }
}
