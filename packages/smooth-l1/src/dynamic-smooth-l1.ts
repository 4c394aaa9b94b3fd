import * as tf from '@tensorflow/tfjs-core';
import { canReadSync, describeValue, inputs, type ArgChecker, type TensorLike, type WeightedReductionOptions } from '@tfjs-losses/core';
import { untaped } from './internal/untaped';
import { checkBeta, smoothL1Body } from './smooth-l1-loss';

/** Options of {@link DynamicSmoothL1Loss}. */
export interface DynamicSmoothL1LossOptions {
  /** The initial beta, and the cap of every later one (default 1). */
  beta?: number;
  /**
   * Which smallest error of an iteration is recorded (default 10). The authors
   * use 10 per image times the images per batch.
   */
  kE?: number;
  /** Number of `update` calls between two beta changes (default 100). */
  iterationCount?: number;
}

/** Options of {@link DynamicSmoothL1Loss.call}: those of `smoothL1Loss` without beta. */
export type DynamicSmoothL1LossCallOptions = WeightedReductionOptions;

/** The plain-JSON state of a {@link DynamicSmoothL1Loss}: everything needed to resume. */
export interface DynamicSmoothL1LossState {
  type: 'DynamicSmoothL1Loss';
  /** The constructor options. */
  initialBeta: number;
  kE: number;
  iterationCount: number;
  /** The beta `call` uses now. */
  beta: number;
  /** The kE-th smallest errors recorded since the last beta change, in call order. */
  history: number[];
  /** `update` calls since the last beta change (0 <= calls < iterationCount). */
  calls: number;
}

let deviceHistoryEverywhere = false;

/**
 * For tests: keep tensor errors on the device on every backend (normally only
 * where synchronous reads are impossible). Not exported from the package.
 * Returns the previous setting.
 */
export function setDeviceHistoryEverywhere(on: boolean): boolean {
  const prev = deviceHistoryEverywhere;
  deviceHistoryEverywhere = on;
  return prev;
}

const STATE_FN = 'DynamicSmoothL1Loss.setState';

/**
 * Dynamic smooth L1 loss (Zhang et al., Dynamic R-CNN, ECCV 2020): smooth L1
 * whose beta follows the regression errors during training.
 *
 *   loss_i = 0.5 d_i² / beta  if |d_i| < beta,  |d_i| − 0.5 beta  otherwise
 *
 * Each `update(errors)` records E_k, the k-th smallest of that iteration's
 * errors (k = min(kE, number of errors); an empty list records nothing). After
 * every `iterationCount` updates, beta = min(initial beta, median of the
 * record), where the median is the element at index floor(n / 2) of the sorted
 * record, and the record is cleared (an empty record leaves beta unchanged).
 *
 * Training loop (one iteration): `loss = dyn.call(pred, target)` with the
 * current beta, then `dyn.update(errors)` with the errors of that iteration's
 * positive proposals (Dynamic R-CNN: the mean of |dx|, |dy| of each positive's
 * regression target). Statistics never enter the gradient tape.
 *
 * Where the numbers live: plain arrays, and tensors on backends that read
 * synchronously (cpu, wasm, browser WebGPU with OffscreenCanvas), are read at
 * once and the state is plain numbers. On WebGPU in Node (no synchronous
 * reads) tensor errors stay on the device: the k-th value and the median are
 * picked there with `topk`, so `update` and `call` never wait for the GPU; read
 * `beta` or `getState()` after `await loss.sync()`, or use `getStateAsync()`.
 * Both paths select the same float32 values, so the results are identical.
 *
 * @see https://arxiv.org/abs/2004.06002 and MMDetection's `DynamicRoIHead`
 *   (the reference; it takes NumPy's median, which averages the two middle
 *   values of an even record, and keeps the old beta when that median is < 1e-15).
 */
export class DynamicSmoothL1Loss {
  private initialBetaValue = 1;
  private kEValue = 10;
  private iterationCountValue = 100;
  /** The current beta when `pendingMedian` is null. */
  private betaValue = 1;
  /** A median picked on the device (scalar); then beta = min(initial beta, it). */
  private pendingMedian: tf.Tensor | null = null;
  /** Recorded values read to the host, oldest first. */
  private hostHistory: number[] = [];
  /** Recorded values still on the device (1-D), recorded after `hostHistory`. */
  private deviceHistory: tf.Tensor | null = null;
  private calls = 0;

  /**
   * @param options `beta` (default 1, >= 0), `kE` (default 10, integer >= 1),
   *   `iterationCount` (default 100, integer >= 1)
   * @throws LossInputError for an invalid option
   */
  constructor(options: DynamicSmoothL1LossOptions = {}) {
    const { beta = 1, kE = 10, iterationCount = 100 } = options;
    const arg = inputs('DynamicSmoothL1Loss');
    this.initialBetaValue = checkBeta(arg, beta);
    this.kEValue = arg.number('kE', kE, { min: 1, integer: true });
    this.iterationCountValue = arg.number('iterationCount', iterationCount, { min: 1, integer: true });
    this.betaValue = this.initialBetaValue;
  }

