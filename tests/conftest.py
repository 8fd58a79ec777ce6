import os
import sys

# pytest-xdist runs one worker a core: each test process, and every process a test
# starts, gets one OpenMP thread (torch's, and numba's pool sizes itself apart). With
# the default (a thread a core in each) the idle threads of one worker spin on the core
# the other is using. (DeepSpeed's engine run, 45 s in some runs and 5 s in others, was
# something else: a C++ build, see ENGINE in tests/test_deepspeed.py.) Set before torch
# is imported; a value the caller set is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

try:
    import torch

    HAS_CUDA = torch.cuda.is_available()
except ImportError:  # pragma: no cover
    HAS_CUDA = False


#: the test files by the time they keep a worker (longest first, measured with
#: --durations=0 over the whole suite), handed to the workers in this order: xdist gives
#: out whole files in collection order, and a long file given out last keeps one worker
#: busy while the other waits; the rest (each under 8 s) follow in collection order
LONG_FIRST = (
    "test_compiled.py",
    "test_fairseq.py",
    "test_cli.py",
    "test_packaging.py",
    "test_keras.py",
    "test_closed.py",
    "test_interop.py",
    "test_parity_torch.py",
    "test_engines.py",
    "test_device.py",
    "test_cabi.py",
    "test_optax.py",
    "test_trainer.py",
    "test_conformance.py",
    "test_timm.py",
    "test_bad_input.py",
    "test_timm_schedulers.py",
    "test_lrsched.py",
    "test_family.py",
    "test_distributed.py",
)


def pytest_configure(config):
    # pytest-xdist (>= 3.6) hands out files by their number of tests, most first, unless
    # told not to: that order put test_compiled.py (87 s of a worker, 60 tests) 118 s
    # into the run and left the other worker idle at the end; LONG_FIRST's order it is
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords and not HAS_CUDA:
            item.add_marker(skip)
    order = {name: k for k, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))  # stable
