#!/usr/bin/python3
"""PyTorch side of `pnpm bench`: the BENCH.md workloads on the CPU with one thread.

Reads a job from stdin (JSON written by src/torch.ts: budget and, per
workload, its id and input specs), generates the inputs with the same seeded
integer hash as src/inputs.ts (identical bytes: both sides report a SHA-1 of
every input), runs forward plus backward after a warm-up, and prints one JSON
document on stdout: torch version, which BLAS library is loaded, and per
workload the loss value, gradient summaries and the median time.
Progress goes to stderr.
"""
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from bench_inputs import digest, generate
from blas import classify_blas

# ---------------------------------------------------------------- losses
# Each takes the inputs by name (torch tensors; floating ones require grad)
# and returns the scalar loss. They follow the papers and the torch functions
# the packages' fixture scripts use.


def focal_sigmoid(t):
    from torchvision.ops import sigmoid_focal_loss
    return sigmoid_focal_loss(t['logits'], t['targets'], alpha=0.25, gamma=2.0, reduction='mean')


def focal_softmax(t):
    logp = F.log_softmax(t['logits'], dim=-1).gather(1, t['labels'].long()[:, None]).squeeze(1)
    return (-(1 - logp.exp()) ** 2 * logp).mean()


def smooth_l1(t):
    return F.smooth_l1_loss(t['pred'], t['target'], beta=1.0)


def balanced_l1(t, alpha=0.5, gamma=1.5, beta=1.0):
    # Libra R-CNN (Pang et al. 2019), as MMDetection's balanced_l1_loss.
    diff = (t['pred'] - t['target']).abs()
    b = math.exp(gamma / alpha) - 1
    inner = alpha / b * (b * diff + 1) * torch.log(b * diff / beta + 1) - alpha * diff
    outer = gamma * diff + gamma / b - alpha * beta
    return torch.where(diff < beta, inner, outer).mean()


def self_adjusting_smooth_l1(t, state, momentum=0.9, beta_max=0.11):
    # RetinaMask: running mean and variance of |d| per coordinate (no gradient through them),
    # beta = clamp(mean - var, 1e-3, beta_max); the statistics start at (beta_max, 0).
    n = (t['pred'] - t['target']).abs()
    with torch.no_grad():
        if n.shape[0] > 1:
            state['mean'] = momentum * state['mean'] + (1 - momentum) * n.mean(dim=0)
            state['var'] = momentum * state['var'] + (1 - momentum) * n.var(dim=0)
        beta = (state['mean'] - state['var']).clamp(min=1e-3, max=beta_max)
    return torch.where(n < beta, 0.5 * n ** 2 / beta, n - 0.5 * beta).mean()


def lsgan(t):
    return 0.5 * ((t['real'] - 1) ** 2).mean() + 0.5 * (t['fake'] ** 2).mean()


def hinge(t):
    return F.relu(1 - t['real']).mean() + F.relu(1 + t['fake']).mean()


def wgan_gp(t, lam=10.0):
    def critic(x):
        return (F.relu(x @ t['w1'] + t['b1']) @ t['w2'] + t['b2']).squeeze(1)

    eps = t['epsilon'][:, None]
    x_hat = (eps * t['real'] + (1 - eps) * t['fake']).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    penalty = lam * ((g.norm(2, dim=1) - 1) ** 2).mean()
    return critic(t['fake']).mean() - critic(t['real']).mean() + penalty


def cycle(t):
    return F.l1_loss(t['reconstructedX'], t['realX']) + F.l1_loss(t['reconstructedY'], t['realY'])


def info_nce(t, temperature=0.1):
    q = F.normalize(t['query'], dim=-1)
    p = F.normalize(t['positive'], dim=-1)
    if 'negatives' in t:  # paired: [N, M, D]
        n = F.normalize(t['negatives'], dim=-1)
        pos = (q * p).sum(dim=1, keepdim=True)
        neg = (q[:, None, :] @ n.transpose(-2, -1)).squeeze(1)
        logits = torch.cat([pos, neg], dim=1)
        labels = torch.zeros(len(q), dtype=torch.long)
    else:
        logits = q @ p.T
        labels = torch.arange(len(q))
    return F.cross_entropy(logits / temperature, labels)