  /** The initial beta (the cap). */
  get initialBeta(): number {
    return this.initialBetaValue;
  }

  /** Which smallest error each update records. */
  get kE(): number {
    return this.kEValue;
  }

  /** Updates between beta changes. */
  get iterationCount(): number {
    return this.iterationCountValue;
  }

  /**
   * The beta `call` uses now.
   * @throws Error on a backend without synchronous reads while the value is
   *   still on the device: `await loss.sync()` first
   */
  get beta(): number {
    this.readDeviceState('beta');
    return this.betaValue;
  }

  /**
   * Smooth L1 with the current beta (see `smoothL1Loss`).
   *
   * @param pred    predictions, any shape
   * @param target  targets, the shape of `pred`
   * @param options `reduction` (default `'mean'`), `weights`, `avgFactor`
   * @returns a scalar for `'mean'` and `'sum'`; the shape of `pred` for `'none'`
   * @throws LossInputError for mismatched shapes or bad options
   */
  call(pred: TensorLike, target: TensorLike, options: DynamicSmoothL1LossCallOptions = {}): tf.Tensor {
    return tf.tidy('DynamicSmoothL1Loss.call', () => {
      const beta = this.pendingMedian === null ? this.betaValue : tf.minimum(this.pendingMedian, this.initialBetaValue);
      return smoothL1Body('DynamicSmoothL1Loss.call', pred, target, beta, options);
    });
  }

  /**
   * Records one iteration's regression errors and, every `iterationCount`
   * calls, moves beta (see the class description).
   *
   * @param errors a 1-D tensor or array of non-negative errors (may be empty)
   * @throws LossInputError if errors is not 1-D, or (where its values are read)
   *   holds a negative or NaN value; the state is then unchanged
   */
  update(errors: TensorLike): void {
    const fn = 'DynamicSmoothL1Loss.update';
    const arg = inputs(fn);
    let values: Float32Array | null = null;
    let onDevice: tf.Tensor | null = null;
    if (errors instanceof tf.Tensor) {
      const e = tf.tidy(() => arg.float('errors', errors, { rank: 1 }));
      if (deviceHistoryEverywhere || !canReadSync()) onDevice = e;
      else {
        values = e.dataSync() as Float32Array;
        if (e !== errors) e.dispose();
      }
    } else {
      values = Float32Array.from(arg.numberArray('errors', errors, { min: 0 }));
    }
    if (values !== null) checkErrors(arg, values);

    const n = values !== null ? values.length : (onDevice as tf.Tensor).size;
    const k = Math.min(this.kEValue, n);
    if (k > 0) {
      if (values !== null) {
        const kth = Float32Array.from(values).sort()[k - 1];
        if (this.deviceHistory === null) this.hostHistory.push(kth);
        else this.appendDevice(tf.tensor1d([kth], 'float32'));
      } else {
        const e = onDevice as tf.Tensor;
        this.appendDevice(untaped(() => tf.neg(tf.slice(tf.topk(tf.neg(e), k).values, k - 1, 1))));
      }
    }
    if (onDevice !== null && onDevice !== errors) onDevice.dispose();

    this.calls += 1;
    if (this.calls >= this.iterationCountValue) this.moveBeta();
  }

  /**
   * Copies any values still on the device to plain numbers, after which `beta`
   * and `getState()` work on every backend. Resolves at once when there are none.
   */
  async sync(): Promise<void> {
    for (;;) {
      const median = this.pendingMedian;
      const history = this.deviceHistory;
      if (median === null && history === null) return;
      // Read clones, so that an update meanwhile can dispose the originals.
      const copies = [median, history].map((t) => (t === null ? null : tf.clone(t)));
      const read = await Promise.all(copies.map((t) => (t === null ? null : t.data())));
      tf.dispose(copies.filter((t): t is tf.Tensor => t !== null));
      if (median !== this.pendingMedian || history !== this.deviceHistory) continue;
      this.applyDeviceValues(read[0] as Float32Array | null, read[1] as Float32Array | null);
      return;
    }
  }

  /**
   * The state as plain JSON (`JSON.stringify` / `parse` keep it exact).
   * @throws Error on a backend without synchronous reads while values are on
   *   the device: use {@link getStateAsync}
   */
  getState(): DynamicSmoothL1LossState {
    this.readDeviceState('state');
    return {
      type: 'DynamicSmoothL1Loss',
      initialBeta: this.initialBetaValue,
      kE: this.kEValue,
      iterationCount: this.iterationCountValue,
      beta: this.betaValue,
      history: this.hostHistory.slice(),
      calls: this.calls,
    };
  }

