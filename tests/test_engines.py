"""Plain Python and numba give the same bits.

lrcore serves a small table as plain Python until its family's kernels are
compiled in the process (``lrcore.kernels.use_python``): the same code, with
each kernel it calls replaced by its plain version. These tests force each
engine in turn over every family of the catalogue, both numerics, windows from
the start and from the middle (a drop-in's refill), and check the process-level
promise: importing lrcore and its first small tables never import numba.
"""

import numpy as np
import pytest
from catalogue import ABSOLUTE, FRAMEWORKS, FUNCTIONS, PEERS, RELATIVE
from fresh import fresh_python

import lrcore
from lrcore import kernels
from lrcore.kernels import engine
from lrcore.table import QUANTITIES

SPECS = [lrcore.parse(s) for s in RELATIVE + PEERS + ABSOLUTE + FRAMEWORKS] + FUNCTIONS


def _both(**kwargs):
    with engine("python"):
        plain = lrcore.table(**kwargs)
    with engine("numba"):
        compiled = lrcore.table(**kwargs)
    return plain, compiled


def _same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize("numerics", ["torch", "closed"])
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_plain_python_has_the_kernels_bits(spec, numerics):
    base = 1.0 if spec.absolute else [0.1, 0.37]
    windows = [dict(start=0, steps=1500), dict(start=2345, steps=700)]
    if numerics == "torch" and not spec.absolute:
        # a refill: continue torch's recurrence from the LR a run left
        windows.append(dict(start=999, steps=300, previous_lr=[0.05, 0.2]))
    for w in windows:
        kwargs = dict(spec=spec, base_lr=base, numerics=numerics, check_finite=False, **w)
        plain, compiled = _both(**kwargs)
        assert _same_bits(plain, compiled), (w, np.flatnonzero(plain != compiled)[:5])
    for quantity in ("momentum", "weight_decay"):
        if QUANTITIES[quantity](spec):
            kwargs = dict(spec=spec, steps=1500, numerics=numerics, quantity=quantity)
            assert _same_bits(*_both(**kwargs))


def test_plain_python_is_checked_against_torch_too():
    # the plain engine's numbers are torch's (not only the kernels'): a small table
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=7, T_mult=2)
    want = []
    for _ in range(300):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    with engine("python"):
        got = lrcore.table("cosine_annealing_warm_restarts(T_0=7, T_mult=2)", 300, 0.1)
    assert got.tolist() == want


def test_parallel_kernels_wait_for_enough_steps_and_keep_the_bits():
    from lrcore.kernels.closed import CLOSED_APPLY

    kernel = CLOSED_APPLY[lrcore.Cyclic.kind]
    kernels._asked.pop(kernel, None)
    if kernel.ready:  # compiled by an earlier test: it serves at once
        assert kernels.use_parallel(kernel, 1)
        return
    assert not kernels.use_parallel(kernel, kernels.PARALLEL_AFTER - 10)
    assert kernels.use_parallel(kernel, 10)  # the process has now asked for enough
    spec = "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=2000, mode='triangular2')"
    kernels._asked.pop(kernel, None)
    serial = lrcore.table(spec, 10**5, numerics="closed")
    assert not kernel.ready
    with kernels.parallel_now():
        parallel = lrcore.table(spec, 10**5, numerics="closed")
    assert kernel.ready and _same_bits(serial, parallel)


def test_compiled_kernels_serve_small_tables_once_ready():
    spec = lrcore.parse("exponential(gamma=0.99)")
    from lrcore.kernels.torch_numerics import LEAF_STEPS

    kernel = LEAF_STEPS[lrcore.Exponential.kind]
    lrcore.table(spec, kernels.PYTHON_STEPS + 1, 0.1)  # past the limit: compiled
    assert kernel.ready
    assert not kernels.use_python(10, [kernel])
    assert kernels.use_python(kernels.PYTHON_STEPS, [kernel]) is False
    with pytest.raises(ValueError, match="engine must be 'python' or 'numba', got 'c'"):
        with engine("c"):
            pass


