"""10^9-step runs: instant construction, O(window) memory, exact resumes near the end."""

import copy
import tracemalloc
import warnings

import lrsched as L
import numpy as np
import torch
from torch.optim import lr_scheduler as T

import lrcore

BILLION = 10**9


def test_stream_equals_one_table_and_holds_one_chunk():
    spec = lrcore.parse(
        "sequential([linear(start_factor=0.01, total_iters=1000),"
        " cosine_annealing(T_max=300000)], milestones=[1000])"
    )
    n = 400_000
    whole = lrcore.table(spec, n, 0.1)
    tracemalloc.start()
    parts = []
    for block in lrcore.stream(spec, n, 0.1, chunk=10_000):
        parts.append(block[[0, -1]])
        assert len(block) <= 10_000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2_000_000  # a handful of 10^4-entry chunks, not 3.2 MB of table
    firsts = np.array([p[0] for p in parts])
    assert np.array_equal(firsts, whole[::10_000])
    streamed = np.concatenate(list(lrcore.stream(spec, 50_000, 0.1, start=123_456, chunk=777)))
    assert np.array_equal(streamed, whole[123_456:173_456])


def test_a_billion_step_window_near_the_end():
    spec = lrcore.CosineAnnealingWarmRestarts(T_0=1000, T_mult=2)
    start = BILLION - 10
    got = lrcore.table(spec, 10, 0.1, start=start)
    # cycle k starts at 1000 (2**k - 1)
    k = int(np.log2(start / 1000 + 1))
    t_cur = start - 1000 * (2**k - 1)
    want = 0.1 * (1 + np.cos(np.pi * (t_cur + np.arange(10)) / (1000 * 2**k))) / 2
    np.testing.assert_allclose(got, want, rtol=1e-13)


def _resume_at(lib, make, last_epoch, lr, extra_state=None, device=None):
    """A scheduler resumed from a checkpoint written at ``last_epoch`` with LR ``lr``."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(lib, opt, device)
        state = copy.deepcopy(sched.state_dict())
        state.update(
            last_epoch=last_epoch, _step_count=last_epoch + 1, _last_lr=[lr], **(extra_state or {})
        )
        for g in opt.param_groups:
            g["lr"] = lr if not isinstance(g["lr"], torch.Tensor) else g["lr"].fill_(lr)
        sched.load_state_dict(state)
        out = []
        for _ in range(10):
            opt.step()
            sched.step()
            out.append(float(opt.param_groups[0]["lr"]))
    return out


def test_drop_ins_resume_at_a_billion_minus_ten():
    cases = [
        # (T_max = 10**9 itself makes torch divide by zero near its end: 1 + cos rounds to 0)
        (lambda m, o, d: m.CosineAnnealingLR(o, T_max=2 * BILLION, **_dev(m, d)), {}),
        (lambda m, o, d: m.ExponentialLR(o, gamma=1 - 1e-9, **_dev(m, d)), {}),
        (lambda m, o, d: m.CosineAnnealingWarmRestarts(o, T_0=1000, T_mult=2, **_dev(m, d)), None),
    ]
    start = BILLION - 10
    lr = 0.0731
    for make, extra in cases:
        if extra is None:  # CAWR keeps its own cycle state
            k = int(np.log2(start / 1000 + 1))
            extra = {"T_cur": start - 1000 * (2**k - 1), "T_i": 1000 * 2**k}
        want = _resume_at(T, make, start, lr, extra)
        tracemalloc.start()
        host = _resume_at(L, make, start, lr, extra)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert host == want
        assert peak < 20_000_000  # one window, not a 10^9-entry table
        device = _resume_at(L, make, start, lr, extra, device="cpu")
        assert device == [float(torch.tensor(x, dtype=torch.float32)) for x in want]


def _dev(module, device):
    return {"device": device} if module is L and device else {}
