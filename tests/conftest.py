import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

try:
    import torch

    HAS_CUDA = torch.cuda.is_available()
except ImportError:  # pragma: no cover
    HAS_CUDA = False


#: the longest test files (15-90 s of a worker each, measured with --durations=0), handed
#: to the workers first: xdist gives out whole files in collection order, and a long file
#: given out last keeps one worker busy while the other waits
LONG_FIRST = (
    "test_compiled.py",
    "test_fairseq.py",
    "test_keras.py",
    "test_cli.py",
    "test_packaging.py",
    "test_device.py",
    "test_trainer.py",
    "test_interop.py",
    "test_transformers.py",
    "test_engines.py",
    "test_closed.py",
)


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords and not HAS_CUDA:
            item.add_marker(skip)
    order = {name: k for k, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))  # stable
