"""Benchmark inputs for python/torch_bench.py: the seeded integer hash of src/inputs.ts.

Every value depends only on (seed, flat index) through 32-bit integer
arithmetic and one float64 expression rounded to float32, so both sides
produce identical bytes. Run directly, it reads {"inputs": [spec, ...]} on
stdin and prints {name: sha1 of the bytes} (src/bench.test.ts compares them
with the JavaScript side). Needs numpy only.
"""
import hashlib
import json
import sys

import numpy as np

MASK32 = np.uint64(0xFFFFFFFF)


def hash_unit(seed, n):
    """u in [0, 1) for indices 0..n-1: the same 32-bit mix as hashUnit in src/inputs.ts."""
    i = np.arange(n, dtype=np.uint64)
    x = (i * np.uint64(0x9E3779B1) + np.uint64((seed * 0x85EBCA77) & 0xFFFFFFFF)) & MASK32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x85EBCA6B)) & MASK32
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(0xC2B2AE35)) & MASK32
    x ^= x >> np.uint64(16)
    return (x >> np.uint64(8)).astype(np.float64) / 16777216.0


def normalize_rows(raw32, last, norm):
    """Float64 row sums taken column by column (the order of the JS loop), then float32."""
    rows = raw32.astype(np.float64).reshape(-1, last)
    s = np.zeros(rows.shape[0], dtype=np.float64)
    for c in range(last):
        v = rows[:, c]
        s += v if norm == 'sum' else v * v
    d = s if norm == 'sum' else np.sqrt(s)
    return (rows / d[:, None]).astype(np.float32).reshape(-1)


def generate(spec):
    shape = spec['shape']
    n = int(np.prod(shape)) if shape else 1
    g = spec['gen']
    u = hash_unit(spec['seed'], n)
    kind = g['kind']
    if kind == 'int':
        out = (g['lo'] + np.floor(u * (g['hi'] - g['lo'] + 1))).astype(np.int32)
        if spec['dtype'] == 'float32':
            out = out.astype(np.float32)
    elif kind == 'bernoulli':
        out = (u < g['p']).astype(np.int32 if spec['dtype'] == 'int32' else np.float32)
    else:
        raw = (g['lo'] + (g['hi'] - g['lo']) * u).astype(np.float32)
        if kind == 'uniform':
            out = raw
        else:
            out = normalize_rows(raw, shape[-1], 'sum' if kind == 'simplex' else 'l2')
    return out.reshape(shape)


def digest(array):
    return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()


if __name__ == '__main__':
    job = json.load(sys.stdin)
    json.dump({s['name']: digest(generate(s)) for s in job['inputs']}, sys.stdout)
