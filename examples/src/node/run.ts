// `pnpm demo`: argument parsing, the run of the selected demos on one
// backend, and the output folder (loss curves as SVG, pictures, summary.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName, type BackendReport } from '@tfjs-losses/core';
import { lossChartSvg, pictureSvg } from '../chart';
import { DEMOS, FAMILIES, notReady, type Family } from '../demos';
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
  --backend B    webgpu, wasm or cpu (default: the first that starts, in that order)
  --steps N      training steps of every selected demo (default: each demo's own)
  --seed S       seed of data, weights and batches (default 1)
  --out DIR      output folder (default examples/out/demo): <family>-loss.svg,
                 <family>-picture.svg, summary.json`;

/** Parses `pnpm demo` arguments; throws with a message on a bad one. */
export function parseArgs(argv: string[], cwd = process.env.INIT_CWD ?? process.cwd()): DemoOptions {
  const options: DemoOptions = { seed: 1, out: DEFAULT_OUT, help: false };
  const known = FAMILIES as string[];
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
  status: 'ok' | 'skipped' | 'failed';
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

export interface RunSummary {
  backend: BackendReport;
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

/** Runs the selected demos and writes the output folder; returns the summary. */
export async function runDemos(options: DemoOptions, log: (line: string) => void = console.log): Promise<RunSummary> {
  const t0 = performance.now();
  const backend = await setupBackend(options.backend ?? BACKENDS);
  // PROD silences tfjs's console warnings (e.g. its advice to install tfjs-node).
  tf.env().set('PROD', true);
  log(describeBackend(backend));
  mkdirSync(options.out, { recursive: true });
  const selected = DEMOS.filter((d) => !options.only || options.only.includes(d.family));
  const demos: DemoSummary[] = [];
  for (const family of options.only ?? []) {
    if (!DEMOS.some((d) => d.family === family)) {
      const reason = 'no demo in this version (its package had not landed when the demos were last updated)';
      log(`${family}: skipped, ${reason}`);
      demos.push({ family, status: 'skipped', reason });
    }
  }
  for (const demo of selected) {
    const reason = notReady(demo.family);
    if (reason) {
      log(`${demo.family}: skipped, ${reason}`);
      demos.push({ family: demo.family, status: 'skipped', reason });
      continue;
    }
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
    seed: options.seed,
    stepsOverride: options.steps,
    totalSeconds: (performance.now() - t0) / 1000,
    demos,
  };
  writeFileSync(path.join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
  log(`\n${demos.filter((d) => d.status === 'ok').length} demos ran, ${demos.filter((d) => d.status === 'failed').length} failed, ${demos.filter((d) => d.status === 'skipped').length} skipped, on ${backend.backend} in ${summary.totalSeconds.toFixed(1)} s; curves and summary.json in ${options.out}`);
  return summary;
}
