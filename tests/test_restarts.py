"""Warm restarts land exactly on their step, at every cycle boundary."""

import math
import warnings

import numpy as np
import pytest
import torch
from naive import restarts_loop_float, restarts_loop_int

import lrcore
from lrcore.kernels.restarts import restart_float, restart_int

STEPS = 1_000_000


def boundaries(T_0, T_mult, limit):
    out, start, length = [], 0, T_0
    while start < limit:
        out.append(start)
        start += length
        length *= T_mult
    return np.array(out)


@pytest.mark.parametrize("T_0", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("T_mult", [1, 2, 3])
@pytest.mark.parametrize("numerics", ["torch", "closed"])
def test_every_restart_is_on_its_step(T_0, T_mult, numerics):
    spec = lrcore.CosineAnnealingWarmRestarts(T_0=T_0, T_mult=T_mult)
    lr = lrcore.table(spec, STEPS, 0.5, numerics=numerics)
    # with eta_min = 0 the LR equals the base exactly when T_cur == 0, and only then
    # (or in every step of a 1-step cycle)
    peaks = np.flatnonzero(lr == 0.5)
    want = boundaries(T_0, T_mult, STEPS)
    if T_0 == 1 and T_mult == 1:
        want = np.arange(STEPS)
    np.testing.assert_array_equal(peaks, want)


@pytest.mark.parametrize("T_0,T_mult", [(1, 2), (3, 3), (7, 2), (1000, 3), (2, 1)])
def test_cycle_solver_matches_torchs_recurrence(T_0, T_mult):
    n = 200_000
    loop = restarts_loop_int(T_0, T_mult, n)
    for e in list(range(0, 3000)) + list(range(n - 3000, n)):
        assert restart_int(e, T_0, T_mult) == loop[e]
    for b in boundaries(T_0, T_mult, n):
        for e in (b - 1, b, b + 1):
            if 0 <= e < n:
                assert restart_int(int(e), T_0, T_mult) == loop[e]


@pytest.mark.parametrize("T_0,T_mult", [(1, 1.5), (7, 1.5), (1000, 1.5), (10, 1.1), (3, 2.5)])
def test_float_t_mult_matches_the_loop_reference(T_0, T_mult):
    n = 100_000
    loop = restarts_loop_float(float(T_0), T_mult, n)
    for e in range(n):
        i, t_cur, t_i = restart_float(float(e), float(T_0), T_mult)
        assert (i, t_cur, t_i) == loop[e]


def test_float_t_mult_table_matches_the_formula():
    spec = lrcore.CosineAnnealingWarmRestarts(T_0=10, T_mult=1.5, eta_min=0.01, decay=0.8)
    n = 20_000
    loop = restarts_loop_float(10.0, 1.5, n)
    want = np.array(
        [0.01 + (0.8**i - 0.01) * (1 + math.cos(math.pi * c / t)) / 2 for i, c, t in loop]
    )
    for numerics in ("torch", "closed"):
        got = lrcore.table(spec, n, numerics=numerics)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("T_mult,k", [(3, 121), (10, 111)])
def test_torch_step_epoch_is_late_where_lrcore_is_exact(T_mult, k):
    """torch's step(epoch) solves the cycle with a float log and puts this restart
    one step late; lrcore's integer correction does not."""
    T_0 = 1
    epoch = k * T_0  # = T_0 (T_mult**n - 1) / (T_mult - 1) for an integer n
    n = round(math.log(epoch * (T_mult - 1) / T_0 + 1, T_mult))
    assert T_0 * (T_mult**n - 1) // (T_mult - 1) == epoch
    assert restart_int(epoch, T_0, T_mult) == (n, 0, T_0 * T_mult**n)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched.step(epoch)
    assert sched.T_cur != 0  # documented slip in torch, not reproduced by lrcore
