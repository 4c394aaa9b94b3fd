import * as tf from '@tensorflow/tfjs-core';
import { inputs, type TensorLike } from '@tfjs-losses/core';
import type { CtcDecodeResult } from './ctc-greedy-decode';
import { prepareLogitLengths, prepareLogits } from './inputs';

/** Options of {@link ctcBeamSearchDecode}. */
export interface CtcBeamSearchDecodeOptions {
  /** Frames used per sequence, `[B]` int. Default: all T. */
  logitLengths?: TensorLike | number;
  /** Index of the blank class. Default 0. */
  blank?: number;
  /** Prefixes kept after each frame. Default 100, as TensorFlow and Keras. */
  beamWidth?: number;
  /** How many of the best sequences to return per item, 1 to beamWidth. Default 1. */
  topPaths?: number;
  /**
   * Pruning: at each frame, only classes whose log-probability is at least
   * this extend a prefix (blanks and repeats of a prefix's last label are
   * always scored). Default: no pruning.
   */
  tokenMinLogProb?: number;
  /** Logits are `[T, B, C]`. Default false. */
  timeMajor?: boolean;
}

/** Several best paths per item: `sequences[path][item]`, `scores[path][item]`. */
export interface CtcTopPathsResult {
  sequences: number[][][];
  scores: number[][];
}

const NEG_INF = -Infinity;

