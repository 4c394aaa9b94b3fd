// Test-only helpers shared by the loss, decoder and alignment tests (outside
// src, so they are neither built nor published).

/** Repeats merged, then blanks removed. */
export function collapse(path: number[], blank: number): number[] {
  const out: number[] = [];
  let prev = -1;
  for (const c of path) {
    if (c !== prev && c !== blank) out.push(c);
    prev = c;
  }
  return out;
}

/** Row-wise log-softmax in float64. */
export function logSoftmaxRows(rows: number[][]): number[][] {
  return rows.map((row) => {
    const m = Math.max(...row);
    const z = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return row.map((v) => v - z);
  });
}

/**
 * Every frame-by-frame path over C classes for T frames (C^T of them), with
 * its log-probability under `logits` [T, C]: the definition CTC sums over.
 */
export function* allPaths(logits: number[][]): Generator<{ path: number[]; logProb: number }> {
  const lp = logSoftmaxRows(logits);
  const T = lp.length;
  const C = lp[0].length;
  for (let k = 0; k < C ** T; k++) {
    let r = k;
    let logProb = 0;
    const path: number[] = [];
    for (let t = 0; t < T; t++) {
      path.push(r % C);
      r = Math.floor(r / C);
      logProb += lp[t][path[t]];
    }
    yield { path, logProb };
  }
}

/** log p(sequence | logits) for every decodable sequence, by brute force. */
export function sequenceLogProbs(logits: number[][], blank: number): Map<string, { seq: number[]; logProb: number }> {
  const out = new Map<string, { seq: number[]; logProb: number }>();
  for (const { path, logProb } of allPaths(logits)) {
    const seq = collapse(path, blank);
    const key = seq.join(',');
    const e = out.get(key);
    if (e) e.logProb = Math.log(Math.exp(e.logProb) + Math.exp(logProb));
    else out.set(key, { seq, logProb });
  }
  return out;
}

/** Uniform random logits [B, T, C] in [-scale, scale) from a seed (mulberry32). */
export function randomLogits(B: number, T: number, C: number, seed: number, scale = 2): number[][][] {
  let a = seed >>> 0;
  const r = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: B }, () =>
    Array.from({ length: T }, () => Array.from({ length: C }, () => (r() * 2 - 1) * scale)),
  );
}

/** Logits whose frame t strongly prefers class `frames[t]` (margin `gap`). */
export function peakedLogits(frames: number[], C: number, gap = 8): number[][] {
  return frames.map((k) => Array.from({ length: C }, (_, c) => (c === k ? gap : 0)));
}

/**
 * A plain float64 log-space CTC (alpha, beta, log-sum-exp per state, no
 * shortcuts) for one sequence: loss and gradient with respect to the
 * logits. The oracle for the fused kernels at extreme scales.
 */
export function referenceCtc(logits: number[][], label: number[], blank: number): { loss: number; grad: number[][] } {
  const lp = logSoftmaxRows(logits);
  const T = lp.length;
  const ext = [blank];
  for (const l of label) ext.push(l, blank);
  const S = ext.length;
  const lse = (...v: number[]) => {
    const m = Math.max(...v);
    return m === -Infinity ? -Infinity : m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
  };
  const canSkip = (s: number) => s >= 2 && ext[s] !== blank && ext[s] !== ext[s - 2];
  const alpha = Array.from({ length: T }, () => new Array<number>(S).fill(-Infinity));
  const beta = Array.from({ length: T }, () => new Array<number>(S).fill(-Infinity));
  alpha[0][0] = lp[0][ext[0]];
  if (S > 1) alpha[0][1] = lp[0][ext[1]];
  for (let t = 1; t < T; t++) {
    for (let s = 0; s < S; s++) {
      const terms = [alpha[t - 1][s]];
      if (s >= 1) terms.push(alpha[t - 1][s - 1]);
      if (canSkip(s)) terms.push(alpha[t - 1][s - 2]);
      alpha[t][s] = lp[t][ext[s]] + lse(...terms);
    }
  }
  beta[T - 1][S - 1] = lp[T - 1][ext[S - 1]];
  if (S > 1) beta[T - 1][S - 2] = lp[T - 1][ext[S - 2]];
  for (let t = T - 2; t >= 0; t--) {
    for (let s = 0; s < S; s++) {
      const terms = [beta[t + 1][s]];
      if (s + 1 < S) terms.push(beta[t + 1][s + 1]);
      if (s + 2 < S && canSkip(s + 2)) terms.push(beta[t + 1][s + 2]);
      beta[t][s] = lp[t][ext[s]] + lse(...terms);
    }
  }
  const logp = S > 1 ? lse(alpha[T - 1][S - 1], alpha[T - 1][S - 2]) : alpha[T - 1][0];
  const grad = lp.map((row, t) =>
    row.map((v, c) => {
      let occ = 0;
      for (let s = 0; s < S; s++) {
        if (ext[s] === c) occ += Math.exp(alpha[t][s] + beta[t][s] - lp[t][c] - logp);
      }
      return Math.exp(v) - occ;
    }),
  );
  return { loss: -logp, grad };
}

/**
 * A plain prefix beam search (string-keyed prefixes, every extension
 * scored), for comparison with the decoder's pruned search. One sequence of
 * logits [T, C]; returns the beams, best first.
 */
export function naiveBeamSearch(logits: number[][], blank: number, beamWidth: number): { seq: number[]; score: number }[] {
  const lp = logSoftmaxRows(logits);
  const add = (a: number, b: number) => {
    if (a === -Infinity) return b;
    if (b === -Infinity) return a;
    const m = Math.max(a, b);
    return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
  };
  type Entry = { seq: number[]; pb: number; pnb: number };
  let beams: Entry[] = [{ seq: [], pb: 0, pnb: -Infinity }];
  for (const row of lp) {
    const next = new Map<string, Entry>();
    const at = (seq: number[]) => {
      const key = seq.join(',');
      let e = next.get(key);
      if (!e) next.set(key, (e = { seq, pb: -Infinity, pnb: -Infinity }));
      return e;
    };
    for (const { seq, pb, pnb } of beams) {
      const total = add(pb, pnb);
      const last = seq.length ? seq[seq.length - 1] : -1;
      const same = at(seq);
      same.pb = add(same.pb, total + row[blank]);
      if (last >= 0) same.pnb = add(same.pnb, pnb + row[last]);
      row.forEach((v, c) => {
        if (c === blank) return;
        const ext = at([...seq, c]);
        ext.pnb = add(ext.pnb, (c === last ? pb : total) + v);
      });
    }
    beams = [...next.values()].sort((a, b) => add(b.pb, b.pnb) - add(a.pb, a.pnb)).slice(0, beamWidth);
  }
  return beams.map((e) => ({ seq: e.seq, score: add(e.pb, e.pnb) }));
}
