"""PyTorch reference times for this package's BENCH.md workloads (forward + backward with
respect to pred and target, [262144, 4], float32, CPU). Run: /usr/bin/python3 bench/pytorch_reference.py

Prints one JSON line per workload: median wall and process CPU milliseconds over repeats."""
import json
import math
import os
import statistics
import time

import torch
import torch.nn.functional as F

N = 262144
REPEATS = int(os.environ.get('BENCH_REPEATS', '11'))


def balanced_l1(pred, target, beta=1.0, alpha=0.5, gamma=1.5):
    diff = torch.abs(pred - target)
    b = math.e ** (gamma / alpha) - 1
    return torch.where(diff < beta, alpha / b * (b * diff + 1) * torch.log(b * diff / beta + 1) - alpha * diff,
                       gamma * diff + gamma / b - alpha * beta).mean()


class SelfAdjusting:
    def __init__(self, momentum=0.9, beta_max=0.11, c=4):
        self.m = momentum
        self.beta_max = beta_max
        self.mean = torch.full((c,), beta_max)
        self.var = torch.zeros(c)

    def __call__(self, pred, target):
        n = torch.abs(pred - target)
        with torch.no_grad():
            var = n.var(dim=0)
            if not torch.isnan(var).any():
                self.mean = self.m * self.mean + (1 - self.m) * n.mean(dim=0)
                self.var = self.m * self.var + (1 - self.m) * var
        beta = (self.mean - self.var).clamp(min=1e-3, max=self.beta_max)
        return torch.where(n < beta, 0.5 * n ** 2 / beta, n - 0.5 * beta).mean()


def run(fn):
    g = torch.Generator().manual_seed(1)
    pred = (torch.rand((N, 4), generator=g) * 4 - 2).requires_grad_(True)
    target = (torch.rand((N, 4), generator=g) * 4 - 2).requires_grad_(True)
    walls, cpus = [], []
    for i in range(REPEATS + 2):
        pred.grad = None
        target.grad = None
        w0, c0 = time.perf_counter(), time.process_time()
        fn(pred, target).backward()
        w1, c1 = time.perf_counter(), time.process_time()
        if i >= 2:
            walls.append((w1 - w0) * 1000)
            cpus.append((c1 - c0) * 1000)
    return round(statistics.median(walls), 1), round(statistics.median(cpus), 1)


sa = SelfAdjusting()
for name, fn in [('smooth-l1', lambda p, t: F.smooth_l1_loss(p, t)),
                 ('balanced-l1', balanced_l1),
                 ('dynamic-smooth-l1', lambda p, t: F.smooth_l1_loss(p, t, beta=0.5)),
                 ('self-adjusting-smooth-l1', sa)]:
    wall, cpu = run(fn)
    print(json.dumps({'id': name, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'wallMs': wall,
                      'cpuMs': cpu, 'loadAvg': round(os.getloadavg()[0], 1)}))
