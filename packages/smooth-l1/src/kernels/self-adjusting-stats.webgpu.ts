import type * as tf from '@tensorflow/tfjs-core';
import { WGSL_MAIN, perUnitProgram, type ProgramUniforms, type WebGPUBackendLike } from '@tfjs-losses/core';
import { BETA_MIN, type SelfAdjustingStatsAttrs } from './self-adjusting-stats.kernel';

/*
 * The self-adjusting loss's statistics update (self-adjusting-stats.kernel.ts)
 * in WGSL, three dispatches whatever the batch size, in place of the
 * composed ops' thirty-odd:
 *
 *   1. per (chunk k, column j), the sum of n = |pred − target| over the rows
 *      k, k + K, k + 2K, ... (K = CHUNKS);
 *   2. the same units: the column mean from the K partial sums, then the sum
 *      of (n − mean)² over the same rows (two passes, as the cpu kernel, so
 *      no cancellation);
 *   3. one invocation: means and unbiased variances from the partials, the
 *      NaN guard (any NaN variance keeps every statistic), momentum and the
 *      beta clamp, written as the [3, C] statistics.
 *
 * float32 throughout; each partial sums at most rows / K values, and the K
 * partials are summed in turn. Buffer names end in V (WGSL reserves words
 * such as `target`); inputs are read through f32().
 */

/** Row chunks per column in the first two passes. */
const CHUNKS = 256;

function partialProgram(cols: number, second: boolean) {
  const units = CHUNKS * cols;
  return perUnitProgram({
    outputShape: [units],
    units,
    variableNames: second ? ['predV', 'targetV', 'sumsV'] : ['predV', 'targetV'],
    uniforms: 'rows : i32, cols : i32, chunks : i32,',
    shaderKey: `tfjsLossesSelfAdjustingStats_${second ? 'squares' : 'sums'}`,
    userCode: () => `
${WGSL_MAIN} {
  if (index >= uniforms.chunks * uniforms.cols) { return; }
  let j = index % uniforms.cols;
  let k = index / uniforms.cols;
  ${
    second
      ? `var total = 0.0;
  for (var kk = 0; kk < uniforms.chunks; kk = kk + 1) { total = total + f32(sumsV[kk * uniforms.cols + j]); }
  let mean = total / f32(uniforms.rows);`
      : ''
  }
  var s = 0.0;
  for (var r = k; r < uniforms.rows; r = r + uniforms.chunks) {
    let i = r * uniforms.cols + j;
    let n = abs(f32(predV[i]) - f32(targetV[i]));
    ${second ? 's = s + (n - mean) * (n - mean);' : 's = s + n;'}
  }
  setOutputAtIndex(index, s);
}`,
  });
}

function updateProgram(cols: number) {
  return perUnitProgram({
    outputShape: [3, cols],
    units: 1,
    variableNames: ['sumsV', 'squaresV', 'statsV'],
    uniforms: 'rows : i32, cols : i32, chunks : i32, keep : f32, take : f32, lo : f32, hi : f32,',
    shaderKey: 'tfjsLossesSelfAdjustingStats_update',
    userCode: () => `
fn isNanBits(v : f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn columnSum(j : i32, second : bool) -> f32 {
  var s = 0.0;
  for (var kk = 0; kk < uniforms.chunks; kk = kk + 1) {
    let at = kk * uniforms.cols + j;
    if (second) { s = s + f32(squaresV[at]); } else { s = s + f32(sumsV[at]); }
  }
  return s;
}
${WGSL_MAIN} {
  if (index > 0) { return; }
  let c = uniforms.cols;
  var skip = false;
  for (var j = 0; j < c; j = j + 1) {
    let mean = columnSum(j, false) / f32(uniforms.rows);
    let variance = columnSum(j, true) / f32(uniforms.rows - 1);
    if (isNanBits(variance)) { skip = true; }
    let mu = f32(statsV[j]) * uniforms.keep + mean * uniforms.take;
    let sigma2 = f32(statsV[c + j]) * uniforms.keep + variance * uniforms.take;
    setOutputAtIndex(j, mu);
    setOutputAtIndex(c + j, sigma2);
    setOutputAtIndex(2 * c + j, min(max(mu - sigma2, uniforms.lo), uniforms.hi));
  }
  // A NaN variance in any column keeps every statistic: the old ones over what was written.
  if (skip) {
    for (var k = 0; k < 3 * c; k = k + 1) { setOutputAtIndex(k, f32(statsV[k])); }
  }
}`,
  });
}

/** (pred, target, stats [3, C]) → the updated stats [3, C], in three dispatches. */
export const selfAdjustingStatsWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { pred, target, stats } = inputs as Record<'pred' | 'target' | 'stats', tf.TensorInfo>;
  const b = backend as unknown as WebGPUBackendLike & { disposeData(id: tf.DataId): void };
  const cols = stats.shape[1] as number;
  const rows = pred.shape.reduce((a, x) => a * x, 1) / cols;
  const { momentum, betaMax } = attrs as unknown as SelfAdjustingStatsAttrs;
  const i32 = (v: number): ProgramUniforms[number] => ({ type: 'int32', data: [v] });
  const f32 = (v: number): ProgramUniforms[number] => ({ type: 'float32', data: [v] });
  const shape = [i32(rows), i32(cols), i32(CHUNKS)];
  const sums = b.runWebGPUProgram(partialProgram(cols, false), [pred, target], 'float32', shape);
  const squares = b.runWebGPUProgram(partialProgram(cols, true), [pred, target, sums], 'float32', shape);
  const out = b.runWebGPUProgram(updateProgram(cols), [sums, squares, stats], 'float32', [
    ...shape,
    f32(momentum),
    f32(1 - momentum),
    f32(BETA_MIN),
    f32(betaMax),
  ]);
  b.disposeData(sums.dataId);
  b.disposeData(squares.dataId);
  return out;
};
