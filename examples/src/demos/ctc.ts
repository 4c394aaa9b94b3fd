// ctc: a small sequence model reads synthetic "handwritten" digit strings:
// each digit is a stroke of random duration (its frames drift from one
// feature prototype to another), with noise and pen-up gaps, and the model
// never sees where one digit ends. Trained with ctcLoss; evidence: label
// error rate of greedy and beam-search decoding before and after, and the
// forced alignment of one held-out sample.
import * as tf from '@tensorflow/tfjs-core';
import { ctcBeamSearchDecode, ctcForcedAlign, ctcGreedyDecode, ctcLoss } from '@tfjs-losses/ctc';
import { editDistance } from './metrics';
import { Mlp, Trainer, fmt, pct, startEnd } from './nn';
import { Rng } from './random';
import type { Demo, DemoContext, DemoResult, Picture } from './types';

const DIGITS = 10;
const CLASSES = DIGITS + 1; // class 0 is the CTC blank, digit d is class d + 1
const FEATURES = 12;
const T = 26; // frames per sequence (padded)
const MAX_LABEL = 5;
const WINDOW = 5; // frames the model sees around each frame
const BATCH = 32;
const BEAM = 8;

interface Sequences {
  x: Float32Array; // [n, T, FEATURES]
  labels: Int32Array; // [n, MAX_LABEL], padded with 0
  labelLengths: Int32Array;
  logitLengths: Int32Array;
  n: number;
}

class Handwriting {
  readonly start: Float32Array;
  readonly end: Float32Array;

  constructor(rng: Rng) {
    this.start = new Float32Array(DIGITS * FEATURES).map(() => rng.normal());
    this.end = new Float32Array(DIGITS * FEATURES).map(() => rng.normal());
  }

  sample(rng: Rng, n: number): Sequences {
    const x = new Float32Array(n * T * FEATURES);
    const labels = new Int32Array(n * MAX_LABEL);
    const labelLengths = new Int32Array(n);
    const logitLengths = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const len = rng.int(2, MAX_LABEL);
      let t = rng.int(0, 1);
      for (let k = 0; k < len; k++) {
        const digit = rng.int(0, DIGITS - 1);
        labels[i * MAX_LABEL + k] = digit + 1;
        const duration = rng.int(2, 4);
        for (let j = 0; j < duration; j++) {
          const a = duration === 1 ? 0 : j / (duration - 1);
          for (let f = 0; f < FEATURES; f++) {
            const proto = (1 - a) * this.start[digit * FEATURES + f] + a * this.end[digit * FEATURES + f];
            x[(i * T + t) * FEATURES + f] = proto;
          }
          t++;
        }
        t += rng.int(0, 1); // pen up between digits, or not
      }
      labelLengths[i] = len;
      logitLengths[i] = Math.min(T, t + rng.int(0, 1));
      for (let f = 0; f < T * FEATURES; f++) x[i * T * FEATURES + f] += 0.6 * rng.normal();
    }
    return { x, labels, labelLengths, logitLengths, n };
  }
}

/** Each frame with its neighbours, `[n * T, WINDOW * FEATURES]`. */
function windows(s: Sequences): tf.Tensor2D {
  return tf.tidy(() => {
    const x = tf.tensor3d(s.x, [s.n, T, FEATURES]);
    const half = (WINDOW - 1) / 2;
    const padded = tf.pad(x, [[0, 0], [half, half], [0, 0]]);
    const parts = Array.from({ length: WINDOW }, (_, k) => tf.slice(padded, [0, k, 0], [-1, T, FEATURES]));
    return tf.reshape(tf.concat(parts, 2), [s.n * T, WINDOW * FEATURES]);
  });
}

const text = (seq: readonly number[]): string => seq.map((c) => String(c - 1)).join('') || '(empty)';

async function errorRates(
  model: Mlp,
  feats: tf.Tensor2D,
  s: Sequences,
): Promise<{ greedy: number; beam: number; greedySeqs: number[][]; beamSeqs: number[][] }> {
  const logits = tf.tidy(() => tf.reshape(model.apply(feats), [s.n, T, CLASSES]));
  const lengths = Array.from(s.logitLengths);
  const greedy = await ctcGreedyDecode(logits, { logitLengths: lengths, blank: 0 });
  const beam = await ctcBeamSearchDecode(logits, { logitLengths: lengths, blank: 0, beamWidth: BEAM, topPaths: 1 });
  logits.dispose();
  let total = 0;
  let eg = 0;
  let eb = 0;
  for (let i = 0; i < s.n; i++) {
    const truth = Array.from(s.labels.subarray(i * MAX_LABEL, i * MAX_LABEL + s.labelLengths[i]));
    total += truth.length;
    eg += editDistance(greedy.sequences[i], truth);
    eb += editDistance(beam.sequences[i], truth);
  }
  return { greedy: eg / total, beam: eb / total, greedySeqs: greedy.sequences, beamSeqs: beam.sequences };
}

