r"""Cycle solving for warm restarts.

Cycle :math:`i` starts at :math:`B_i = T_0 (m^i - 1)/(m - 1)` and lasts
:math:`T_i = T_0 m^i`. The index comes from a logarithm, which can land just
below or above an integer; it is then corrected by comparing with the boundaries
themselves, in exact int64 arithmetic for integer :math:`m`.
"""

import math

from numba import njit


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
