import * as tf from '@tensorflow/tfjs-core';
import { canReadSync, formatShape, type ArgChecker, type TensorLike } from '@tfjs-losses/core';

/** The label and length options shared by ctcLoss and ctcForcedAlign. */
export interface CtcSequenceOptions {
  logitLengths?: TensorLike | number;
  labelLengths?: TensorLike | number;
  blank?: number;
  timeMajor?: boolean;
  padValue?: number;
}

/** Inputs in the form the CTC op takes. */
export interface PreparedCtc {
  /** float32 `[B, T, C]`, or `[T, B, C]` when `timeMajor`. */
  logits: tf.Tensor;
  /** int32 `[B, S]`; entries past a label's length are never read. */
  labels: tf.Tensor;
  /** int32 `[B]`. */
  logitLengths: tf.Tensor;
  /** int32 `[B]`. */
  labelLengths: tf.Tensor;
  timeMajor: boolean;
  /** The logits were `[T, C]` (one sequence). */
  unbatched: boolean;
  blank: number;
  B: number;
  T: number;
  C: number;
}

/**
 * Values of an integer input where they can be read without a GPU round
 * trip: always for plain arrays (read from a fresh tensor, whose values are
 * still on the host), and for tensors where `dataSync()` works.
 */
function hostValues(value: unknown, t: tf.Tensor): ArrayLike<number> | null {
  if (canReadSync()) return t.dataSync();
  if (value instanceof tf.Tensor) return null;
  const fresh = typeof value === 'number' ? tf.scalar(value) : tf.tensor(value as tf.TensorLike);
  try {
    return fresh.dataSync();
  } catch {
    return null;
  } finally {
    fresh.dispose();
  }
}

/** A per-sample length argument: `[B]` (or a number / one-element value for one sequence). */
function lengthsArg(
  arg: ArgChecker,
  name: string,
  value: TensorLike | number,
  B: number,
  unbatched: boolean,
  max: number,
): { tensor: tf.Tensor; values: ArrayLike<number> | null } {
  let v: TensorLike = value as TensorLike;
  if (typeof value === 'number') {
    if (!unbatched && B !== 1) {
      arg.fail(name, `must have shape [${B}] (one length per sequence); got the number ${value}.`);
    }
    v = [value];
  }
  let t = arg.int(name, v, { rank: unbatched ? [0, 1] : 1, min: 0, max });
  if (t.rank === 0) t = tf.reshape(t, [1]);
  if (t.shape[0] !== B) arg.fail(name, `must have shape [${B}] (one length per sequence); got ${formatShape(t.shape)}.`);
  return { tensor: t, values: hostValues(v, t) };
}

/**
 * Checks and converts the inputs of the CTC functions: logits `[B, T, C]`
 * (`[T, B, C]` with `timeMajor`, `[T, C]` for one sequence), labels padded
 * `[B, S]`, concatenated `[sum of labelLengths]` or `[S]` for one sequence,
 * lengths given, inferred from `padValue`, or full. Label values are
 * checked (class index, not the blank, padding last) wherever they can be
 * read synchronously; on WebGPU in Node, tensors a caller passes are not
 * read and only shapes are checked.
 */
/** Checked logits in the op's layout, with their sizes. */
export interface PreparedLogits {
  /** float32 `[B, T, C]`, or `[T, B, C]` when `timeMajor`. */
  logits: tf.Tensor;
  timeMajor: boolean;
  unbatched: boolean;
  B: number;
  T: number;
  C: number;
}

/**
 * Checks logits `[B, T, C]` (`[T, B, C]` with `timeMajor`, `[T, C]` for one
 * sequence, taken as a batch of one) and the blank index.
 */
export function prepareLogits(arg: ArgChecker, logits: TensorLike, timeMajor: boolean, blank: number): PreparedLogits {
  arg.oneOf('timeMajor', timeMajor, [true, false]);
  let x = arg.float('logits', logits, { rank: [2, 3] });
  const unbatched = x.rank === 2;
  if (unbatched) x = tf.reshape(x, [1, ...x.shape]);
  const major = unbatched ? false : timeMajor;
  const [d0, d1, C] = x.shape as number[];
  const B = major ? d1 : d0;
  const T = major ? d0 : d1;
  if (B < 1 || T < 1 || C < 1) {
    const layout = unbatched ? '[T, C]' : major ? '[T, B, C]' : '[B, T, C]';
    arg.fail('logits', `must have ${layout} with every size at least 1; got ${formatShape((logits as tf.Tensor).shape ?? x.shape)}.`);
  }
  arg.number('blank', blank, { integer: true, min: 0, max: C - 1 });
  return { logits: x, timeMajor: major, unbatched, B, T, C };
}

/** Checked logit lengths `[B]` int32 (T for every sequence when omitted). */
export function prepareLogitLengths(arg: ArgChecker, value: TensorLike | number | undefined, p: PreparedLogits): tf.Tensor {
  if (value === undefined) return tf.fill([p.B], p.T, 'int32');
  return lengthsArg(arg, 'logitLengths', value, p.B, p.unbatched, p.T).tensor;
}

/**
 * Checks and converts the inputs of the CTC functions: logits `[B, T, C]`
 * (`[T, B, C]` with `timeMajor`, `[T, C]` for one sequence), labels padded
 * `[B, S]`, concatenated `[sum of labelLengths]` or `[S]` for one sequence,
 * lengths given, inferred from `padValue`, or full. Label values are
 * checked (class index, not the blank, padding last) wherever they can be
 * read synchronously; on WebGPU in Node, tensors a caller passes are not
 * read and only shapes are checked.
 */
