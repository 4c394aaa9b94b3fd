import * as tf from '@tensorflow/tfjs-core';
import { canReadSync, describeValue, formatShape, inputs, type ArgChecker, type ReductionOptions, type TensorLike } from '@tfjs-losses/core';
import { smoothL1Reduced } from './internal/elementwise';
import { packStats, selfAdjustingStatsOp } from './kernels/self-adjusting-stats.kernel';
import { untaped } from './internal/untaped';

/** Options of {@link SelfAdjustingSmoothL1Loss}. */
export interface SelfAdjustingSmoothL1LossOptions {
  /** Weight of the running value in each update, in [0, 1] (default 0.9). */
  momentum?: number;
  /** Largest beta, and the running mean's start value (default 0.11); > 0. */
  betaMax?: number;
}

/** Options of {@link SelfAdjustingSmoothL1Loss.call}. */
export interface SelfAdjustingSmoothL1LossCallOptions extends ReductionOptions {
  /** Update the running statistics before computing the loss (default true). */
  training?: boolean;
  /** Weights broadcastable to the unreduced loss. */
  weights?: TensorLike;
}

/** The plain-JSON state of a {@link SelfAdjustingSmoothL1Loss}. */
export interface SelfAdjustingSmoothL1LossState {
  type: 'SelfAdjustingSmoothL1Loss';
  /** The constructor options. */
  momentum: number;
  betaMax: number;
  /** Running mean of |pred − target| per coordinate; null before the first call. */
  runningMean: number[] | null;
  /** Running variance of |pred − target| per coordinate; null before the first call. */
  runningVar: number[] | null;
}

const STATE_FN = 'SelfAdjustingSmoothL1Loss.setState';

/**
 * Self-adjusting smooth L1 loss (Fu et al., RetinaMask, 2019): smooth L1 with
 * one beta per coordinate (last axis) that follows running statistics of the
 * absolute error n = |pred − target|:
 *
 *   μ ← momentum μ + (1 − momentum) mean(n)          (per coordinate, over all rows)
 *   σ² ← momentum σ² + (1 − momentum) var(n)         (unbiased batch variance, n − 1)
 *   beta = clamp(μ − σ², 1e-3, betaMax)
 *   loss_i = 0.5 n_i² / beta_c  if n_i < beta_c,  n_i − 0.5 beta_c  otherwise
 *
 * μ starts at betaMax and σ² at 0 (so beta starts at betaMax). RetinaMask's
 * momentum 0.1 weighs the new value: the same rule as momentum 0.9 here. A call
 * with a single row does not update (its variance is undefined), nor does one
 * whose batch variance is NaN (as RetinaMask). `call` first updates the
 * statistics (when `training`), then computes the loss with the new beta.
 *
 * The statistics live on the device as one small [3, C] tensor, updated
 * outside the gradient tape; `call` never reads data back, so it runs the same
 * on every backend. `beta` and `getState()` read that tensor: synchronously on
 * cpu, wasm and browser WebGPU; on WebGPU in Node `await loss.sync()` first, or
 * use `getStateAsync()`. The number of coordinates C is fixed by the first call
 * (or by `setState`).
 *
 * @see https://arxiv.org/abs/1901.03353 and RetinaMask's `AdjustSmoothL1Loss`
 *   (the reference; it has no `training` switch and no weights)
 */
export class SelfAdjustingSmoothL1Loss {
  private momentumValue: number;
  private betaMaxValue: number;
  /** [3, C]: running mean, running variance, beta. Null before the first call. */
  private stats: tf.Tensor | null = null;
  /** Host copy of `stats` rows, when read since the last change. */
  private cache: number[][] | null = null;

