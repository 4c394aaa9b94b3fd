"""PyTorch CPU timings of the lovasz workloads of BENCH.md, for comparison
with bench/lovasz.bench.test.ts: the reference algorithm of
fixtures/generate.py (the authors' structure: one sort per class in a Python
loop), forward plus backward, median of repeated runs after one warm-up,
wall and process CPU time. torch uses its default thread count.

Run: /usr/bin/python3 bench/pytorch_reference.py
"""
import json
import pathlib
import statistics
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'fixtures'))
import generate as ref  # noqa: E402

ref.CHECK_TIES = False
RUNS = 5


def measure(name, step):
    step()
    walls, cpus = [], []
    for _ in range(RUNS):
        w0, c0 = time.perf_counter(), time.process_time()
        step()
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    print(json.dumps({'id': name, 'backend': 'pytorch-cpu', 'threads': torch.get_num_threads(), 'torch': torch.__version__,
                      'medianMs': round(statistics.median(walls)), 'medianCpuMs': round(statistics.median(cpus)),
                      'runs': [round(w) for w in walls]}))


g = ref.seeded(1)
probas_nhwc = torch.softmax(torch.rand((8, 128, 128, 21), generator=g) * 6 - 3, dim=-1)
labels_s = torch.randint(0, 21, (8, 128, 128), generator=g)


def softmax_step():
    x = probas_nhwc.clone().requires_grad_(True)
    loss = ref.lovasz_softmax_ref(x.permute(0, 3, 1, 2), labels_s)
    loss.backward()


logits = torch.rand((8, 256, 256), generator=g) * 8 - 4
labels_h = (torch.rand((8, 256, 256), generator=g) < 0.3).long()


def hinge_step():
    x = logits.clone().requires_grad_(True)
    loss = ref.lovasz_hinge_ref(x, labels_h)
    loss.backward()


measure('lovasz-softmax', softmax_step)
measure('lovasz-hinge', hinge_step)
