"""10^6-step tables: lrcore (both numerics) vs torch.optim, numpy and torch tensor ops.

Run with ``make bench``. torch's scheduler class is stepped 10^4 times per round
(per-step cost compared, see the ratio summary at the end).
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
