"""10^6-step tables: lrcore (both numerics) vs torch.optim, numpy and torch tensor ops,
and timm's schedules vs timm's own classes.

Run with ``make bench``. torch's (and timm's) scheduler class is stepped 10^4 times
per round (per-step cost compared, see the ratio summary at the end).
"""

import numpy as np
import pytest
import torch

import lrcore
from lrcore import bench
from lrcore._torch_reference import step_scheduler

STEPS = 1_000_000
TORCH_STEPS = 10_000
FAMILIES = bench.families(STEPS)


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("numerics", ["torch", "closed"])
def test_lrcore(benchmark, family, numerics):
    spec = FAMILIES[family]
    benchmark.group = family
    benchmark.extra_info.update(
        steps=STEPS, variant=f"lrcore-{numerics}", baseline=numerics == "torch"
    )
    lrcore.table(spec, 10, numerics=numerics)
    benchmark(lrcore.table, spec, STEPS, numerics=numerics)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_torch_optim_stepping(benchmark, family):
    spec = FAMILIES[family]
    benchmark.group = family
    benchmark.extra_info.update(steps=TORCH_STEPS, variant="torch.optim")
    benchmark.pedantic(step_scheduler, args=(spec, TORCH_STEPS), rounds=3, iterations=1)


@pytest.mark.parametrize(
    "family", [f for f, s in FAMILIES.items() if bench.closed_form(np, s, np.zeros(2)) is not None]
)
@pytest.mark.parametrize("lib", ["numpy", "torch-ops"])
def test_array_closed_form(benchmark, family, lib):
    spec = FAMILIES[family]
    benchmark.group = family
    benchmark.extra_info.update(steps=STEPS, variant=lib)
    xp, t = (
        (np, np.arange(STEPS, dtype=np.float64))
        if lib == "numpy"
        else (torch, torch.arange(STEPS, dtype=torch.float64))
    )
    benchmark(bench.closed_form, xp, spec, t)


TIMM = {  # lrcore spec: (timm class, its keyword arguments)
    "timm_cosine(t_initial=1000, cycle_limit=2000)": (
        "CosineLRScheduler",
        dict(t_initial=1000, cycle_limit=2000),
    ),
    "timm_cosine(t_initial=1000, cycle_mul=2.0, cycle_limit=20, warmup_t=100)": (
        "CosineLRScheduler",
        dict(t_initial=1000, cycle_mul=2.0, cycle_limit=20, warmup_t=100),
    ),
    "timm_cosine(t_initial=1000, cycle_limit=2000, noise_range_t=0)": (
        "CosineLRScheduler",
        dict(t_initial=1000, cycle_limit=2000, noise_range_t=0),
    ),
    "timm_tanh(t_initial=1000000)": ("TanhLRScheduler", dict(t_initial=1_000_000)),
}


@pytest.mark.parametrize("text", list(TIMM))
@pytest.mark.parametrize("numerics", ["torch", "closed"])
def test_lrcore_timm(benchmark, text, numerics):
    spec = lrcore.parse(text)
    benchmark.group = text
    benchmark.extra_info.update(
        steps=STEPS, variant=f"lrcore-{numerics}", baseline=numerics == "torch"
    )
    lrcore.table(spec, 10, numerics=numerics)
    benchmark(lrcore.table, spec, STEPS, numerics=numerics)


@pytest.mark.parametrize("text", [t for t in TIMM if "noise" in t])
def test_lrcore_timm_plain_engine(benchmark, text):
    """A small noisy table before its kernels are compiled (the plain-Python engine,
    timm's noise drawn with numpy's seeding of the same Mersenne Twister), per step
    beside the compiled tables and timm's own stepping of the same group."""
    from lrcore import kernels

    spec = lrcore.parse(text)
    steps = kernels.PYTHON_STEPS
    benchmark.group = text
    benchmark.extra_info.update(steps=steps, variant="lrcore-plain-python")

    def plain():
        with kernels.engine("python"):
            lrcore.table(spec, steps)

    benchmark(plain)


@pytest.mark.parametrize("text", list(TIMM))
def test_timm_stepping(benchmark, text):
    from timm_ref import scheduler_module

    name, kwargs = TIMM[text]
    cls = getattr(scheduler_module(), name)

    def step_timm():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        sched = cls(opt, t_in_epochs=False, **kwargs)
        for t in range(TORCH_STEPS):
            sched.step_update(t)

    benchmark.group = text
    benchmark.extra_info.update(steps=TORCH_STEPS, variant="timm")
    benchmark.pedantic(step_timm, rounds=3, iterations=1)


@pytest.mark.parametrize("check", [True, False])
def test_overflow_check_cost(benchmark, check):
    """What table()'s overflow check (one pass over the row) adds to the fastest table."""
    spec = FAMILIES["cosine_annealing"]
    benchmark.group = "cosine_annealing closed, check_finite"
    benchmark.extra_info.update(steps=STEPS, variant=f"check_finite={check}", baseline=not check)
    lrcore.table(spec, 10, numerics="closed")
    benchmark(lrcore.table, spec, STEPS, numerics="closed", check_finite=check)
