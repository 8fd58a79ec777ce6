r"""The ``closed`` numerics: each schedule's closed form, in parallel chunks.

Within a chunk the work goes one leaf at a time over runs of steps, so the inner
loops are plain arithmetic that LLVM vectorises. Cosines of evenly spaced
angles come from the angle-addition formula,
:math:`\cos(a + j\theta) = \cos a \cos j\theta - \sin a \sin j\theta`,
with two libm calls per block of ``BLOCK`` steps, and the annealing factor is
written :math:`(1 + \cos x)/2 = \cos^2(x/2)`, which keeps full relative
accuracy near the end of a cycle where :math:`1 + \cos x` cancels.
"""

import math

import numpy as np

from .. import family as F
from .. import kinds as K
from ..kinds import LEAF_HEADER, PROGRAM_HEADER, SEGMENT_ROW
from . import (
    kernel_tag,
    kernels_parallel_lock,
    njit,
    plain_first,
    prange,
    specialise,
    use_parallel,
    use_python,
)
from .formulas import (
    CONSTANT_LR,
    COSINE_ANNEALING_LR,
    CYCLIC,
    EXPONENTIAL_LR,
    FACTOR,
    LINEAR_LR,
    MULTI_STEP_LR,
    ONE_CYCLE,
    PHASE,
    POLYNOMIAL_LR,
    STEP_LR,
    TIMM,
    WARM_RESTARTS,
    cyclic_lr,
    cyclic_scale,
    factor_value,
    integral_power,
    one_cycle_value,
    run_piece,
    timm_value,
)
from .restarts import NO_CYCLE, float_boundary, restart_float, restart_int
from .torch_numerics import interpreter, program_kinds

CHUNK = 16384
BLOCK = 128


# The writers return how many entries they wrote that are not finite, counted in the loop
# that writes them (``x - x`` is 0 for every finite x): a count taken by reading the table
# again costs a second pass over memory (0.35 -> 0.92 ms on 10^6 entries here). They write
# through a view (``o = out[i0 : i0 + n]; o[j] = ...``): numba wraps negative indices, so
# ``out[i0 + j]`` vectorises into scatter stores, at half the speed of contiguous ones.
# Writers that divide or take square roots compile with ``error_model="numpy"``: numba's
# default checks every divisor for 0 (to raise ZeroDivisionError), and that branch keeps
# the loop from vectorising (2.5x slower); their divisors are never 0 (the specs' checks).


@njit(cache=True)
def _cos_anneal(theta, x0, n, cj, sj, period, out, i0, eta, peak, base_in, first):
    """``out[i0 + j] = eta + (peak - eta) * cos(theta * (x0 + j))**2`` for ``j < n``, with
    ``peak`` the incoming LR ``out[i0 + j]`` unless ``first`` or ``base_in``; returns how
    many of them are not finite.

    ``period`` (0: none) is the period of the cosine's square in ``x``; block starts are
    reduced modulo it (exactly, for integer values), so the angle stays small and its
    rounding error with it. One pass: the squared cosine is never stored.
    """
    o = out[i0 : i0 + n]
    m = min(BLOCK, n)
    for j in range(m):
        cj[j] = math.cos(theta * j)
        sj[j] = math.sin(theta * j)
    incoming = not (first or base_in)
    bad = 0
    for b0 in range(0, n, BLOCK):
        x = x0 + b0
        if period > 0.0:
            x = x - period * math.floor(x / period)
        a = theta * x
        ca = math.cos(a)
        sa = math.sin(a)
        w = min(BLOCK, n - b0)
        o = out[i0 + b0 : i0 + b0 + w]
        if incoming:
            for j in range(w):
                c = ca * cj[j] - sa * sj[j]
                v = eta + (o[j] - eta) * (c * c)
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
        else:
            for j in range(w):
                c = ca * cj[j] - sa * sj[j]
                v = eta + (peak - eta) * (c * c)
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
    return bad


