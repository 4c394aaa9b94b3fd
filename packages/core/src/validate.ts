import * as tf from '@tensorflow/tfjs-core';
import { LossInputError, describeValue, formatShape } from './errors';
import type { TensorLike } from './types';

/** Shape constraints shared by the tensor checks. */
export interface ShapeRule {
  /** Exact rank, or a list of allowed ranks. */
  rank?: number | readonly number[];
  /** Smallest allowed rank. */
  minRank?: number;
  /** Expected shape; `null` or `-1` entries match any size. */
  shape?: readonly (number | null)[];
  /** Must have the same shape as another, already checked argument. */
  shapeOf?: readonly [name: string, tensor: tf.Tensor];
}

/** Extra rules for integer (class index / label) tensors. */
export interface IntRule extends ShapeRule {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Values allowed besides the range (an ignore index, a pad value). */
  allow?: readonly number[];
}

/** Rules for plain numbers. */
export interface NumberRule {
  min?: number;
  max?: number;
  /** Strictly greater than. */
  gt?: number;
  /** Strictly less than. */
  lt?: number;
  integer?: boolean;
}

function toTensor(fn: string, name: string, value: unknown): tf.Tensor {
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) throw new LossInputError(fn, name, 'must be a live tensor; got a disposed tensor.');
    return value;
  }
  if (value === undefined || value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value)) {
    throw new LossInputError(fn, name, `must be a tensor, a (nested) array or a typed array; got ${describeValue(value)}.`);
  }
  try {
    return tf.tensor(value as tf.TensorLike);
  } catch (e) {
    throw new LossInputError(fn, name, `must be a tensor, a (nested) array or a typed array; got ${describeValue(value)} that tf.tensor() rejects (${(e as Error).message}).`);
  }
}

/**
 * Validators bound to one function name. Every failure throws
 * `LossInputError` naming the function, the argument, what was expected and
 * what came. Use inside the loss's `tf.tidy` so converted inputs are freed.
 */
export class ArgChecker {
  constructor(readonly fn: string) {}

  /** Throws a `LossInputError` for this function. */
  fail(name: string, detail: string): never {
    throw new LossInputError(this.fn, name, detail);
  }

  /** Checks rank and shape rules for a tensor. */
  checkShape(name: string, t: tf.Tensor, rule: ShapeRule): void {
    const { rank, minRank, shape, shapeOf } = rule;
    if (rank !== undefined) {
      const ranks = typeof rank === 'number' ? [rank] : rank;
      if (!ranks.includes(t.rank)) {
        this.fail(name, `must have rank ${ranks.join(' or ')}; got rank ${t.rank} (shape ${formatShape(t.shape)}).`);
      }
    }
    if (minRank !== undefined && t.rank < minRank) {
      this.fail(name, `must have rank ${minRank} or more; got rank ${t.rank} (shape ${formatShape(t.shape)}).`);
    }
    if (shape !== undefined) {
      const ok = shape.length === t.rank && shape.every((d, i) => d === null || d === -1 || d === t.shape[i]);
      if (!ok) {
        const want = `[${shape.map((d) => (d === null || d === -1 ? '*' : d)).join(', ')}]`;
        this.fail(name, `must have shape ${want}; got ${formatShape(t.shape)}.`);
      }
    }
    if (shapeOf !== undefined) {
      const [otherName, other] = shapeOf;
      if (!tf.util.arraysEqual(t.shape, other.shape)) {
        this.fail(name, `must have the shape of ${otherName} ${formatShape(other.shape)}; got ${formatShape(t.shape)}.`);
      }
    }
  }

  /** A floating input as a float32 tensor. */
  float(name: string, value: TensorLike | undefined, rule: ShapeRule = {}): tf.Tensor {
    const t = toTensor(this.fn, name, value);
    if (t.dtype === 'string' || t.dtype === 'complex64') {
      this.fail(name, `must hold numbers (float32 or int32); got dtype ${t.dtype}.`);
    }
    this.checkShape(name, t, rule);
    return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
  }

