"""Stepping torch.optim.lr_scheduler for ``lrcore bench`` (imports torch when called)."""

from __future__ import annotations

import time
import warnings

import numpy as np


def torch_class(class_name: str, adapt=None):
    """A family's ``reference``: torch's ``lr_scheduler.<class_name>`` built with the
    spec's own arguments (``adapt(kwargs)`` renames or refuses what torch lacks)."""

    def build(spec, optimizer):
        from torch.optim import lr_scheduler

        kwargs = {k: v for k, v in spec.to_dict().items() if k != "name"}
        if adapt is not None:
            kwargs = adapt(spec, kwargs)
        return getattr(lr_scheduler, class_name)(optimizer, **kwargs)

    build.class_name = f"torch.optim.lr_scheduler.{class_name}"  # (the docs name it)
    build.adapt = adapt  # (convert --to torch writes the same arguments)
    return build


def torch_scheduler(spec, optimizer):
    """torch's scheduler for ``spec`` (a composition of them for sequential and chained),
    from its family's ``reference``; a ValueError where torch has no such class."""
    from torch.optim import lr_scheduler as tls

    n = spec.name
    if n in ("sequential", "chained"):
        kids = [torch_scheduler(c, optimizer) for c in spec.schedulers]
        if n == "chained":
            return tls.ChainedScheduler(kids)
        return tls.SequentialLR(optimizer, kids, list(spec.milestones))
    family = getattr(spec, "family", None)
    if family is None or family.reference is None:
        raise ValueError(f"torch has no scheduler class for {spec}")
    return family.reference(spec, optimizer)


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
