// node --test (pnpm test): the parts of the harness that decide what the bench reports.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@tfjs-losses/core';
import { digest, generate, hashUnit, type InputSpec } from './inputs';
import { isGeneratorPlaceholder, type OursResult } from './measure';
import { compare, isFailure } from './report';
import type { TorchOutcome } from './torch';
import { WORKLOADS } from './workloads';

const SCRIPT = fileURLToPath(new URL('../python/bench_inputs.py', import.meta.url));

function pythonDigests(inputs: InputSpec[]): Record<string, string> {
  const out = execFileSync('/usr/bin/python3', [SCRIPT, '--digests'], { input: JSON.stringify({ inputs }), maxBuffer: 1 << 20 });
  return JSON.parse(out.toString()) as Record<string, string>;
}

describe('inputs', () => {
  it('hashUnit gives u in [0, 1) with a spread of values', () => {
    const us = Array.from({ length: 10000 }, (_, i) => hashUnit(7, i));
    assert.ok(us.every((u) => u >= 0 && u < 1));
    const mean = us.reduce((a, b) => a + b, 0) / us.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
    assert.notEqual(hashUnit(7, 0), hashUnit(8, 0));
  });

  it('generates the same bytes as python/bench_inputs.py for every kind', () => {
    const specs: InputSpec[] = [
      { name: 'u', shape: [3, 5], dtype: 'float32', seed: 1, gen: { kind: 'uniform', lo: -2, hi: 3 }, grad: true },
      { name: 'i', shape: [17], dtype: 'int32', seed: 4294967295, gen: { kind: 'int', lo: 1, hi: 63 }, grad: false },
      { name: 'b', shape: [4, 4], dtype: 'float32', seed: 3, gen: { kind: 'bernoulli', p: 0.3 }, grad: true },
      { name: 'bi', shape: [9], dtype: 'int32', seed: 3, gen: { kind: 'bernoulli', p: 0.5 }, grad: false },
      { name: 's', shape: [6, 21], dtype: 'float32', seed: 5, gen: { kind: 'simplex', lo: 0.01, hi: 1 }, grad: true },
      { name: 'n', shape: [2, 3, 128], dtype: 'float32', seed: 6, gen: { kind: 'unit', lo: -1, hi: 1 }, grad: true },
    ];
    const py = pythonDigests(specs);
    for (const s of specs) assert.equal(digest(generate(s)), py[s.name], `input ${s.name} (${s.gen.kind})`);
  });

  it('generates the same bytes as Python for every BENCH.md input', () => {
    const all = WORKLOADS.flatMap((w) => w.inputs.map((s) => ({ ...s, name: `${w.id}/${s.name}` })));
    const py = pythonDigests(all);
    for (const s of all) assert.equal(digest(generate(s)), py[s.name], s.name);
  });

  it('simplex rows sum to 1 and unit rows have norm 1', () => {
    const s = generate({ name: 's', shape: [4, 21], dtype: 'float32', seed: 9, gen: { kind: 'simplex', lo: 0.01, hi: 1 }, grad: true });
    const n = generate({ name: 'n', shape: [4, 128], dtype: 'float32', seed: 9, gen: { kind: 'unit', lo: -1, hi: 1 }, grad: true });
    for (let r = 0; r < 4; r++) {
      let a = 0;
      let b = 0;
      for (let c = 0; c < 21; c++) a += s[r * 21 + c];
      for (let c = 0; c < 128; c++) b += n[r * 128 + c] ** 2;
      assert.ok(Math.abs(a - 1) < 1e-5 && Math.abs(b - 1) < 1e-5, `row ${r}: ${a} ${b}`);
    }
  });
});

describe('BLAS detection (python/blas.py)', () => {
  it('tells OpenBLAS from the reference BLAS by the mapped libraries', () => {
    const cases: [string[], string][] = [
      [['/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3', '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so'], 'OpenBLAS'],
      [['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0', '/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3.11.0'], 'reference'],
      [['/opt/intel/lib/libmkl_rt.so.2'], 'MKL'],
      [[], 'unknown'],
    ];
    const code = `import json, sys; sys.path.insert(0, ${JSON.stringify(path.dirname(SCRIPT))}); from blas import classify_blas; print(json.dumps([classify_blas(c) for c in json.load(sys.stdin)]))`;
    const out = execFileSync('/usr/bin/python3', ['-c', code], { input: JSON.stringify(cases.map((c) => c[0])) });
    assert.deepEqual(JSON.parse(out.toString()), cases.map((c) => c[1]));
  });
});

