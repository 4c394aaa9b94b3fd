import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { expectClose, randomTensor } from '@tfjs-losses/test-utils';
import {
  balancedL1LossKeras,
  ctcLossKeras,
  cycleConsistencyLossKeras,
  hingeDiscriminatorLossKeras,
  hingeGeneratorLossKeras,
  identityLossKeras,
  lovaszHingeKeras,
  lovaszSoftmaxKeras,
  lsganDiscriminatorLossKeras,
  lsganGeneratorLossKeras,
  sigmoidFocalLoss,
  sigmoidFocalLossKeras,
  smoothL1LossKeras,
  softmaxFocalLossKeras,
  supervisedContrastiveLossKeras,
  wassersteinCriticLossKeras,
  wassersteinGeneratorLossKeras,
  type KerasLoss,
} from './index';

// Every Keras-style adapter, passed as `loss` to model.compile of
// @tensorflow/tfjs-layers: fit, evaluate and memory.

/** A dense layer with a seeded kernel (biases start at 0). */
function dense(units: number, seed: number, extra: Partial<Parameters<typeof tfl.layers.dense>[0]> = {}): tfl.layers.Layer {
  return tfl.layers.dense({ units, kernelInitializer: tfl.initializers.glorotUniform({ seed }), ...extra });
}

interface AdapterCase {
  name: string;
  loss: KerasLoss;
  /** x and yTrue; yTrue has the model output's shape (tfjs-layers checks it). */
  data: () => { x: tf.Tensor; y: tf.Tensor };
  model: () => tfl.Sequential;
  optimizer: () => tf.Optimizer;
  epochs: number;
  /** Shape of what the adapter returns: [] (reduced) unless reduction is 'none'. */
  returns: number[];
}

/**
 * Real samples around (0.2, 0.2) labelled 1, generated ones around (-0.2, -0.2)
 * labelled 0 (overlapping, so that no loss starts at its minimum): [16, 2] and [16, 1].
 */
function realAndFake(): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    const noise = randomTensor([16, 2], 11, -0.5, 0.5);
    const sign = tf.concat([tf.fill([8, 1], 0.2), tf.fill([8, 1], -0.2)], 0);
    return { x: tf.add(noise, sign), y: tf.concat([tf.ones([8, 1]), tf.zeros([8, 1])], 0) };
  });
}

/** A generator G (3 -> 2) followed by a frozen linear critic D (2 -> 1): the output is D(G(z)). */
function generatorThenCritic(): tfl.Sequential {
  return tfl.sequential({ layers: [dense(2, 21, { inputShape: [3] }), dense(1, 22, { trainable: false })] });
}

function noiseAndIgnoredTargets(): { x: tf.Tensor; y: tf.Tensor } {
  return { x: randomTensor([16, 3], 31), y: tf.zeros([16, 1]) };
}

/** Regression data: y = x W for a fixed W, [16, 4] -> [16, 2]. */
function regression(): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    const x = randomTensor([16, 4], 41, -2, 2);
    return { x, y: tf.matMul(x, randomTensor([4, 2], 42, -2, 2)) };
  });
}

/**
 * Four sequences of 6 frames (3 features) and their labels, as the [4, 6, 4]
 * targets tfjs-layers accepts for a [4, 6, 4] output: one-hot label rows,
 * then all-zero rows (tf.oneHot of the -1 padding).
 */
function ctcData(): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    const padded = tf.tensor2d([[1, 2], [3, -1], [2, 2], [1, 3]], undefined, 'int32');
    const y = tf.pad(tf.cast(tf.oneHot(padded, 4), 'float32'), [[0, 0], [0, 4], [0, 0]]);
    return { x: randomTensor([4, 6, 3], 81), y };
  });
}

function ctcModel(): tfl.Sequential {
  return tfl.sequential({ layers: [dense(4, 82, { inputShape: [6, 3] })] });
}

