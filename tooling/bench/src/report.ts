// Rows of the result: comparison with PyTorch, the printed table, the JSON
// document and the SVG chart of the ratios.
import type { OursResult } from './measure';
import type { TorchOutcome, TorchWorkloadResult } from './torch';
import { GOAL, type Workload } from './workloads';

/** Relative tolerance of the value and gradient comparison with PyTorch. */
export const RTOL = 1e-3;
const ATOL = 1e-6;

export type Check = 'ok' | 'MISMATCH' | 'skipped' | 'n/a';

export interface Row {
  workload: string;
  backend: string;
  status: 'ok' | 'not available' | 'error';
  note?: string;
  oursMs?: number;
  torchMs?: number;
  /** ours / PyTorch; absent when PyTorch did not run or runs on the reference BLAS. */
  ratio?: number;
  kernels?: number;
  dispatches?: number;
  peakBytes?: number;
  leaked?: number;
  value?: number;
  torchValue?: number;
  valueRelErr?: number;
  gradRelErr?: number;
  check: Check;
  runs?: number;
  torchRuns?: number;
}

function relErr(a: number, b: number): number {
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), ATOL / RTOL);
}

function sameDigests(a?: Record<string, string>, b?: Record<string, string>): boolean {
  if (!a || !b) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Compares our result on one backend with PyTorch's. */
export function compare(
  w: Workload,
  backend: string,
  ours: OursResult,
  torch: TorchOutcome,
  ratioAllowed: boolean,
): Row {
  const row: Row = { workload: w.id, backend, status: ours.status, check: 'skipped' };
  if (ours.status === 'error') {
    row.note = ours.error;
    row.check = 'n/a';
    return row;
  }
  Object.assign(row, {
    oursMs: ours.ms,
    kernels: ours.kernels,
    dispatches: ours.dispatches,
    peakBytes: ours.peakBytes,
    leaked: ours.leaked,
    value: ours.value,
    runs: ours.runs,
  });
  if (!torch.ok) return row;
  const t: TorchWorkloadResult | undefined = torch.run.results[w.id];
  if (!t || t.status !== 'ok') {
    row.check = 'n/a';
    row.note = `PyTorch side failed: ${t?.error ?? 'no result'}`;
    return row;
  }
  row.torchMs = t.ms;
  row.torchValue = t.value;
  row.torchRuns = t.runs;
  if (ratioAllowed && t.ms && ours.ms !== undefined) row.ratio = ours.ms / t.ms;
  if (!sameDigests(ours.inputDigests, t.inputDigests)) {
    row.check = 'MISMATCH';
    row.note = 'inputs differ between the two sides (hash implementations disagree)';
    return row;
  }
  row.valueRelErr = relErr(ours.value!, t.value!);
  const og = ours.grads ?? [];
  const tg = t.grads ?? [];
  let gradErr = og.length === tg.length ? 0 : Infinity;
  for (let i = 0; i < Math.min(og.length, tg.length); i++) {
    if (og[i].nonFinite !== tg[i].nonFinite) gradErr = Infinity;
    gradErr = Math.max(gradErr, relErr(og[i].l1, tg[i].l1));
  }
  row.gradRelErr = gradErr;
  row.check = row.valueRelErr <= RTOL && gradErr <= RTOL ? 'ok' : 'MISMATCH';
  if (row.check === 'MISMATCH') {
    row.note = `value ${ours.value} vs PyTorch ${t.value}; gradient |g|_1 rel. error ${gradErr.toExponential(1)}`;
  }
  return row;
}

/** A row is a failure of the run: a value mismatch, a leak, an error. */
export function isFailure(r: Row): boolean {
  return r.status === 'error' || r.check === 'MISMATCH' || (r.leaked ?? 0) !== 0 || (r.note?.startsWith('PyTorch side failed') ?? false);
}

const fmtMs = (x?: number): string => (x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtRatio = (x?: number): string => (x === undefined ? '-' : x >= 100 ? `${x.toFixed(0)}x` : x >= 10 ? `${x.toFixed(1)}x` : `${x.toFixed(2)}x`);
const fmtMB = (x?: number): string => (x === undefined ? '-' : (x / 2 ** 20).toFixed(1));

function checkText(r: Row): string {
  if (r.status === 'not available') return 'not available';
  if (r.status === 'error') return `error: ${r.note ?? ''}`;
  if (r.check === 'ok') return `ok (${(r.valueRelErr ?? 0).toExponential(0)})`;
  if (r.check === 'MISMATCH') return `MISMATCH: ${r.note ?? ''}`;
  return r.note ?? r.check;
}

/** The result as a Markdown table (printed, and pasted into the README). */
export function markdownTable(rows: Row[]): string {
  const head = ['workload', 'backend', 'ours ms', 'PyTorch ms', 'ratio', 'kernels/call', 'GPU dispatches', 'peak MB', 'leaked', 'value vs PyTorch'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((h, i) => (i >= 2 && i <= 8 ? '---:' : '---')).join(' | ')} |`];
  for (const r of rows) {
    const cells =
      r.status === 'not available'
        ? [r.workload, r.backend, '-', fmtMs(r.torchMs), '-', '-', '-', '-', '-', `not available: ${r.note ?? ''}`]
        : [
            r.workload,
            r.backend,
            fmtMs(r.oursMs),
            fmtMs(r.torchMs),
            fmtRatio(r.ratio),
            r.kernels === undefined ? '-' : String(r.kernels),
            r.dispatches === undefined ? '-' : String(r.dispatches),
            fmtMB(r.peakBytes),
            r.leaked === undefined ? '-' : String(r.leaked),
            checkText(r),
          ];
    lines.push(`| ${cells.map((c) => c.replace(/\|/g, '/')).join(' | ')} |`);
  }
  return lines.join('\n');
}

export interface GoalRow {
  workload: string;
  group: string;
  goal: number;
  best?: { backend: string; ratio: number };
  met?: boolean;
}

/** Issue 9's goal per workload: ours on the faster of cpu and wasm against PyTorch with one thread. */
export function goals(workloads: Workload[], rows: Row[]): GoalRow[] {
  return workloads.map((w) => {
    const cands = rows.filter((r) => r.workload === w.id && (r.backend === 'cpu' || r.backend === 'wasm') && r.ratio !== undefined);
    const goal = GOAL[w.group];
    if (cands.length === 0) return { workload: w.id, group: w.group, goal };
    const best = cands.reduce((a, b) => (b.ratio! < a.ratio! ? b : a));
    return { workload: w.id, group: w.group, goal, best: { backend: best.backend, ratio: best.ratio! }, met: best.ratio! <= goal };
  });
}

export function goalTable(g: GoalRow[]): string {
  const lines = ['| workload | goal | best of cpu/wasm | ratio | met |', '| --- | ---: | --- | ---: | --- |'];
  for (const r of g) {
    lines.push(`| ${r.workload} | ${r.group === 'matmul' ? '< ' : '<= '}${r.goal.toFixed(1)}x | ${r.best?.backend ?? '-'} | ${fmtRatio(r.best?.ratio)} | ${r.met === undefined ? '-' : r.met ? 'yes' : 'no'} |`);
  }
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const COLORS: Record<string, string> = { cpu: '#4e79a7', wasm: '#f28e2b', webgpu: '#9c9c9c' };

/** A horizontal bar chart of ours / PyTorch per workload and backend, log scale, with the 1x and 3x goals. */
export function svgChart(rows: Row[], workloads: string[], backends: string[], title: string): string {
  const ratios = rows.map((r) => r.ratio).filter((x): x is number => x !== undefined && x > 0);
  const lo = Math.min(0.1, ...ratios.map((x) => 10 ** Math.floor(Math.log10(x))));
  const hi = Math.max(10, ...ratios.map((x) => 10 ** Math.ceil(Math.log10(x))));
  const left = 190;
  const plotW = 620;
  const barH = 11;
  const groupH = backends.length * barH + 10;
  const top = 58;
  const height = top + workloads.length * groupH + 50;
  const width = left + plotW + 90;
  const x = (v: number): number => left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${left}" y="34" fill="#555">time of ours / PyTorch (CPU, 1 thread), log scale; left of a dashed line meets issue 9's goal (1x elementwise, 3x matmul)</text>`);
  backends.forEach((b, i) => {
    const lx = left + i * 150;
    out.push(`<rect x="${lx}" y="42" width="10" height="10" fill="${COLORS[b] ?? '#333'}"/><text x="${lx + 14}" y="51">${esc(b === 'webgpu' ? 'webgpu (software, llvmpipe)' : b)}</text>`);
  });
  for (let d = Math.log10(lo); d <= Math.log10(hi) + 1e-9; d++) {
    const v = 10 ** d;
    const gx = x(v);
    out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height - 40}" stroke="#ddd"/>`);
    out.push(`<text x="${gx}" y="${height - 26}" text-anchor="middle" fill="#555">${v >= 1 ? v.toFixed(0) : v.toString()}x</text>`);
  }
  for (const g of [1, 3]) {
    out.push(`<line x1="${x(g)}" y1="${top - 4}" x2="${x(g)}" y2="${height - 40}" stroke="#c00" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${x(g)}" y="${height - 12}" text-anchor="middle" fill="#c00" font-size="9">${g}x goal</text>`);
  }
  workloads.forEach((w, wi) => {
    const gy = top + wi * groupH;
    out.push(`<text x="${left - 8}" y="${gy + (backends.length * barH) / 2 + 4}" text-anchor="end">${esc(w)}</text>`);
    const missing = rows.find((row) => row.workload === w && row.status === 'not available');
    if (missing) {
      out.push(`<text x="${left + 4}" y="${gy + (backends.length * barH) / 2 + 4}" fill="#999">not available: ${esc(missing.note ?? '')}</text>`);
      return;
    }
    backends.forEach((b, bi) => {
      const r = rows.find((row) => row.workload === w && row.backend === b);
      const y = gy + bi * barH;
      if (r?.ratio !== undefined && r.ratio > 0) {
        const xe = x(r.ratio);
        out.push(`<rect x="${left}" y="${y}" width="${Math.max(1, xe - left).toFixed(1)}" height="${barH - 2}" fill="${COLORS[b] ?? '#333'}"/>`);
        out.push(`<text x="${xe + 4}" y="${y + barH - 3}" font-size="9">${fmtRatio(r.ratio)}</text>`);
      } else {
        const why = !r ? '' : r.status === 'not available' ? 'not available' : r.status === 'error' ? 'error' : 'no PyTorch ratio';
        if (why) out.push(`<text x="${left + 4}" y="${y + barH - 3}" font-size="9" fill="#999">${b}: ${why}</text>`);
      }
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
