"""numerics="torch" against torch.optim.lr_scheduler itself: 0 ULP at every step."""

import numpy as np
import pytest
from catalogue import all_specs
from torch_ref import step_torch, torch_factory

import lrcore
from lrcore.bench import max_ulp

STEPS = 12_000
BASES = [0.1, 0.37, 1.0, 3e-4]


def _id(spec):
    return str(spec)[:70]


@pytest.mark.parametrize("spec", all_specs(), ids=_id)
def test_every_step_matches_torch(spec):
    bases = [1.0] if spec.absolute else BASES
    want = step_torch(torch_factory(spec), bases, STEPS)
    got = lrcore.table(spec, STEPS, 1.0 if spec.absolute else bases)
    got = np.atleast_2d(got)
    assert max_ulp(got, want) == 0


@pytest.mark.parametrize(
    "text",
    [
        "cosine_annealing(T_max=1000000, eta_min=1e-6)",
        "cosine_annealing_warm_restarts(T_0=1000, T_mult=2, eta_min=1e-5)",
        "exponential(gamma=0.999999)",
        "linear(start_factor=0.001, end_factor=1.0, total_iters=1000000)",
    ],
)
def test_million_steps_match_torch(text):
    spec = lrcore.parse(text)
    want = step_torch(torch_factory(spec), [0.1], 1_000_000)
    assert max_ulp(lrcore.table(spec, 1_000_000, 0.1), want[0]) == 0


@pytest.mark.parametrize(
    "text",
    [
        "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, mode='triangular2',"
        " base_momentum=0.8, max_momentum=0.95)",
        "one_cycle(max_lr=0.1, total_steps=3000, three_phase=True)",
    ],
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_momentum_cycle_matches_torch(text, optimizer):
    spec = lrcore.parse(text)
    want = step_torch(torch_factory(spec), [1.0], 3000, kind=optimizer, quantity="momentum")
    got = lrcore.table(spec, 3000, quantity="momentum")
    assert max_ulp(got, want[0]) == 0


@pytest.mark.parametrize("spec", all_specs(), ids=_id)
def test_windows_match_the_full_table(spec):
    n = 3000
    full = lrcore.table(spec, n, 1.0)
    for start in (1, 99, 100, 101, 1234, 2999):
        part = lrcore.table(spec, n - start, 1.0, start=start)
        assert max_ulp(part, full[start:]) == 0
        # continuing from a given previous LR is the same recurrence
        cont = lrcore.table(spec, n - start, 1.0, start=start, previous_lr=full[start - 1])
        assert max_ulp(cont, full[start:]) == 0