const cases: AdapterCase[] = [
  {
    name: 'sigmoidFocalLossKeras',
    loss: sigmoidFocalLossKeras(),
    data: () =>
      tf.tidy(() => {
        const x = randomTensor([16, 4], 1);
        return { x, y: tf.cast(tf.greater(tf.slice(x, [0, 0], [16, 3]), 0), 'float32') };
      }),
    model: () => tfl.sequential({ layers: [dense(3, 2, { inputShape: [4] })] }),
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [],
  },
  {
    name: 'softmaxFocalLossKeras (one-hot targets)',
    loss: softmaxFocalLossKeras(),
    data: () =>
      tf.tidy(() => {
        const x = randomTensor([16, 4], 3);
        return { x, y: tf.cast(tf.oneHot(tf.argMax(tf.slice(x, [0, 0], [16, 3]), 1), 3), 'float32') };
      }),
    model: () => tfl.sequential({ layers: [dense(3, 4, { inputShape: [4] })] }),
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [],
  },
  {
    name: 'smoothL1LossKeras',
    loss: smoothL1LossKeras({ beta: 0.5 }),
    data: regression,
    model: () => tfl.sequential({ layers: [dense(2, 5, { inputShape: [4] })] }),
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [],
  },
  {
    name: "smoothL1LossKeras (reduction 'none': tfjs-layers takes the mean)",
    loss: smoothL1LossKeras({ beta: 0.5, reduction: 'none' }),
    data: regression,
    model: () => tfl.sequential({ layers: [dense(2, 5, { inputShape: [4] })] }),
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [16, 2],
  },
  {
    name: 'balancedL1LossKeras',
    loss: balancedL1LossKeras(),
    data: regression,
    model: () => tfl.sequential({ layers: [dense(2, 6, { inputShape: [4] })] }),
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [],
  },
  {
    name: 'lsganDiscriminatorLossKeras',
    loss: lsganDiscriminatorLossKeras(),
    data: realAndFake,
    model: () => tfl.sequential({ layers: [dense(1, 12, { inputShape: [2] })] }),
    optimizer: () => tf.train.sgd(0.1),
    epochs: 5,
    returns: [],
  },
  {
    name: 'hingeDiscriminatorLossKeras',
    loss: hingeDiscriminatorLossKeras(),
    data: realAndFake,
    model: () => tfl.sequential({ layers: [dense(1, 13, { inputShape: [2] })] }),
    optimizer: () => tf.train.sgd(0.1),
    epochs: 5,
    returns: [],
  },
  {
    name: 'wassersteinCriticLossKeras (unbounded below)',
    loss: wassersteinCriticLossKeras(),
    data: realAndFake,
    model: () => tfl.sequential({ layers: [dense(1, 14, { inputShape: [2] })] }),
    optimizer: () => tf.train.sgd(0.1),
    epochs: 5,
    returns: [],
  },
  {
    name: 'lsganGeneratorLossKeras (generator then frozen critic)',
    loss: lsganGeneratorLossKeras(),
    data: noiseAndIgnoredTargets,
    model: generatorThenCritic,
    optimizer: () => tf.train.sgd(0.1),
    epochs: 5,
    returns: [],
  },
  {
    name: 'hingeGeneratorLossKeras (unbounded below)',
    loss: hingeGeneratorLossKeras(),
    data: noiseAndIgnoredTargets,
    model: generatorThenCritic,
    optimizer: () => tf.train.sgd(0.1),
    epochs: 5,
    returns: [],
  },
  {
    name: 'wassersteinGeneratorLossKeras (unbounded below)',
    loss: wassersteinGeneratorLossKeras(),
    data: noiseAndIgnoredTargets,
    model: generatorThenCritic,
    optimizer: () => tf.train.sgd(0.1),
    epochs: 5,
    returns: [],
  },
  {
    name: 'cycleConsistencyLossKeras (an autoencoder X -> Y -> X)',
    loss: cycleConsistencyLossKeras({ lambda: 10 }),
    data: () => {
      const x = randomTensor([16, 4], 51);
      return { x, y: x.clone() };
    },
    model: () => tfl.sequential({ layers: [dense(3, 52, { inputShape: [4], activation: 'tanh' }), dense(4, 53)] }),
    optimizer: () => tf.train.adam(0.02),
    epochs: 5,
    returns: [],
  },
  {
    name: 'identityLossKeras',
    loss: identityLossKeras({ lambda: 5, distance: 'smoothL1' }),
    data: () => {
      const x = randomTensor([16, 4], 61);
      return { x, y: x.clone() };
    },
    model: () => tfl.sequential({ layers: [dense(4, 62, { inputShape: [4] })] }),
    optimizer: () => tf.train.adam(0.02),
    epochs: 5,
    returns: [],
  },
  {
    name: 'supervisedContrastiveLossKeras',
    loss: supervisedContrastiveLossKeras({ temperature: 0.5, baseTemperature: 0.5 }),
    data: () =>
      tf.tidy(() => {
        const labels = Array.from({ length: 16 }, (_, i) => i % 2);
        const centers = tf.tensor2d(labels.map((l) => (l ? [1, 1, -1, -1] : [-1, 1, 1, -1])));
        // tfjs-layers wants targets shaped like the [16, 8] output: each label repeated 8 times.
        const y = tf.tile(tf.tensor2d(labels, [16, 1]), [1, 8]);
        return { x: tf.add(centers, randomTensor([16, 4], 71, -0.8, 0.8)), y };
      }),
    model: () => tfl.sequential({ layers: [dense(8, 72, { inputShape: [4], activation: 'tanh' })] }),
    optimizer: () => tf.train.adam(0.02),
    epochs: 5,
    returns: [],
  },
  {
    name: 'ctcLossKeras',
    loss: ctcLossKeras(),
    data: ctcData,
    model: ctcModel,
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [],
  },
  {
    name: "ctcLossKeras (reduction 'none': tfjs-layers takes the plain batch mean)",
    loss: ctcLossKeras({ reduction: 'none' }),
    data: ctcData,
    model: ctcModel,
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [4],
  },
  {
    name: 'lovaszSoftmaxKeras (one-hot targets)',
    loss: lovaszSoftmaxKeras(),
    data: () =>
      tf.tidy(() => {
        const x = randomTensor([2, 4, 4, 3], 91);
        return { x, y: tf.cast(tf.oneHot(tf.argMax(x, 3), 3), 'float32') };
      }),
    model: () => tfl.sequential({ layers: [dense(3, 92, { inputShape: [4, 4, 3], activation: 'softmax' })] }),
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [],
  },
  {
    name: 'lovaszHingeKeras ([B, H, W, 1])',
    loss: lovaszHingeKeras(),
    data: () =>
      tf.tidy(() => {
        const x = randomTensor([2, 4, 4, 2], 93);
        return { x, y: tf.cast(tf.greater(tf.slice(x, [0, 0, 0, 0], [2, 4, 4, 1]), 0), 'float32') };
      }),
    model: () => tfl.sequential({ layers: [dense(1, 94, { inputShape: [4, 4, 2] })] }),
    optimizer: () => tf.train.adam(0.05),
    epochs: 5,
    returns: [],
  },
];

