// Forward plus backward timings of the BENCH.md lovasz workloads, fused
// kernel and composed ops. Prints one JSON line per measurement.
// Run: TFJS_BACKENDS=cpu,wasm pnpm exec vitest run -c bench/vitest.config.ts
import * as tf from '@tensorflow/tfjs-core';
import { withComposedOps } from '@tfjs-losses/core';
import { seededRandom } from '@tfjs-losses/test-utils';
import { expect, it } from 'vitest';
import { lovaszHinge, lovaszSoftmax } from '../src/index';

const RUNS = Number(process.env.LOVASZ_BENCH_RUNS ?? 5);

function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = seededRandom(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * r();
  return v;
}

const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * Wall time and process CPU time (user + system) of forward plus backward,
 * read back to the host. On a shared machine the CPU time is the steadier
 * figure (single-threaded backends: CPU time <= wall time).
 */
async function time(step: () => tf.Tensor[]): Promise<{ medianMs: number; medianCpuMs: number; runs: number[] }> {
  const once = async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = step();
    await Promise.all(out.map((t) => t.data()));
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    tf.dispose(out);
    return { ms, cpuMs: (c.user + c.system) / 1000 };
  };
  await once(); // warm-up (kernel registration, shader compilation)
  const runs: { ms: number; cpuMs: number }[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once());
  return { medianMs: median(runs.map((r) => r.ms)), medianCpuMs: median(runs.map((r) => r.cpuMs)), runs: runs.map((r) => r.ms) };
}

const workloads = {
  'lovasz-softmax': () => {
    const probas = tf.softmax(tf.tensor(uniform(8 * 128 * 128 * 21, 1, -3, 3), [8, 128, 128, 21]));
    const r = seededRandom(2);
    const labels = tf.tensor(Int32Array.from({ length: 8 * 128 * 128 }, () => Math.floor(r() * 21)), [8, 128, 128], 'int32');
    return { step: () => { const { value, grads } = tf.valueAndGrads((p: tf.Tensor) => lovaszSoftmax(p, labels))([probas]); return [value, ...grads]; }, inputs: [probas, labels] };
  },
  'lovasz-hinge': () => {
    const logits = tf.tensor(uniform(8 * 256 * 256, 3, -4, 4), [8, 256, 256]);
    const r = seededRandom(4);
    const labels = tf.tensor(Int32Array.from({ length: 8 * 256 * 256 }, () => (r() < 0.3 ? 1 : 0)), [8, 256, 256], 'int32');
    return { step: () => { const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => lovaszHinge(x, labels))([logits]); return [value, ...grads]; }, inputs: [logits, labels] };
  },
};

for (const [id, make] of Object.entries(workloads)) {
  for (const path of (process.env.LOVASZ_BENCH_PATHS ?? 'fused,composed').split(',')) {
    it(`${id} ${path}`, async () => {
      const { step, inputs } = make();
      const run = path === 'composed' ? () => withComposedOps(step) : step;
      const before = tf.memory().numTensors;
      const { medianMs, medianCpuMs, runs } = await time(run);
      const profile = await tf.profile(() => run());
      tf.dispose(profile.result as tf.Tensor[]);
      expect(tf.memory().numTensors).toBe(before);
      console.log(JSON.stringify({ id, backend: tf.getBackend(), path, medianMs: Math.round(medianMs), medianCpuMs: Math.round(medianCpuMs), runs: runs.map(Math.round), kernels: profile.kernels.length, peakBytes: profile.peakBytes }));
      tf.dispose(inputs);
    });
  }
}
