// Our side of one workload on one backend: warm-up, value and gradient
// summaries, kernels per call (tf.profile), GPU dispatches (webgpu), peak
// tensor bytes, leaked tensors, then timed runs within the budget.
import * as tf from '@tensorflow/tfjs-core';
import { generate, digest } from './inputs';
import type { LossModule, Prepared, StepResult, Workload } from './workloads';

export interface GradSummary {
  /** Sum of |g| in float64. */
  l1: number;
  /** Sum of g in float64. */
  sum: number;
  /** Number of NaN or infinite entries. */
  nonFinite: number;
}

export interface OursResult {
  status: 'ok' | 'error';
  error?: string;
  value?: number;
  grads?: GradSummary[];
  /** Median of the timed runs, milliseconds. */
  ms?: number;
  runs?: number;
  /** Every timed run, milliseconds. */
  times?: number[];
  warmupMs?: number;
  kernels?: number;
  kernelNames?: Record<string, number>;
  /** webgpu only: compute dispatches recorded per call. */
  dispatches?: number;
  /** Peak bytes held by tensors during one call, beyond what was allocated before it. */
  peakBytes?: number;
  leaked?: number;
  /** Resident set size of the process right after the profiled call (bytes; includes everything loaded so far). */
  rssBytes?: number;
  inputDigests?: Record<string, string>;
}

export interface RunOptions {
  budgetMs: number;
  minRuns: number;
  maxRuns: number;
}

/** A loss function that is still the generator's placeholder returns the mean squared error of its first two arguments. */
export async function isGeneratorPlaceholder(fn: unknown): Promise<boolean> {
  if (typeof fn !== 'function') return false;
  const a = [
    [0.3, -1.2, 2.1],
    [0.7, 0.05, -0.4],
  ];
  const b = [
    [1, 0, 1],
    [0, 1, 0],
  ];
  let out: tf.Tensor;
  try {
    out = tf.tidy(() => (fn as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor)(tf.tensor2d(a), tf.tensor2d(b)));
  } catch {
    return false; // the placeholder accepts two same-shape float tensors; a loss that refuses them is not it
  }
  try {
    if (!(out instanceof tf.Tensor) || out.size !== 1) return false;
    const v = (await out.data())[0];
    let mse = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) mse += (a[i][j] - b[i][j]) ** 2;
    mse /= 6;
    return Math.abs(v - mse) <= 1e-6 * mse;
  } finally {
    out.dispose();
  }
}

export interface Availability {
  available: boolean;
  reason?: string;
  mod?: LossModule;
}

/** Whether the workload's export exists and is a real loss. */
export async function availability(w: Workload): Promise<Availability> {
  let mod: LossModule;
  try {
    mod = (await import(w.pkg)) as LossModule;
  } catch (e) {
    return { available: false, reason: `${w.pkg} does not load: ${(e as Error).message.split('\n')[0]}` };
  }
  const exported = mod[w.exportName];
  if (exported === undefined) return { available: false, reason: `${w.pkg} does not export ${w.exportName} yet` };
  if (typeof exported !== 'function') return { available: false, reason: `${w.pkg}'s ${w.exportName} is not a function or class` };
  if (await isGeneratorPlaceholder(exported)) {
    return { available: false, reason: `${w.pkg}'s ${w.exportName} is still the generator's placeholder (mean squared error)` };
  }
  return { available: true, mod };
}

function summarize(values: ArrayLike<number>): GradSummary {
  let l1 = 0;
  let sum = 0;
  let nonFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    l1 += Math.abs(v);
    sum += v;
  }
  return { l1, sum, nonFinite };
}

function disposeStep(r: StepResult): void {
  r.value.dispose();
  for (const g of r.grads) g.dispose();
}

type WebGPUBackendLike = {
  recordAndSubmit: (...args: unknown[]) => unknown;
  device: { queue: { onSubmittedWorkDone(): Promise<void> } };
};

/** Most extra warm-up calls after the first (both sides use the same rule). */
export const WARMUP_CALLS = 50;