async function historyLosses(h: tfl.History): Promise<number[]> {
  const out: number[] = [];
  for (const v of h.history.loss) out.push(v instanceof tf.Tensor ? (await v.data())[0] : v);
  return out;
}

/** Disposes any tensor left in a History (tfjs-layers 4.22 stores numbers; this keeps the count exact either way). */
function disposeHistory(h: tfl.History): void {
  for (const values of Object.values(h.history)) {
    for (const v of values) if (v instanceof tf.Tensor) v.dispose();
  }
}

// tfjs-layers 4.22 (engine/training.js): the train and test functions call
// `tfc.mean(lossFunction(yTrue, yPred))`, so a scalar passes unchanged and a
// per-sample or per-element tensor is averaged over all its entries; evaluate
// then averages the batch values weighted by batch size. fit and evaluate read
// values with `await data()` only (logs.js, base_callbacks.js), so they run on
// webgpu in Node, where dataSync throws.
describe('Keras adapters in tfjs-layers model.compile', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { x, y } = c.data();
      const n = x.shape[0];
      const model = c.model();
      model.compile({ optimizer: c.optimizer(), loss: c.loss });

      // (1) training runs, every epoch's loss is finite and the last is below the first
      // (for the losses unbounded below, the GAN ones marked so, that is the whole claim).
      const history = await model.fit(x, y, { epochs: c.epochs, batchSize: n, shuffle: false, verbose: 0 });
      const losses = await historyLosses(history);
      disposeHistory(history);
      expect(losses).toHaveLength(c.epochs);
      for (const v of losses) expect(Number.isFinite(v), `history loss ${v}`).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);

      // (2) evaluate (one batch) is the mean of what the adapter returns on predict's output.
      const evaluated = model.evaluate(x, y, { batchSize: n }) as tf.Scalar;
      const pred = model.predict(x) as tf.Tensor;
      const direct = c.loss(y, pred);
      expect(direct.shape).toEqual(c.returns);
      const directMean = tf.mean(direct);
      expect(evaluated.shape).toEqual([]);
      await expectClose(evaluated, directMean);
      tf.dispose([evaluated, pred, direct, directMean]);

      // (3) a second fit (optimizer state exists now) leaves no tensor behind.
      const before = tf.memory().numTensors;
      const again = await model.fit(x, y, { epochs: 2, batchSize: n, shuffle: false, verbose: 0 });
      disposeHistory(again);
      expect(tf.memory().numTensors - before, 'tensors leaked by fit').toBe(0);

      model.dispose();
      tf.dispose([x, y]);
    });
  }
});

