// `pnpm demo`: argument parsing, the run of the selected demos on one
// backend, and the output folder (loss curves as SVG, pictures, summary.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName, type BackendReport } from '@tfjs-losses/core';
import { lossChartSvg, pictureSvg } from '../chart';
import { DEMOS, FAMILIES, type Family } from '../demos';
import { Mlp } from '../demos/nn';
import { Rng } from '../demos/random';
import { ProgressBar } from './progress';

export interface DemoOptions {
  only?: Family[];
  backend?: BackendName;
  steps?: number;
  seed: number;
  out: string;
  help: boolean;
}

export const DEFAULT_OUT = fileURLToPath(new URL('../../out/demo', import.meta.url));
const BACKENDS: BackendName[] = ['webgpu', 'wasm', 'cpu'];

export const USAGE = `Usage: pnpm demo [--only ctc,focal,...] [--backend webgpu|wasm|cpu] [--steps N] [--seed S] [--out DIR]

Trains one small model per loss family with a fixed seed and prints a line of
evidence for each. Families: ${DEMOS.map((d) => d.family).join(', ')}.
  --only F[,F]   run only these families (may be repeated)
  --backend B    webgpu, wasm or cpu (default: setupBackend's pick, webgpu, else
                 wasm, else cpu; when that is webgpu, a short probe also times
                 wasm and the faster of the two runs the demos)
  --steps N      training steps of every selected demo (default: each demo's own)
  --seed S       seed of data, weights and batches (default 1)
  --out DIR      output folder (default examples/out/demo): <family>-loss.svg,
                 <family>-picture.svg, summary.json`;

/** Parses `pnpm demo` arguments; throws with a message on a bad one. */
export function parseArgs(argv: string[], cwd = process.env.INIT_CWD ?? process.cwd()): DemoOptions {
  const options: DemoOptions = { seed: 1, out: DEFAULT_OUT, help: false };
  const known = FAMILIES as string[]; // every family has a demo (DEMOS)
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--only': {
        const list = value().split(',').map((s) => s.trim()).filter(Boolean);
        for (const f of list) {
          if (!known.includes(f)) throw new Error(`--only: unknown family "${f}" (expected ${known.join(', ')})`);
        }
        options.only = [...(options.only ?? []), ...(list as Family[])];
        break;
      }
      case '--backend': {
        const b = value();
        if (!BACKENDS.includes(b as BackendName)) throw new Error(`--backend: expected webgpu, wasm or cpu; got "${b}"`);
        options.backend = b as BackendName;
        break;
      }
      case '--steps': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Error(`--steps: expected a positive integer`);
        options.steps = n;
        break;
      }
      case '--seed': {
        const n = Number(value());
        if (!Number.isInteger(n)) throw new Error(`--seed: expected an integer`);
        options.seed = n;
        break;
      }
      case '--out':
        options.out = path.resolve(cwd, value());
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new Error(`unknown argument "${arg}"\n\n${USAGE}`);
    }
  }
  return options;
}

export interface DemoSummary {
  family: Family;
  status: 'ok' | 'failed';
  reason?: string;
  steps?: number;
  seconds?: number;
  stepsPerSecond?: number;
  evidence?: string;
  details?: string[];
  metrics?: Record<string, unknown>;
  tensorsLeaked?: number;
  curves?: { name: string; values: number[] }[];
}

/** How the backend was chosen when --backend was not given. */
export interface BackendChoice {
  /** What setupBackend picked by default. */
  defaultPick: BackendName;
  /** Milliseconds per probe training step, per backend timed. */
  msPerStep: Partial<Record<BackendName, number>>;
  reason: string;
}

export interface RunSummary {
  backend: BackendReport;
  choice?: BackendChoice;
  seed: number;
  stepsOverride?: number;
  totalSeconds: number;
  demos: DemoSummary[];
}

function describeBackend(r: BackendReport): string {
  const adapter = r.adapter ? ` (adapter: ${[r.adapter.vendor, r.adapter.architecture, r.adapter.description].filter(Boolean).join(', ')})` : '';
  const skipped = r.skipped.length ? `; skipped ${r.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}` : '';
  return `backend: ${r.backend} on ${r.platform}${adapter}${skipped}`;
}

/**
 * Milliseconds per training step of a model the size of the demos' (a
 * 32-64-64-16 MLP, batch 256, Adam) on the current backend, after warm-up
 * (WebGPU compiles its shaders on first use).
 */
export async function probeStep(warmup = 3, timed = 10): Promise<number> {
  const rng = new Rng(99);
  const model = new Mlp(rng, [32, 64, 64, 16]);
  const x = tf.randomNormal([256, 32], 0, 1, 'float32', 1);
  const optimizer = tf.train.adam(1e-3);
  const step = (): tf.Scalar =>
    optimizer.minimize(() => tf.mean(tf.square(model.apply(x as tf.Tensor2D))) as tf.Scalar, true, model.variables) as tf.Scalar;
  for (let i = 0; i < warmup; i++) {
    const l = step();
    await l.data();
    l.dispose();
  }
  const start = performance.now();
  for (let i = 0; i < timed; i++) {
    const l = step();
    await l.data();
    l.dispose();
  }
  const ms = (performance.now() - start) / timed;
  model.dispose();
  optimizer.dispose();
  x.dispose();
  return ms;
}