def nt_xent(t, temperature=0.5):
    z = F.normalize(torch.cat([t['z1'], t['z2']]), dim=-1)
    n = t['z1'].shape[0]
    sim = (z @ z.T) / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float('-inf'))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def supcon(t, temperature=0.07, base_temperature=0.07):
    # Khosla et al. 2020, contrast mode 'all' (the authors' SupConLoss).
    f = t['features']
    bsz, views = f.shape[0], f.shape[1]
    labels = t['labels'].long()[:, None]
    same = torch.eq(labels, labels.T).float().repeat(views, views)
    contrast = torch.cat(torch.unbind(f, dim=1), dim=0)
    logits = contrast @ contrast.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True)[0].detach()
    not_self = 1 - torch.eye(bsz * views)
    pos = same * not_self
    log_prob = logits - torch.log((logits.exp() * not_self).sum(1, keepdim=True))
    mean_log_prob_pos = (pos * log_prob).sum(1) / pos.sum(1)
    return (-(temperature / base_temperature) * mean_log_prob_pos).mean()


def ctc(t):
    logits = t['logits']  # [B, T, C]
    b, steps, _ = logits.shape
    log_probs = F.log_softmax(logits, dim=-1).transpose(0, 1)
    labels = t['labels'].long()
    lengths = t['labelLengths'].long() if 'labelLengths' in t else torch.full((b,), labels.shape[1], dtype=torch.long)
    return F.ctc_loss(log_probs, labels, torch.full((b,), steps, dtype=torch.long), lengths, blank=0, reduction='mean')


def lovasz_grad(gt_sorted):
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    if len(gt_sorted) > 1:
        jaccard[1:] = jaccard[1:] - jaccard[:-1].clone()
    return jaccard


def lovasz_softmax(t):
    # Berman et al. 2018, classes='present', per_image=False.
    probas = t['probas'].reshape(-1, t['probas'].shape[-1])
    labels = t['labels'].reshape(-1)
    losses = []
    for c in range(probas.shape[1]):
        fg = (labels == c).float()
        if fg.sum() == 0:
            continue
        errors = (fg - probas[:, c]).abs()
        errors_sorted, perm = torch.sort(errors, 0, descending=True)
        losses.append(torch.dot(errors_sorted, lovasz_grad(fg[perm])))
    return torch.stack(losses).mean()


def lovasz_hinge(t):
    # Berman et al. 2018, per_image=True.
    losses = []
    for logits, labels in zip(t['logits'], t['labels']):
        logits = logits.reshape(-1)
        labels = labels.reshape(-1).float()
        errors = 1.0 - logits * (2.0 * labels - 1.0)
        errors_sorted, perm = torch.sort(errors, dim=0, descending=True)
        losses.append(torch.dot(F.relu(errors_sorted), lovasz_grad(labels[perm])))
    return torch.stack(losses).mean()


def stateless(fn):
    return lambda: (lambda t: fn(t))


def self_adjusting_factory():
    # One module per run, as ours keeps one instance: the first call (the checked value) starts from fresh statistics.
    state = {'mean': torch.full((4,), 0.11), 'var': torch.zeros(4)}
    return lambda t: self_adjusting_smooth_l1(t, state)