@njit(cache=True, error_model="numpy")
def _piece(shape, lo, hi, a, x0, k, out, i0, n, cj, sj):
    """``out[i0 + j] = lo + (hi - lo) * f(x0 + j)`` for ``j < n``, ``f`` a piece's shape
    (:data:`lrcore.kinds.PIECE_COS2` and the rest; a ramp is ``lo + (x0 + j) a``); how
    many are not finite. A tanh of evenly spaced arguments comes from its addition
    formula, ``tanh(u + v) = (tanh u + tanh v) / (1 + tanh u tanh v)``, with one libm call
    per block; its blocks span at most 1/2 in ``a x``, so that ``|tanh v| < 1/2`` and the
    denominator never cancels."""
    if shape == K.PIECE_COS2:
        return _cos_anneal(a, x0, n, cj, sj, 0.0, out, i0, lo, hi, True, True)
    ramp, span, m, bad, size = _ramp(cj, n), hi - lo, int(k), 0, BLOCK
    if shape == K.PIECE_TANH:
        if a != 0.0:
            size = max(1, min(BLOCK, int(0.5 / abs(a))))
        for j in range(min(size, n)):
            sj[j] = math.tanh(a * j)
    elif (shape == K.PIECE_RSQRT or shape == K.PIECE_RSQRT_LINEAR) and x0 >= 16.0 * 128.0:
        size = min(BLOCK, int(x0 / 128.0) + 1)  # blocks over at most 1/128 of x (_rsqrt_block)
    for b0 in range(0, n, size):
        x, w = x0 + b0, min(size, n - b0)
        o = out[i0 + b0 : i0 + b0 + w]
        if shape == K.PIECE_POWER and m == 1:
            for j in range(w):
                v = lo + span * (1.0 - a * (x + ramp[j]))
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
        elif shape == K.PIECE_POWER and m == 2:
            for j in range(w):
                u = 1.0 - a * (x + ramp[j])
                v = lo + span * (u * u)
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
        elif shape == K.PIECE_POWER:
            for j in range(w):
                u = 1.0 - a * (x + ramp[j])
                f = u
                for _ in range(m - 1):
                    f *= u
                v = lo + span * f
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
        elif shape == K.PIECE_TANH:
            tb = math.tanh(k + a * x)
            for j in range(w):
                th = (tb + sj[j]) / (1.0 + tb * sj[j])
                v = lo + span * (0.5 * (1.0 - th))
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
        elif shape == K.PIECE_RSQRT or shape == K.PIECE_RSQRT_LINEAR:
            bad += _rsqrt_block(o, w, lo, span, a, x, ramp, shape == K.PIECE_RSQRT_LINEAR, k)
        elif shape == K.PIECE_RAMP:
            for j in range(w):
                v = lo + (x + ramp[j]) * a
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
        else:  # PIECE_ONE_MINUS_SQRT
            for j in range(w):
                v = lo + span * (1.0 - math.sqrt(a * (x + ramp[j])))
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
    return bad


@njit(cache=True, error_model="numpy")
def _rsqrt_block(o, w, lo, span, a, x, ramp, linear, end):
    """``o[j] = lo + span / sqrt(a (x + j))``, times ``end - (x + j)`` where ``linear``,
    for ``j < w``; how many are not finite.

    A square root and a division a step cost 5x the memory floor (``vsqrtpd``, ``vdivpd``
    and their latency), so where the block spans at most 1/128 of its first argument
    ``z0``, ``1/sqrt(z0 (1 + u))`` is the binomial series in ``u = a j / z0`` to its
    sixth power, a polynomial in ``j`` whose coefficients take one square root a block:
    the series alternates, so it is off by less than its next term, ``429/2048 u**7 <
    4e-16``, within a few ulp of ``1/sqrt`` with the rounding. ``end - (x + j)`` is exact
    for integral values (no cancellation where the linear factor nears 0)."""
    bad = 0
    z0 = a * x
    if not (z0 > 0.0 and a > 0.0 and a * (w - 1) * 128.0 <= z0):
        for j in range(w):
            f = span / math.sqrt(a * (x + ramp[j]))
            v = lo + (f * ((end - x) - ramp[j]) if linear else f)
            o[j] = v
            bad += 1 if v - v != 0.0 else 0
        return bad
    c = a / z0
    c0 = span / math.sqrt(z0)  # span * binom(-1/2, k) * c**k / sqrt(z0)
    c1 = c0 * (-0.5 * c)
    c2 = c1 * (-0.75 * c)
    c3 = c2 * (-5.0 / 6.0 * c)
    c4 = c3 * (-0.875 * c)
    c5 = c4 * (-0.9 * c)
    c6 = c5 * (-11.0 / 12.0 * c)
    left = end - x
    for j in range(w):
        r = ramp[j]
        v = c0 + r * (c1 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * c6)))))
        v = lo + (v * (left - r) if linear else v)
        o[j] = v
        bad += 1 if v - v != 0.0 else 0
    return bad