  /**
   * @param options `momentum` (default 0.9, in [0, 1]), `betaMax` (default 0.11, > 0)
   * @throws LossInputError for an invalid option
   */
  constructor(options: SelfAdjustingSmoothL1LossOptions = {}) {
    const { momentum = 0.9, betaMax = 0.11 } = options;
    const arg = inputs('SelfAdjustingSmoothL1Loss');
    this.momentumValue = arg.number('momentum', momentum, { min: 0, max: 1 });
    this.betaMaxValue = checkBetaMax(arg, betaMax, 'betaMax');
  }

  /** Weight of the running value in each update. */
  get momentum(): number {
    return this.momentumValue;
  }

  /** Largest beta. */
  get betaMax(): number {
    return this.betaMaxValue;
  }

  /** Number of coordinates (last axis), or null before the first call. */
  get numCoordinates(): number | null {
    return this.stats === null ? null : this.stats.shape[1] as number;
  }

  /**
   * The current beta, one per coordinate ([] before the first call).
   * @throws Error on WebGPU in Node unless read since the last update: `await loss.sync()` first
   */
  get beta(): number[] {
    const rows = this.readStats('beta');
    return rows === null ? [] : rows[2].slice();
  }

  /**
   * Updates the statistics (when `training`) and returns smooth L1 with the new beta.
   *
   * @param pred    predictions, rank >= 1; the last axis holds the coordinates
   * @param target  targets, the shape of `pred`
   * @param options `training` (default true), `reduction` (default `'mean'`), `weights`
   * @returns a scalar for `'mean'` and `'sum'`; the shape of `pred` for `'none'`
   * @throws LossInputError for mismatched shapes, a coordinate count other than
   *   the first call's, or bad options; the statistics are then unchanged
   */
  call(pred: TensorLike, target: TensorLike, options: SelfAdjustingSmoothL1LossCallOptions = {}): tf.Tensor {
    const { training = true, reduction = 'mean', weights } = options;
    return tf.tidy('SelfAdjustingSmoothL1Loss.call', () => {
      const fn = 'SelfAdjustingSmoothL1Loss.call';
      const arg = inputs(fn);
      const p = arg.float('pred', pred, { minRank: 1 });
      const t = arg.float('target', target, { shapeOf: ['pred', p] });
      arg.oneOf('training', training, [true, false]);
      arg.oneOf('reduction', reduction, ['none', 'mean', 'sum']);
      const w = arg.weights(weights, p.shape);
      const c = p.shape[p.rank - 1];
      if (c < 1) arg.fail('pred', `must have at least one coordinate on its last axis; got shape ${formatShape(p.shape)}.`);
      if (this.stats !== null && c !== this.stats.shape[1] as number) {
        arg.fail('pred', `must have ${this.stats.shape[1] as number} coordinates on its last axis (fixed by the first call); got shape ${formatShape(p.shape)}.`);
      }
      if (this.stats === null) {
        const betaMax = this.betaMaxValue;
        this.replaceStats(untaped(() => packStats(tf.fill([c], betaMax), tf.zeros([c]), betaMax)));
      }
      const rows = p.size / c;
      if (training && rows >= 2) {
        const old = this.stats as tf.Tensor;
        const m = this.momentumValue;
        const betaMax = this.betaMaxValue;
        this.replaceStats(untaped(() => selfAdjustingStatsOp([p, t, old], { momentum: m, betaMax })[0]));
      }
      const beta = tf.reshape(tf.slice(this.stats as tf.Tensor, [2, 0], [1, c]), [c]);
      return smoothL1Reduced(p, t, beta, { reduction, weights: w, fn });
    });
  }

  /**
   * Copies the statistics to the host, after which `beta` and `getState()`
   * work on every backend until the next update.
   */
  async sync(): Promise<void> {
    for (;;) {
      const stats = this.stats;
      if (stats === null || this.cache !== null) return;
      const copy = tf.clone(stats);
      const values = await copy.data();
      copy.dispose();
      if (stats !== this.stats) continue;
      this.cache = toRows(values as Float32Array, stats.shape[1] as number);
      return;
    }
  }