  /** {@link getState} on every backend: syncs first. */
  async getStateAsync(): Promise<DynamicSmoothL1LossState> {
    await this.sync();
    return this.getState();
  }

  /**
   * Restores a state from {@link getState} (options included), e.g. when a
   * training run resumes from a checkpoint.
   * @throws LossInputError if the state is malformed; the loss is then unchanged
   */
  setState(state: DynamicSmoothL1LossState): void {
    const arg = inputs(STATE_FN);
    if (typeof state !== 'object' || state === null) arg.fail('state', `must be an object from getState(); got ${describeValue(state)}.`);
    if (state.type !== 'DynamicSmoothL1Loss') {
      arg.fail('state.type', `must be "DynamicSmoothL1Loss"; got ${describeValue(state.type)}.`);
    }
    const initialBeta = checkBeta(arg, state.initialBeta, 'state.initialBeta');
    const kE = arg.number('state.kE', state.kE, { min: 1, integer: true });
    const iterationCount = arg.number('state.iterationCount', state.iterationCount, { min: 1, integer: true });
    const beta = checkBeta(arg, state.beta, 'state.beta');
    if (beta > initialBeta) arg.fail('state.beta', `must be <= state.initialBeta ${initialBeta}; got ${beta}.`);
    const history = arg.numberArray('state.history', state.history, { min: 0 });
    const calls = arg.number('state.calls', state.calls, { min: 0, max: iterationCount - 1, integer: true });
    if (history.length > calls) arg.fail('state.history', `must have at most state.calls (${calls}) entries; got ${history.length}.`);
    this.disposeDeviceState();
    this.initialBetaValue = initialBeta;
    this.kEValue = kE;
    this.iterationCountValue = iterationCount;
    this.betaValue = beta;
    this.hostHistory = history;
    this.calls = calls;
  }

  /**
   * Frees the tensors the loss may hold (values kept on the device). Call it
   * when done with the loss; `await sync()` first to keep those values.
   */
  dispose(): void {
    this.disposeDeviceState();
  }

  private appendDevice(value: tf.Tensor): void {
    const prev = this.deviceHistory;
    const next = prev === null ? value : tf.tidy(() => untaped(() => tf.concat([prev, value])));
    if (prev !== null) {
      prev.dispose();
      value.dispose();
    }
    this.deviceHistory = tf.keep(next);
  }

  private moveBeta(): void {
    const hostN = this.hostHistory.length;
    if (this.deviceHistory !== null) {
      const host = this.hostHistory;
      const device = this.deviceHistory;
      const n = hostN + device.size;
      const idx = Math.floor(n / 2);
      const median = tf.keep(
        tf.tidy(() =>
          untaped(() => {
            const all = hostN > 0 ? tf.concat([tf.tensor1d(host, 'float32'), device]) : device;
            return tf.reshape(tf.neg(tf.slice(tf.topk(tf.neg(all), idx + 1).values, idx, 1)), []);
          }),
        ),
      );
      this.pendingMedian?.dispose();
      this.pendingMedian = median;
    } else if (hostN > 0) {
      const sorted = Float64Array.from(this.hostHistory).sort();
      this.pendingMedian?.dispose();
      this.pendingMedian = null;
      this.betaValue = Math.min(this.initialBetaValue, sorted[Math.floor(hostN / 2)]);
    }
    this.deviceHistory?.dispose();
    this.deviceHistory = null;
    this.hostHistory = [];
    this.calls = 0;
  }

  private readDeviceState(what: string): void {
    if (this.pendingMedian === null && this.deviceHistory === null) return;
    if (!canReadSync()) {
      throw new Error(
        `DynamicSmoothL1Loss: the ${what} is still on the ${tf.getBackend()} device, which cannot be read synchronously here; ` +
          '`await loss.sync()` first (or use getStateAsync()).',
      );
    }
    const median = this.pendingMedian === null ? null : (this.pendingMedian.dataSync() as Float32Array);
    const history = this.deviceHistory === null ? null : (this.deviceHistory.dataSync() as Float32Array);
    this.applyDeviceValues(median, history);
  }

  private applyDeviceValues(median: Float32Array | null, history: Float32Array | null): void {
    if (median !== null) this.betaValue = Math.min(this.initialBetaValue, median[0]);
    if (history !== null) this.hostHistory.push(...Array.from(history));
    this.disposeDeviceState();
  }

  private disposeDeviceState(): void {
    this.pendingMedian?.dispose();
    this.pendingMedian = null;
    this.deviceHistory?.dispose();
    this.deviceHistory = null;
  }
}

function checkErrors(arg: ArgChecker, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0)) arg.fail('errors', `must hold numbers >= 0; got ${v} at index ${i}.`);
  }
}