@njit(cache=True)
def _scale(out, i0, n, buf, base, first):
    o = out[i0 : i0 + n]
    bad = 0
    if first:
        for j in range(n):
            x = base * buf[j]
            o[j] = x
            bad += 1 if x - x != 0.0 else 0
    else:
        for j in range(n):
            x = o[j] * buf[j]
            o[j] = x
            bad += 1 if x - x != 0.0 else 0
    return bad


@njit(cache=True)
def _ramp(cj, n):
    """``cj[j] = j`` (floats) for ``j < min(BLOCK, n)``: a block's steps as floats are its
    first step plus the ramp, exactly (no int -> float conversion at every step)."""
    for j in range(min(BLOCK, n)):
        cj[j] = float(j)
    return cj


# -- each family's closed form over a run: (code, off, base, e0, out, i0, n, first, buf,
# cj, sj, aux, aux_lo, aux_off) applies the leaf at ``off`` to ``out[i0:i0+n]`` (local steps
# ``e0 ..``); ``first``: the segment's first leaf (no incoming LR yet). Each returns how
# many of the entries it wrote are not finite, counted as it writes them --------------


@njit(cache=True)
def _block(out, i0, n, f, base, first):
    """``out[i0:i0+n]``: a constant factor ``f`` over a block (``base * f``, or the
    incoming LR times ``f``: the bits of :func:`_scale` with a constant ``buf``)."""
    o = out[i0 : i0 + n]
    if first:
        v = base * f
        for j in range(n):
            o[j] = v
        return n if v - v != 0.0 and n > 0 else 0
    bad = 0
    for j in range(n):
        x = o[j] * f
        o[j] = x
        bad += 1 if x - x != 0.0 else 0
    return bad


@njit(cache=True)
def step_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    # block by block: gamma ** q over each run of step_size steps
    p = off + K.LEAF
    step_size, gamma = int(code[p + STEP_LR.step_size]), code[p + STEP_LR.gamma]
    j, bad = 0, 0
    while j < n:
        q = (e0 + j) // step_size
        w = min(n - j, (q + 1) * step_size - (e0 + j))
        bad += _block(out, i0 + j, w, math.pow(gamma, float(q)), base, first)
        j += w
    return bad


@njit(cache=True)
def multi_step_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    # block by block between milestones (sorted, with their counts after them)
    p = off + K.LEAF
    gamma, m = code[p + MULTI_STEP_LR.gamma], int(code[p + MULTI_STEP_LR.n_milestones])
    ms = p + len(MULTI_STEP_LR)  # the milestones, then their counts
    k, count, j, bad = 0, 0, 0, 0
    while j < n:
        while k < m and code[ms + k] <= e0 + j:
            count += int(code[ms + m + k])
            k += 1
        w = n - j
        if k < m:
            w = min(w, int(code[ms + k]) - (e0 + j))
        bad += _block(out, i0 + j, w, math.pow(gamma, float(count)) if count else 1.0, base, first)
        j += w
    return bad


@njit(cache=True)
def constant_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    # two blocks: factor before total_iters, 1 from there
    p = off + K.LEAF
    factor, total = code[p + CONSTANT_LR.factor], int(code[p + CONSTANT_LR.total_iters])
    w = min(n, max(total - e0, 0))
    bad = _block(out, i0, w, factor + 0.0 * (1 - factor), base, first)
    return bad + _block(out, i0 + w, n - w, factor + 1.0 * (1 - factor), base, first)