/**
 * The backend the demos run on: --backend if given; else setupBackend's
 * default pick, unless that is WebGPU and wasm is faster on a probe step
 * (as on machines whose WebGPU adapter is a software one).
 */
async function chooseBackend(options: DemoOptions, log: (line: string) => void): Promise<{ report: BackendReport; choice?: BackendChoice }> {
  if (options.backend) return { report: await setupBackend(options.backend) };
  const first = await setupBackend(BACKENDS);
  if (first.backend !== 'webgpu') return { report: first };
  const msPerStep: BackendChoice['msPerStep'] = { webgpu: await probeStep() };
  let wasm: BackendReport | undefined;
  try {
    wasm = await setupBackend('wasm');
    msPerStep.wasm = await probeStep();
  } catch (e) {
    log(`(wasm could not start for the comparison: ${(e as Error).message})`);
  }
  const timing = `a probe training step took ${msPerStep.webgpu?.toFixed(1)} ms on webgpu` + (msPerStep.wasm === undefined ? '' : ` and ${msPerStep.wasm.toFixed(1)} ms on wasm`);
  if (wasm && msPerStep.wasm !== undefined && msPerStep.webgpu !== undefined && msPerStep.wasm < msPerStep.webgpu) {
    const reason = `setupBackend picked webgpu, but ${timing}, so the demos run on wasm (--backend webgpu runs them on WebGPU anyway)`;
    return { report: { ...wasm, skipped: [...first.skipped, { backend: 'webgpu', reason: `slower here: ${timing}` }] }, choice: { defaultPick: 'webgpu', msPerStep, reason } };
  }
  await setupBackend('webgpu');
  return { report: first, choice: { defaultPick: 'webgpu', msPerStep, reason: `setupBackend picked webgpu; ${timing}` } };
}

/** Runs the selected demos and writes the output folder; returns the summary. */
export async function runDemos(options: DemoOptions, log: (line: string) => void = console.log): Promise<RunSummary> {
  const t0 = performance.now();
  // PROD silences tfjs's console warnings (e.g. its advice to install tfjs-node).
  tf.env().set('PROD', true);
  const { report: backend, choice } = await chooseBackend(options, log);
  if (choice) log(choice.reason);
  log(describeBackend(backend));
  mkdirSync(options.out, { recursive: true });
  const selected = DEMOS.filter((d) => !options.only || options.only.includes(d.family));
  const demos: DemoSummary[] = [];
  for (const demo of selected) {
    log(`\n${demo.title}`);
    const bar = new ProgressBar(demo.family);
    const before = tf.memory().numTensors;
    const start = performance.now();
    try {
      const steps = options.steps === undefined ? undefined : Math.max(options.steps, demo.minSteps);
      const result = await demo.run({ steps, seed: options.seed, onProgress: (p) => bar.update(p) });
      bar.finish();
      const seconds = (performance.now() - start) / 1000;
      const leaked = tf.memory().numTensors - before;
      for (const d of result.details) log(`  ${d}`);
      log(`  evidence: ${result.evidence}`);
      log(`  ${result.steps} steps in ${seconds.toFixed(1)} s (${(result.steps / seconds).toFixed(1)} steps/s)`);
      writeFileSync(
        path.join(options.out, `${demo.family}-loss.svg`),
        lossChartSvg(result.curves, { title: `${demo.family}: loss per step (${backend.backend})`, sequential: false }),
      );
      if (result.picture) writeFileSync(path.join(options.out, `${demo.family}-picture.svg`), pictureSvg(result.picture));
      demos.push({
        family: demo.family,
        status: 'ok',
        steps: result.steps,
        seconds,
        stepsPerSecond: result.steps / seconds,
        evidence: result.evidence,
        details: result.details,
        metrics: result.metrics,
        tensorsLeaked: leaked,
        curves: result.curves,
      });
    } catch (e) {
      bar.finish();
      const err = e as Error;
      log(`  FAILED: ${err.stack ?? err.message}`);
      demos.push({ family: demo.family, status: 'failed', reason: err.message, seconds: (performance.now() - start) / 1000 });
    }
  }
  const summary: RunSummary = {
    backend,
    choice,
    seed: options.seed,
    stepsOverride: options.steps,
    totalSeconds: (performance.now() - t0) / 1000,
    demos,
  };
  writeFileSync(path.join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
  log(`\n${demos.filter((d) => d.status === 'ok').length} demos ran, ${demos.filter((d) => d.status === 'failed').length} failed, on ${backend.backend} in ${summary.totalSeconds.toFixed(1)} s; curves and summary.json in ${options.out}`);
  return summary;
}