LOSSES = {
    'focal-sigmoid': stateless(focal_sigmoid),
    'focal-softmax': stateless(focal_softmax),
    'smooth-l1': stateless(smooth_l1),
    'balanced-l1': stateless(balanced_l1),
    'dynamic-smooth-l1': stateless(smooth_l1),  # Dynamic R-CNN's beta starts at 1: smooth L1 until update() moves it
    'self-adjusting-smooth-l1': self_adjusting_factory,
    'lsgan': stateless(lsgan),
    'hinge': stateless(hinge),
    'wgan-gp': stateless(wgan_gp),
    'cycle': stateless(cycle),
    'infonce': stateless(info_nce),
    'infonce-paired': stateless(info_nce),
    'nt-xent': stateless(nt_xent),
    'supcon': stateless(supcon),
    'ctc': stateless(ctc),
    'ctc-long': stateless(ctc),
    'lovasz-softmax': stateless(lovasz_softmax),
    'lovasz-hinge': stateless(lovasz_hinge),
}

# ---------------------------------------------------------------- run


def blas_info():
    """Which BLAS the process really loaded (after a matmul), from /proc/self/maps."""
    a = torch.ones(64, 64)
    (a @ a).sum().item()
    libs = []
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                m = re.search(r'(/\S*(?:blas|lapack|mkl|blis)\S*\.so\S*)', line)
                if m and m.group(1) not in libs:
                    libs.append(m.group(1))
    except OSError:
        pass
    kind = classify_blas(libs)
    config = torch.__config__.show()
    m = re.search(r'BLAS_INFO=(\w+)', config)
    return {
        'kind': kind,
        'libraries': libs,
        'buildBlasInfo': m.group(1) if m else None,
        'env': {k: os.environ[k] for k in ('OPENBLAS_NUM_THREADS', 'OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS') if k in os.environ},
    }


def summarize(g):
    g = g.detach().double()
    finite = torch.isfinite(g)
    gf = torch.where(finite, g, torch.zeros_like(g))
    return {'l1': gf.abs().sum().item(), 'sum': gf.sum().item(), 'nonFinite': int((~finite).sum().item())}


# Most extra warm-up calls after the first (src/measure.ts uses the same rule).
WARMUP_CALLS = 50


def run_workload(job, budget_s, min_runs, max_runs):
    specs = job['inputs']
    arrays = {s['name']: generate(s) for s in specs}
    digests = {name: digest(a) for name, a in arrays.items()}
    grad_names = [s['name'] for s in specs if s['grad']]
    tensors = {}
    for s in specs:
        t = torch.from_numpy(arrays[s['name']].copy())
        if s['grad']:
            t.requires_grad_(True)
        tensors[s['name']] = t
    loss = LOSSES[job['id']]()

    def step():
        for n in grad_names:
            tensors[n].grad = None
        value = loss(tensors)
        value.backward()
        return value

    t0 = time.perf_counter()
    value = step()
    warmup = time.perf_counter() - t0
    result = {
        'status': 'ok',
        'value': value.item(),
        'grads': [summarize(tensors[n].grad) for n in grad_names],
        'inputDigests': digests,
        'warmupMs': warmup * 1e3,
    }
    # More warm-up calls, for up to a fifth of the budget (at most WARMUP_CALLS), as on our side.
    warm_start = time.perf_counter()
    for _ in range(WARMUP_CALLS):
        if time.perf_counter() - warm_start >= budget_s / 5:
            break
        step()
    times = []
    need = 1 if warmup > budget_s else min_runs
    start = time.perf_counter()
    while len(times) < need or (time.perf_counter() - start < budget_s and len(times) < max_runs):
        s = time.perf_counter()
        step()
        times.append((time.perf_counter() - s) * 1e3)
    result['times'] = times
    result['runs'] = len(times)
    result['ms'] = float(np.median(times))
    return result


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(1)
    out = {
        'torch': torch.__version__,
        'python': sys.version.split()[0],
        'threads': torch.get_num_threads(),
        'blas': blas_info(),
        'results': {},
    }
    for w in job['workloads']:
        print(f"torch: {w['id']}", file=sys.stderr, flush=True)
        try:
            out['results'][w['id']] = run_workload(w, job['budgetMs'] / 1e3, job['minRuns'], job['maxRuns'])
        except Exception as e:  # reported per workload, the others still run
            out['results'][w['id']] = {'status': 'error', 'error': f'{type(e).__name__}: {e}'}
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
