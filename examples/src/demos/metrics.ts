// Plain JavaScript measurements the demos report: k-NN accuracy, a 2-D PCA
// projection, edit distance, intersection over union.

/** Rows of `x` ([n, d], row-major) scaled to unit length. */
export function normalizeRows(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += d) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i + j] * x[i + j];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < d; j++) out[i + j] = x[i + j] * inv;
  }
  return out;
}

/**
 * Accuracy of a k-nearest-neighbour vote (cosine similarity) that labels each
 * query row from the reference rows.
 */
export function knnAccuracy(
  ref: Float32Array,
  refLabels: Int32Array,
  query: Float32Array,
  queryLabels: Int32Array,
  d: number,
  k = 5,
): number {
  const a = normalizeRows(ref, d);
  const b = normalizeRows(query, d);
  const nRef = refLabels.length;
  let correct = 0;
  const sims = new Float32Array(nRef);
  for (let q = 0; q < queryLabels.length; q++) {
    for (let r = 0; r < nRef; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += a[r * d + j] * b[q * d + j];
      sims[r] = s;
    }
    const order = Array.from(sims.keys()).sort((i, j) => sims[j] - sims[i]).slice(0, k);
    const votes = new Map<number, number>();
    for (const r of order) votes.set(refLabels[r], (votes.get(refLabels[r]) ?? 0) + 1);
    let best = -1;
    let bestVotes = -1;
    for (const [label, v] of votes) {
      if (v > bestVotes) {
        best = label;
        bestVotes = v;
      }
    }
    if (best === queryLabels[q]) correct++;
  }
  return correct / queryLabels.length;
}

/** Projects rows of `x` ([n, d]) on their two main principal axes (power iteration). */
export function pca2(x: Float32Array, d: number): [Float32Array, Float32Array] {
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const xj = x[i * d + j] - mean[j];
      for (let k = 0; k < d; k++) cov[j * d + k] += (xj * (x[i * d + k] - mean[k])) / n;
    }
  }
  const axes: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(d).map((_, j) => Math.sin(j + 1 + c));
    for (let it = 0; it < 100; it++) {
      const w = new Float64Array(d);
      for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) w[j] += cov[j * d + k] * v[k];
      for (const a of axes) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += w[j] * a[j];
        for (let j = 0; j < d; j++) w[j] -= dot * a[j];
      }
      const norm = Math.hypot(...w) || 1;
      v = w.map((t) => t / norm);
    }
    axes.push(v);
  }
  const px = new Float32Array(n);
  const py = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const xj = x[i * d + j] - mean[j];
      px[i] += xj * axes[0][j];
      py[i] += xj * axes[1][j];
    }
  }
  return [px, py];
}

/** Levenshtein distance between two label sequences. */
export function editDistance(a: readonly number[], b: readonly number[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Per-class intersection over union of two label maps; NaN for a class absent from both. */
export function iouPerClass(pred: Int32Array, truth: Int32Array, classes: number): number[] {
  const inter = new Float64Array(classes);
  const union = new Float64Array(classes);
  for (let i = 0; i < truth.length; i++) {
    const p = pred[i];
    const t = truth[i];
    if (p === t) {
      inter[t]++;
      union[t]++;
    } else {
      union[t]++;
      union[p]++;
    }
  }
  return Array.from(inter, (v, c) => (union[c] > 0 ? v / union[c] : Number.NaN));
}