@njit(cache=True)
def linear_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    p = off + K.LEAF
    sf, ef = code[p + LINEAR_LR.start_factor], code[p + LINEAR_LR.end_factor]
    total = int(code[p + LINEAR_LR.total_iters])
    ramp, cap = _ramp(cj, n), float(total)
    bad = 0
    for b0 in range(0, n, BLOCK):
        x, w = float(e0 + b0), min(BLOCK, n - b0)
        o = out[i0 + b0 : i0 + b0 + w]
        if first:
            for j in range(w):
                v = base * (sf + (ef - sf) * min(cap, x + ramp[j]) / cap)
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
        else:
            for j in range(w):
                v = o[j] * (sf + (ef - sf) * min(cap, x + ramp[j]) / cap)
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
    return bad


@njit(cache=True)
def exponential_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    gamma = code[off + K.LEAF + EXPONENTIAL_LR.gamma]
    w = min(BLOCK, n)
    for j in range(w):
        cj[j] = math.pow(gamma, float(j))
    bad = 0
    for b0 in range(0, n, BLOCK):
        g, w = math.pow(gamma, float(e0 + b0)), min(BLOCK, n - b0)
        o = out[i0 + b0 : i0 + b0 + w]
        if first:
            for j in range(w):
                v = base * (g * cj[j])
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
        else:
            for j in range(w):
                v = o[j] * (g * cj[j])
                o[j] = v
                bad += 1 if v - v != 0.0 else 0
    return bad


@njit(cache=True)
def polynomial_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    p = off + K.LEAF
    total, power = int(code[p + POLYNOMIAL_LR.total_iters]), code[p + POLYNOMIAL_LR.power]
    if first and integral_power(power):  # (1 - e / T)**k by multiplication, then 0
        w = min(n, max(total - e0, 0))
        bad = _piece(K.PIECE_POWER, 0.0, base, 1.0 / total, float(e0), power, out, i0, w, cj, sj)
        return bad + _block(out, i0 + w, n - w, math.pow(0.0, power), base, True)
    for j in range(n):
        buf[j] = math.pow(1.0 - float(min(total, e0 + j)) / total, power)
    return _scale(out, i0, n, buf, base, first)


@njit(cache=True)
def cosine_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    p = off + K.LEAF
    t_max, eta = int(code[p + COSINE_ANNEALING_LR.T_max]), code[p + COSINE_ANNEALING_LR.eta_min]
    theta = 0.5 * math.pi / t_max
    return _cos_anneal(theta, float(e0), n, cj, sj, 2.0 * t_max, out, i0, eta, base, False, first)


@njit(cache=True)
def warm_restarts_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    return _warm_restarts(code, off + K.LEAF, base, e0, out, i0, n, buf, cj, sj)


@njit(cache=True, error_model="numpy")
def cyclic_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    # cycle by cycle: the scale of a triangular or triangular2 cycle is one number, and
    # the rest vectorises (the same operations as cyclic_lr: the same bits)
    o = out[i0 : i0 + n]
    p = off + K.LEAF
    lo, hi, invert = code[p + CYCLIC.lo], code[p + CYCLIC.hi], code[p + CYCLIC.invert]
    total, ratio = code[p + CYCLIC.total], code[p + CYCLIC.ratio]
    mode, gamma = int(code[p + CYCLIC.mode]), code[p + CYCLIC.gamma]
    ramp = _ramp(cj, n)
    # torch's default step_size_down (= step_size_up) makes ratio 1/2: its two divisions
    # are then multiplications by 2 and -2, the same bits (three divisions a step -> one)
    exact = _power_of_two(ratio) and _power_of_two(ratio - 1.0)
    up, down = 1.0 / ratio, 1.0 / (ratio - 1.0)
    bad, j = 0, 0
    while j < n:
        e = e0 + j
        cycle = math.floor(1 + e / total)
        stop = n  # past the cycle's last step (checked with the same formula)
        if float(e0 + n) > cycle * total:
            stop = min(n, max(j + 1, int(math.ceil(cycle * total)) - e0))
            while stop > j + 1 and math.floor(1 + (e0 + stop - 1) / total) != cycle:
                stop -= 1
        if mode == K.EXP_RANGE:
            for q in range(j, stop):
                x = cyclic_lr(e0 + q, lo, hi, invert, total, ratio, mode, gamma)
                o[q] = x
                bad += 1 if x - x != 0.0 else 0
        else:  # cyclic_at's operations, in this vectorising loop
            scale = cyclic_scale(mode, gamma, cycle, e)
            for b0 in range(j, stop, BLOCK):
                x0, w = float(e0 + b0), min(BLOCK, stop - b0)
                ob = o[b0 : b0 + w]
                for q in range(w):
                    x = 1.0 + (x0 + ramp[q]) / total - cycle
                    if exact:  # x / ratio and (x - 1) / (ratio - 1) as exact products
                        f = x * up if x <= ratio else (x - 1) * down
                    else:
                        f = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
                    height = (hi - lo) * f
                    v = hi - height * scale if invert != 0.0 else lo + height * scale
                    ob[q] = v
                    bad += 1 if v - v != 0.0 else 0
        j = stop
    return bad


