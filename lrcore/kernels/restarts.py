r"""Cycle solving for warm restarts.

Cycle :math:`i` starts at :math:`B_i = T_0 (m^i - 1)/(m - 1)` and lasts
:math:`T_i = T_0 m^i`. The index comes from a logarithm, which can land just
below or above an integer; it is then corrected by comparing with the boundaries
themselves, in exact int64 arithmetic for integer :math:`m`.
"""

import math

from . import njit


@njit(cache=True)
def _int_boundary(T0, m, p):
    # B for m**i == p
    return T0 * (p - 1) // (m - 1)


@njit(cache=True)
def restart_int(e, T0, m):
    """(cycle index, steps since restart, cycle length) for integer ``m``; exact."""
    if m == 1:
        i = e // T0
        return i, e - i * T0, T0
    i = int(math.log(e * (m - 1) / T0 + 1.0) / math.log(m))
    if i < 0:
        i = 0
    p = 1
    for _ in range(i):
        p *= m
    start = _int_boundary(T0, m, p)
    while start > e:
        i -= 1
        p //= m
        start = _int_boundary(T0, m, p)
    while True:
        nxt = _int_boundary(T0, m, p * m)
        if nxt > e:
            break
        i += 1
        p *= m
        start = nxt
    return i, e - start, T0 * p


@njit(cache=True)
def float_boundary(T0, m, i):
    return T0 * (math.pow(m, float(i)) - 1.0) / (m - 1.0)


@njit(cache=True)
def restart_float(e, T0, m):
    """(cycle index, steps since restart, cycle length) for a float ``m > 1``.

    The boundaries are defined by :func:`float_boundary`; the index found is the
    largest ``i`` whose boundary is ``<= e`` (exact with respect to that formula).
    """
    i = int(math.log(e * (m - 1.0) / T0 + 1.0) / math.log(m))
    if i < 0:
        i = 0
    start = float_boundary(T0, m, i)
    while i > 0 and start > e:
        i -= 1
        start = float_boundary(T0, m, i)
    while True:
        nxt = float_boundary(T0, m, i + 1)
        if nxt > e:
            break
        i += 1
        start = nxt
    return i, e - start, T0 * math.pow(m, float(i))


@njit(cache=True)
def timm_boundary(T, m, i):
    """Where timm's cycle ``i`` starts, with timm's operation order."""
    return (1.0 - math.pow(m, float(i))) / (1.0 - m) * T


#: An empty cycle cache for :func:`timm_cycle`.
NO_CYCLE = (-1, 0.0, 0.0, 0.0)


@njit(cache=True)
def timm_cycle(t, T, m, limit, cyc):
    """(index, length, steps since its start, cache) for timm's cycles, ``m != 1``.

    The index is the largest ``i < limit`` whose :func:`timm_boundary` is at most
    ``t`` (``limit`` when ``t`` is past the last cycle); the logarithm only
    guesses it. A boundary within a relative 1e-12 of ``t`` counts as ``t``:
    rounding (of the formula, and of a decimal ``m`` such as 0.8 in binary) must
    not move a restart that lands on a step to the next one.

    ``cyc`` = (index, its start, the next start, its length) from an earlier call
    (or ``NO_CYCLE``): a step inside that cycle is answered from it, with the same
    numbers as a fresh solve.
    """
    near = t + 1e-12 * max(t, 1.0)
    i, lo, hi, t_i = cyc
    if not (i >= 0 and lo <= near and near < hi):
        if timm_boundary(T, m, limit) <= near:
            i = limit
        else:
            i = 0
            arg = 1.0 - t / T * (1.0 - m)
            if arg > 0.0:
                guess = math.floor(math.log(arg) / math.log(m))
                if guess > 0:
                    i = int(min(guess, float(limit - 1)))
            while i > 0 and timm_boundary(T, m, i) > near:
                i -= 1
            while i + 1 < limit and timm_boundary(T, m, i + 1) <= near:
                i += 1
        lo = timm_boundary(T, m, i)
        hi = math.inf if i == limit else timm_boundary(T, m, i + 1)
        t_i = math.pow(m, float(i)) * T
    if i == limit:
        return i, 0.0, 0.0, (i, lo, hi, t_i)
    return i, t_i, max(t - lo, 0.0), (i, lo, hi, t_i)
