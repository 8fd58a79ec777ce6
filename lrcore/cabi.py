"""The C ABI: lrcore schedules callable from C and C++ (declared in include/lrcore.h).

>>> import lrcore, lrcore.cabi as cabi
>>> s = cabi.Schedule(lrcore.parse("step(step_size=2, gamma=0.5)"), base_lr=0.1)
>>> s.lr_at(5)
0.025

A :class:`Schedule` owns a float64 buffer, ``[magic, base_lr, last step, program
length, program...]``; its address is the ``lrcore_schedule *`` handle. The
three entry points are numba ``cfunc``s, compiled on first use for a set of
families (and cached on disk): :meth:`Schedule.fill_address` and its siblings
give the ones made for that schedule's families (the first costs that
family's compile only); :func:`fill_address` and its siblings serve a handle of
any schedule (they compile every family once). Importing this module compiles
nothing. cffi (the ``cffi`` extra) is needed only for :func:`ffi` and the
function-pointer helpers.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np
from numba import carray, types
from numba.extending import intrinsic

from . import family
from . import kinds as K
from .kernels import specialise
from .kernels.closed import closed_table_of
from .kernels.torch_numerics import kind_mask, program_kinds, run_of, segment_start
from .program import lower
from .spec import Spec

MAGIC = 1.0e301 + 12345.0 * 1e285  # an unlikely float, to recognise a handle
HEADER = 4
OK, ENULL, ERANGE, EHANDLE, EKIND = 0, -1, -2, -3, -4


def include_dir() -> str:
    """The folder holding ``lrcore.h`` (for ``-I``)."""
    return os.path.join(os.path.dirname(__file__), "include")


@functools.lru_cache(maxsize=1)
def ffi():
    """A cffi FFI with lrcore.h's declarations."""
    try:
        import cffi
    except ImportError:
        raise ImportError("lrcore's C ABI helpers need cffi: pip install 'lrcore[cffi]'") from None
    f = cffi.FFI()
    f.cdef(
        "typedef struct lrcore_schedule lrcore_schedule;"
        "typedef int (*lrcore_fill_fn)(const lrcore_schedule *, double *, int64_t, int64_t);"
        "typedef int (*lrcore_fill_closed_fn)(const lrcore_schedule *, double *, int64_t,"
        " int64_t);"
        "typedef double (*lrcore_lr_at_fn)(const lrcore_schedule *, int64_t);"
    )
    return f


@intrinsic
def _address(typingctx, ptr):
    def codegen(context, builder, signature, args):
        return builder.ptrtoint(args[0], context.get_value_type(types.intp))

    return types.intp(ptr), codegen


def _checked(handle, start, n):
    """``(code, error)``: the handle's program, or an LRCORE_ code for a bad call
    (``EKIND``: a family outside ``MASK``, the families these entry points serve)."""
    empty = np.empty(0)
    if _address(handle) == 0:
        return empty, ENULL
    head = carray(handle, HEADER)
    if head[0] != MAGIC:
        return empty, EHANDLE
    if n < 0 or start < 0:
        return empty, ERANGE
    if head[2] >= 0 and start + n - 1 > head[2]:
        return empty, ERANGE
    length = int(head[3])
    full = carray(handle, HEADER + length)
    code = np.empty(length)
    for i in range(length):
        code[i] = full[HEADER + i]
    for s in range(int(code[K.PROGRAM_HEADER.n_segments])):
        h = K.HEADER + K.SEGMENT * s
        off = int(code[h + K.SEGMENT_ROW.first_leaf])
        for _ in range(int(code[h + K.SEGMENT_ROW.n_leaves])):
            kind = int(code[off + K.LEAF_HEADER.kind])
            if kind < 0 or kind > 62 or (MASK >> kind) & 1 == 0:  # noqa: F821
                return empty, EKIND
            off += K.LEAF + int(code[off + K.LEAF_HEADER.n_params])
    return code, OK


def _evaluate(handle, dest, start, n):
    """torch numerics into ``dest[:n]``; an LRCORE_ code. (One function per numerics:
    neither compiles the other's kernels.)"""
    code, error = CHECKED(handle, start, n)  # noqa: F821
    if error != OK or n == 0:
        return error
    aux = np.empty(0)
    none = np.empty(0, dtype=np.int64)
    base = carray(handle, HEADER)[1]
    origin = segment_start(code, start)  # no multiplicative leaf crosses the ABI
    RUN(code, base, origin, start + n, base, dest, start, aux, none, none)  # noqa: F821
    return OK


def _evaluate_closed(handle, dest, start, n):
    """The closed form into ``dest[:n]``; an LRCORE_ code."""
    code, error = CHECKED(handle, start, n)  # noqa: F821
    if error != OK or n == 0:
        return error
    aux = np.empty(0)
    none = np.empty(0, dtype=np.int64)
    CLOSED_TABLE(code, carray(handle, HEADER)[1], start, n, dest, aux, none, none)  # noqa: F821
    return OK


def _fill(handle, out, start, n):
    if _address(out) == 0:
        return ENULL
    return EVALUATE(handle, carray(out, max(n, 0)), start, n)  # noqa: F821