@njit(cache=True)
def _power_of_two(x) -> bool:
    """Whether ``|x|`` is a power of two (dividing by it is multiplying by ``1 / x``,
    both exact)."""
    return x != 0.0 and math.frexp(abs(x))[0] == 0.5


@njit(cache=True)
def one_cycle_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    return _one_cycle(code, off + K.LEAF, e0, out, i0, n, buf, cj, sj)


@njit(cache=True)
def factor_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    # already closed forms (transformers' own)
    o = out[i0 : i0 + n]
    p = off + K.LEAF
    shape, a, b = int(code[p + FACTOR.shape]), code[p + FACTOR.a], code[p + FACTOR.b]
    c, d = code[p + FACTOR.c], code[p + FACTOR.d]
    if shape == K.F_COSINE and 0.0 <= c <= 1.0:  # (the clamp at 0 does nothing then)
        # 0.5 * (1 + cos(2 pi b progress)) = cos(pi b progress)**2, progress = (e + d) / a
        theta = math.pi * b / max(1.0, a)
        return _cos_anneal(theta, e0 + d, n, cj, sj, 0.0, out, i0, base * c, base, True, True)
    bad = 0
    for j in range(n):
        x = base * factor_value(shape, e0 + j, a, b, c, d)
        o[j] = x
        bad += 1 if x - x != 0.0 else 0
    return bad


@njit(cache=True)
def timm_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    # timm's own closed forms, step by step; with cycle_mul 1 and k_decay 1, a cycle's
    # noiseless stretch as a piece (a cosine by angle addition, a tanh by its addition
    # formula, a polynomial of integral power by multiplication) and the end past
    # cycle_limit as a run
    o = out[i0 : i0 + n]
    p, P = off + K.LEAF, TIMM
    T, lr_min, W = int(code[p + P.t_initial]), code[p + P.lr_min], int(code[p + P.warmup_t])
    decay, limit = code[p + P.cycle_decay], int(code[p + P.cycle_limit])
    noise_lo, noise_hi = code[p + P.noise_lo], code[p + P.noise_hi]
    shape, power = int(code[p + P.shape]), code[p + P.x1]
    fast = (
        (shape != K.T_POLY or integral_power(power))
        and code[p + P.cycle_mul] == 1.0
        and code[p + P.k_decay] == 1.0
    )
    prefix = code[p + P.warmup_prefix] != 0.0
    cyc, bad, j = NO_CYCLE, 0, 0
    while j < n:
        t = e0 + j
        if fast and t >= W and not (noise_lo <= t and t < noise_hi):
            stop = n  # up to the noise's first step
            if noise_lo > t:
                stop = min(n, int(math.ceil(noise_lo)) - e0)
            e = t - W if prefix else t
            i = e // T
            if i >= limit:  # lr_min from here on
                o[j:stop] = lr_min
                bad += stop - j if lr_min - lr_min != 0.0 else 0
                j = stop
                continue
            stop = min(stop, j + T * (i + 1) - e)  # the cycle's end
            peak, x = base * math.pow(decay, float(i)), float(e - T * i)
            if shape == K.T_COSINE:
                bad += _piece(K.PIECE_COS2, lr_min, peak, 0.5 * math.pi / T, x, 0.0, out,
                              i0 + j, stop - j, cj, sj)  # fmt: skip
            elif shape == K.T_TANH:  # x1 (1 - x / T) + x2 x / T = x1 + (x2 - x1) / T * x
                lb, ub = code[p + P.x1], code[p + P.x2]
                bad += _piece(K.PIECE_TANH, lr_min, peak, (ub - lb) / T, x, lb, out, i0 + j,
                              stop - j, cj, sj)  # fmt: skip
            else:
                bad += _piece(K.PIECE_POWER, lr_min, peak, 1.0 / T, x, power, out, i0 + j,
                              stop - j, cj, sj)  # fmt: skip
            j = stop
            continue
        v, cyc = timm_value(code, p, base, t, cyc)
        o[j] = v
        bad += 1 if v - v != 0.0 else 0
        j += 1
    return bad


