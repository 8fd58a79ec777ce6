"""Stepping torch.optim.lr_scheduler for ``lrcore bench`` (imports torch when called)."""

from __future__ import annotations

import time
import warnings

import numpy as np


def torch_scheduler(spec, optimizer):
    """torch's class for ``spec``, built with the same arguments."""
    from torch.optim import lr_scheduler as tls

    n = spec.name
    if n in ("sequential", "chained"):
        kids = [torch_scheduler(c, optimizer) for c in spec.schedulers]
        if n == "chained":
            return tls.ChainedScheduler(kids)
        return tls.SequentialLR(optimizer, kids, list(spec.milestones))
    if n in ("lambda", "multiplicative"):
        cls = tls.LambdaLR if n == "lambda" else tls.MultiplicativeLR
        return cls(optimizer, spec.lr_lambda)
    kwargs = {k: v for k, v in spec.to_dict().items() if k != "name"}
    if n == "cosine_annealing_warm_restarts":
        if kwargs.pop("decay") != 1.0 or not isinstance(spec.T_mult, int):
            raise ValueError(f"torch has no {spec}")
    classes = {
        "step": tls.StepLR,
        "multi_step": tls.MultiStepLR,
        "constant": tls.ConstantLR,
        "linear": tls.LinearLR,
        "exponential": tls.ExponentialLR,
        "polynomial": tls.PolynomialLR,
        "cosine_annealing": tls.CosineAnnealingLR,
        "cosine_annealing_warm_restarts": tls.CosineAnnealingWarmRestarts,
        "cyclic": tls.CyclicLR,
        "one_cycle": tls.OneCycleLR,
    }
    return classes[n](optimizer, **kwargs)


def step_scheduler(spec, steps: int, progress=None, label: str = ""):
    """(LRs of the first group for ``steps`` steps, seconds spent in ``step()``)."""
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    out = np.empty(steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = torch_scheduler(spec, opt)
        group = opt.param_groups[0]
        spent = 0.0
        every = max(steps // 20, 1)
        for t in range(steps):
            out[t] = group["lr"]
            if t + 1 < steps:
                t0 = time.perf_counter()
                sched.step()
                spent += time.perf_counter() - t0
            if progress is not None and t % every == 0:
                progress(label, t, steps)
    return out, spent
