"""How lrsched meets ``torch.compile``: host mode runs eagerly, as torch's own schedulers do.

torch's schedulers live in ``torch/optim/lr_scheduler.py``, a file dynamo never
traces: inside a compiled function, ``sched.step()`` is a graph break and the step
runs eagerly, with eager arithmetic. lrsched's host-mode drop-ins do the same.
Each of their methods is marked as dynamo's own ``torch._dynamo.skip`` marks a
function, without importing dynamo (1.6 s) and without wrapping it (a wrapper
would cost every eager step):

* ``_torchdynamo_disable`` on the function: dynamo does not inline it (a graph
  break at the call, as for torch's class);
* its code runs with dynamo's frame callback skipped, recursively: nothing it
  calls (lrcore, numba, numpy) is traced or compiled as a frame of its own.

Neither changes an eager call: dynamo reads the attribute only while tracing, and
the code's strategy only while a compiled function runs.

Device mode is the opposite: its ``step()`` is device ops, meant to be traced into
the caller's graph. A scheduler in device mode is an instance of its class's
*device class* (:func:`device_class`): the same class but for a ``step`` that
dynamo inlines. The swap costs the host step nothing (it stays one method with no
mode test in front of its fast path), and the instance pickles and copies as its
host class (its ``__setstate__`` swaps back).
"""

from __future__ import annotations

import types

#: why dynamo does not trace a marked function (dynamo shows it in graph-break reports)
REASON = (
    "lrsched runs a host-mode scheduler eagerly, as dynamo runs torch.optim.lr_scheduler "
    "(device mode, device=..., is traced)"
)


def _code_strategy():
    """``code -> None`` that makes dynamo skip ``code`` and everything it calls, or
    None where this torch has no per-code strategy (then only the attribute acts)."""
    try:
        from torch._C._dynamo.eval_frame import (
            _FrameAction,
            _FrameExecStrategy,
            set_code_exec_strategy,
        )
    except ImportError:  # pragma: no cover - torch before 2.6
        return None
    strategy = _FrameExecStrategy(_FrameAction.SKIP, _FrameAction.SKIP)
    return lambda code: set_code_exec_strategy(code, strategy)


_skip_code = _code_strategy()


def run_eagerly(func):
    """Mark ``func`` (a function) so that dynamo runs it, and all it calls, eagerly."""
    if not isinstance(func, types.FunctionType):
        return func
    func._torchdynamo_disable = True
    func._torchdynamo_disable_msg = REASON
    if _skip_code is not None:
        _skip_code(func.__code__)
    return func


def run_class_eagerly(cls, traced=()):
    """:func:`run_eagerly` on every function ``cls`` defines (methods, static and class
    methods, property accessors), except those named in ``traced``."""
    for name, attr in vars(cls).items():
        if name in traced:
            continue
        if isinstance(attr, (staticmethod, classmethod)):
            run_eagerly(attr.__func__)
        elif isinstance(attr, property):
            for accessor in (attr.fget, attr.fset, attr.fdel):
                run_eagerly(accessor)
        else:
            run_eagerly(attr)
    return cls


class RunsEagerly:
    """A base class whose functions, and every subclass's, run eagerly inside a
    compiled function (:func:`run_class_eagerly` on each class as it is made). A
    subclass hook that adds methods or properties adds them before calling
    ``super().__init_subclass__()``."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        run_class_eagerly(cls)


def is_device_class(cls) -> bool:
    return "_lrsched_host_class" in vars(cls)


def rebuild(cls, state):
    """An instance of ``cls`` from its ``__getstate__()`` (unpickling a device-mode
    scheduler: ``cls.__setstate__`` returns it to device mode and its device class)."""
    obj = cls.__new__(cls)
    obj.__setstate__(state)
    return obj


def _reduce_as_host(self, protocol):
    # pickle names the host class (the device class is not importable by name)
    return rebuild, (type(self)._lrsched_host_class, self.__getstate__())


def device_class(cls, step):
    """``cls``'s device class: a subclass, with the same names, whose ``step`` is
    ``step`` (traced by dynamo). Made once per class; ``cls`` itself if it is one."""
    if is_device_class(cls):
        return cls
    made = vars(cls).get("_lrsched_device_class")
    if made is None:
        namespace = {
            "__slots__": (),
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "_lrsched_host_class": cls,
            "step": step,
            "__reduce_ex__": _reduce_as_host,
        }
        made = type(cls.__name__, (cls,), namespace)
        type.__setattr__(cls, "_lrsched_device_class", made)
    return made
