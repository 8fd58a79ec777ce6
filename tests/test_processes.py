"""lrcore in worker processes and threads: forked after parallel kernels ran in the
parent, spawned, DataLoader workers, many threads at once. Every wait is bounded, so
a regression fails instead of hanging."""

import multiprocessing
import threading

import numpy as np
import pytest

import lrcore

CASES = [
    ("cosine_annealing(T_max=100000)", "closed"),  # a parallel kernel
    ("cyclic(base_lr=0.001, max_lr=0.1, step_size_up=2000)", "torch"),  # stateless: parallel
    ("cosine_annealing_warm_restarts(T_0=1000, T_mult=2)", "torch"),
    ("exponential(gamma=0.99999)", "closed"),
]
STEPS = 100_000
TIMEOUT = 240  # seconds: a cold cache compiles in every fresh process


def build(case):
    spec, numerics = case
    return lrcore.table(spec, STEPS, numerics=numerics)


def _expected():
    # runs the parallel kernels in this process (a first table would run the serial ones)
    from lrcore.kernels import parallel_now

    with parallel_now():
        return [build(case) for case in CASES]


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_worker_pools_build_the_parents_tables(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    want = _expected()
    pool = multiprocessing.get_context(method).Pool(2)
    try:
        got = pool.map_async(build, CASES * 2).get(timeout=TIMEOUT)
    finally:
        pool.terminate()
        pool.join()
    for a, b in zip(got, want * 2):
        assert np.array_equal(a, b)


def test_many_threads_at_once_mixing_numerics_and_drop_ins():
    torch = pytest.importorskip("torch")
    import lrsched

    want = _expected()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    ref = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=50, T_mult=2)
    ref_lrs = []
    for _ in range(3000):
        opt.step()
        ref.step()
        ref_lrs.append(opt.param_groups[0]["lr"])
    results, errors = {}, []

    def work(i):
        try:
            if i % 3 == 2:  # a drop-in stepping beside the table builders
                o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
                s = lrsched.CosineAnnealingWarmRestarts(o, T_0=50, T_mult=2)
                lrs = []
                for _ in range(3000):
                    o.step()
                    s.step()
                    lrs.append(o.param_groups[0]["lr"])
                results[i] = lrs
            else:
                results[i] = [build(c) for c in CASES]
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors
    for i, value in results.items():
        if i % 3 == 2:
            assert value == ref_lrs
        else:
            assert all(np.array_equal(a, b) for a, b in zip(value, want))
    assert len(results) == 8


class _Tables:
    """A dataset whose items are built by lrcore in the DataLoader's workers."""

    def __len__(self):
        return len(CASES) * 2

    def __getitem__(self, i):
        return i, build(CASES[i % len(CASES)])


def test_dataloader_workers_build_tables_while_the_main_process_steps():
    torch = pytest.importorskip("torch")
    import lrsched

    want = _expected()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = lrsched.OneCycleLR(opt, max_lr=0.1, total_steps=10_000)
    loader = torch.utils.data.DataLoader(_Tables(), batch_size=None, num_workers=2, timeout=TIMEOUT)
    seen = 0
    for i, table in loader:
        for _ in range(100):
            opt.step()
            sched.step()
        assert np.array_equal(table.numpy(), want[int(i) % len(CASES)])
        seen += 1
    assert seen == len(CASES) * 2
    ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    ref = torch.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=0.1, total_steps=10_000)
    for _ in range(100 * seen):
        ref_opt.step()
        ref.step()
    assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]


LAYER_SCRIPT = """
import multiprocessing, sys, threading
import numpy as np
import numba
import lrcore
cases = [("cosine_annealing(T_max=100000)", "closed"),
         ("cyclic(base_lr=0.001, max_lr=0.1, step_size_up=2000)", "torch")]
def build(case):
    return lrcore.table(case[0], 100000, numerics=case[1])
from lrcore.kernels import parallel_now
with parallel_now():
    want = [build(c) for c in cases]      # parallel kernels in this process first
layer = numba.threading_layer()
got = {}
def work(i):
    got[i] = [build(c) for c in cases]
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join(timeout=200)
assert len(got) == 8 and all(np.array_equal(a, b) for v in got.values() for a, b in zip(v, want))
pool = multiprocessing.get_context("fork").Pool(2)
try:
    forked = pool.map_async(build, cases * 2).get(timeout=200)
finally:
    pool.terminate(); pool.join()
assert all(np.array_equal(a, b) for a, b in zip(forked, want * 2))
print(layer)
"""


def _layers():
    layers = ["omp", "workqueue"]
    try:
        import tbb  # noqa: F401

        layers.append("tbb")
    except ImportError:
        pass
    return layers


@pytest.mark.parametrize("layer", _layers())
def test_every_threading_layer_runs_threads_and_forked_workers(layer):
    """Threads at once, then a forked pool, after parallel kernels, under each of
    numba's threading layers installed here (NUMBA_THREADING_LAYER)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
    out = subprocess.run(
        [sys.executable, "-c", LAYER_SCRIPT], env=env, capture_output=True, text=True,
        timeout=TIMEOUT,
    )  # fmt: skip
    if out.returncode != 0 and "No threading layer could be loaded" in out.stderr:
        pytest.skip(f"numba's {layer} layer cannot load here")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == layer
