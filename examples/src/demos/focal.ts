// focal: a 1:100 imbalanced problem, the same network trained twice with the
// same budget: once with cross-entropy (softmaxFocalLoss at gamma = 0, which
// API.md defines as exactly cross-entropy) and once with focal loss
// (gamma = 2). Evidence: recall of the rare class on a held-out set, at the
// end and at checkpoints along the way.
import * as tf from '@tensorflow/tfjs-core';
import { softmaxFocalLoss } from '@tfjs-losses/focal';
import { Mlp, Trainer, fmt, pct, startEnd } from './nn';
import { Rng } from './random';
import type { Demo, DemoContext, DemoResult, Picture, ScatterPoint } from './types';

/** The rare class: a Gaussian blob at (2.2, 2.2), std 0.5; the common class: N(0, I). */
const RARE_CENTER = 2.2;
const RARE_STD = 0.5;
const BATCH = 4000;
const LEARNING_RATE = 0.005;
const CHECK_EVERY = 10;

interface Data {
  x: Float32Array;
  y: Int32Array;
  n: number;
  rare: number;
}

function makeData(rng: Rng, common: number, rare: number): Data {
  const n = common + rare;
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const isRare = i >= common;
    y[i] = isRare ? 1 : 0;
    const center = isRare ? RARE_CENTER : 0;
    const std = isRare ? RARE_STD : 1;
    x[2 * i] = center + std * rng.normal();
    x[2 * i + 1] = center + std * rng.normal();
  }
  return { x, y, n, rare };
}

async function predict(model: Mlp, data: Data): Promise<Int32Array> {
  const pred = tf.tidy(() => tf.argMax(model.apply(tf.tensor2d(data.x, [data.n, 2])), 1));
  const out = new Int32Array(await pred.data());
  pred.dispose();
  return out;
}

interface Score {
  recall: number;
  precision: number;
  found: number;
}

function score(pred: Int32Array, data: Data): Score {
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < data.n; i++) {
    if (pred[i] === 1 && data.y[i] === 1) tp++;
    if (pred[i] === 1 && data.y[i] === 0) fp++;
  }
  return { recall: tp / data.rare, precision: tp + fp > 0 ? tp / (tp + fp) : 0, found: tp };
}

