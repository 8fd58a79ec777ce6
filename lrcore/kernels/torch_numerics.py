"""The ``torch`` numerics: torch.optim.lr_scheduler's own arithmetic, step by step.

Each branch below mirrors the ``get_lr`` (or closed form, where torch uses one)
of the matching torch class, with the same operation order and the same libm
calls (``math.pow`` rather than ``**``: numba's float ``**`` int multiplies
repeatedly and differs from CPython's ``pow`` in the last bit).
"""

import math

import numpy as np
from numba import njit, prange

from .. import kinds as K
from .restarts import float_boundary, restart_float, restart_int

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
        step_size = int(code[p])
        gamma = code[p + 1]
        if mode == K.MILESTONE:
            return base * math.pow(gamma, float(e // step_size))
        if e == 0 or e % step_size != 0:
            return v
        return v * gamma
    if kind == K.MULTI_STEP:
        gamma = code[p]
        n = int(code[p + 1])
        if mode == K.MILESTONE:
            count = 0
            for k in range(n):
                if code[p + 2 + k] <= e:
                    count += int(code[p + 2 + n + k])
            return base * math.pow(gamma, float(count))
        for k in range(n):
            if code[p + 2 + k] == e:
                return v * math.pow(gamma, code[p + 2 + n + k])
        return v
    if kind == K.CONSTANT:
        factor = code[p]
        total = int(code[p + 1])
        if mode == K.MILESTONE:
            return base * (factor + (1.0 if e >= total else 0.0) * (1 - factor))
        if e == 0:
            return v * factor
        if e != total:
            return v
        return v * (1.0 / factor)
    if kind == K.LINEAR:
        sf = code[p]
        ef = code[p + 1]
        total = int(code[p + 2])
        if mode == K.MILESTONE:
            return base * (sf + (ef - sf) * float(min(total, e)) / float(total))
        if e == 0:
            return v * sf
        if mode == K.INITIAL or e > total:
            return v
        return v * (1.0 + (ef - sf) / (float(total) * sf + float(e - 1) * (ef - sf)))
    if kind == K.EXPONENTIAL:
        gamma = code[p]
        if mode == K.MILESTONE:
            return base * math.pow(gamma, float(e))
        if mode == K.INITIAL:
            return v
        return v * gamma
    if kind == K.POLYNOMIAL:
        total = float(code[p])
        power = code[p + 1]
        if mode == K.MILESTONE:
            return base * math.pow(1.0 - float(min(int(total), e)) / total, power)
        if mode == K.INITIAL or e > total:
            return v
        return v * math.pow((1.0 - e / total) / (1.0 - (e - 1) / total), power)
    if kind == K.COSINE:
        t_max = int(code[p])
        eta = code[p + 1]
        if mode == K.MILESTONE:
            return eta + (base - eta) * (1 + math.cos(math.pi * e / t_max)) / 2
        if mode == K.INITIAL:
            return v
        if (e - 1 - t_max) % (2 * t_max) == 0:
            return v + (base - eta) * (1 - math.cos(math.pi / t_max)) / 2
        # st[li] caches (step, cos(pi * step / T_max)) from the previous step.
        if st[li, 0] == e - 1:
            c_prev = st[li, 1]
        else:
            c_prev = math.cos(math.pi * (e - 1) / t_max)
        c_now = math.cos(math.pi * e / t_max)
        st[li, 0] = e
        st[li, 1] = c_now
        return (1 + c_now) / (1 + c_prev) * (v - eta) + eta
    if kind == K.WARM_RESTARTS:
        return warm_restarts_value(code, p, st, li, base, e)
    if kind == K.CYCLIC:
        return cyclic_value(code, p, e)
    if kind == K.ONE_CYCLE:
        return one_cycle_value(code, p, e, False)
    slot = int(code[off + 3])
    if kind == K.LAMBDA:
        return base * _fn(aux, aux_lo, aux_off, slot, e)
    # MULTIPLICATIVE: torch has no closed form, so a milestone multiplies too.
    if mode == K.INITIAL:
        return v
    return v * _fn(aux, aux_lo, aux_off, slot, e)


@njit(cache=True)
def warm_restarts_value(code, p, st, li, base, e):
    T0 = int(code[p])
    m = code[p + 1]
    eta = code[p + 2]
    decay = code[p + 3]
    # st[li] caches (cycle start, cycle length, cycle index, next cycle's start).
    if st[li, 1] > 0 and st[li, 0] <= e and e < st[li, 3]:
        start, t_i, i = st[li, 0], st[li, 1], int(st[li, 2])
    else:
        if code[p + 4] != 0.0:
            i, t_cur_int, t_i_int = restart_int(e, T0, int(m))
            start, t_i = float(e - t_cur_int), float(t_i_int)
            nxt = start + t_i
        else:
            i, t_cur_f, t_i = restart_float(float(e), float(T0), m)
            start = e - t_cur_f
            nxt = float_boundary(float(T0), m, i + 1)
        st[li, 0], st[li, 1], st[li, 2], st[li, 3] = start, t_i, i, nxt
    peak = base if decay == 1.0 else base * math.pow(decay, float(i))
    return eta + (peak - eta) * (1 + math.cos(math.pi * (e - start) / t_i)) / 2


@njit(cache=True)
def cyclic_value(code, p, e):
    lo, hi, invert = code[p], code[p + 1], code[p + 2]
    total, ratio = code[p + 3], code[p + 4]
    mode, gamma = int(code[p + 5]), code[p + 6]
    cycle = math.floor(1 + e / total)
    x = 1.0 + e / total - cycle
    if x <= ratio:
        scale_factor = x / ratio
    else:
        scale_factor = (x - 1) / (ratio - 1)
    if mode == K.TRIANGULAR:
        scale = 1.0
    elif mode == K.TRIANGULAR2:
        scale = 1 / math.pow(2.0, float(cycle - 1))
    else:
        scale = math.pow(gamma, float(e))
    height = (hi - lo) * scale_factor
    if invert != 0.0:
        return hi - height * scale
    return lo + height * scale


@njit(cache=True)
def one_cycle_value(code, p, e, closed):
    n = int(code[p + 1])
    anneal = int(code[p + 2])
    start_step = 0.0
    for k in range(n):
        q = p + 3 + 3 * k
        end_step = code[q]
        if e <= end_step or k == n - 1:
            pct = (e - start_step) / (end_step - start_step)
            a, b = code[q + 1], code[q + 2]
            if anneal == K.ANNEAL_LINEAR:
                return (b - a) * pct + a
            if closed:
                c = math.cos(0.5 * math.pi * pct)
                return b + (a - b) * (c * c)
            return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
        start_step = end_step
    return np.nan


@njit(cache=True)
def torch_run(code, base, t0, t1, v, out, out_t0, aux, aux_lo, aux_off):
    """Steps ``t0 .. t1-1`` from ``v`` (the LR at ``t0 - 1``); ``out[t - out_t0]`` for t >= out_t0."""
    nseg = int(code[0])
    st = np.full((max(int(code[1]), 1), 4), -1.0)
    s = 0
    while s + 1 < nseg and code[K.HEADER + K.SEGMENT * (s + 1)] <= t0:
        s += 1
    h = K.HEADER + K.SEGMENT * s
    seg_start, n_leaves, first = int(code[h]), int(code[h + 1]), int(code[h + 2])
    nxt = int(code[h + K.SEGMENT]) if s + 1 < nseg else NO_STEP
    for t in range(t0, t1):
        if t >= nxt:
            s += 1
            h = K.HEADER + K.SEGMENT * s
            seg_start, n_leaves, first = int(code[h]), int(code[h + 1]), int(code[h + 2])
            nxt = int(code[h + K.SEGMENT]) if s + 1 < nseg else NO_STEP
        e = t - seg_start
        mode = K.STEP_MODE
        if e == 0:
            mode = K.INITIAL if s == 0 else K.MILESTONE
        off = first
        for _ in range(n_leaves):
            v = torch_leaf(code, off, st, v, base, e, mode, aux, aux_lo, aux_off)
            off += K.LEAF + int(code[off + 1])
        if t >= out_t0:
            out[t - out_t0] = v
    return v


@njit(cache=True, parallel=True)
def torch_parallel(code, base, t0, n, out, aux, aux_lo, aux_off):
    """Stateless programs: every step from its own step number, in parallel chunks."""
    chunks = (n + CHUNK - 1) // CHUNK
    for k in prange(chunks):
        a = t0 + k * CHUNK
        b = min(t0 + n, a + CHUNK)
        torch_run(code, base, a, b, np.nan, out, t0, aux, aux_lo, aux_off)
