"""Single-precision arithmetic, as frameworks that compute in float32 do (Keras).

Each basic operation's float32 result is its float64 result rounded to float32:
float64 carries more than twice float32's precision, so the double rounding is
exact for ``+ - * /``. The transcendental functions are libm's own float32
functions (``cosf``, ``powf``, ``logf``), which compiled code calls for float32
arguments; the plain-Python engine calls the same C functions through ctypes.
``single`` false leaves everything in float64.
"""

import ctypes
import ctypes.util
import math

import numpy as np

from . import njit

_libm = None


def _c(name):
    """libm's float32 function ``name`` through ctypes (the plain-Python engine)."""
    global _libm
    if _libm is None:
        _libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    fn = getattr(_libm, name)
    fn.restype = ctypes.c_float
    return fn


def _cosf_plain(x):
    return _c("cosf")(ctypes.c_float(x))


def _logf_plain(x):
    return _c("logf")(ctypes.c_float(x))


def _powf_plain(x, y):
    f = _c("powf")
    f.argtypes = (ctypes.c_float, ctypes.c_float)
    return f(x, y)


@njit(cache=True, plain=_cosf_plain)
def cosf(x):
    return float(math.cos(np.float32(x)))


@njit(cache=True, plain=_logf_plain)
def logf(x):
    return float(math.log(np.float32(x)))


@njit(cache=True, plain=_powf_plain)
def powf(x, y):
    return float(math.pow(np.float32(x), np.float32(y)))


@njit(cache=True)
def rnd(x, single):
    """``x`` rounded to float32 when ``single`` (one float32 operation's result)."""
    if single:
        return float(np.float32(x))
    return x


@njit(cache=True)
def cos_(x, single):
    return cosf(x) if single else math.cos(x)


@njit(cache=True)
def log_(x, single):
    return logf(x) if single else math.log(x)


@njit(cache=True)
def pow_(x, y, single):
    return powf(x, y) if single else math.pow(x, y)