async function run(ctx: DemoContext = {}): Promise<DemoResult> {
  // Two runs of the same length.
  const perRun = Math.max(1, Math.floor((ctx.steps ?? focalDemo.defaultSteps) / 2));
  const total = 2 * perRun;
  const rng = new Rng(ctx.seed ?? 1);
  const train = makeData(rng.fork(1), 10000, 100);
  const test = makeData(rng.fork(2), 20000, 200);
  const shownData = makeData(rng.fork(3), 1500, 150);
  const xTrain = tf.tensor2d(train.x, [train.n, 2]);
  const yTrain = tf.tensor1d(train.y, 'int32');
  const initSeed = rng.int(0, 2 ** 31);
  const batchSeed = rng.int(0, 2 ** 31);

  const shown: { model?: Mlp } = {};
  const picture = async (): Promise<Picture> => {
    const pred = shown.model ? await predict(shown.model, shownData) : new Int32Array(shownData.n);
    const points: ScatterPoint[] = [];
    for (let i = 0; i < shownData.n; i++) {
      const rare = shownData.y[i] === 1;
      const group = rare ? (pred[i] === 1 ? 2 : 1) : pred[i] === 1 ? 3 : 0;
      points.push({ x: shownData.x[2 * i], y: shownData.x[2 * i + 1], group });
    }
    return {
      kind: 'scatter',
      title: 'held-out points (rare class shown 1:10 for visibility)',
      points,
      groups: ['common', 'rare, missed', 'rare, found', 'common taken for rare'],
    };
  };
  const trainer = new Trainer(ctx, total, picture);
  const runs = [
    { name: 'cross-entropy', gamma: 0 },
    { name: 'focal', gamma: 2 },
  ];
  const results: Record<string, Score & { curve: number[]; checkpoints: number[] }> = {};
  let finalPicture: Picture | undefined;
  for (const [k, r] of runs.entries()) {
    // Same initial weights and the same batches for both runs: only the loss differs.
    const model = new Mlp(new Rng(initSeed), [2, 32, 32, 2], 'relu');
    const batches = new Rng(batchSeed);
    shown.model = model;
    const optimizer = tf.train.adam(LEARNING_RATE);
    const curve: number[] = [];
    const checkpoints: number[] = [];
    while (curve.length < perRun && !trainer.stopped) {
      const chunk = Math.min(CHECK_EVERY, perRun - curve.length);
      curve.push(
        ...(await trainer.run(r.name, chunk, BATCH, () =>
          tf.tidy(
            () =>
              optimizer.minimize(
                () => {
                  const idx = tf.tensor1d(batches.indices(BATCH, train.n), 'int32');
                  const logits = model.apply(tf.gather(xTrain, idx) as tf.Tensor2D);
                  return softmaxFocalLoss(logits, tf.gather(yTrain, idx), { gamma: r.gamma }) as tf.Scalar;
                },
                true,
                model.variables,
              ) as tf.Scalar,
          ),
        )),
      );
      checkpoints.push(score(await predict(model, test), test).recall);
    }
    results[r.name] = { ...score(await predict(model, test), test), curve, checkpoints };
    if (k === runs.length - 1) finalPicture = await trainer.finalPicture();
    optimizer.dispose();
    model.dispose();
  }
  xTrain.dispose();
  yTrain.dispose();
  const ce = results['cross-entropy'];
  const fl = results.focal;
  const ahead = fl.checkpoints.filter((v, i) => v > ce.checkpoints[i]).length;
  const behind = fl.checkpoints.filter((v, i) => v < ce.checkpoints[i]).length;
  const mid = Math.max(0, Math.ceil(fl.checkpoints.length / 2) - 1);
  const half = Math.min(perRun, (mid + 1) * CHECK_EVERY);
  const firstAt = (r: (typeof results)[string]): string => {
    const i = r.checkpoints.findIndex((v) => v >= 0.25);
    return i < 0 ? 'never' : String(Math.min(perRun, (i + 1) * CHECK_EVERY));
  };
  const line = (name: string, r: (typeof results)[string]): string => {
    const [a, b] = startEnd(r.curve);
    return `${name}: loss ${fmt(a)} -> ${fmt(b)}; rare recall every ${CHECK_EVERY} steps ${r.checkpoints.map(pct).join(' ')}; final precision ${pct(r.precision)}`;
  };
  return {
    family: 'focal',
    steps: trainer.done,
    curves: runs.map((r) => ({ name: r.name, values: results[r.name].curve })),
    details: [line('cross-entropy', ce), line('focal gamma=2', fl)],
    evidence: `rare-class recall (1:100; held-out ${test.rare} rare, 20000 common), focal vs cross-entropy at the same budget: after ${half} steps ${pct(fl.checkpoints[mid] ?? 0)} vs ${pct(ce.checkpoints[mid] ?? 0)}, after ${perRun} steps ${pct(fl.recall)} vs ${pct(ce.recall)} (precision ${pct(fl.precision)} vs ${pct(ce.precision)}); recall first >= 25% at step ${firstAt(fl)} vs ${firstAt(ce)}; focal ahead at ${ahead}, behind at ${behind} of ${fl.checkpoints.length} checkpoints`,
    picture: finalPicture,
    metrics: {
      recallFocal: fl.recall,
      recallCrossEntropy: ce.recall,
      precisionFocal: fl.precision,
      precisionCrossEntropy: ce.precision,
      recallCheckpointsFocal: fl.checkpoints,
      recallCheckpointsCrossEntropy: ce.checkpoints,
      stepsPerRun: perRun,
      batch: BATCH,
    },
  };
}

export const focalDemo: Demo = {
  family: 'focal',
  title: 'focal: a 1:100 imbalanced classification',
  description:
    'A rare Gaussian class (1 point in 101) next to a common one; a 2-32-32-2 MLP is trained twice with the same initial weights, batches and budget: with cross-entropy (softmaxFocalLoss at gamma = 0) and with focal loss (gamma = 2). Focal loss stops the many easy common points from dominating the gradient, so the rare class is found sooner: compare rare-class recall on a held-out set.',
  defaultSteps: 200,
  minSteps: 2,
  run,
};
