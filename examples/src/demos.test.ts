// Every demo of the default list runs for a few steps (on the backend of the
// Vitest project) and returns finite curves, an evidence line and metrics,
// leaking no tensor; the CLI's arguments and output folder are checked too.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { lossChartSvg, pictureSvg, smooth } from './chart';
import { DEMOS, FAMILIES } from './demos';
import type { Progress } from './demos';
import { parseArgs, runDemos } from './node/run';

describe('every demo runs a few steps', () => {
  it('covers every family', () => {
    expect(DEMOS.map((d) => d.family).sort()).toEqual([...FAMILIES].sort());
  });

  for (const demo of DEMOS) {
    it(demo.family, async () => {
      const steps = Math.max(demo.minSteps, 4);
      const before = tf.memory().numTensors;
      const progress: Progress[] = [];
      const result = await demo.run({ steps, seed: 7, onProgress: (p) => void progress.push(p) });
      expect(tf.memory().numTensors).toBe(before);
      expect(result.family).toBe(demo.family);
      expect(result.steps).toBe(steps); // every minimum is even, as focal's two equal runs need
      expect(progress.map((p) => p.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
      expect(progress.every((p) => p.total === steps && p.batch > 0)).toBe(true);
      // Phases run one after another, or several models train in the same step.
      for (const c of result.curves) expect(c.values.length).toBeGreaterThan(0);
      const values = result.curves.flatMap((c) => c.values);
      expect([steps, steps * result.curves.length]).toContain(values.length);
      expect(values.every(Number.isFinite)).toBe(true);
      expect(result.evidence.length).toBeGreaterThan(20);
      expect(Object.keys(result.metrics).length).toBeGreaterThan(0);
      if (result.picture) expect(pictureSvg(result.picture)).toMatch(/^<svg[^]*<\/svg>$/);
    });
  }
});

describe('pnpm demo arguments', () => {
  it('parses --only, --backend, --steps, --seed and --out', () => {
    const o = parseArgs(['--', '--only', 'focal', '--backend=cpu', '--steps', '5', '--seed', '3', '--out', 'x'], '/tmp');
    expect(o).toEqual({ only: ['focal'], backend: 'cpu', steps: 5, seed: 3, out: '/tmp/x', help: false });
    expect(parseArgs(['--help']).help).toBe(true);
  });

  it('rejects unknown families, backends and bad step counts', () => {
    expect(() => parseArgs(['--only', 'nope'])).toThrow(/unknown family "nope"/);
    expect(() => parseArgs(['--backend', 'gpu'])).toThrow(/webgpu, wasm or cpu/);
    expect(() => parseArgs(['--steps', '0'])).toThrow(/positive integer/);
    expect(() => parseArgs(['--steps'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown argument/);
  });
});

describe('the output folder', () => {
  it('holds a loss curve per demo and summary.json', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'tfjs-losses-demo-'));
    const family = DEMOS[0].family;
    const lines: string[] = [];
    const summary = await runDemos(
      { only: [family], backend: tf.getBackend() as 'wasm', steps: DEMOS[0].minSteps, seed: 1, out, help: false },
      (l) => lines.push(l),
    );
    expect(summary.demos.map((d) => d.status)).toEqual(['ok']);
    expect(summary.backend.backend).toBe(tf.getBackend());
    expect(lines.join('\n')).toMatch(/evidence: /);
    const written = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(written.demos[0].family).toBe(family);
    expect(written.demos[0].tensorsLeaked).toBe(0);
    expect(readFileSync(path.join(out, `${family}-loss.svg`), 'utf8')).toMatch(/<polyline|<circle/);
    expect(existsSync(path.join(out, `${family}-picture.svg`))).toBe(true);
  });
});

describe('charts', () => {
  it('smooths with a centred window, skipping non-finite values', () => {
    expect(smooth([0, 3, 6, Number.NaN, 12], 1)).toEqual([1.5, 3, 4.5, 9, 12]);
  });

  it('draws every curve, skipping non-finite values', () => {
    const svg = lossChartSvg([
      { name: 'a', values: [3, 2, Number.NaN, 1] },
      { name: 'b', values: [1, 0.5] },
    ]);
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg).toContain('>a</text>');
    expect(svg).not.toContain('NaN');
  });
});
