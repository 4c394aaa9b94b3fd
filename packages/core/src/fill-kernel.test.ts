import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, randomTensor } from '@tfjs-losses/test-utils';
import { defineFusedOp, fillKernelFunc, withComposedOps, type FillKernelSpec } from './index';

// y[i] = x[i] * w[cls[i]] and count = number of rows with cls >= 1: a float32
// and an int32 input, a float32 and an int32 output, attrs read in place.
const spec: FillKernelSpec = {
  inputNames: ['x', 'cls', 'w'],
  outputShapes: ([x]) => [x, []],
  outputDtypes: ['float32', 'int32'],
  fill([x, cls, w], [y, count], attrs) {
    const offset = (attrs as { offset: number }).offset;
    let c = 0;
    for (let i = 0; i < x.length; i++) {
      y[i] = x[i] * w[cls[i]] + offset;
      if (cls[i] >= 1) c++;
    }
    count[0] = c;
  },
};

const op = defineFusedOp<{ offset: number }>({
  kernelName: 'TfjsLossesTestFillGather',
  inputNames: ['x', 'cls', 'w'],
  kernels: { cpu: () => fillKernelFunc('cpu', spec), wasm: () => fillKernelFunc('wasm', spec) },
  composed: ([x, cls, w], { offset }) =>
    tf.tidy(() => [tf.add(tf.mul(x, tf.gather(w, cls)), offset), tf.sum(tf.cast(tf.greaterEqual(cls, 1), 'int32'))]),
});

describe(`fillKernelFunc on ${tf.getBackend()}`, () => {
  const x = randomTensor([1000], 3);
  const cls = tf.tensor1d(Array.from({ length: 1000 }, (_, i) => (i * 7) % 3), 'int32');
  const w = tf.tensor1d([0.5, -2, 3]);

  it('fills float32 and int32 outputs like the composed ops', async () => {
    const [y, count] = op([x, cls, w], { offset: 0.25 });
    const [yc, countc] = withComposedOps(() => op([x, cls, w], { offset: 0.25 }));
    expect(op.isFused()).toBe(tf.getBackend() !== 'webgpu');
    expect(count.dtype).toBe('int32');
    await expectClose(y, yc);
    expect(await count.data()).toEqual(await countc.data());
    expect((await count.data())[0]).toBe(666);
    tf.dispose([y, count, yc, countc]);
  });

  it('leaves its inputs untouched and leaks nothing', async () => {
    const before = await x.data();
    expectNoLeak(() => op([x, cls, w], { offset: 1 }));
    expect(await x.data()).toEqual(before);
  });
});
