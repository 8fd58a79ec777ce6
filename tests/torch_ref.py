"""Stepping torch.optim.lr_scheduler itself: the reference for parity tests."""

from __future__ import annotations

import warnings

import numpy as np
import torch


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


def torch_factory(spec):
    """``make(optimizer)`` building torch's class for ``spec`` with the same arguments."""
    from lrcore._torch_reference import torch_scheduler

    return lambda opt: torch_scheduler(spec, opt)