describe('what tfjs-layers does with the returned tensor', () => {
  it("'none' returns per-sample losses, which fit's classWeight weights; a reduced scalar is only scaled", async () => {
    const x = randomTensor([8, 4], 101);
    const labels = [0, 1, 2, 0, 1, 2, 0, 0];
    const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 3), 'float32'));
    const classWeight = { 0: 3, 1: 1, 2: 0.5 };
    const w = tf.tensor1d(labels.map((l) => classWeight[l as 0 | 1 | 2]));
    for (const reduction of ['none', 'mean'] as const) {
      const loss = softmaxFocalLossKeras({ reduction });
      const model = tfl.sequential({ layers: [dense(3, 102, { inputShape: [4] })] });
      model.compile({ optimizer: tf.train.sgd(0.1), loss });
      // The loss fit reports for its one batch is computed before the update.
      const pred = model.predict(x) as tf.Tensor;
      const value = loss(y, pred);
      expect(value.shape).toEqual(reduction === 'none' ? [8] : []);
      const expected = tf.mean(tf.mul(value, w)); // 'mean': the scalar times mean(w)
      const history = await model.fit(x, y, { epochs: 1, batchSize: 8, classWeight, verbose: 0 });
      await expectClose((await historyLosses(history))[0], expected);
      tf.dispose([pred, value, expected]);
      model.dispose();
    }
    tf.dispose([x, y, w]);
  });

  it('evaluate with several batches averages the per-batch values (not the loss of the whole set)', async () => {
    const { x, y } = realAndFake(); // 8 real samples, then 8 generated ones
    const loss = lsganDiscriminatorLossKeras();
    const model = tfl.sequential({ layers: [dense(1, 12, { inputShape: [2] })] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss });
    const pred = model.predict(x) as tf.Tensor;
    const half = (t: tf.Tensor, i: number) => tf.slice(t, [8 * i, 0], [8, t.shape[1]!]);
    // Each batch of 8 holds only real or only generated samples: (L(real) + L(fake)) / 2.
    const expected = tf.tidy(() => tf.div(tf.add(loss(half(y, 0), half(pred, 0)), loss(half(y, 1), half(pred, 1))), 2));
    const batched = model.evaluate(x, y, { batchSize: 8 }) as tf.Scalar;
    await expectClose(batched, expected);
    const whole = model.evaluate(x, y, { batchSize: 16 }) as tf.Scalar;
    const direct = loss(y, pred);
    await expectClose(whole, direct);
    // Here the whole-set value is exactly twice the batched one: batches must mix both kinds.
    const twice = tf.mul(batched, 2);
    await expectClose(whole, twice);
    tf.dispose([x, y, pred, expected, batched, whole, direct, twice]);
    model.dispose();
  });
});

describe('README: Using with tfjs-layers', () => {
  it('the example runs as written (imports aside)', async () => {
    // Three binary labels from four features; the model outputs logits (no sigmoid).
    const x = tf.randomNormal([32, 4], 0, 1, 'float32', 7);
    const y = tf.cast(tf.greater(tf.slice(x, [0, 0], [32, 3]), 0), 'float32');
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [4] })] });
    model.compile({ optimizer: tf.train.adam(0.05), loss: sigmoidFocalLossKeras({ gamma: 2 }) });
    const history = await model.fit(x, y, { epochs: 20, batchSize: 32, verbose: 0 });
    const losses = history.history.loss; // one value per epoch, going down
    const evaluated = model.evaluate(x, y) as tf.Scalar; // = sigmoidFocalLoss(model.predict(x), y, { gamma: 2 })

    expect(losses).toHaveLength(20);
    expect(losses[19] as number).toBeLessThan(losses[0] as number);
    const pred = model.predict(x) as tf.Tensor;
    await expectClose(evaluated, sigmoidFocalLoss(pred, y, { gamma: 2 }));
  });

  it('the README block is the example above, line for line', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /## Using with tfjs-layers[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README has a ts block under "Using with tfjs-layers"').toBeTypeOf('string');
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    let at = source.indexOf("describe('README: Using with tfjs-layers'");
    const lines = block!.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('import '));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const i = source.indexOf(line, at);
      expect(i, `README line not in the test, in order: ${line}`).toBeGreaterThan(at);
      at = i + line.length;
    }
  });
});
