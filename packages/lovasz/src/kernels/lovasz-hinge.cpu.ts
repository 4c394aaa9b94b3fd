import type { HostArray, HostOutput } from '@tfjs-losses/core';
import type { LovaszHingeAttrs } from './lovasz-hinge.kernel';
import { DescendingSorter } from './sort';

/**
 * Lovasz hinge on typed arrays (cpu and wasm): value and gradient in one
 * pass per group (an image with perImage, else the batch).
 *
 * logits [G, N], labels [G, N] int32. Over valid pixels, s = 2y − 1 and
 * e = 1 − x s (float32, as the composed ops compute it); the pixels with
 * e > 0 are sorted decreasingly (stable radix sort: ties by position) and
 * walked once with F the group's valid foreground count,
 *
 *   J_k = 1 − (F − f_k) / (F + b_k),  loss = Σ_k e_(k) (J_k − J_{k−1}),
 *
 * and ∂loss/∂x = −s (J_k − J_{k−1}). Pixels with e <= 0 add nothing and come
 * after the sorted ones, so leaving them out changes no step. `symmetric`
 * adds the same walk with foreground and background swapped (same errors)
 * and halves. Outputs: the mean over groups (scalar) and d loss / d logits.
 */
export function lovaszHingeHost([logits, labels]: HostArray[], attrs: LovaszHingeAttrs): HostOutput[] {
  const { symmetric, hasIgnore, ignoreIndex } = attrs;
  const [groups, n] = logits.shape;
  const x = logits.values as Float32Array;
  const lab = labels.values as Int32Array;
  const grad = new Float32Array(x.length);
  const err = new Float32Array(n);
  const where = new Int32Array(n);
  const isFg = new Uint8Array(n);
  const sorter = new DescendingSorter(n);
  const scale = 1 / groups / (symmetric ? 2 : 1);
  let total = 0;
  let nan = false;
  for (let g = 0; g < groups; g++) {
    const first = g * n;
    let fgTotal = 0;
    let validTotal = 0;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const pix = first + i;
      const l = lab[pix];
      if (hasIgnore && l === ignoreIndex) continue;
      validTotal++;
      const f = l === 1 ? 1 : 0;
      fgTotal += f;
      const e = Math.fround(1 - Math.fround(x[pix] * (f ? 1 : -1)));
      if (e > 0) {
        err[m] = e;
        where[m] = pix;
        isFg[m] = f;
        m++;
      } else if (e !== e) {
        nan = true;
      }
    }
    const bgTotal = validTotal - fgTotal;
    const order = sorter.sort(err.subarray(0, m));
    let cumFg = 0;
    let prev = 0;
    let prevBg = 0;
    let sum = 0;
    for (let i = 0; i < m; i++) {
      const j = order[i];
      const f = isFg[j];
      cumFg += f;
      const cumBg = i + 1 - cumFg;
      const jac = 1 - (fgTotal - cumFg) / (fgTotal + cumBg);
      let step = jac - prev;
      prev = jac;
      if (symmetric) {
        // (−x, 1 − y): background is the foreground, errors unchanged.
        const jacBg = 1 - (bgTotal - cumBg) / (bgTotal + cumFg);
        step += jacBg - prevBg;
        prevBg = jacBg;
      }
      sum += err[j] * step;
      grad[where[j]] = scale * (f ? -step : step);
    }
    total += sum;
  }
  const loss = new Float32Array([nan ? NaN : total * scale]);
  if (nan) grad.fill(NaN);
  return [
    { values: loss, shape: [], dtype: 'float32' },
    { values: grad, shape: logits.shape, dtype: 'float32' },
  ];
}
