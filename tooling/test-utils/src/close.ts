import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Relative and absolute tolerance of a comparison. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/** The backend this test process runs on (set by the Vitest project). */
export function currentBackend(): string {
  return tf.getBackend();
}

/**
 * Default tolerances against float32 references, per backend. The software
 * WebGPU adapters compute transcendental functions slightly less exactly.
 */
export function tolerance(): Tolerance {
  switch (currentBackend()) {
    case 'webgpu':
      return { rtol: 2e-4, atol: 2e-5 };
    case 'wasm':
      return { rtol: 1e-4, atol: 1e-5 };
    default:
      return { rtol: 1e-4, atol: 1e-5 };
  }
}

type Numeric = tf.Tensor | number | readonly unknown[] | ArrayLike<number>;

/**
 * Flattens a tensor, number or nested array to numbers. Async because the
 * WebGPU backend in Node cannot read synchronously (no OffscreenCanvas).
 */
export async function toArray(v: Numeric): Promise<number[]> {
  if (v instanceof tf.Tensor) return Array.from(await v.data());
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return (v as unknown[]).flat(Infinity as 1).map((x) => (x === null ? NaN : typeof x === 'string' ? parseSpecial(x) : Number(x)));
  return Array.from(v as ArrayLike<number>);
}

function shapeOf(v: Numeric): number[] | undefined {
  if (v instanceof tf.Tensor) return v.shape;
  if (typeof v === 'number') return [];
  if (Array.isArray(v)) {
    const s: number[] = [];
    let cur: unknown = v;
    while (Array.isArray(cur)) {
      s.push(cur.length);
      cur = cur[0];
    }
    return s;
  }
  return undefined;
}

/**
 * Asserts `actual` equals `expected` elementwise within `|a - e| <= atol + rtol |e|`
 * (the backend's default tolerance unless given). Shapes must match when both
 * are known (nested arrays or tensors). NaN matches NaN, Infinity matches
 * Infinity of the same sign. Always `await` it. Strings in fixtures ("nan", "inf", "-inf") are read as such.
 */
export async function expectClose(actual: Numeric, expected: Numeric | string, tol: Partial<Tolerance> = {}): Promise<void> {
  const { rtol, atol } = { ...tolerance(), ...tol };
  const exp = typeof expected === 'string' ? [parseSpecial(expected)] : (await toArray(expected)).map((x) => (typeof x === 'string' ? parseSpecial(x) : x));
  const act = await toArray(actual);
  const sa = shapeOf(actual);
  const se = typeof expected === 'string' ? [] : shapeOf(expected);
  if (sa && se && Array.isArray(expected) && actual instanceof tf.Tensor) {
    expect(sa, 'shape').toEqual(se);
  }
  expect(act.length, 'number of elements').toBe(exp.length);
  const bad: string[] = [];
  for (let i = 0; i < exp.length; i++) {
    const a = act[i];
    const e = exp[i];
    if (Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= atol + rtol * Math.abs(e)) continue;
    if (bad.length < 8) bad.push(`[${i}] got ${a}, expected ${e}`);
    else break;
  }
  expect(bad, `values differ beyond rtol ${rtol}, atol ${atol}`).toEqual([]);
}

function parseSpecial(s: string | number): number {
  if (typeof s === 'number') return s;
  const l = s.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === 'inf' || l === 'infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  return Number(s);
}
