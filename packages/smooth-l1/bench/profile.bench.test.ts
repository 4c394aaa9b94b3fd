import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { setFusedKernelsEnabled } from '@tfjs-losses/core';
import { randomTensor } from '@tfjs-losses/test-utils';
import { balancedL1Loss, SelfAdjustingSmoothL1Loss, smoothL1Loss } from '../src/index';

// Per-kernel times of one forward + backward (BENCH.md shapes), for finding the bottleneck.
it(`per-kernel profile on ${tf.getBackend()}`, async () => {
  const p = randomTensor([262144, 4], 1, -2, 2);
  const t = randomTensor([262144, 4], 2, -2, 2);
  const sa = new SelfAdjustingSmoothL1Loss();
  const fns: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['smooth-l1', (a, b) => smoothL1Loss(a, b)],
    ['balanced-l1', (a, b) => balancedL1Loss(a, b)],
    ['self-adjusting', (a, b) => sa.call(a, b)],
  ];
  for (const fused of [false, true]) {
    setFusedKernelsEnabled(fused);
    for (const [id, f] of fns) {
      const run = () => {
        const { value, grads } = tf.valueAndGrads(f)([p, t]);
        tf.dispose([value, ...grads]);
      };
      run();
      const prof = await tf.profile(run);
      const rows = await Promise.all(prof.kernels.map(async (k) => `${k.name}:${(await k.kernelTimeMs) as number | { error: string }}`));
      console.log(`PROFILE ${id} fused=${fused}`, rows.filter((r) => !/^(Identity|Reshape):/.test(r)).join(' '));
    }
  }
  setFusedKernelsEnabled(true);
});
