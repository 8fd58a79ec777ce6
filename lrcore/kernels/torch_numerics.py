"""The ``torch`` numerics: torch.optim.lr_scheduler's own arithmetic, step by step.

The formulas are in :mod:`lrcore.kernels.formulas`; this module drives them:
``torch_run`` walks a program's segments, one tight loop per family for a single
schedule (``leaf_run``), factors by block for chains of step-type schedules
(``chain_run``), and a generic per-step dispatch (``torch_leaf``) otherwise.
"""

import math

import numpy as np
from numba import njit, prange

from .. import kinds as K
from .formulas import (
    constant_lr,
    cosine_lr,
    cyclic_lr,
    exponential_lr,
    factor_value,
    linear_lr,
    multi_step_lr,
    one_cycle_value,
    polynomial_lr,
    step_lr,
    timm_value,
    warm_restarts_lr,
)
from .restarts import NO_CYCLE

CHUNK = 16384
NO_STEP = np.iinfo(np.int64).max


@njit(cache=True)
def _fn(aux, aux_lo, aux_off, slot, e):
    return aux[aux_off[slot] + e - aux_lo[slot]]


@njit(cache=True)
def torch_leaf(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    """One torch ``get_lr`` of the leaf at ``off``: the new LR from the current ``v``."""
    kind = int(code[off])
    li = int(code[off + 2])
    p = off + K.LEAF
    if kind == K.STEP:
        return step_lr(v, base, e, mode, int(code[p]), code[p + 1])
    if kind == K.MULTI_STEP:
        return multi_step_lr(code, p, v, base, e, mode)
    if kind == K.CONSTANT:
        return constant_lr(v, base, e, mode, code[p], int(code[p + 1]))
    if kind == K.LINEAR:
        return linear_lr(v, base, e, mode, code[p], code[p + 1], int(code[p + 2]))
    if kind == K.EXPONENTIAL:
        return exponential_lr(v, base, e, mode, code[p])
    if kind == K.POLYNOMIAL:
        return polynomial_lr(v, base, e, mode, code[p], code[p + 1])
    if kind == K.COSINE:
        # st[li] caches (step, cos(pi * step / T_max)) from the previous step.
        v, c = cosine_lr(v, base, e, mode, int(code[p]), code[p + 1], st[li, 0], st[li, 1])
        st[li, 0] = e if c == c else -1.0
        st[li, 1] = c
        return v
    if kind == K.WARM_RESTARTS:
        # st[li] caches the current cycle: (start, length, index, next start)
        v, cyc = warm_restarts_lr(
            base,
            e,
            int(code[p]),
            code[p + 1],
            code[p + 2],
            code[p + 3],
            code[p + 4] != 0.0,
            (st[li, 0], st[li, 1], int(st[li, 2]), st[li, 3]),
        )
        st[li, 0], st[li, 1], st[li, 2], st[li, 3] = cyc
        return v
    if kind == K.CYCLIC:
        return cyclic_lr(
            e,
            code[p],
            code[p + 1],
            code[p + 2],
            code[p + 3],
            code[p + 4],
            int(code[p + 5]),
            code[p + 6],
        )
    if kind == K.ONE_CYCLE:
        return one_cycle_value(code, p, e, False)
    if kind == K.FACTOR:
        return base * factor_value(
            int(code[p]), e, code[p + 1], code[p + 2], code[p + 3], code[p + 4]
        )
    if kind == K.TIMM:
        # st[li] caches the current cycle: (index, start, next start, length)
        v, cyc = timm_value(code, p, base, e, (int(st[li, 0]), st[li, 1], st[li, 2], st[li, 3]))
        st[li, 0], st[li, 1], st[li, 2], st[li, 3] = cyc
        return v
    slot = int(code[off + 3])
    if kind == K.LAMBDA:
        return base * _fn(aux, aux_lo, aux_off, slot, e)
    # MULTIPLICATIVE: torch has no closed form, so a milestone multiplies too.
    if mode == K.INITIAL:
        return v
    return v * _fn(aux, aux_lo, aux_off, slot, e)


@njit(cache=True)
def leaf_run(code, off, st, v, base, seg_start, t0, t1, out, out_t0, aux, aux_lo, aux_off):
    """A segment of one leaf over steps ``t0 .. t1-1`` in ordinary ``step()`` mode.

    One tight loop per family: a per-step dispatch over all families costs far
    more than the arithmetic itself.
    """
    kind = int(code[off])
    p = off + K.LEAF
    S = K.STEP_MODE
    if kind == K.STEP:
        step_size, gamma = int(code[p]), code[p + 1]
        for t in range(t0, t1):
            v = step_lr(v, base, t - seg_start, S, step_size, gamma)
            _emit(out, t, out_t0, v)
    elif kind == K.CONSTANT:
        factor, total = code[p], int(code[p + 1])
        for t in range(t0, t1):
            v = constant_lr(v, base, t - seg_start, S, factor, total)
            _emit(out, t, out_t0, v)
    elif kind == K.LINEAR:
        sf, ef, total = code[p], code[p + 1], int(code[p + 2])
        for t in range(t0, t1):
            v = linear_lr(v, base, t - seg_start, S, sf, ef, total)
            _emit(out, t, out_t0, v)
    elif kind == K.EXPONENTIAL:
        gamma = code[p]
        for t in range(t0, t1):
            v = v * gamma
            _emit(out, t, out_t0, v)
    elif kind == K.POLYNOMIAL:
        total, power = code[p], code[p + 1]
        for t in range(t0, t1):
            v = polynomial_lr(v, base, t - seg_start, S, total, power)
            _emit(out, t, out_t0, v)
    elif kind == K.COSINE:
        t_max, eta = int(code[p]), code[p + 1]
        ce, cc = -1.0, np.nan
        for t in range(t0, t1):
            e = t - seg_start
            v, cc = cosine_lr(v, base, e, S, t_max, eta, ce, cc)
            ce = e if cc == cc else -1.0
            _emit(out, t, out_t0, v)
    elif kind == K.WARM_RESTARTS:
        T0, m, eta, decay, integral = (
            int(code[p]),
            code[p + 1],
            code[p + 2],
            code[p + 3],
            code[p + 4] != 0.0,
        )
        cyc = (-1.0, -1.0, 0, -1.0)
        for t in range(t0, t1):
            v, cyc = warm_restarts_lr(base, t - seg_start, T0, m, eta, decay, integral, cyc)
            _emit(out, t, out_t0, v)
    elif kind == K.CYCLIC:
        lo, hi, invert, total, ratio = code[p], code[p + 1], code[p + 2], code[p + 3], code[p + 4]
        mode, gamma = int(code[p + 5]), code[p + 6]
        for t in range(t0, t1):
            v = cyclic_lr(t - seg_start, lo, hi, invert, total, ratio, mode, gamma)
            _emit(out, t, out_t0, v)
    elif kind == K.ONE_CYCLE:
        for t in range(t0, t1):
            v = one_cycle_value(code, p, t - seg_start, False)
            _emit(out, t, out_t0, v)
    elif kind == K.LAMBDA:
        slot = int(code[off + 3])
        base_idx = aux_off[slot] - aux_lo[slot] - seg_start
        for t in range(t0, t1):
            v = base * aux[base_idx + t]
            _emit(out, t, out_t0, v)
    elif kind == K.FACTOR:
        shape, a, b, c, dd = int(code[p]), code[p + 1], code[p + 2], code[p + 3], code[p + 4]
        for t in range(t0, t1):
            v = base * factor_value(shape, t - seg_start, a, b, c, dd)
            _emit(out, t, out_t0, v)
    elif kind == K.TIMM:
        cyc = NO_CYCLE
        for t in range(t0, t1):
            v, cyc = timm_value(code, p, base, t - seg_start, cyc)
            _emit(out, t, out_t0, v)
    elif kind == K.MULTIPLICATIVE:
        slot = int(code[off + 3])
        base_idx = aux_off[slot] - aux_lo[slot] - seg_start
        for t in range(t0, t1):
            v = v * aux[base_idx + t]
            _emit(out, t, out_t0, v)
    elif kind == K.MULTI_STEP:
        # milestones are sorted: walk them alongside the steps
        gamma, n = code[p], int(code[p + 1])
        k = 0
        while k < n and code[p + 2 + k] < t0 - seg_start:
            k += 1
        for t in range(t0, t1):
            if k < n and code[p + 2 + k] == t - seg_start:
                v = v * math.pow(gamma, code[p + 2 + n + k])
                k += 1
            _emit(out, t, out_t0, v)
    else:
        for t in range(t0, t1):
            v = torch_leaf(code, off, st, v, base, t - seg_start, S, aux, aux_lo, aux_off)
            _emit(out, t, out_t0, v)
    return v


RATIO_KINDS = (
    K.STEP,
    K.MULTI_STEP,
    K.CONSTANT,
    K.LINEAR,
    K.EXPONENTIAL,
    K.POLYNOMIAL,
    K.MULTIPLICATIVE,
)
BLOCK = 1024


@njit(cache=True)
def ratio_fill(code, off, seg_start, t0, t1, out, aux, aux_lo, aux_off):
    """``out[i] = r`` with torch's step ``v -> v * r`` at step ``t0 + i`` (STEP mode).

    For these families torch's update is a product with a factor of the step
    alone, and that factor is the formula applied to 1.0 (``1.0 * gamma`` is
    ``gamma``, an unchanged step gives 1.0), so ``v * r`` has torch's bits.
    """
    kind = int(code[off])
    p = off + K.LEAF
    S = K.STEP_MODE
    n = t1 - t0
    e0 = t0 - seg_start
    if kind == K.STEP:
        step_size, gamma = int(code[p]), code[p + 1]
        for i in range(n):
            out[i] = step_lr(1.0, 1.0, e0 + i, S, step_size, gamma)
    elif kind == K.CONSTANT:
        factor, total = code[p], int(code[p + 1])
        for i in range(n):
            out[i] = constant_lr(1.0, 1.0, e0 + i, S, factor, total)
    elif kind == K.LINEAR:
        sf, ef, total = code[p], code[p + 1], int(code[p + 2])
        for i in range(n):
            out[i] = linear_lr(1.0, 1.0, e0 + i, S, sf, ef, total)
    elif kind == K.EXPONENTIAL:
        for i in range(n):
            out[i] = code[p]
    elif kind == K.POLYNOMIAL:
        total, power = code[p], code[p + 1]
        for i in range(n):
            out[i] = polynomial_lr(1.0, 1.0, e0 + i, S, total, power)
    elif kind == K.MULTI_STEP:
        gamma, m = code[p], int(code[p + 1])
        k = 0
        while k < m and code[p + 2 + k] < e0:
            k += 1
        for i in range(n):
            out[i] = 1.0
            if k < m and code[p + 2 + k] == e0 + i:
                out[i] = 1.0 * math.pow(gamma, code[p + 2 + m + k])
                k += 1
    else:  # MULTIPLICATIVE
        slot = int(code[off + 3])
        for i in range(n):
            out[i] = aux[aux_off[slot] + e0 + i - aux_lo[slot]]


@njit(cache=True)
def chain_run(code, first, n_leaves, v, seg_start, t0, t1, out, out_t0, aux, aux_lo, aux_off):
    """A chain of ratio families over ``t0 .. t1-1``: factors by block, then products."""
    ratios = np.empty((n_leaves, BLOCK))
    t = t0
    while t < t1:
        w = min(BLOCK, t1 - t)
        off = first
        for k in range(n_leaves):
            ratio_fill(code, off, seg_start, t, t + w, ratios[k], aux, aux_lo, aux_off)
            off += K.LEAF + int(code[off + 1])
        for i in range(w):
            for k in range(n_leaves):
                v = v * ratios[k, i]
            _emit(out, t + i, out_t0, v)
        t += w
    return v


@njit(cache=True)
def _emit(out, t, out_t0, v):
    if t >= out_t0:
        out[t - out_t0] = v


@njit(cache=True)
def torch_run(code, base, t0, t1, v, out, out_t0, aux, aux_lo, aux_off):
    """Steps ``t0 .. t1-1`` from ``v`` (the LR at ``t0 - 1``).

    Writes ``out[t - out_t0]`` for the steps ``t >= out_t0``.
    """
    nseg = int(code[0])
    st = np.full((max(int(code[1]), 1), 4), -1.0)
    s = 0
    while s + 1 < nseg and code[K.HEADER + K.SEGMENT * (s + 1)] <= t0:
        s += 1
    h = K.HEADER + K.SEGMENT * s
    seg_start, n_leaves, first = int(code[h]), int(code[h + 1]), int(code[h + 2])
    nxt = int(code[h + K.SEGMENT]) if s + 1 < nseg else NO_STEP
    t = t0
    while t < t1:
        if t >= nxt:
            s += 1
            h = K.HEADER + K.SEGMENT * s
            seg_start, n_leaves, first = int(code[h]), int(code[h + 1]), int(code[h + 2])
            nxt = int(code[h + K.SEGMENT]) if s + 1 < nseg else NO_STEP
        if t == seg_start:  # the constructor's step, or SequentialLR's _update_lr(0)
            mode = K.INITIAL if s == 0 else K.MILESTONE
            off = first
            for _ in range(n_leaves):
                v = torch_leaf(code, off, st, v, base, 0, mode, aux, aux_lo, aux_off)
                off += K.LEAF + int(code[off + 1])
            _emit(out, t, out_t0, v)
            t += 1
            continue
        stop = min(t1, nxt)
        if n_leaves == 1:
            v = leaf_run(
                code, first, st, v, base, seg_start, t, stop, out, out_t0, aux, aux_lo, aux_off
            )
            t = stop
            continue
        if _all_ratio_kinds(code, first, n_leaves):
            v = chain_run(
                code, first, n_leaves, v, seg_start, t, stop, out, out_t0, aux, aux_lo, aux_off
            )
            t = stop
            continue
        for tt in range(t, stop):
            off = first
            for _ in range(n_leaves):
                v = torch_leaf(
                    code, off, st, v, base, tt - seg_start, K.STEP_MODE, aux, aux_lo, aux_off
                )
                off += K.LEAF + int(code[off + 1])
            _emit(out, tt, out_t0, v)
        t = stop
    return v


@njit(cache=True)
def segment_origin(code, start):
    """The first step of the segment holding ``start``.

    A later segment starts from its closed form at 0 (SequentialLR's
    ``_update_lr(0)``), so a recurrence reaches ``start`` exactly by streaming from
    there (the caller streams from 0 when a multiplicative leaf continues across
    segments)."""
    origin = 0
    for s in range(int(code[0])):
        seg = int(code[K.HEADER + K.SEGMENT * s])
        if seg <= start:
            origin = seg
    return origin


@njit(cache=True)
def _all_ratio_kinds(code, first, n_leaves):
    off = first
    for _ in range(n_leaves):
        kind = int(code[off])
        ok = False
        for r in RATIO_KINDS:
            if kind == r:
                ok = True
        if not ok:
            return False
        off += K.LEAF + int(code[off + 1])
    return True


@njit(cache=True, parallel=True)
def torch_parallel(code, base, t0, n, out, aux, aux_lo, aux_off):
    """Stateless programs: every step from its own step number, in parallel chunks."""
    chunks = (n + CHUNK - 1) // CHUNK
    for k in prange(chunks):
        a = t0 + k * CHUNK
        b = min(t0 + n, a + CHUNK)
        torch_run(code, base, a, b, np.nan, out, t0, aux, aux_lo, aux_off)
