"""timm's scheduler classes, or a module-level skip when timm is not installed.

timm's package ``__init__`` imports its models, which need torchvision, and
PyPI's torchvision does not import beside the CPU torch the dev set-up pins.
``timm.scheduler`` needs torch alone, so where torchvision is missing it is
loaded from the installed package under an empty parent module: the scheduler
code that runs is timm's own.
"""

import importlib
import importlib.util
import sys
import types

import pytest


def scheduler_module():
    if "timm.scheduler" in sys.modules:  # loaded before (perhaps under the empty parent)
        return sys.modules["timm.scheduler"]
    if importlib.util.find_spec("timm") is None:
        pytest.skip("timm is not installed", allow_module_level=True)
    try:
        return importlib.import_module("timm.scheduler")
    except (ImportError, RuntimeError):  # torchvision missing, or built for another torch
        for name in [m for m in sys.modules if m == "timm" or m.startswith("timm.")]:
            del sys.modules[name]
    location = importlib.util.find_spec("timm").submodule_search_locations
    parent = types.ModuleType("timm")
    parent.__path__ = list(location)
    sys.modules["timm"] = parent
    return importlib.import_module("timm.scheduler")