function logAdd(a: number, b: number): number {
  if (a === NEG_INF) return b;
  if (b === NEG_INF) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** A prefix: a node of the trie of label sequences seen so far. */
class Prefix {
  readonly children = new Map<number, Prefix>();
  constructor(
    readonly parent: Prefix | null,
    readonly token: number,
  ) {}
  child(c: number): Prefix {
    let n = this.children.get(c);
    if (!n) {
      n = new Prefix(this, c);
      this.children.set(c, n);
    }
    return n;
  }
}

/** The label sequence of a prefix, root to leaf. */
function labelsOf(prefix: Prefix): number[] {
  const out: number[] = [];
  for (let n: Prefix | null = prefix; n && n.parent; n = n.parent) out.push(n.token);
  return out.reverse();
}

/** Log-probabilities of a prefix ending in a blank (pb) and in its last label (pnb). */
type Score = { pb: number; pnb: number };

/**
 * Prefix beam search over one sequence's log-probabilities (`lp`, frame t's
 * classes at `lp[t * C + c]`). Returns the beams, best first.
 */
function searchOne(
  lp: Float32Array,
  T: number,
  C: number,
  blank: number,
  beamWidth: number,
  minLogProb: number,
): { prefix: Prefix; score: number }[] {
  const root = new Prefix(null, -1);
  let beams = new Map<Prefix, Score>([[root, { pb: 0, pnb: NEG_INF }]]);
  for (let t = 0; t < T; t++) {
    const o = t * C;
    const next = new Map<Prefix, Score>();
    const at = (p: Prefix): Score => {
      let s = next.get(p);
      if (!s) {
        s = { pb: NEG_INF, pnb: NEG_INF };
        next.set(p, s);
      }
      return s;
    };
    const tokens: number[] = [];
    for (let c = 0; c < C; c++) if (c !== blank && lp[o + c] >= minLogProb) tokens.push(c);
    for (const [prefix, { pb, pnb }] of beams) {
      const total = logAdd(pb, pnb);
      // A blank keeps the prefix; so does repeating its last label without a blank between.
      const same = at(prefix);
      same.pb = logAdd(same.pb, total + lp[o + blank]);
      if (prefix.token >= 0) same.pnb = logAdd(same.pnb, pnb + lp[o + prefix.token]);
      for (const c of tokens) {
        const ext = at(prefix.child(c));
        // The same label again only extends the prefix after a blank.
        ext.pnb = logAdd(ext.pnb, (c === prefix.token ? pb : total) + lp[o + c]);
      }
    }
    const ranked = [...next].map(([prefix, s]) => ({ prefix, s, score: logAdd(s.pb, s.pnb) }));
    ranked.sort((a, b) => b.score - a.score);
    const kept = new Map(ranked.slice(0, beamWidth).filter((r) => r.score > NEG_INF).map((r) => [r.prefix, r.s]));
    // Forget extensions that fell out of the beam, so the trie holds only live prefixes.
    for (const prefix of beams.keys()) {
      for (const [c, child] of prefix.children) if (!kept.has(child)) prefix.children.delete(c);
    }
    beams = kept;
    if (beams.size === 0) break;
  }
  return [...beams].map(([prefix, s]) => ({ prefix, score: logAdd(s.pb, s.pnb) })).sort((a, b) => b.score - a.score);
}

/**
 * CTC prefix beam search (Graves 2012; Hannun et al. 2014), in log space.
 * Each prefix (a label sequence so far) carries the log-probability of all
 * its alignments ending in a blank and of those ending in its last label;
 * at each frame every prefix is extended by a blank, by repeating its last
 * label, or by a new label, probabilities of identical prefixes are added,
 * and the `beamWidth` best prefixes are kept.
 *
 * Scores are sequence log-probabilities: log p(sequence | logits) summed
 * over the alignments that stayed in the beam (exactly -ctcLoss of the
 * sequence when no alignment of it was pruned).
 *
 * Async: it reads the log-softmax of the logits back to JavaScript.
 *
 * @param logits  `[B, T, C]` (`[T, B, C]` with `timeMajor`; `[T, C]` is a batch of one)
 * @param options see {@link CtcBeamSearchDecodeOptions}
 * @returns with `topPaths` 1: `{ sequences[item], scores[item] }`; with more:
 *   `{ sequences[path][item], scores[path][item] }`, best path first (an
 *   item with fewer distinct prefixes gets empty sequences with score -Infinity)
 * @throws LossInputError (as a rejected promise) on a wrong rank, a blank
 *   outside [0, C), a length outside [0, T], beamWidth < 1, topPaths outside
 *   [1, beamWidth]
 * @see tf.nn.ctc_beam_search_decoder (TensorFlow's decoder of this kind;
 *   it can also merge repeated labels of the output, which we never do)
 */
export async function ctcBeamSearchDecode(
  logits: TensorLike,
  options?: CtcBeamSearchDecodeOptions & { topPaths?: 1 },
): Promise<CtcDecodeResult>;
export async function ctcBeamSearchDecode(
  logits: TensorLike,
  options: CtcBeamSearchDecodeOptions,
): Promise<CtcDecodeResult | CtcTopPathsResult>;
export async function ctcBeamSearchDecode(
  logits: TensorLike,
  options: CtcBeamSearchDecodeOptions = {},
): Promise<CtcDecodeResult | CtcTopPathsResult> {
  const { logitLengths, blank = 0, beamWidth = 100, topPaths = 1, tokenMinLogProb, timeMajor = false } = options;
  const [logProbs, lengths] = tf.tidy('ctcBeamSearchDecode', () => {
    const arg = inputs('ctcBeamSearchDecode');
    arg.number('beamWidth', beamWidth, { integer: true, min: 1 });
    arg.number('topPaths', topPaths, { integer: true, min: 1, max: beamWidth });
    if (tokenMinLogProb !== undefined) arg.number('tokenMinLogProb', tokenMinLogProb, { max: 0 });
    const p = prepareLogits(arg, logits, timeMajor, blank);
    const len = prepareLogitLengths(arg, logitLengths, p);
    const x = p.timeMajor ? tf.transpose(p.logits, [1, 0, 2]) : p.logits;
    return [tf.logSoftmax(x), len];
  });
  let lp: Float32Array;
  let len: Int32Array;
  const [B, T, C] = logProbs.shape as number[];
  try {
    [lp, len] = (await Promise.all([logProbs.data(), lengths.data()])) as [Float32Array, Int32Array];
  } finally {
    tf.dispose([logProbs, lengths]);
  }
  const sequences: number[][][] = Array.from({ length: topPaths }, () => []);
  const scores: number[][] = Array.from({ length: topPaths }, () => []);
  for (let b = 0; b < B; b++) {
    const beams = searchOne(lp.subarray(b * T * C, (b + 1) * T * C), len[b], C, blank, beamWidth, tokenMinLogProb ?? NEG_INF);
    for (let k = 0; k < topPaths; k++) {
      sequences[k].push(k < beams.length ? labelsOf(beams[k].prefix) : []);
      scores[k].push(k < beams.length ? beams[k].score : NEG_INF);
    }
  }
  return topPaths === 1 ? { sequences: sequences[0], scores: scores[0] } : { sequences, scores };
}