def _lr_at(handle, step):
    value = np.empty(1)
    if EVALUATE(handle, value, step, value.size) != OK:  # noqa: F821
        return math.nan
    return value[0]


_PTR = types.CPointer(types.float64)
_FILL = types.int32(_PTR, _PTR, types.int64, types.int64)
_LR_AT = types.float64(_PTR, types.int64)


def every_family() -> int:
    """Every declared family a handle can hold, as bits (not those whose specs hold a
    Python function: lambda, multiplicative)."""
    return kind_mask(f.code for f in family.FAMILIES.values() if not f.user_function)


@functools.cache
def entry_points(families: int) -> dict:
    """The three entry points for the families ``families`` (bits of kind codes):
    ``{"fill", "fill_closed", "lr_at"}`` -> cfunc kernel, compiled on first use. A
    handle holding another family gets ``LRCORE_EKIND`` (NaN from ``lr_at``)."""
    kinds = [k for k in range(63) if families >> k & 1]
    tag = f"{families:x}"
    checked = specialise(_checked, tag, {"MASK": families})
    torch = specialise(_evaluate, tag, {"CHECKED": checked, "RUN": run_of(kinds)})
    closed = specialise(
        _evaluate_closed, tag, {"CHECKED": checked, "CLOSED_TABLE": closed_table_of(kinds)}
    )
    out = {}
    for name, template, evaluate, signature in (
        ("fill", _fill, torch, _FILL),
        ("fill_closed", _fill, closed, _FILL),
        ("lr_at", _lr_at, torch, _LR_AT),
    ):
        suffix = f"{name}_{tag}"
        out[name] = specialise(
            template, suffix, {"EVALUATE": evaluate}, decorator="cfunc", args=(signature,)
        )
    return out


def fill_address() -> int:
    """Address of ``int lrcore_fill(const lrcore_schedule*, double*, int64_t, int64_t)``
    for a handle of any schedule (its first call compiles every family)."""
    return entry_points(every_family())["fill"].address


def fill_closed_address() -> int:
    """Address of the closed-numerics fill (same signature as ``lrcore_fill``), any schedule."""
    return entry_points(every_family())["fill_closed"].address


def lr_at_address() -> int:
    """Address of ``double lrcore_lr_at(const lrcore_schedule*, int64_t)``, any schedule."""
    return entry_points(every_family())["lr_at"].address


class Schedule:
    """A schedule handle for the C ABI; keep this object alive while C uses it."""

    def __init__(self, spec: Spec | str, base_lr: float = 1.0):
        if isinstance(spec, str):
            from .text import parse

            spec = parse(spec)
        if not isinstance(spec, Spec):
            raise TypeError(f"cabi.Schedule: spec must be a schedule spec, got spec={spec!r}")
        program = lower(spec)
        if program.functions:
            raise TypeError(
                f"cabi.Schedule: {spec.name} holds a Python function; only schedules made of "
                "numbers can cross the C ABI"
            )
        from ._validate import real

        base = real("cabi.Schedule", "base_lr", base_lr, low=0.0)
        if spec.absolute and base != 1.0:
            raise ValueError(
                f"cabi.Schedule: base_lr must be left at 1.0 for {spec.name}, whose learning "
                f"rates are given in the spec, got base_lr={base_lr!r}"
            )
        last = -1.0 if program.last_step is None else float(program.last_step)
        head = [MAGIC, base, last, float(len(program.code))]
        self.spec = spec
        self.base_lr = base
        #: the families this schedule holds (bits of kind codes): its own entry points
        self.families = kind_mask(program_kinds(program.code))
        self._buffer = np.ascontiguousarray(np.concatenate([head, program.code]))
        self.address = self._buffer.ctypes.data

    def handle(self):
        """The ``lrcore_schedule *`` as a cffi pointer."""
        return ffi().cast("lrcore_schedule *", self.address)

    def fill_address(self) -> int:
        """Address of an ``lrcore_fill`` compiled for this schedule's families only (it
        serves any handle of those families; others get ``LRCORE_EKIND``)."""
        return entry_points(self.families)["fill"].address

    def fill_closed_address(self) -> int:
        """The same for the closed numerics."""
        return entry_points(self.families)["fill_closed"].address

    def lr_at_address(self) -> int:
        """The same for ``lrcore_lr_at``."""
        return entry_points(self.families)["lr_at"].address

    def fill(self, start: int, n: int, numerics: str = "torch") -> np.ndarray:
        """Through this schedule's C entry point (a ctypes call): ``n`` LRs from ``start``."""
        import ctypes

        out = np.empty(max(n, 0))
        addr = self.fill_address() if numerics == "torch" else self.fill_closed_address()
        fn = ctypes.CFUNCTYPE(
            ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64
        )(addr)
        code = fn(self.address, out.ctypes.data, start, n)
        if code != OK:
            raise ValueError(f"lrcore_fill returned {code} for start={start}, n={n}")
        return out

    def lr_at(self, step: int) -> float:
        import ctypes

        fn = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_void_p, ctypes.c_int64)
        return fn(self.lr_at_address())(self.address, step)
