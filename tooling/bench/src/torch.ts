// Runs python/torch_bench.py (the PyTorch side) and reads its JSON.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GradSummary, RunOptions } from './measure';
import type { Workload } from './workloads';

export interface TorchWorkloadResult {
  status: 'ok' | 'error';
  error?: string;
  value?: number;
  grads?: GradSummary[];
  ms?: number;
  runs?: number;
  times?: number[];
  warmupMs?: number;
  inputDigests?: Record<string, string>;
}

export interface BlasInfo {
  kind: 'OpenBLAS' | 'MKL' | 'BLIS' | 'reference' | 'unknown';
  libraries: string[];
  buildBlasInfo: string | null;
  env: Record<string, string>;
}

export interface TorchRun {
  torch: string;
  python: string;
  threads: number;
  blas: BlasInfo;
  results: Record<string, TorchWorkloadResult>;
}

export type TorchOutcome = { ok: true; run: TorchRun } | { ok: false; reason: string };

const SCRIPT = fileURLToPath(new URL('../python/torch_bench.py', import.meta.url));

/** Runs the PyTorch side with one thread; resolves to why it was skipped when Python or torch is missing. */
export async function runTorch(python: string, workloads: Workload[], opts: RunOptions): Promise<TorchOutcome> {
  if (!existsSync(python)) return { ok: false, reason: `${python} not found` };
  const job = {
    budgetMs: opts.budgetMs,
    minRuns: opts.minRuns,
    maxRuns: opts.maxRuns,
    workloads: workloads.map((w) => ({ id: w.id, inputs: w.inputs })),
  };
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  return new Promise((resolve) => {
    const child = spawn(python, [SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      err += s;
      for (const line of s.split('\n')) if (line.startsWith('torch: ')) process.stderr.write(`  ${line}\n`);
    });
    child.on('error', (e) => resolve({ ok: false, reason: `${python} could not start: ${e.message}` }));
    child.on('close', (code) => {
      if (code !== 0) {
        const missing = /No module named '(torch|torchvision|numpy)'/.exec(err);
        const reason = missing ? `${python} has no ${missing[1]}` : `torch_bench.py exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`;
        resolve({ ok: false, reason });
        return;
      }
      try {
        resolve({ ok: true, run: JSON.parse(out) as TorchRun });
      } catch (e) {
        resolve({ ok: false, reason: `torch_bench.py printed no JSON: ${(e as Error).message}` });
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}