  /**
   * An integer input (class indices, labels, lengths) as int32. Float values
   * holding whole numbers are accepted and cast; a fractional value is an
   * error. Range rules read the (small) integer tensor.
   */
  int(name: string, value: TensorLike | undefined, rule: IntRule = {}): tf.Tensor {
    let t = toTensor(this.fn, name, value);
    if (t.dtype === 'string' || t.dtype === 'complex64') {
      this.fail(name, `must hold integers; got dtype ${t.dtype}.`);
    }
    this.checkShape(name, t, rule);
    const needValues = t.dtype !== 'int32' || rule.min !== undefined || rule.max !== undefined;
    // Plain arrays are checked from the tensor just made from them; a tensor the
    // caller passed is read only where the backend can read synchronously.
    if (needValues && t.size > 0 && (!(value instanceof tf.Tensor) || canReadSync())) {
      const data = t.dataSync();
      const allow = rule.allow ?? [];
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (!Number.isInteger(v)) this.fail(name, `must hold whole numbers; got ${v} at flat index ${i}.`);
        if (allow.includes(v)) continue;
        if ((rule.min !== undefined && v < rule.min) || (rule.max !== undefined && v > rule.max)) {
          const range = `[${rule.min ?? '-inf'}, ${rule.max ?? 'inf'}]`;
          const extra = allow.length ? ` (or ${allow.join(', ')})` : '';
          this.fail(name, `values must lie in ${range}${extra}; got ${v} at flat index ${i}.`);
        }
      }
    }
    if (t.dtype !== 'int32') t = tf.cast(t, 'int32');
    return t as tf.Tensor;
  }

  /** A plain finite number with optional bounds. */
  number(name: string, value: unknown, rule: NumberRule = {}): number {
    if (typeof value !== 'number' || Number.isNaN(value)) {
      this.fail(name, `must be a number; got ${describeValue(value)}.`);
    }
    const { min, max, gt, lt, integer } = rule;
    if (integer && !Number.isInteger(value)) this.fail(name, `must be an integer; got ${value}.`);
    if (min !== undefined && value < min) this.fail(name, `must be >= ${min}; got ${value}.`);
    if (max !== undefined && value > max) this.fail(name, `must be <= ${max}; got ${value}.`);
    if (gt !== undefined && !(value > gt)) this.fail(name, `must be > ${gt}; got ${value}.`);
    if (lt !== undefined && !(value < lt)) this.fail(name, `must be < ${lt}; got ${value}.`);
    return value;
  }

  /** A number >= 0. */
  nonNegative(name: string, value: unknown): number {
    return this.number(name, value, { min: 0 });
  }

  /** A number > 0. */
  positive(name: string, value: unknown): number {
    return this.number(name, value, { gt: 0 });
  }

  /** One of a fixed set of values (strings or numbers). */
  oneOf<T extends string | number | boolean>(name: string, value: unknown, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) {
      this.fail(name, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${describeValue(value)}.`);
    }
    return value as T;
  }

  /** An array of numbers, optionally of a given length. */
  numberArray(name: string, value: unknown, rule: NumberRule & { length?: number } = {}): number[] {
    if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
      this.fail(name, `must be an array of numbers; got ${describeValue(value)}.`);
    }
    const arr = Array.from(value as ArrayLike<number>);
    if (rule.length !== undefined && arr.length !== rule.length) {
      this.fail(name, `must have length ${rule.length}; got length ${arr.length}.`);
    }
    arr.forEach((v, i) => this.number(`${name}[${i}]`, v, rule));
    return arr;
  }

  /** Weights broadcastable to the unreduced loss shape. */
  weights(value: TensorLike | undefined, lossShape: readonly number[], name = 'weights'): tf.Tensor | undefined {
    if (value === undefined) return undefined;
    const w = this.float(name, value);
    try {
      const out = tf.backend_util.assertAndGetBroadcastShape(w.shape, lossShape as number[]);
      if (!tf.util.arraysEqual(out, lossShape as number[])) throw new Error('grows the loss');
    } catch {
      this.fail(name, `must be broadcastable to the unreduced loss ${formatShape(lossShape)}; got ${formatShape(w.shape)}.`);
    }
    return w;
  }
}

/**
 * True where core and the loss packages may call `dataSync()` on the current
 * backend: false on WebGPU. In Node, tfjs-backend-webgpu cannot read
 * synchronously at all (it reads through `OffscreenCanvas`); in Chromium
 * with SwiftShader, a synchronous read of more than about 100 elements
 * loses the device. There the value checks of tensors a caller passed in
 * (label ranges) are skipped and shape checks still run; plain arrays are
 * always checked.
 */
export function canReadSync(): boolean {
  return tf.getBackend() !== 'webgpu';
}

/** Validators bound to `fn`, the public function's name. */
export function inputs(fn: string): ArgChecker {
  return new ArgChecker(fn);
}
