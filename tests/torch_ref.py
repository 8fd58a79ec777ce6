"""Stepping torch.optim.lr_scheduler itself: the reference for parity tests."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch.optim import lr_scheduler as tls


def optimizer(base_lrs, kind="sgd"):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in base_lrs]
    if kind == "adam":
        return torch.optim.Adam(groups, lr=base_lrs[0])
    return torch.optim.SGD(groups, lr=base_lrs[0], momentum=0.9)


def step_torch(make, base_lrs, steps, kind="sgd", quantity="lr"):
    """LRs (groups, steps) after construction and each ``scheduler.step()``.

    ``make(optimizer)`` builds the scheduler.
    """
    opt = optimizer(base_lrs, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(opt)
        out = np.empty((len(base_lrs), steps))
        for t in range(steps):
            for g, group in enumerate(opt.param_groups):
                if quantity == "lr":
                    out[g, t] = group["lr"]
                elif kind == "adam":
                    out[g, t] = group["betas"][0]
                else:
                    out[g, t] = group["momentum"]
            if t + 1 < steps:
                sched.step()
    return out


# The torch class for each lrcore spec, built from the same keyword arguments.
def torch_factory(spec):
    name = spec.name
    plain = name not in ("lambda", "multiplicative", "sequential", "chained")
    d = {k: val for k, val in spec.to_dict().items() if k != "name"} if plain else {}
    if name == "step":
        return lambda o: tls.StepLR(o, **d)
    if name == "multi_step":
        return lambda o: tls.MultiStepLR(o, **d)
    if name == "constant":
        return lambda o: tls.ConstantLR(o, **d)
    if name == "linear":
        return lambda o: tls.LinearLR(o, **d)
    if name == "exponential":
        return lambda o: tls.ExponentialLR(o, **d)
    if name == "polynomial":
        return lambda o: tls.PolynomialLR(o, **d)
    if name == "cosine_annealing":
        return lambda o: tls.CosineAnnealingLR(o, **d)
    if name == "cosine_annealing_warm_restarts":
        d.pop("decay")
        return lambda o: tls.CosineAnnealingWarmRestarts(o, **d)
    if name == "cyclic":
        return lambda o: tls.CyclicLR(o, **d)
    if name == "one_cycle":
        return lambda o: tls.OneCycleLR(o, **d)
    if name == "lambda":
        return lambda o: tls.LambdaLR(o, spec.lr_lambda)
    if name == "multiplicative":
        return lambda o: tls.MultiplicativeLR(o, spec.lr_lambda)
    if name == "sequential":
        kids = [torch_factory(c) for c in spec.schedulers]
        return lambda o: tls.SequentialLR(o, [k(o) for k in kids], list(spec.milestones))
    if name == "chained":
        kids = [torch_factory(c) for c in spec.schedulers]
        return lambda o: tls.ChainedScheduler([k(o) for k in kids])
    raise AssertionError(f"no torch class for {name}")


def max_ulp(a, b) -> int:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    ia = a.view(np.int64)
    ib = b.view(np.int64)
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFFFFFFFFFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFFFFFFFFFF), ib)
    return int(np.max(np.abs(ia - ib))) if a.size else 0
