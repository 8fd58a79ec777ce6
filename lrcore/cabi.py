"""The C ABI: lrcore schedules callable from C and C++ (declared in include/lrcore.h).

>>> import lrcore, lrcore.cabi as cabi
>>> s = cabi.Schedule(lrcore.parse("step(step_size=2, gamma=0.5)"), base_lr=0.1)
>>> s.lr_at(5)
0.025

A :class:`Schedule` owns a float64 buffer, ``[magic, base_lr, last step, program
length, program...]``; its address is the ``lrcore_schedule *`` handle. The
three entry points are numba ``cfunc``s compiled once for all schedules (and
cached on disk). cffi (the ``cffi`` extra) is needed only for :func:`ffi` and
the function-pointer helpers.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np
from numba import carray, types
from numba.extending import intrinsic

from .kernels import cfunc, njit
from .kernels.closed import closed_table
from .kernels.torch_numerics import segment_start, torch_run
from .program import lower
from .spec import Spec

MAGIC = 1.0e301 + 12345.0 * 1e285  # an unlikely float, to recognise a handle
HEADER = 4
OK, ENULL, ERANGE, EHANDLE = 0, -1, -2, -3


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


@njit(cache=True)
def _checked(handle, start, n):
    """``(code, error)``: the handle's program, or an LRCORE_ code for a bad call."""
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
    return code, OK


@njit(cache=True)
def _evaluate(handle, dest, start, n):
    """torch numerics into ``dest[:n]``; an LRCORE_ code. (One function per numerics:
    neither compiles the other's kernels.)"""
    code, error = _checked(handle, start, n)
    if error != OK or n == 0:
        return error
    aux = np.empty(0)
    none = np.empty(0, dtype=np.int64)
    base = carray(handle, HEADER)[1]
    origin = segment_start(code, start)  # no multiplicative leaf crosses the ABI
    torch_run(code, base, origin, start + n, base, dest, start, aux, none, none)
    return OK


@njit(cache=True)
def _evaluate_closed(handle, dest, start, n):
    """The closed form into ``dest[:n]``; an LRCORE_ code."""
    code, error = _checked(handle, start, n)
    if error != OK or n == 0:
        return error
    aux = np.empty(0)
    none = np.empty(0, dtype=np.int64)
    closed_table(code, carray(handle, HEADER)[1], start, n, dest, aux, none, none)
    return OK


_PTR = types.CPointer(types.float64)


@cfunc(types.int32(_PTR, _PTR, types.int64, types.int64), cache=True)
def _fill(handle, out, start, n):
    if _address(out) == 0:
        return ENULL
    return _evaluate(handle, carray(out, max(n, 0)), start, n)


@cfunc(types.int32(_PTR, _PTR, types.int64, types.int64), cache=True)
def _fill_closed(handle, out, start, n):
    if _address(out) == 0:
        return ENULL
    return _evaluate_closed(handle, carray(out, max(n, 0)), start, n)


@cfunc(types.float64(_PTR, types.int64), cache=True)
def _lr_at(handle, step):
    value = np.empty(1)
    if _evaluate(handle, value, step, value.size) != OK:
        return math.nan
    return value[0]


def fill_address() -> int:
    """Address of ``int lrcore_fill(const lrcore_schedule*, double*, int64_t, int64_t)``."""
    return _fill.address


def fill_closed_address() -> int:
    """Address of the closed-numerics fill (same signature as ``lrcore_fill``)."""
    return _fill_closed.address


def lr_at_address() -> int:
    """Address of ``double lrcore_lr_at(const lrcore_schedule*, int64_t)``."""
    return _lr_at.address


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
        self._buffer = np.ascontiguousarray(np.concatenate([head, program.code]))
        self.address = self._buffer.ctypes.data

    def handle(self):
        """The ``lrcore_schedule *`` as a cffi pointer."""
        return ffi().cast("lrcore_schedule *", self.address)

    def fill(self, start: int, n: int, numerics: str = "torch") -> np.ndarray:
        """Through the C entry point itself (a ctypes call): ``n`` LRs from ``start``."""
        import ctypes

        out = np.empty(max(n, 0))
        addr = fill_address() if numerics == "torch" else fill_closed_address()
        fn = ctypes.CFUNCTYPE(
            ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64
        )(addr)
        code = fn(self.address, out.ctypes.data, start, n)
        if code != OK:
            raise ValueError(f"lrcore_fill returned {code} for start={start}, n={n}")
        return out

    def lr_at(self, step: int) -> float:
        import ctypes

        fn = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_void_p, ctypes.c_int64)(lr_at_address())
        return fn(self.address, step)