async function run(ctx: DemoContext = {}): Promise<DemoResult> {
  const total = ctx.steps ?? ctcDemo.defaultSteps;
  const rng = new Rng(ctx.seed ?? 1);
  const writer = new Handwriting(rng.fork(1));
  const test = writer.sample(rng.fork(2), 200);
  const testFeats = windows(test);
  const model = new Mlp(rng.fork(3), [WINDOW * FEATURES, 64, 64, CLASSES], 'relu', 0.1);
  const shown = 6;
  const picture = async (): Promise<Picture> => {
    const r = await errorRates(model, testFeats, test);
    return {
      kind: 'text',
      title: `held-out strings: truth | greedy | beam (width ${BEAM})`,
      lines: Array.from({ length: shown }, (_, i) => {
        const truth = Array.from(test.labels.subarray(i * MAX_LABEL, i * MAX_LABEL + test.labelLengths[i]));
        return `${text(truth).padEnd(6)} | ${text(r.greedySeqs[i]).padEnd(8)} | ${text(r.beamSeqs[i])}`;
      }),
    };
  };
  const before = await errorRates(model, testFeats, test);
  const trainer = new Trainer(ctx, total, picture);
  const batchRng = rng.fork(4);
  const optimizer = tf.train.adam(0.003);
  const curve = await trainer.run('ctcLoss', total, BATCH, () =>
    tf.tidy(() => {
      const s = writer.sample(batchRng, BATCH);
      const feats = windows(s);
      const labels = tf.tensor2d(s.labels, [BATCH, MAX_LABEL], 'int32');
      return optimizer.minimize(
        () => {
          const logits = tf.reshape(model.apply(feats), [BATCH, T, CLASSES]);
          return ctcLoss(logits, labels, {
            logitLengths: Array.from(s.logitLengths),
            labelLengths: Array.from(s.labelLengths),
            blank: 0,
          }) as tf.Scalar;
        },
        true,
        model.variables,
      ) as tf.Scalar;
    }),
  );
  const after = await errorRates(model, testFeats, test);
  // Forced alignment of the first held-out string.
  const one = tf.tidy(() => tf.slice(tf.reshape(model.apply(testFeats), [test.n, T, CLASSES]), [0, 0, 0], [1, T, CLASSES]));
  const truth0 = Array.from(test.labels.subarray(0, test.labelLengths[0]));
  const aligned = await ctcForcedAlign(one, tf.tensor2d([truth0], [1, truth0.length], 'int32'), {
    logitLengths: [test.logitLengths[0]],
    blank: 0,
  });
  one.dispose();
  const finalPicture = await trainer.finalPicture();
  optimizer.dispose();
  model.dispose();
  testFeats.dispose();
  const path = aligned.paths[0].map((c) => (c === 0 ? '_' : String(c - 1))).join('');
  const spans = aligned.spans[0].map((s) => `${s.token - 1}@${s.start}-${s.end - 1}`).join(' ');
  const [l0, l1] = startEnd(curve);
  return {
    family: 'ctc',
    steps: trainer.done,
    curves: [{ name: 'ctcLoss', values: curve }],
    details: [
      `ctcLoss ${fmt(l0)} -> ${fmt(l1)} in ${trainer.done} steps of ${BATCH} strings`,
      `forced alignment of held-out "${text(truth0)}" (${test.logitLengths[0]} frames, _ = blank): ${path}`,
      `  digit@frames: ${spans}`,
    ],
    evidence: `label error rate on 200 held-out strings, before -> after training: greedy ${pct(before.greedy)} -> ${pct(after.greedy)}, beam search (width ${BEAM}) ${pct(before.beam)} -> ${pct(after.beam)}`,
    picture: finalPicture,
    metrics: {
      lerGreedyBefore: before.greedy,
      lerGreedyAfter: after.greedy,
      lerBeamBefore: before.beam,
      lerBeamAfter: after.beam,
      alignment: path,
    },
  };
}

export const ctcDemo: Demo = {
  family: 'ctc',
  title: 'ctc: reading synthetic handwritten digit strings',
  description:
    'Strings of 2 to 5 digits, each digit a stroke of 2 to 4 noisy 12-D feature frames drifting between two prototypes, sometimes separated by a pen-up frame; the frame-level segmentation is never given. A per-frame MLP over a 5-frame window (60-64-64-11) is trained with ctcLoss. Greedy and beam-search decoding read the strings; the forced alignment shows where each digit was found.',
  defaultSteps: 300,
  minSteps: 1,
  run,
};
