// pnpm bench [--only a,b] [--backend cpu,wasm,webgpu] [--budget seconds] [--ci] [--out dir] [--python path] [--no-torch]
// See README.md. Exits 1 on a value mismatch with PyTorch, a leaked tensor or an error.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName } from '@tfjs-losses/core';
import { availability, runOurs, type Availability, type OursResult, type RunOptions } from './measure';
import { compare, goalTable, goals, isFailure, markdownTable, RTOL, svgChart, type Row } from './report';
import { runTorch } from './torch';
import { CI_WORKLOADS, WORKLOADS } from './workloads';

const BACKENDS: BackendName[] = ['cpu', 'wasm', 'webgpu'];
const HERE = path.dirname(fileURLToPath(import.meta.url));

const USAGE = `pnpm bench [options]
  --only a,b           workloads to run (default: all of BENCH.md); --list shows the ids
  --backend cpu,wasm   backends to run (default: cpu,wasm,webgpu)
  --budget <s>         seconds of timed runs per workload and backend, each side (default 2)
  --ci                 quick check: ${CI_WORKLOADS.join(', ')} with --budget 0.05; same exit rules
  --out <dir>          where bench.json, bench.md and ratios.svg go (default tooling/bench/out)
  --python <path>      Python with torch for the reference (default /usr/bin/python3)
  --no-torch           skip the PyTorch side
  --list               print the workloads and exit
Exit status 1 on a value or gradient mismatch with PyTorch, a leaked tensor, or an error.`;

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function fail(msg: string): never {
  log(`bench: ${msg}\n\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<number> {
  // `pnpm bench -- --only x` passes the separator through: drop it.
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const { values } = parseArgs({
    args,
    options: {
      only: { type: 'string' },
      backend: { type: 'string' },
      budget: { type: 'string' },
      ci: { type: 'boolean', default: false },
      out: { type: 'string' },
      python: { type: 'string' },
      'no-torch': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.list) {
    for (const w of WORKLOADS) console.log(`${w.id.padEnd(26)} ${w.fn.padEnd(32)} ${w.shapes}`);
    return 0;
  }

  const ids = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : values.ci ? CI_WORKLOADS : WORKLOADS.map((w) => w.id);
  for (const id of ids) if (!WORKLOADS.some((w) => w.id === id)) fail(`unknown workload "${id}" (known: ${WORKLOADS.map((w) => w.id).join(', ')})`);
  const workloads = WORKLOADS.filter((w) => ids.includes(w.id));
  const backends = (values.backend ? values.backend.split(',').map((s) => s.trim()) : BACKENDS) as BackendName[];
  for (const b of backends) if (!BACKENDS.includes(b)) fail(`unknown backend "${b}" (known: ${BACKENDS.join(', ')})`);
  const budgetS = values.budget !== undefined ? Number(values.budget) : values.ci ? 0.05 : 2;
  if (!Number.isFinite(budgetS) || budgetS < 0) fail(`--budget must be a number of seconds >= 0; got ${values.budget}`);
  const opts: RunOptions = { budgetMs: budgetS * 1000, minRuns: 3, maxRuns: 1000 };
  const outDir = path.resolve(values.out ?? path.join(HERE, '..', 'out'));
  const python = values.python ?? process.env.BENCH_PYTHON ?? '/usr/bin/python3';

  log(`bench: ${workloads.length} workload(s) on ${backends.join(', ')}, budget ${budgetS} s per workload and backend`);
  const loadBefore = os.loadavg();
  if (loadBefore[0] > 0.5) log(`  the machine is busy (load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores): timings will be noisy`);

  // Which losses exist yet (probed on cpu: the generator's placeholder is recognized by its output).
  await setupBackend('cpu');
  const avail = new Map<string, Availability>();
  for (const w of workloads) {
    const a = await availability(w);
    avail.set(w.id, a);
    if (!a.available) log(`  ${w.id}: not available (${a.reason})`);
  }

  // The PyTorch side first, alone on the machine.
  const torch = values['no-torch'] ? ({ ok: false, reason: '--no-torch' } as const) : await (async () => {
    log(`PyTorch: ${python} python/torch_bench.py (1 thread)`);
    return runTorch(python, workloads, opts);
  })();
  let ratioAllowed = false;
  if (torch.ok) {
    const b = torch.run.blas;
    log(`PyTorch ${torch.run.torch}, ${torch.run.threads} thread(s), BLAS: ${b.kind} (${b.libraries.join(', ') || 'no BLAS library mapped'}; build BLAS_INFO=${b.buildBlasInfo})`);
    ratioAllowed = b.kind !== 'reference' && b.kind !== 'unknown';
    if (!ratioAllowed) {
      log(`  torch runs on the ${b.kind} BLAS: this is not a comparison (install libopenblas0-pthread); values are still checked, ratios are not reported`);
    }
  } else {
    log(`PyTorch comparison skipped: ${torch.reason}`);
  }

  const rows: Row[] = [];
  const raw: Record<string, Record<string, OursResult>> = {};
  const skippedBackends: { backend: string; reason: string }[] = [];
  for (const backend of backends) {
    try {
      const report = await setupBackend(backend);
      const adapter = report.adapter ? ` (${[report.adapter.vendor, report.adapter.architecture, report.adapter.description].filter(Boolean).join(' ')})` : '';
      log(`backend ${backend}${adapter}`);
    } catch (e) {
      const reason = (e as Error).message;
      log(`backend ${backend}: skipped, ${reason}`);
      skippedBackends.push({ backend, reason });
      continue;
    }
    for (const w of workloads) {
      const a = avail.get(w.id)!;
      if (!a.available) continue;
      const r = await runOurs(w, a.mod!, opts);
      (raw[w.id] ??= {})[backend] = r;
      const row = compare(w, backend, r, torch, ratioAllowed);
      rows.push(row);
      log(
        r.status === 'ok'
          ? `  ${w.id}: ${r.ms!.toFixed(2)} ms (median of ${r.runs}), ${r.kernels} kernels${r.dispatches !== undefined ? `, ${r.dispatches} dispatches` : ''}, leaked ${r.leaked}, value ${r.value} ${row.check}`
          : `  ${w.id}: ERROR ${r.error}`,
      );
    }
  }

  // One row per workload and backend, in BENCH.md order; a workload that is not available gets one row.
  for (const w of workloads) {
    const a = avail.get(w.id)!;
    if (a.available) continue;
    const t = torch.ok ? torch.run.results[w.id] : undefined;
    rows.push({ workload: w.id, backend: 'all', status: 'not available', note: a.reason, check: 'n/a', torchMs: t?.ms, torchValue: t?.value });
  }
  const order = (r: Row): number => workloads.findIndex((w) => w.id === r.workload) * 10 + ['all', ...BACKENDS].indexOf(r.backend as BackendName);
  rows.sort((a, b) => order(a) - order(b));

  const goalRows = goals(workloads, rows);
  const table = markdownTable(rows);
  const comparison = torch.ok
    ? `PyTorch ${torch.run.torch} on the CPU with ${torch.run.threads} thread, BLAS: ${torch.run.blas.kind}${ratioAllowed ? '' : ' (not a comparison: ratios withheld)'}`
    : `PyTorch comparison skipped: ${torch.reason}`;
  console.log(`\n${table}\n`);
  if (ratioAllowed) console.log(`Goal of issue 9 (ours on the faster of cpu and wasm / PyTorch):\n\n${goalTable(goalRows)}\n`);
  console.log(comparison);

  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    tfjs: tf.version_core,
    loadAverageBefore: loadBefore,
    loadAverageAfter: os.loadavg(),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  mkdirSync(outDir, { recursive: true });
  const date = new Date().toISOString();
  const doc = {
    date,
    machine,
    options: { workloads: ids, backends, budgetSeconds: budgetS, ci: values.ci, rtol: RTOL },
    skippedBackends,
    pytorch: torch.ok ? { torch: torch.run.torch, python: torch.run.python, threads: torch.run.threads, blas: torch.run.blas, ratios: ratioAllowed } : { skipped: torch.reason },
    rows,
    goals: ratioAllowed ? goalRows : [],
    ours: raw,
    torchResults: torch.ok ? torch.run.results : {},
  };
  writeFileSync(path.join(outDir, 'bench.json'), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'bench.md'), `Measured ${date} on ${machine.cpus} cores (${machine.cpuModel}), Node ${machine.node}, tfjs ${machine.tfjs}; ${comparison}.\n\n${table}\n${ratioAllowed ? `\n${goalTable(goalRows)}\n` : ''}`);
  const chartBackends = backends.filter((b) => !skippedBackends.some((s) => s.backend === b));
  writeFileSync(path.join(outDir, 'ratios.svg'), `${svgChart(rows, workloads.map((w) => w.id), chartBackends, `tfjs-losses vs PyTorch, ${date.slice(0, 10)}`)}\n`);
  log(`wrote ${path.join(outDir, 'bench.json')}, bench.md, ratios.svg`);

  const failures = rows.filter(isFailure);
  const unavailable = new Set(rows.filter((r) => r.status === 'not available').map((r) => r.workload));
  if (unavailable.size) log(`not available yet: ${[...unavailable].join(', ')}`);
  if (skippedBackends.length && values.backend) {
    log(`requested backend(s) could not start: ${skippedBackends.map((s) => s.backend).join(', ')}`);
    return 1;
  }
  if (failures.length) {
    log(`FAILED: ${failures.map((r) => `${r.workload}/${r.backend} (${r.status === 'error' ? 'error' : r.check === 'MISMATCH' ? 'mismatch' : r.leaked ? `leaked ${r.leaked}` : r.note})`).join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    log(`bench: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
