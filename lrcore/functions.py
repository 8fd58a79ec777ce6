"""Evaluating a user's ``f(step)`` over a whole range of steps at once.

Three ways, fastest first: compile ``f`` with numba; call it on an int64 array;
call it once per step. A faster way is used only when it reproduces plain Python
calls bit for bit on sample steps (the first and last 16 and 32 spread over the
range) of every range it evaluates, since numba's ``float ** int`` and numpy's
SIMD ``power`` can differ from CPython in the last bit; a way that fails once is
not tried again for that function. Sampling can miss a difference confined to
unsampled steps: ``evaluation="python"`` (what lrsched's drop-ins use) is exact
by construction. ``evaluation`` forces one way ("numba", "array" or "python").
"""

from __future__ import annotations

import weakref

import numpy as np

from .kernels import njit

_FAILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_JITTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
METHODS = ("auto", "numba", "array", "python")


@njit
def _fill(f, lo, hi, out):
    for e in range(lo, hi):
        out[e - lo] = f(e)


def _python(fn, lo, hi):
    return np.fromiter((fn(e) for e in range(lo, hi)), dtype=np.float64, count=hi - lo)


def _numba(fn, lo, hi):
    jitted = _JITTED.get(fn)
    if jitted is None:
        import numba

        jitted = numba.njit(fn)
        _JITTED[fn] = jitted
    out = np.empty(hi - lo)
    _fill(jitted, lo, hi, out)
    return out


def _array(fn, lo, hi):
    out = np.asarray(fn(np.arange(lo, hi, dtype=np.int64)), dtype=np.float64)
    if out.shape != (hi - lo,):
        raise ValueError("the function did not return one value per step")
    return out


_WAYS = {"numba": _numba, "array": _array, "python": _python}


def _agrees(fn, values: np.ndarray, lo: int, hi: int) -> bool:
    n = hi - lo
    picks = set(range(min(16, n))) | set(range(max(0, n - 16), n))
    picks |= set(np.linspace(0, n - 1, num=min(n, 32)).astype(np.int64).tolist())
    for i in sorted(picks):
        want = float(fn(lo + i))
        got = values[i]
        if not (got == want or (got != got and want != want)):
            return False
    return True


def evaluate(fn, lo: int, hi: int, evaluation: str = "auto") -> np.ndarray:
    """``[float(fn(e)) for e in range(lo, hi)]`` as a float64 array, computed fast."""
    if hi <= lo:
        return np.empty(0)
    if evaluation != "auto":
        return _WAYS[evaluation](fn, lo, hi)
    try:
        failed = _FAILED.setdefault(fn, set())
    except TypeError:  # not weak-referenceable
        failed = set()
    for way in ("numba", "array"):
        if way in failed:
            continue
        try:
            values = _WAYS[way](fn, lo, hi)
        except Exception:  # noqa: BLE001 - any failure means: not this way
            failed.add(way)
            continue
        if _agrees(fn, values, lo, hi):
            return values
        failed.add(way)
    return _python(fn, lo, hi)


def chosen(fn) -> str:
    """The way ``evaluate`` currently uses for ``fn`` (for tests and diagnostics)."""
    failed = _FAILED.get(fn, set())
    return next((w for w in ("numba", "array") if w not in failed), "python")