/** Waits until the call's work is done: kernels run synchronously on cpu and wasm; webgpu needs its queue drained. */
async function finish(r: StepResult, backend: string): Promise<void> {
  if (backend !== 'webgpu') return;
  await r.value.data(); // submits everything recorded so far
  await (tf.backend() as unknown as WebGPUBackendLike).device.queue.onSubmittedWorkDone();
}

/** Counts webgpu compute dispatches while `fn` runs. */
async function countDispatches(fn: () => Promise<void>): Promise<number> {
  const b = tf.backend() as unknown as WebGPUBackendLike;
  const original = b.recordAndSubmit;
  let n = 0;
  b.recordAndSubmit = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    b.recordAndSubmit = original;
  }
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs one workload on the current backend. */
export async function runOurs(w: Workload, mod: LossModule, opts: RunOptions): Promise<OursResult> {
  const backend = tf.getBackend();
  const inputDigests: Record<string, string> = {};
  const tensors: Record<string, tf.Tensor> = {};
  let prepared: Prepared | undefined;
  try {
    for (const spec of w.inputs) {
      const values = generate(spec);
      inputDigests[spec.name] = digest(values);
      tensors[spec.name] = tf.tensor(values, spec.shape, spec.dtype);
    }
    prepared = w.prepare(mod, tensors);
    const p = prepared;

    // Warm-up (first call: kernel registration, shader compilation), read fully.
    const t0 = performance.now();
    const first = p.step();
    await finish(first, backend);
    const warmupMs = performance.now() - t0;
    const value = (await first.value.data())[0];
    const grads: GradSummary[] = [];
    for (const g of first.grads) grads.push(summarize(await g.data()));
    disposeStep(first);
    // More warm-up calls, for up to a fifth of the budget (at most WARMUP_CALLS): V8 optimizes
    // JavaScript loops and WebAssembly functions only after they have run for a while, so a
    // single call leaves the first timed runs of a small workload on the unoptimized tiers.
    const warmStart = performance.now();
    for (let i = 0; i < WARMUP_CALLS && performance.now() - warmStart < opts.budgetMs / 5; i++) {
      const r = p.step();
      await finish(r, backend);
      disposeStep(r);
    }

    // Kernels, peak bytes and leaks of one steady-state call.
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    // On webgpu the same call counts dispatches (profiling submits each one in its own pass: still one each).
    let info: Awaited<ReturnType<typeof tf.profile>> | undefined;
    const profiledCall = async (): Promise<void> => {
      let profiled: StepResult | undefined;
      info = await tf.profile(() => {
        profiled = p.step();
        return [profiled.value, ...profiled.grads];
      });
      await finish(profiled!, backend);
      disposeStep(profiled!);
    };
    const dispatches = backend === 'webgpu' ? await countDispatches(profiledCall) : (await profiledCall(), undefined);
    const leaked = tf.memory().numTensors - before;
    const rssBytes = process.memoryUsage().rss;
    const kernelNames: Record<string, number> = {};
    for (const k of info!.kernels) kernelNames[k.name] = (kernelNames[k.name] ?? 0) + 1;

    // Timed runs: at least minRuns (one if the warm-up alone used the budget), then until the budget is spent.
    const minRuns = warmupMs > opts.budgetMs ? 1 : opts.minRuns;
    const times: number[] = [];
    const start = performance.now();
    while (times.length < minRuns || (performance.now() - start < opts.budgetMs && times.length < opts.maxRuns)) {
      const s = performance.now();
      const r = p.step();
      await finish(r, backend);
      times.push(performance.now() - s);
      disposeStep(r);
    }
    return {
      status: 'ok',
      value,
      grads,
      ms: median(times),
      runs: times.length,
      times,
      warmupMs,
      kernels: info!.kernels.length,
      kernelNames,
      dispatches,
      peakBytes: info!.peakBytes - bytesBefore,
      leaked,
      rssBytes,
      inputDigests,
    };
  } catch (e) {
    const err = e as Error;
    return { status: 'error', error: `${err.name}: ${err.message.split('\n')[0]}`, inputDigests };
  } finally {
    prepared?.dispose();
    for (const t of Object.values(tensors)) t.dispose();
  }
}
