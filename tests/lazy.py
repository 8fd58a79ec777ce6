"""Frameworks imported at first use, not at collection.

Every pytest-xdist worker collects every test file; a framework imported at a test
module's top (DeepSpeed, Megatron-Core: seconds each) is then imported by both
workers, though one runs its tests. ``lazy("deepspeed.runtime.lr_schedules")`` is the
module, imported (its warnings silenced, as at a top-level import under
``catch_warnings``) on the first attribute read."""

import importlib
import warnings


class lazy:  # noqa: N801 - used as the module it stands for
    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        if self._module is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)