FIRST_USE = """
import sys
import lrcore
assert "numba" not in sys.modules
a = lrcore.table("cosine_annealing_warm_restarts(T_0=10, T_mult=2)", 4000, 0.1)
b = lrcore.table("one_cycle(max_lr=0.1, total_steps=3000)", 3000, numerics="closed")
assert "numba" not in sys.modules, "a small table imported numba"
import torch, lrsched
opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
sched = lrsched.CosineAnnealingWarmRestarts(opt, T_0=100, T_mult=2)
for _ in range(1000):
    opt.step()
    sched.step()
assert "numba" not in sys.modules, "a drop-in's first windows imported numba"
lrcore.table("cosine_annealing(T_max=10)", 10**5)
assert "numba" in sys.modules
# a first long table runs the serial kernel: the parallel one is not compiled for it
from lrcore import kernels
from lrcore.kernels import torch_numerics as tn
restarts = "cosine_annealing_warm_restarts(T_0=1000, T_mult=2)"
serial = lrcore.table(restarts, 10**6)
assert not tn.LEAF_PARALLEL[lrcore.CosineAnnealingWarmRestarts.kind].ready
with kernels.parallel_now():
    parallel = lrcore.table(restarts, 10**6)
assert tn.LEAF_PARALLEL[lrcore.CosineAnnealingWarmRestarts.kind].ready
assert (serial.view("int64") == parallel.view("int64")).all()
print("ok")
"""


def test_first_small_tables_and_drop_in_windows_never_import_numba(tmp_path):
    pytest.importorskip("torch")
    assert fresh_python(FIRST_USE, tmp_path) == ["ok"]


ONCE_EACH = """
import lrcore, lrcore.cabi as cabi
from lrcore.kernels import Kernel, formulas, restarts, torch_numerics as tn, closed
specs = ["cosine_annealing(T_max=300)", "one_cycle(max_lr=0.1, total_steps=9000,"
         " anneal_strategy='linear')", "step(step_size=7)", "cyclic(base_lr=0.1, max_lr=1.0)"]
for text in specs:
    lrcore.table(text, 9000)                      # the per-family drivers
    lrcore.table(text, 9000, numerics="closed")
    s = cabi.Schedule(text)                       # the C ABI's interpreter
    s.fill(0, 100), s.fill(0, 100, numerics="closed"), s.lr_at(5)
many = {}
for module in (formulas, restarts, tn, closed):
    for name, k in vars(module).items():
        if isinstance(k, Kernel) and k.ready and len(k.signatures) > 1:
            many[name] = [str(sig) for sig in k.signatures]
assert not many, many
print("ok")
"""


def test_each_kernel_is_compiled_once_whoever_calls_it(tmp_path):
    # no literal argument (a constant mode, a flag) forks a formula into two compiles; the
    # signatures loaded from the cache count as well, so this process's cache serves
    where = kernels.cache_dir()
    assert fresh_python(ONCE_EACH, where.parent if where else tmp_path, timeout=600) == ["ok"]


THREADS_FIRST = """
import threading
import lrcore
specs = ["cosine_annealing_warm_restarts(T_0=7, T_mult=2)",
         "one_cycle(max_lr=0.1, total_steps=900)",
         "timm_cosine(t_initial=300, noise_range_t=[10, 200])", "step(step_size=5)"]
got, errors = {}, []
def work(i):
    try:
        got[i] = [lrcore.table(s, 900).tolist() for s in specs[i % 4:] + specs[:i % 4]]
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join(timeout=120)
assert not errors, errors
want = [lrcore.table(s, 900).tolist() for s in specs]
for i, rows in got.items():
    assert rows == want[i % 4:] + want[:i % 4], i
assert len(got) == 8
print("ok")
"""


def test_threads_making_the_plain_engine_at_once(tmp_path):
    # the first plain tables of a process, built by 8 threads together
    assert fresh_python(THREADS_FIRST, tmp_path) == ["ok"]
