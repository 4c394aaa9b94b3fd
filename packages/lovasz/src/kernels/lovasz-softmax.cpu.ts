import type { HostArray, HostOutput } from '@tfjs-losses/core';
import type { LovaszSoftmaxAttrs } from './lovasz-softmax.kernel';
import { DescendingSorter } from './sort';

/**
 * Lovasz-Softmax on typed arrays (cpu and wasm): value and gradient in one
 * pass per (image, class).
 *
 * probas [B, S, C] (or [B, C, S] when channelsFirst), labels [B, S] int32.
 * Per group of pixels (an image with perImage, else the batch) and per
 * chosen class c: errors e = |[label = c] − p_c| (float32, as the composed
 * ops compute them) over valid pixels; the pixels with e > 0 are sorted
 * decreasingly (stable radix sort: ties by position) and walked once,
 *
 *   J_k = 1 − (F − f_k) / (F + b_k),  term = Σ_k e_(k) (J_k − J_{k−1}),
 *
 * while ∂term/∂p = (J_k − J_{k−1}) · ∂e/∂p (−1 where p is below its target
 * [label = c], else +1) is added into the gradient. Pixels with e = 0 add nothing and come after the
 * sorted ones, so leaving them out changes no step; F counts all valid
 * foreground pixels. Outputs: the loss (scalar) and d loss / d probas.
 */
export function lovaszSoftmaxHost([probas, labels]: HostArray[], attrs: LovaszSoftmaxAttrs): HostOutput[] {
  const { classes, weights, present, perImage, channelsFirst, hasIgnore, ignoreIndex } = attrs;
  const [batch, d1, d2] = probas.shape;
  const numClasses = channelsFirst ? d1 : d2;
  const size = channelsFirst ? d2 : d1;
  const p = probas.values as Float32Array;
  const lab = labels.values as Int32Array;
  const grad = new Float32Array(p.length);
  const groups = perImage ? batch : 1;
  const n = (batch * size) / groups;
  const err = new Float32Array(n);
  const where = new Int32Array(n); // index into probas
  const isFg = new Uint8Array(n);
  const slope = new Int8Array(n); // d e / d p: −1 where p is below its target, else +1
  const steps = new Float64Array(n); // Jaccard step of each entry, in gather order
  const counts = new Float64Array(numClasses);
  const sorter = new DescendingSorter(n);
  let total = 0;
  let nan = false;
  for (let g = 0; g < groups; g++) {
    const first = g * n;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const l = lab[first + i];
      if (hasIgnore && l === ignoreIndex) continue;
      if (l >= 0 && l < numClasses) counts[l]++;
    }
    let denom = classes.length;
    if (present) {
      denom = 0;
      for (const c of classes) if (counts[c] > 0) denom++;
      if (denom === 0) continue; // no class present: this group adds 0
    }
    let groupLoss = 0;
    for (let k = 0; k < classes.length; k++) {
      const c = classes[k];
      const fgTotal = counts[c];
      if (present && fgTotal === 0) continue;
      const scale = weights[k] / denom / groups;
      let m = 0;
      for (let i = 0; i < n; i++) {
        const pix = first + i;
        const l = lab[pix];
        if (hasIgnore && l === ignoreIndex) continue;
        const at = channelsFirst ? ((Math.floor(pix / size) * numClasses + c) * size + (pix % size)) : pix * numClasses + c;
        const f = l === c ? 1 : 0;
        const d = Math.fround(f - p[at]);
        const e = Math.abs(d);
        if (e > 0) {
          err[m] = e;
          where[m] = at;
          isFg[m] = f;
          slope[m] = d > 0 ? -1 : 1;
          m++;
        } else if (e !== e) {
          nan = true;
        }
      }
      const order = sorter.sort(err.subarray(0, m));
      let cumFg = 0;
      let prev = 0;
      let term = 0;
      for (let i = 0; i < m; i++) {
        const j = order[i];
        cumFg += isFg[j];
        const jac = 1 - (fgTotal - cumFg) / (fgTotal + (i + 1 - cumFg));
        const step = jac - prev;
        prev = jac;
        term += err[j] * step;
        steps[j] = step;
      }
      // Written back in pixel order (the walk above visits pixels in sorted order).
      for (let j = 0; j < m; j++) grad[where[j]] += scale * slope[j] * steps[j];
      groupLoss += weights[k] * term;
    }
    total += groupLoss / denom;
  }
  const loss = new Float32Array([nan ? NaN : total / groups]);
  if (nan) grad.fill(NaN);
  return [
    { values: loss, shape: [], dtype: 'float32' },
    { values: grad, shape: probas.shape, dtype: 'float32' },
  ];
}
