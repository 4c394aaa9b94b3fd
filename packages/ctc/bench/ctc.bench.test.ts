// Forward plus backward timings of the BENCH.md ctc workloads on the fused
// kernel and on the composed ops, with kernel and (webgpu) dispatch counts.
// The inputs are those of `pnpm bench` (tooling/bench: same seeded hash, same
// seeds), whose PyTorch side gives the reference time. Prints one JSON line
// per measurement.
//
// Run: TFJS_BACKENDS=cpu,wasm,webgpu pnpm exec vitest run -c bench/vitest.config.ts
// Env: CTC_BENCH_RUNS (timed runs, default 7), CTC_BENCH_COMPOSED_RUNS
// (default 3), CTC_BENCH_PATHS (default fused,composed), CTC_BENCH_ONLY.
import * as tf from '@tensorflow/tfjs-core';
import { withComposedOps } from '@tfjs-losses/core';
import { hashUnit } from '@tfjs-losses/test-utils/hash';
import { expect, it } from 'vitest';
import { ctcLoss } from '../src/index';

const uniform = (shape: number[], seed: number, lo: number, hi: number) =>
  tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => lo + (hi - lo) * hashUnit(seed, i)), shape);
const ints = (shape: number[], seed: number, lo: number, hi: number) =>
  tf.tensor(Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => lo + Math.floor(hashUnit(seed, i) * (hi - lo + 1))), shape, 'int32');

const workloads: Record<string, () => { x: tf.Tensor; f: (x: tf.Tensor) => tf.Tensor; keep: tf.Tensor[] }> = {
  ctc: () => {
    const x = uniform([32, 200, 64], 241, -3, 3);
    const labels = ints([32, 50], 242, 1, 63);
    const labelLengths = ints([32], 243, 20, 50);
    return { x, f: (v) => ctcLoss(v, labels, { labelLengths }), keep: [x, labels, labelLengths] };
  },
  'ctc-long': () => {
    const x = uniform([16, 800, 32], 251, -3, 3);
    const labels = ints([16, 200], 252, 1, 31);
    return { x, f: (v) => ctcLoss(v, labels), keep: [x, labels] };
  },
};

type Counter = { recordAndSubmit: (...a: unknown[]) => unknown };

for (const id of (process.env.CTC_BENCH_ONLY ?? 'ctc,ctc-long').split(',')) {
  for (const path of (process.env.CTC_BENCH_PATHS ?? 'fused,composed').split(',')) {
    it(`${id} ${path}`, async () => {
      const { x, f, keep } = workloads[id]();
      const step = () => {
        const { value, grad } = tf.valueAndGrad(f)(x);
        return [value, grad];
      };
      const run = path === 'composed' ? () => withComposedOps(step) : step;
      const once = async () => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const out = run();
        const values = await Promise.all(out.map((t) => t.data()));
        const c = process.cpuUsage(c0);
        const ms = performance.now() - t0;
        tf.dispose(out);
        return { ms, cpuMs: (c.user + c.system) / 1000, value: values[0][0] };
      };
      const first = await once(); // warm-up: registration, shader compilation
      const n = Number(path === 'composed' ? (process.env.CTC_BENCH_COMPOSED_RUNS ?? 3) : (process.env.CTC_BENCH_RUNS ?? 7));
      const runs = [];
      for (let i = 0; i < n; i++) runs.push(await once());
      const median = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)];

      const before = tf.memory().numTensors;
      let dispatches: number | undefined;
      const backend = tf.backend() as unknown as Counter;
      const original = backend.recordAndSubmit;
      if (tf.getBackend() === 'webgpu') {
        dispatches = 0;
        backend.recordAndSubmit = function (this: unknown, ...args: unknown[]) {
          dispatches! += 1;
          return original.apply(this, args);
        };
      }
      let profile: Awaited<ReturnType<typeof tf.profile>>;
      try {
        profile = await tf.profile(async () => {
          const out = run();
          await Promise.all(out.map((t) => t.data()));
          return out;
        });
      } finally {
        if (tf.getBackend() === 'webgpu') backend.recordAndSubmit = original;
      }
      tf.dispose(profile.result as tf.Tensor[]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(keep);
      console.log(
        JSON.stringify({
          id,
          backend: tf.getBackend(),
          path,
          value: first.value,
          medianMs: Math.round(median(runs.map((r) => r.ms))),
          medianCpuMs: Math.round(median(runs.map((r) => r.cpuMs))),
          runs: runs.map((r) => Math.round(r.ms)),
          kernels: profile.kernels.length,
          dispatches,
          peakMB: Math.round(profile.peakBytes / 1e5) / 10,
        }),
      );
    });
  }
}
