"""Random parameters, random windows: numerics="torch" equals torch.optim at every step.

LRCORE_EXAMPLES sets the number of examples per test (200 by default; `make fuzz` runs more).
"""

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_ref import step_torch, torch_factory

import lrcore
from lrcore.bench import max_ulp

unit = st.floats(0.01, 1.0)
gamma = st.floats(0.5, 1.0)
count = st.integers(1, 400)

LEAVES = st.one_of(
    st.builds(lrcore.Step, step_size=count, gamma=gamma),
    st.builds(lrcore.MultiStep, milestones=st.lists(st.integers(0, 600), max_size=6), gamma=gamma),
    st.builds(lrcore.Constant, factor=unit, total_iters=st.integers(0, 400)),
    st.builds(lrcore.Linear, start_factor=unit, end_factor=st.floats(0.0, 1.0), total_iters=count),
    st.builds(lrcore.Exponential, gamma=st.floats(0.9, 1.0)),
    st.builds(lrcore.Polynomial, total_iters=count, power=st.floats(0.0, 4.0)),
    st.builds(lrcore.CosineAnnealing, T_max=count, eta_min=st.floats(0.0, 0.01)),
    st.builds(
        lrcore.CosineAnnealingWarmRestarts,
        T_0=st.integers(1, 100),
        T_mult=st.integers(1, 3),
        eta_min=st.floats(0.0, 0.01),
    ),
)

ABSOLUTE = st.one_of(
    st.builds(
        lrcore.Cyclic,
        base_lr=st.floats(1e-4, 1e-2),
        max_lr=st.floats(1e-2, 1.0),
        step_size_up=count,
        step_size_down=st.one_of(st.none(), count),
        mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
        gamma=st.floats(0.99, 1.0),
    ),
    st.builds(
        lrcore.OneCycle,
        max_lr=st.floats(1e-3, 1.0),
        total_steps=st.integers(700, 2000),
        pct_start=st.floats(0.05, 0.45),
        anneal_strategy=st.sampled_from(["cos", "linear"]),
        div_factor=st.floats(2.0, 100.0),
        final_div_factor=st.floats(2.0, 1e4),
        three_phase=st.booleans(),
    ),
)


@st.composite
def compositions(draw):
    kids = draw(st.lists(LEAVES, min_size=1, max_size=3))
    if draw(st.booleans()):
        return lrcore.Chained(kids)
    cuts = sorted(
        draw(st.sets(st.integers(1, 600), min_size=len(kids) - 1, max_size=len(kids) - 1))
    )
    return lrcore.Sequential(kids, cuts)


SETTINGS = settings(
    max_examples=int(os.environ.get("LRCORE_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # `make test`: a fixed set of examples; `make fuzz` (LRCORE_EXAMPLES) explores
    derandomize="LRCORE_EXAMPLES" not in os.environ,
)


@SETTINGS
@given(
    spec=st.one_of(LEAVES, compositions()),
    bases=st.lists(st.floats(1e-5, 10.0), min_size=1, max_size=3),
    start=st.integers(0, 699),
)
def test_relative_schedules(spec, bases, start):
    n = 700
    want = step_torch(torch_factory(spec), bases, n)
    got = np.atleast_2d(lrcore.table(spec, n, bases))
    assert max_ulp(got, want) == 0
    window = np.atleast_2d(lrcore.table(spec, n - start, bases, start=start))
    assert max_ulp(window, want[:, start:]) == 0


@SETTINGS
@given(spec=ABSOLUTE)
def test_absolute_schedules(spec):
    n = 700
    want = step_torch(torch_factory(spec), [1.0], n)
    assert max_ulp(lrcore.table(spec, n), want[0]) == 0
    momentum = step_torch(torch_factory(spec), [1.0], n, quantity="momentum")
    assert max_ulp(lrcore.table(spec, n, quantity="momentum"), momentum[0]) == 0
