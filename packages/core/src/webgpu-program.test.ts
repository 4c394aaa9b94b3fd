import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, randomTensor } from '@tfjs-losses/test-utils';
import {
  WGSL_MAIN,
  WGSL_MATH,
  WORKGROUP_SIZE,
  dispatchFor,
  elementwiseLayout,
  elementwiseProgram,
  perUnitProgram,
  type WebGPUBackendLike,
  type WebGPUProgram,
} from './index';

// out = a x + softplus(y) per element (a program's own uniform, WGSL_MATH).
function axpyProgram(shape: number[], calls?: { n: number }): WebGPUProgram {
  return elementwiseProgram({
    shape,
    variableNames: ['xV', 'yV'],
    uniforms: 'a : f32,',
    shaderKey: 'tfjsLossesTestAxpySoftplus',
    userCode: () => {
      if (calls) calls.n++;
      return `
${WGSL_MATH}
${WGSL_MAIN} {
  if (index < uniforms.size) {
    setOutputAtIndex(index, uniforms.a * f32(xV[index]) + lossSoftplus(f32(yV[index])));
  }
}`;
    },
  });
}

// One invocation per row of x [N, C]: out[n] = Σ_c x[n, c].
function rowSumProgram(N: number): WebGPUProgram {
  return perUnitProgram({
    outputShape: [N],
    units: N,
    variableNames: ['xV'],
    shaderKey: 'tfjsLossesTestRowSum',
    userCode: `
${WGSL_MAIN} {
  let C = uniforms.xVShape.y;
  if (index >= uniforms.xVShape.x) { return; }
  var s = 0.0;
  for (var c = 0; c < C; c = c + 1) { s = s + f32(xV[index * C + c]); }
  setOutputAtIndex(index, s);
}`,
  });
}

describe(`WebGPU program factories (${tf.getBackend()})`, () => {
  it('elementwiseProgram has the elementwise layout, its uniforms, and builds its code only when asked', () => {
    const calls = { n: 0 };
    const p = axpyProgram([3, 70], calls);
    expect(p).toMatchObject({ ...elementwiseLayout([3, 70]), variableNames: ['xV', 'yV'], uniforms: 'a : f32,', shaderKey: 'tfjsLossesTestAxpySoftplus' });
    expect(p.dispatch).toEqual([Math.ceil(210 / WORKGROUP_SIZE[0]), 1, 1]);
    expect(calls.n).toBe(0);
    expect(p.getUserCode()).toContain('lossSoftplus');
    expect(calls.n).toBe(1);
  });

  it('perUnitProgram dispatches one invocation per unit, no size uniform; no uniforms key when none', () => {
    const p = rowSumProgram(130);
    expect(p).toMatchObject({ outputShape: [130], dispatchLayout: { x: [0] }, dispatch: dispatchFor(130), workgroupSize: WORKGROUP_SIZE });
    expect(p.size).toBeUndefined();
    expect('uniforms' in p).toBe(false);
    expect(p.getUserCode()).toContain('xVShape');
  });

  if (tf.getBackend() === 'webgpu') {
    const run = (program: WebGPUProgram, inputs: tf.Tensor[], uniforms?: number[]): tf.Tensor => {
      const backend = tf.backend() as unknown as WebGPUBackendLike;
      const info = backend.runWebGPUProgram(program, inputs, 'float32', uniforms?.map((v) => ({ type: 'float32' as const, data: [v] })));
      return tf.engine().makeTensorFromTensorInfo(info);
    };

    it('an elementwise program agrees with tf ops (one and several workgroups)', async () => {
      for (const shape of [[3, 5], [130]]) {
        const x = randomTensor(shape, 1, -2, 2);
        const y = randomTensor(shape, 2, -30, 30);
        const got = run(axpyProgram(shape), [x, y], [0.75]);
        expect(got.shape).toEqual(shape);
        await expectClose(got, tf.add(tf.mul(x, 0.75), tf.softplus(y)), { rtol: 1e-5, atol: 1e-6 });
        tf.dispose([x, y, got]);
      }
    });

    it('a per-row program agrees with tf.sum over the rows', async () => {
      const x = randomTensor([130, 7], 3, -1, 1);
      const got = run(rowSumProgram(130), [x]);
      await expectClose(got, tf.sum(x, 1), { rtol: 1e-5, atol: 1e-6 });
      tf.dispose([x, got]);
    });
  }
});
