// Times the BENCH.md workloads of @tfjs-losses/smooth-l1 (forward + backward with
// respect to pred and target, [262144, 4]) on the current backend, fused kernels
// on and off. Prints one JSON line per workload. Not part of `pnpm test`.
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { setFusedKernelsEnabled } from '@tfjs-losses/core';
import { randomTensor } from '@tfjs-losses/test-utils';
import { balancedL1Loss, DynamicSmoothL1Loss, SelfAdjustingSmoothL1Loss, smoothL1Loss } from '../src/index';

const N = 262144;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 9);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Loss = (p: tf.Tensor, t: tf.Tensor) => tf.Tensor;

/** One forward + backward: wall time and this process's CPU time (user + system). */
async function step(f: Loss, p: tf.Tensor, t: tf.Tensor, fused: boolean): Promise<{ ms: number; cpuMs: number }> {
  const prev = setFusedKernelsEnabled(fused);
  try {
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const { value, grads } = tf.valueAndGrads(f)([p, t]);
    await Promise.all([value.data(), ...grads.map((g) => g.data())]);
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    tf.dispose([value, ...grads]);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    setFusedKernelsEnabled(prev);
  }
}

async function profile(f: Loss, p: tf.Tensor, t: tf.Tensor, fused: boolean) {
  const prev = setFusedKernelsEnabled(fused);
  try {
    const before = tf.memory().numTensors;
    const info = await tf.profile(() => {
      const { value, grads } = tf.valueAndGrads(f)([p, t]);
      tf.dispose([value, ...grads]);
    });
    return { kernels: info.kernels.length, leftTensors: tf.memory().numTensors - before };
  } finally {
    setFusedKernelsEnabled(prev);
  }
}

/**
 * Composed and fused runs alternate (after two warm-ups each), so both see the
 * same machine load; medians of wall and CPU time. On a shared machine the CPU
 * time is the steadier figure for cpu and wasm, whose kernels run on this thread.
 */
async function compare(f: Loss, p: tf.Tensor, t: tf.Tensor) {
  for (let i = 0; i < 2; i++) {
    await step(f, p, t, false);
    await step(f, p, t, true);
  }
  const runs: Record<'composed' | 'fused', { ms: number; cpuMs: number }[]> = { composed: [], fused: [] };
  for (let i = 0; i < REPEATS; i++) {
    runs.composed.push(await step(f, p, t, false));
    runs.fused.push(await step(f, p, t, true));
  }
  const summary = async (k: 'composed' | 'fused') => ({
    wallMs: +median(runs[k].map((r) => r.ms)).toFixed(1),
    cpuMs: +median(runs[k].map((r) => r.cpuMs)).toFixed(1),
    ...(await profile(f, p, t, k === 'fused')),
  });
  return { composed: await summary('composed'), fused: await summary('fused') };
}

it(`BENCH.md smooth-l1 workloads on ${tf.getBackend()}`, async () => {
  const p = randomTensor([N, 4], 1, -2, 2);
  const t = randomTensor([N, 4], 2, -2, 2);
  const dynamic = new DynamicSmoothL1Loss({ beta: 0.5 });
  const selfAdjusting = new SelfAdjustingSmoothL1Loss();
  const workloads: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['smooth-l1', (a, b) => smoothL1Loss(a, b)],
    ['balanced-l1', (a, b) => balancedL1Loss(a, b)],
    ['dynamic-smooth-l1', (a, b) => dynamic.call(a, b)],
    ['self-adjusting-smooth-l1', (a, b) => selfAdjusting.call(a, b)],
  ];
  const only = process.env.BENCH_ONLY?.split(',');
  for (const [id, f] of workloads) {
    if (only && !only.includes(id)) continue;
    const result = await compare(f, p, t);
    console.log(JSON.stringify({ id, backend: tf.getBackend(), repeats: REPEATS, ...result, loadAvg: +loadavg()[0].toFixed(1) }));
  }
  dynamic.dispose();
  selfAdjusting.dispose();
  tf.dispose([p, t]);
});
