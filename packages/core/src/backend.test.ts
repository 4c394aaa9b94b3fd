import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from './index';

const current = tf.getBackend();

describe(`setupBackend (project ${current})`, () => {
  it('reports the backend it runs', async () => {
    const report = await setupBackend(current as 'cpu');
    expect(report.backend).toBe(current);
    expect(report.platform).toBe('node');
    expect(report.skipped).toEqual([]);
    expect(tf.getBackend()).toBe(current);
  });

  if (current === 'webgpu') {
    it('webgpu in Node reports the Dawn adapter it got', async () => {
      const report = await setupBackend('webgpu');
      expect(report.adapter).toBeDefined();
      const info = report.adapter!;
      expect(`${info.vendor} ${info.architecture} ${info.description}`.trim().length).toBeGreaterThan(0);
      // A real computation, read back asynchronously.
      const s = await tf.sum(tf.range(0, 1000)).data();
      expect(s[0]).toBe(499500);
    });
  }

  it('rejects unknown names', async () => {
    await expect(setupBackend('tpu' as never)).rejects.toThrow(/unknown backend "tpu"/);
  });

  if (current === 'cpu') {
    it('falls back with the reason when a preferred backend cannot start', async () => {
      // A Dawn toggle naming no real backend yields no adapter: webgpu is skipped.
      const report = await setupBackend(['webgpu', 'cpu'], { dawnFlags: ['backend=none-such'] });
      expect(report.backend).toBe('cpu');
      expect(report.skipped.map((s) => s.backend)).toEqual(['webgpu']);
      expect(report.skipped[0].reason.length).toBeGreaterThan(10);
    });

    it('a single backend that cannot start is an error that says why', async () => {
      await expect(setupBackend('webgpu', { dawnFlags: ['backend=none-such'] })).rejects.toThrow(/backend "webgpu" could not start: .+/);
      expect(tf.getBackend()).toBe('cpu');
    });
  }
});