  /**
   * The state as plain JSON (`JSON.stringify` / `parse` keep it exact).
   * @throws Error on WebGPU in Node unless read since the last update: use {@link getStateAsync}
   */
  getState(): SelfAdjustingSmoothL1LossState {
    const rows = this.readStats('state');
    return {
      type: 'SelfAdjustingSmoothL1Loss',
      momentum: this.momentumValue,
      betaMax: this.betaMaxValue,
      runningMean: rows === null ? null : rows[0].slice(),
      runningVar: rows === null ? null : rows[1].slice(),
    };
  }

  /** {@link getState} on every backend: syncs first. */
  async getStateAsync(): Promise<SelfAdjustingSmoothL1LossState> {
    await this.sync();
    return this.getState();
  }

  /**
   * Restores a state from {@link getState} (options included), e.g. when a
   * training run resumes from a checkpoint; the next call continues with
   * exactly the same beta.
   * @throws LossInputError if the state is malformed; the loss is then unchanged
   */
  setState(state: SelfAdjustingSmoothL1LossState): void {
    const arg = inputs(STATE_FN);
    if (typeof state !== 'object' || state === null) arg.fail('state', `must be an object from getState(); got ${describeValue(state)}.`);
    if (state.type !== 'SelfAdjustingSmoothL1Loss') {
      arg.fail('state.type', `must be "SelfAdjustingSmoothL1Loss"; got ${describeValue(state.type)}.`);
    }
    const momentum = arg.number('state.momentum', state.momentum, { min: 0, max: 1 });
    const betaMax = checkBetaMax(arg, state.betaMax, 'state.betaMax');
    if ((state.runningMean === null) !== (state.runningVar === null)) {
      arg.fail('state.runningVar', 'must be null exactly when state.runningMean is null.');
    }
    let mean: number[] | null = null;
    let variance: number[] | null = null;
    if (state.runningMean !== null) {
      mean = arg.numberArray('state.runningMean', state.runningMean);
      if (mean.length < 1) arg.fail('state.runningMean', 'must have one entry per coordinate; got an empty array.');
      variance = arg.numberArray('state.runningVar', state.runningVar, { length: mean.length });
    }
    this.momentumValue = momentum;
    this.betaMaxValue = betaMax;
    if (mean === null || variance === null) {
      this.stats?.dispose();
      this.stats = null;
      this.cache = null;
      return;
    }
    const m = mean;
    const v = variance;
    this.replaceStats(tf.tidy(() => packStats(tf.tensor1d(m, 'float32'), tf.tensor1d(v, 'float32'), betaMax)));
  }

  /** Frees the statistics tensor; the next call starts afresh. */
  dispose(): void {
    this.stats?.dispose();
    this.stats = null;
    this.cache = null;
  }

  private replaceStats(next: tf.Tensor): void {
    const prev = this.stats;
    this.stats = tf.keep(next);
    this.cache = null;
    prev?.dispose();
  }

  private readStats(what: string): number[][] | null {
    if (this.stats === null) return null;
    if (this.cache === null) {
      if (!canReadSync()) {
        throw new Error(
          `SelfAdjustingSmoothL1Loss: the ${what} lives on the ${tf.getBackend()} device, which cannot be read synchronously here; ` +
            '`await loss.sync()` first (or use getStateAsync()).',
        );
      }
      this.cache = toRows(this.stats.dataSync() as Float32Array, this.stats.shape[1] as number);
    }
    return this.cache;
  }
}

function toRows(values: Float32Array, c: number): number[][] {
  return [0, 1, 2].map((r) => Array.from(values.subarray(r * c, (r + 1) * c)));
}

function checkBetaMax(arg: ArgChecker, v: unknown, name: string): number {
  const b = arg.positive(name, v);
  if (!Number.isFinite(b)) arg.fail(name, `must be a finite number > 0; got ${b}.`);
  return b;
}