def _pointwise_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    """A pointwise family over a run: its ``VALUE`` at each step (the framework's own
    formula is already closed)."""
    o = out[i0 : i0 + n]
    bad = 0
    for j in range(n):
        x = VALUE(code, off + K.LEAF, base, e0 + j)  # noqa: F821
        o[j] = x
        bad += 1 if x - x != 0.0 else 0
    return bad


@njit(cache=True)
def lambda_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    o = out[i0 : i0 + n]
    slot = int(code[off + LEAF_HEADER.function_slot])
    bad = 0
    for j in range(n):
        x = base * aux[aux_off[slot] + e0 + j - aux_lo[slot]]
        o[j] = x
        bad += 1 if x - x != 0.0 else 0
    return bad


@njit(cache=True)
def multiplicative_closed(
    code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off
):
    # the function slot holds running products
    slot = int(code[off + LEAF_HEADER.function_slot])
    for j in range(n):
        buf[j] = aux[aux_off[slot] + e0 + j - aux_lo[slot]]
    return _scale(out, i0, n, buf, base, first)


def _runs_pieces(code, p, base, t, limit):
    """``Family.runs`` as pieces: a run of step ``t``'s value to the end ``RUN_END`` gives."""
    return run_piece(RUN_END(code, p, t, limit))  # noqa: F821


def _pieces_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    """A pointwise family over a run, piece by piece (``Family.pieces``): a stretch of
    one of the shapes by :func:`_piece`, a run of one value filled with it (its
    ``VALUE``, the same bits)."""
    o = out[i0 : i0 + n]
    p = off + K.LEAF
    limit = e0 + n - 1
    j, bad = 0, 0
    while j < n:
        t = e0 + j
        last, shape, lo, hi, a, x, k = PIECES(code, p, base, t, limit)  # noqa: F821
        end = max(last, t) - e0 + 1  # (a piece holds at least its first step)
        if shape != K.PIECE_RUN:
            bad += _piece(shape, lo, hi, a, x, k, out, i0 + j, end - j, cj, sj)
        else:
            v = VALUE(code, p, base, t)  # noqa: F821
            o[j:end] = v
            bad += end - j if v - v != 0.0 else 0
        j = end
    return bad


def _closed_of(family):
    """A family's closed form over a run: its own, its value's piece by piece (cosine
    stretches and runs), filled run by run (a staircase's), or at every step."""
    if family.closed is not None:
        return family.closed
    if family.pieces is not None:
        tag = f"{kernel_tag(family.value)}_{kernel_tag(family.pieces)}"
        return specialise(_pieces_closed, tag, {"VALUE": family.value, "PIECES": family.pieces})
    if family.runs is not None:  # a staircase: pieces that are all runs
        tag = f"{kernel_tag(family.value)}_{kernel_tag(family.runs)}"
        runs = specialise(_runs_pieces, kernel_tag(family.runs), {"RUN_END": family.runs})
        return specialise(_pieces_closed, tag, {"VALUE": family.value, "PIECES": runs})
    return specialise(_pointwise_closed, kernel_tag(family.value), {"VALUE": family.value})


#: kind -> the family's closed form over a run (derived from the declarations)
CLOSED = F.ByKind(_closed_of)


