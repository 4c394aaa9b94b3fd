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

/**
 * A prefix: a node of the trie of label sequences. It carries its scores
 * (log-probabilities of its paths ending in a blank, pb, and in its last
 * label, pnb) and the next frame's, accumulated while that frame is scored.
 */
class Prefix {
  /** Children that are in the beam (others are forgotten each frame). */
  readonly children = new Map<number, Prefix>();
  pb = NEG_INF;
  pnb = NEG_INF;
  nextPb = NEG_INF;
  nextPnb = NEG_INF;
  /** Frame at which nextPb / nextPnb were last reset. */
  stamp = -1;
  /** Frame after which it was last kept in the beam. */
  kept = -1;
  score = NEG_INF;
  constructor(
    readonly parent: Prefix | null,
    readonly token: number,
  ) {}
}

/** The k largest numbers offered so far, as a min-heap; `bound()` is the least of them once k are held. */
class TopScores {
  private readonly h: Float64Array;
  private n = 0;
  constructor(private readonly k: number) {
    this.h = new Float64Array(k);
  }
  clear(): void {
    this.n = 0;
  }
  bound(): number {
    return this.n < this.k ? NEG_INF : this.h[0];
  }
  offer(v: number): void {
    const h = this.h;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (h[parent] <= v) break;
        h[i] = h[parent];
        i = parent;
      }
      h[i] = v;
    } else if (v > h[0]) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= this.k) break;
        const r = l + 1;
        const m = r < this.k && h[r] < h[l] ? r : l;
        if (h[m] >= v) break;
        h[i] = h[m];
        i = m;
      }
      h[i] = v;
    }
  }
}

/** The label sequence of a prefix, root to leaf. */
function labelsOf(prefix: Prefix): number[] {
  const out: number[] = [];
  for (let n: Prefix | null = prefix; n && n.parent; n = n.parent) out.push(n.token);
  return out.reverse();
}

/**
 * Prefix beam search over one sequence's log-probabilities (`lp`, frame t's
 * classes at `lp[t * C + c]`). Returns the beams, best first.
 *
 * Each frame first scores every prefix staying as it is (a blank, or its
 * last label again); every prefix of the beam scores at least that. A new
 * prefix has only one parent, so its score is final when it is made. While
 * the beamWidth best of these lower bounds rise, a new prefix below all of
 * them cannot make the beam: extensions are tried in decreasing probability
 * (from the best prefixes first) and stop there. Extensions onto prefixes
 * already in the beam are always added. The result is that of scoring every
 * extension.
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
  root.pb = 0;
  root.score = 0;
  let beams: Prefix[] = [root];
  const heap = new TopScores(beamWidth);
  const classes: number[] = [];
  for (let c = 0; c < C; c++) if (c !== blank) classes.push(c);
  for (let t = 0; t < T; t++) {
    const o = t * C;
    const touched: Prefix[] = [];
    const touch = (p: Prefix): Prefix => {
      if (p.stamp !== t) {
        p.stamp = t;
        p.nextPb = NEG_INF;
        p.nextPnb = NEG_INF;
        touched.push(p);
      }
      return p;
    };
    const tokens = classes.filter((c) => lp[o + c] >= minLogProb).sort((a, b) => lp[o + b] - lp[o + a]);

    // Lower bounds of the next frame's scores, the best beamWidth kept in a
    // min-heap: each beam scores at least its stay, each new prefix exactly
    // its one extension. A new prefix below the heap's least (when full)
    // cannot make the beam.
    heap.clear();
    for (const p of beams) {
      touch(p);
      p.nextPb = logAdd(p.pb, p.pnb) + lp[o + blank];
      if (p.token >= 0) p.nextPnb = p.pnb + lp[o + p.token];
      heap.offer(logAdd(p.nextPb, p.nextPnb));
    }

    for (const p of beams) {
      const total = logAdd(p.pb, p.pnb);
      // The same label again only extends the prefix after a blank.
      const base = (c: number) => (c === p.token ? p.pb : total);
      for (const [c, child] of p.children) {
        if (lp[o + c] < minLogProb) continue;
        touch(child);
        child.nextPnb = logAdd(child.nextPnb, base(c) + lp[o + c]);
      }
      for (const c of tokens) {
        if (p.children.has(c)) continue;
        const score = base(c) + lp[o + c];
        if (score < heap.bound()) {
          if (c === p.token) continue;
          break; // later tokens are less likely, from the same base
        }
        const child = new Prefix(p, c);
        p.children.set(c, child);
        touch(child).nextPnb = score;
        heap.offer(score);
      }
    }

    for (const p of touched) p.score = logAdd(p.nextPb, p.nextPnb);
    touched.sort((a, b) => b.score - a.score);
    const next: Prefix[] = [];
    for (const p of touched) {
      if (next.length === beamWidth || p.score === NEG_INF) break;
      p.pb = p.nextPb;
      p.pnb = p.nextPnb;
      p.kept = t;
      next.push(p);
    }
    // Forget extensions that fell out of the beam, so the trie holds only live prefixes.
    for (const p of beams) {
      for (const [c, child] of p.children) if (child.kept !== t) p.children.delete(c);
    }
    beams = next;
    if (beams.length === 0) break;
  }
  return beams.map((prefix) => ({ prefix, score: prefix.score }));
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
