import * as tf from '@tensorflow/tfjs-core';
import { inputs, type TensorLike } from '@tfjs-losses/core';
import { prepareLogitLengths, prepareLogits } from './inputs';

/** Options of {@link ctcGreedyDecode}. */
export interface CtcGreedyDecodeOptions {
  /** Frames used per sequence, `[B]` int. Default: all T. */
  logitLengths?: TensorLike | number;
  /** Index of the blank class. Default 0. */
  blank?: number;
  /**
   * Merge runs of the same class before removing blanks (CTC's rule), as
   * TensorFlow's `merge_repeated`. With false only blanks are removed, so
   * `a a blank b` reads `a a b`. Default true.
   */
  mergeRepeated?: boolean;
  /** Logits are `[T, B, C]`. Default false. */
  timeMajor?: boolean;
}

/** Decoded label sequences and their scores, one entry per batch item. */
export interface CtcDecodeResult {
  /** `sequences[item]`: the decoded labels. */
  sequences: number[][];
  /** `scores[item]`: the log-probability score (see each decoder). */
  scores: number[];
}

/**
 * Best-path (greedy) CTC decoding: at every frame take the most likely
 * class, then merge repeated classes and remove blanks.
 *
 * Score: the log-probability of that best path (the frame-by-frame argmax
 * alignment), sum over frames t < T_b of max_c logSoftmax(logits)[t, c].
 * It is a lower bound on the log-probability of the decoded sequence, which
 * sums over all of its alignments. TensorFlow's `ctc_greedy_decoder` returns
 * minus the sum of the largest raw logits instead; ours is normalized.
 * Ties go to the lowest class index.
 *
 * Async: it reads the argmax and max of each frame (`[B, T]`, computed on
 * the backend) back to JavaScript.
 *
 * @param logits  `[B, T, C]` (`[T, B, C]` with `timeMajor`; `[T, C]` is a batch of one)
 * @param options see {@link CtcGreedyDecodeOptions}
 * @returns `{ sequences, scores }`, one entry per batch item
 * @throws LossInputError (as a rejected promise) on a wrong rank, a blank
 *   outside [0, C), a length outside [0, T]
 * @see tf.nn.ctc_greedy_decoder (TensorFlow), keras.backend.ctc_decode(greedy=True)
 */
export async function ctcGreedyDecode(
  logits: TensorLike,
  options: CtcGreedyDecodeOptions = {},
): Promise<CtcDecodeResult> {
  const { logitLengths, blank = 0, mergeRepeated = true, timeMajor = false } = options;
  const [best, bestLogProb, lengths] = tf.tidy('ctcGreedyDecode', () => {
    const arg = inputs('ctcGreedyDecode');
    arg.oneOf('mergeRepeated', mergeRepeated, [true, false]);
    const p = prepareLogits(arg, logits, timeMajor, blank);
    const len = prepareLogitLengths(arg, logitLengths, p);
    const x = p.timeMajor ? tf.transpose(p.logits, [1, 0, 2]) : p.logits;
    const lp = tf.logSoftmax(x);
    return [tf.argMax(lp, 2), tf.max(lp, 2), len];
  });
  try {
    const [B, T] = best.shape as number[];
    const [arg, val, len] = await Promise.all([best.data(), bestLogProb.data(), lengths.data()]);
    const sequences: number[][] = [];
    const scores: number[] = [];
    for (let b = 0; b < B; b++) {
      const seq: number[] = [];
      let score = 0;
      let prev = -1;
      for (let t = 0; t < len[b]; t++) {
        const c = arg[b * T + t];
        score += val[b * T + t];
        if (c !== blank && (!mergeRepeated || c !== prev)) seq.push(c);
        prev = c;
      }
      sequences.push(seq);
      scores.push(score);
    }
    return { sequences, scores };
  } finally {
    tf.dispose([best, bestLogProb, lengths]);
  }
}