export function prepareCtcInputs(
  arg: ArgChecker,
  logits: TensorLike,
  labels: TensorLike,
  options: CtcSequenceOptions,
): PreparedCtc {
  const { logitLengths, labelLengths, blank = 0, timeMajor = false, padValue } = options;
  const pl = prepareLogits(arg, logits, timeMajor, blank);
  const { logits: x, unbatched, B, T, C } = pl;
  const major = pl.timeMajor;
  if (padValue !== undefined) arg.number('padValue', padValue, { integer: true });

  let lab = arg.int('labels', labels, { rank: unbatched ? 1 : [1, 2] });
  const labelValues = hostValues(labels, lab);
  const concatenated = !unbatched && lab.rank === 1;
  if (unbatched) lab = tf.reshape(lab, [1, lab.size]);
  if (!concatenated && lab.shape[0] !== B) {
    arg.fail('labels', `must have shape [${B}, S] (one row per sequence of logits); got ${formatShape(lab.shape)}.`);
  }
  if (labelLengths !== undefined && padValue !== undefined) {
    arg.fail('padValue', 'cannot be combined with labelLengths: give the lengths, or a pad value to infer them from.');
  }

  let lengths: tf.Tensor;
  let lengthValues: ArrayLike<number> | null;
  let labelRows: ArrayLike<number>[] | null = null; // host copy of each sample's label sequence
  if (concatenated) {
    const N = lab.shape[0] as number;
    if (labelLengths === undefined) {
      arg.fail('labelLengths', `is required with 1-D (concatenated) labels and batched logits; got undefined.`);
    }
    if (padValue !== undefined) arg.fail('padValue', 'applies to padded [B, S] labels, not to concatenated 1-D labels.');
    ({ tensor: lengths, values: lengthValues } = lengthsArg(arg, 'labelLengths', labelLengths, B, false, N));
    let S = N;
    if (lengthValues) {
      let sum = 0;
      S = 0;
      for (let b = 0; b < B; b++) {
        sum += lengthValues[b];
        S = Math.max(S, lengthValues[b]);
      }
      if (sum > N) arg.fail('labelLengths', `must sum to at most the number of concatenated labels (${N}); got a sum of ${sum}.`);
      if (labelValues) {
        labelRows = [];
        let o = 0;
        for (let b = 0; b < B; b++) {
          labelRows.push(Array.prototype.slice.call(labelValues, o, o + lengthValues[b]) as number[]);
          o += lengthValues[b];
        }
      }
    }
    if (N === 0 || S === 0) {
      lab = tf.zeros([B, 0], 'int32');
    } else {
      // Row b reads labels[offset_b + s]; indices past the end are clamped (never used).
      const offsets = tf.reshape(tf.cumsum(lengths, 0, true), [B, 1]);
      // (minimum, not clipByValue: wasm's ClipByValue leaves int32 values unclipped.)
      const idx = tf.minimum(tf.add(offsets, tf.reshape(tf.range(0, S, 1, 'int32'), [1, S])), tf.scalar(N - 1, 'int32'));
      lab = tf.gather(lab, idx);
    }
  } else {
    const S = lab.shape[1] as number;
    if (labelLengths !== undefined) {
      ({ tensor: lengths, values: lengthValues } = lengthsArg(arg, 'labelLengths', labelLengths, B, unbatched, S));
    } else if (padValue !== undefined) {
      // Length = index of the first pad value (S when there is none).
      const isPad = tf.cast(tf.equal(lab, padValue), 'int32');
      const fromEnd = tf.reshape(tf.sub(tf.scalar(S, 'int32'), tf.range(0, S, 1, 'int32')), [1, S]);
      lengths = S === 0 ? tf.zeros([B], 'int32') : tf.sub(tf.scalar(S, 'int32'), tf.max(tf.mul(isPad, fromEnd), 1));
      lengthValues = null;
      if (labelValues) {
        const vals: number[] = [];
        for (let b = 0; b < B; b++) {
          let len = S;
          for (let s = 0; s < S; s++) {
            const v = labelValues[b * S + s];
            if (len === S && v === padValue) len = s;
            else if (len < S && v !== padValue) {
              arg.fail('labels', `must hold padValue ${padValue} only after the labels; got ${v} at [${b}, ${s}] after padding started at [${b}, ${len}].`);
            }
          }
          vals.push(len);
        }
        lengthValues = vals;
      }
    } else {
      lengths = tf.fill([B], S, 'int32');
      lengthValues = new Array<number>(B).fill(S);
    }
    if (labelValues && lengthValues) {
      labelRows = [];
      for (let b = 0; b < B; b++) {
        labelRows.push(Array.prototype.slice.call(labelValues, b * S, b * S + lengthValues[b]) as number[]);
      }
    }
  }

  if (labelRows) {
    labelRows.forEach((row, b) => {
      for (let s = 0; s < row.length; s++) {
        const v = row[s];
        if (!(v >= 0 && v < C) || v === blank) {
          const where = concatenated ? `in sequence ${b}, position ${s}` : unbatched ? `at [${s}]` : `at [${b}, ${s}]`;
          arg.fail('labels', `must be class indices in [0, ${C - 1}] other than the blank (${blank}) within each label length; got ${v} ${where}.`);
        }
      }
    });
  }

  const logitLen = prepareLogitLengths(arg, logitLengths, pl);

  return { logits: x, labels: lab, logitLengths: logitLen, labelLengths: lengths, timeMajor: major, unbatched, blank, B, T, C };
}