describe('placeholder detection', () => {
  before(async () => {
    await setupBackend('cpu');
  });

  it("recognizes the generator's squared-error placeholder", async () => {
    const placeholder = (p: tf.Tensor, t: tf.Tensor): tf.Tensor => tf.mean(tf.squaredDifference(p, t));
    assert.equal(await isGeneratorPlaceholder(placeholder), true);
  });

  it('does not take a real loss, a class or a throwing function for it', async () => {
    const lsgan = (r: tf.Tensor, f: tf.Tensor): tf.Tensor => tf.add(tf.mul(0.5, tf.mean(tf.square(tf.sub(r, 1)))), tf.mul(0.5, tf.mean(tf.square(f))));
    class Loss {
      call(): number {
        return 0;
      }
    }
    const picky = (): tf.Tensor => {
      throw new Error('logits must have rank 3');
    };
    assert.equal(await isGeneratorPlaceholder(lsgan), false);
    assert.equal(await isGeneratorPlaceholder(Loss), false);
    assert.equal(await isGeneratorPlaceholder(picky), false);
    assert.equal(await isGeneratorPlaceholder(undefined), false);
  });

  it('leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    await isGeneratorPlaceholder((p: tf.Tensor, t: tf.Tensor) => tf.mean(tf.squaredDifference(p, t)));
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('comparison with PyTorch', () => {
  const w = WORKLOADS.find((x) => x.id === 'smooth-l1')!;
  const digests = { pred: 'a', target: 'b' };
  const ours = (value: number, l1 = 10, leaked = 0): OursResult => ({
    status: 'ok',
    value,
    grads: [
      { l1, sum: 0, nonFinite: 0 },
      { l1, sum: 0, nonFinite: 0 },
    ],
    ms: 4,
    runs: 3,
    kernels: 10,
    peakBytes: 100,
    leaked,
    inputDigests: digests,
  });
  const torch = (value: number, blasOk = true): TorchOutcome => ({
    ok: true,
    run: {
      torch: '1.13',
      python: '3.11',
      threads: 1,
      blas: { kind: blasOk ? 'OpenBLAS' : 'reference', libraries: [], buildBlasInfo: 'generic', env: {} },
      results: {
        'smooth-l1': {
          status: 'ok',
          value,
          grads: [
            { l1: 10, sum: 0, nonFinite: 0 },
            { l1: 10, sum: 0, nonFinite: 0 },
          ],
          ms: 2,
          runs: 5,
          inputDigests: digests,
        },
      },
    },
  });

  it('accepts values within 1e-3 relative and reports the ratio', () => {
    const row = compare(w, 'cpu', ours(0.6005), torch(0.6), true);
    assert.equal(row.check, 'ok');
    assert.equal(row.ratio, 2);
    assert.equal(isFailure(row), false);
  });

  it('fails on a value or gradient mismatch, or a leak', () => {
    assert.equal(compare(w, 'cpu', ours(0.61), torch(0.6), true).check, 'MISMATCH');
    assert.equal(compare(w, 'cpu', ours(0.6, 10.1), torch(0.6), true).check, 'MISMATCH');
    assert.equal(isFailure(compare(w, 'cpu', ours(0.6), torch(0.6), true)), false);
    assert.equal(isFailure(compare(w, 'cpu', ours(0.6, 10, 2), torch(0.6), true)), true);
  });

  it('fails when the two sides did not see the same inputs', () => {
    const r = ours(0.6);
    r.inputDigests = { pred: 'a', target: 'c' };
    assert.equal(compare(w, 'cpu', r, torch(0.6), true).check, 'MISMATCH');
  });

  it('withholds the ratio when it is not allowed (reference BLAS) but still checks values', () => {
    const row = compare(w, 'cpu', ours(0.6), torch(0.6, false), false);
    assert.equal(row.ratio, undefined);
    assert.equal(row.check, 'ok');
  });

  it('skips the comparison without PyTorch', () => {
    const row = compare(w, 'cpu', ours(0.6), { ok: false, reason: 'no torch' }, false);
    assert.equal(row.check, 'skipped');
    assert.equal(isFailure(row), false);
  });
});