def _closed_link(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    """One leaf's closed form: family ``KIND``'s, else the rest of the chain's (see
    :func:`lrcore.kernels.torch_numerics.chain`)."""
    if int(code[off + LEAF_HEADER.kind]) == KIND:  # noqa: F821
        return CLOSED_LEAF(  # noqa: F821
            code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off
        )
    return NEXT(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off)  # noqa: F821


@njit(cache=True)
def no_closed(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off):
    """The end of a chain: a family it was not made for (its callers check first)."""
    return 0


@njit(cache=True)
def _warm_restarts(code, p, base, e0, out, i0, n, buf, cj, sj):
    R = WARM_RESTARTS
    T0, m = int(code[p + R.T_0]), code[p + R.T_mult]
    eta, decay = code[p + R.eta_min], code[p + R.decay]
    integral = code[p + R.integral] != 0.0
    j, bad = 0, 0
    while j < n:
        e = e0 + j
        if integral:
            i, t_cur_i, t_i_i = restart_int(e, T0, int(m))
            t_cur, t_i = float(t_cur_i), float(t_i_i)
        else:
            i, t_cur, t_i = restart_float(float(e), float(T0), m)
        # steps left in this cycle: up to the next boundary of the same formula
        if integral:
            left = int(t_i - t_cur)
        else:
            left = int(math.ceil(float_boundary(float(T0), m, i + 1) - e))
        w = min(n - j, max(left, 1))
        peak = base if decay == 1.0 else base * math.pow(decay, float(i))
        bad += _cos_anneal(
            0.5 * math.pi / t_i, t_cur, w, cj, sj, 0.0, out, i0 + j, eta, peak, True, True
        )
        j += w
    return bad


@njit(cache=True)
def _one_cycle(code, p, e0, out, i0, n, buf, cj, sj):
    # phase by phase: a(s, e, pct) = e + (s - e) * cos(pi * pct / 2)**2
    o = out[i0 : i0 + n]
    phases, anneal = int(code[p + ONE_CYCLE.n_phases]), int(code[p + ONE_CYCLE.anneal])
    bad = 0
    if anneal != K.ANNEAL_COS:
        for j in range(n):
            x = one_cycle_value(code, p, e0 + j)
            o[j] = x
            bad += 1 if x - x != 0.0 else 0
        return bad
    j = 0
    start_step = 0.0
    for k in range(phases):
        q = p + len(ONE_CYCLE) + len(PHASE) * k
        end_step, a, b = code[q + PHASE.end_step], code[q + PHASE.start], code[q + PHASE.end]
        # steps e with e <= end_step belong to this phase (the last takes the rest)
        stop = n if k == phases - 1 else min(n, max(j, int(math.floor(end_step)) - e0 + 1))
        if stop > j:
            w = stop - j
            theta = 0.5 * math.pi / (end_step - start_step)
            x = e0 + j - start_step
            bad += _cos_anneal(theta, x, w, cj, sj, 0.0, out, i0 + j, b, a, True, True)
            j = stop
        start_step = end_step
    return bad


def _any_closed_table(code, base, t0, n, out, aux, aux_lo, aux_off):
    """``out[i]`` = closed form at step ``t0 + i``, any program of the chain's families,
    chunk after chunk on the calling thread (the C ABI's closed fill; Python's tables
    use :func:`closed_run`, which runs the same chunks in parallel with each family's
    own kernel)."""
    nseg = int(code[PROGRAM_HEADER.n_segments])
    chunks = (n + CHUNK - 1) // CHUNK
    for k in range(chunks):
        buf = np.empty(CHUNK)
        cj = np.empty(BLOCK)
        sj = np.empty(BLOCK)
        i = k * CHUNK
        end = min(n, i + CHUNK)
        while i < end:
            t = t0 + i
            s = 0
            while s + 1 < nseg and code[K.HEADER + K.SEGMENT * (s + 1) + SEGMENT_ROW.start] <= t:
                s += 1
            h = K.HEADER + K.SEGMENT * s
            seg_start = int(code[h + SEGMENT_ROW.start])
            n_leaves = int(code[h + SEGMENT_ROW.n_leaves])
            off = int(code[h + SEGMENT_ROW.first_leaf])
            run_end = end
            if s + 1 < nseg:  # up to the next segment's start
                run_end = min(end, int(code[h + K.SEGMENT + SEGMENT_ROW.start]) - t0)
            for leaf in range(n_leaves):
                ANY_CLOSED(  # noqa: F821
                    code,
                    off,
                    base,
                    t - seg_start,
                    out,
                    i,
                    run_end - i,
                    leaf == 0,
                    buf,
                    cj,
                    sj,
                    aux,
                    aux_lo,
                    aux_off,
                )
                off += K.LEAF + int(code[off + LEAF_HEADER.n_params])
            i = run_end


def closed_table_of(kinds):
    """:func:`_any_closed_table` compiled for the families ``kinds`` (and no other)."""
    return interpreter(
        _any_closed_table, "ANY_CLOSED", _closed_link, no_closed, CLOSED, "CLOSED_LEAF", kinds
    )


def _closed_apply(code, off, base, seg_start, t0, i_s, i_e, out, first, last, aux, aux_lo, aux_off):
    """One leaf (``CLOSED_LEAF``: its family's closed form) over ``out[i_s:i_e]``, steps
    ``t0 + i``, in the chunks of :func:`_any_closed_table` (``CHUNK`` entries from 0), so
    the result has the same bits. For the segment's ``last`` leaf, the number of entries
    that are not finite, as the leaf counted them while writing them (so ``lrcore.table``
    need not read the whole table again); 0 otherwise."""
    k0 = i_s // CHUNK
    chunks = (i_e + CHUNK - 1) // CHUNK - k0
    bad = 0
    for k in prange(chunks):
        a = max(i_s, (k0 + k) * CHUNK)
        b = min(i_e, (k0 + k + 1) * CHUNK)
        buf = np.empty(CHUNK)
        cj = np.empty(BLOCK)
        sj = np.empty(BLOCK)
        e0 = t0 + a - seg_start
        c = CLOSED_LEAF(  # noqa: F821
            code, off, base, e0, out, a, b - a, first, buf, cj, sj, aux, aux_lo, aux_off
        )
        if last:
            bad += c
    return bad


def closed_run(code, base, t0, n, out, aux, aux_lo, aux_off):
    """``out[i]`` = closed form at step ``t0 + i``, as :func:`_any_closed_table`, with each
    family's own compiled driver (a Python walk over segments and leaves); a short
    table as plain Python while those are not compiled. Returns how many entries are
    not finite."""
    args = (code, base, t0, n, out, aux, aux_lo, aux_off)
    if use_python(n, [CLOSED_APPLY[kind] for kind in program_kinds(code)]):
        return plain_first(lambda: _closed_run(True, *args), lambda: _closed_run(False, *args))
    return _closed_run(False, *args)


def _closed_run(pure, code, base, t0, n, out, aux, aux_lo, aux_off):
    nseg = int(code[PROGRAM_HEADER.n_segments])
    bad = 0
    for s in range(nseg):
        h = K.HEADER + K.SEGMENT * s
        seg_start, n_leaves = int(code[h + SEGMENT_ROW.start]), int(code[h + SEGMENT_ROW.n_leaves])
        off = int(code[h + SEGMENT_ROW.first_leaf])
        nxt = int(code[h + K.SEGMENT + SEGMENT_ROW.start]) if s + 1 < nseg else t0 + n
        i_s, i_e = max(seg_start, t0) - t0, min(nxt, t0 + n) - t0
        if i_e <= i_s:
            continue
        for k in range(n_leaves):
            kind = int(code[off + LEAF_HEADER.kind])
            last = k == n_leaves - 1
            a = (code, off, base, seg_start, t0, i_s, i_e, out, k == 0, last, aux, aux_lo, aux_off)
            if pure:
                bad += CLOSED_SERIAL[kind].py(*a)
            elif use_parallel(CLOSED_APPLY[kind], i_e - i_s):
                with kernels_parallel_lock():
                    bad += CLOSED_APPLY[kind](*a)
            else:  # the same chunks, one after another (a first table, a forked child)
                bad += CLOSED_SERIAL[kind](*a)
            off += K.LEAF + int(code[off + LEAF_HEADER.n_params])
    return bad


#: kind -> the family's :func:`_closed_apply` (compiled per family, as the torch drivers)
CLOSED_APPLY = F.ByKind(
    lambda f: specialise(
        _closed_apply, kernel_tag(CLOSED[f.code]), {"CLOSED_LEAF": CLOSED[f.code]}, parallel=True
    )
)
#: the same, serial (``prange`` runs as ``range``): forked children, plain Python
CLOSED_SERIAL = F.ByKind(
    lambda f: specialise(
        _closed_apply, f"{kernel_tag(CLOSED[f.code])}_serial", {"CLOSED_LEAF": CLOSED[f.code]}
    )
)
