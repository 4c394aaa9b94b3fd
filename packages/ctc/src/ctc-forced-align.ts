import * as tf from '@tensorflow/tfjs-core';
import { inputs, type TensorLike } from '@tfjs-losses/core';
import { prepareCtcInputs } from './inputs';

/** Options of {@link ctcForcedAlign}. */
export interface CtcForcedAlignOptions {
  /** Frames used per sequence, `[B]` int. Default: all T. */
  logitLengths?: TensorLike | number;
  /** Label length per sequence, `[B]` int (required for concatenated labels). Default: `padValue` or S. */
  labelLengths?: TensorLike | number;
  /** Index of the blank class. Default 0. */
  blank?: number;
  /** Logits are `[T, B, C]`. Default false. */
  timeMajor?: boolean;
  /** Value padding `[B, S]` label rows (each label ends at its first pad value). */
  padValue?: number;
}

/** Where one label token sits in the best alignment. */
export interface CtcTokenSpan {
  /** The label (class index). */
  token: number;
  /** Its position in the label sequence. */
  index: number;
  /** First frame that emits it. */
  start: number;
  /** One past its last frame (frames `start` to `end - 1`). */
  end: number;
  /** Sum of the log-probabilities of the token over its frames. */
  logProb: number;
}

/** The most likely alignment of each sequence with its labels. */
export interface CtcAlignment {
  /** `spans[item][j]`: the frames of label j, in label order. */
  spans: CtcTokenSpan[][];
  /** `paths[item][t]`: the class emitted at frame t (blank or a label), for t < the logit length. */
  paths: number[][];
  /**
   * `scores[item]`: log-probability of that alignment (a Viterbi path). An
   * item with no valid alignment gets -Infinity, empty spans and an empty path.
   */
  scores: number[];
}

const NEG_INF = -Infinity;

/**
 * CTC forced alignment: the single most likely frame-by-frame path that
 * reads as the given labels (Viterbi over the same 2L+1 states as
 * {@link ctcLoss}, with max in place of log-sum-exp), and from it the span
 * of frames of every label token. Useful for timestamps of recognized
 * characters, words or phonemes and for segmenting audio or text lines.
 *
 * Ties between equally likely predecessors go to staying in the same state,
 * then to coming from the previous one.
 *
 * Async: it reads the log-softmax of the logits and the labels back to
 * JavaScript.
 *
 * @param logits  `[B, T, C]` (`[T, B, C]` with `timeMajor`; `[T, C]` is a batch of one)
 * @param labels  as for {@link ctcLoss}: padded `[B, S]`, concatenated with
 *   `labelLengths`, or `[S]` for one sequence
 * @param options see {@link CtcForcedAlignOptions}
 * @returns `{ spans, paths, scores }`, one entry per batch item
 * @throws LossInputError (as a rejected promise) for the inputs ctcLoss rejects
 * @see torchaudio.functional.forced_align and merge_tokens (the reference
 *   for the idea; spans here are [start, end) in frames with summed log-probabilities)
 */
export async function ctcForcedAlign(
  logits: TensorLike,
  labels: TensorLike,
  options: CtcForcedAlignOptions = {},
): Promise<CtcAlignment> {
  const { logitLengths, labelLengths, blank = 0, timeMajor = false, padValue } = options;
  const [logProbs, lab, logitLen, labelLen] = tf.tidy('ctcForcedAlign', () => {
    const arg = inputs('ctcForcedAlign');
    const p = prepareCtcInputs(arg, logits, labels, { logitLengths, labelLengths, blank, timeMajor, padValue });
    const x = p.timeMajor ? tf.transpose(p.logits, [1, 0, 2]) : p.logits;
    return [tf.logSoftmax(x), p.labels, p.logitLengths, p.labelLengths];
  });
  const [B, T, C] = logProbs.shape as number[];
  const S = lab.shape[1] as number;
  let lp: Float32Array;
  let labelData: Int32Array;
  let tLen: Int32Array;
  let lLen: Int32Array;
  try {
    [lp, labelData, tLen, lLen] = (await Promise.all([logProbs.data(), lab.data(), logitLen.data(), labelLen.data()])) as [
      Float32Array,
      Int32Array,
      Int32Array,
      Int32Array,
    ];
  } finally {
    tf.dispose([logProbs, lab, logitLen, labelLen]);
  }

  const result: CtcAlignment = { spans: [], paths: [], scores: [] };
  for (let b = 0; b < B; b++) {
    const Tb = tLen[b];
    const L = lLen[b];
    const Sp = 2 * L + 1;
    const ext = new Int32Array(Sp);
    for (let s = 0; s < Sp; s++) ext[s] = s % 2 === 0 ? blank : labelData[b * S + ((s - 1) >> 1)];
    const emit = (t: number, s: number) => lp[(b * T + t) * C + ext[s]];
    if (Tb === 0) {
      result.scores.push(L === 0 ? 0 : NEG_INF);
      result.spans.push([]);
      result.paths.push([]);
      continue;
    }
    const delta = new Float64Array(Tb * Sp).fill(NEG_INF);
    const from = new Uint8Array(Tb * Sp); // 0: same state, 1: previous, 2: two back
    delta[0] = emit(0, 0);
    if (Sp > 1) delta[1] = emit(0, 1);
    for (let t = 1; t < Tb; t++) {
      const row = t * Sp;
      const prev = row - Sp;
      for (let s = 0; s < Sp; s++) {
        let best = delta[prev + s];
        let step = 0;
        if (s > 0 && delta[prev + s - 1] > best) {
          best = delta[prev + s - 1];
          step = 1;
        }
        if (s > 2 && s % 2 === 1 && ext[s] !== ext[s - 2] && delta[prev + s - 2] > best) {
          best = delta[prev + s - 2];
          step = 2;
        }
        if (best === NEG_INF) continue;
        delta[row + s] = best + emit(t, s);
        from[row + s] = step;
      }
    }
    const last = (Tb - 1) * Sp;
    let s = Sp - 1;
    if (Sp > 1 && delta[last + Sp - 2] > delta[last + Sp - 1]) s = Sp - 2;
    const score = delta[last + s];
    result.scores.push(score);
    if (score === NEG_INF) {
      result.spans.push([]);
      result.paths.push([]);
      continue;
    }
    const states = new Int32Array(Tb);
    for (let t = Tb - 1; t >= 0; t--) {
      states[t] = s;
      s -= from[t * Sp + s];
    }
    const path = Array.from(states, (st) => ext[st]);
    const spans: CtcTokenSpan[] = [];
    for (let t = 0; t < Tb; t++) {
      const st = states[t];
      if (st % 2 === 0) continue;
      const j = (st - 1) >> 1;
      const logProb = lp[(b * T + t) * C + ext[st]];
      const open = spans[spans.length - 1];
      if (open && open.index === j) {
        open.end = t + 1;
        open.logProb += logProb;
      } else {
        spans.push({ token: ext[st], index: j, start: t, end: t + 1, logProb });
      }
    }
    result.spans.push(spans);
    result.paths.push(path);
  }
  return result;
}
