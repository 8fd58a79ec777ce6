"""The ``torch`` numerics: torch.optim.lr_scheduler's own arithmetic, step by step.

The formulas are in :mod:`lrcore.kernels.formulas`. Here each family has one
``get_lr`` (the new LR of its leaf from the current one, at a local step and in
one of torch's modes), all with the same signature, registered in
:data:`GET_LR` by kind. The drivers are written once as templates and specialised
per family (:func:`lrcore.kernels.specialise`: the template's code bound to one
family's ``get_lr``, cached under its own name), so the first table of a family
compiles that family's code and no other's:

* :func:`_leaf_steps` (:data:`LEAF_STEPS`): one leaf over a run of steps;
* :func:`_leaf_parallel` (:data:`LEAF_PARALLEL`): stateless leaves in parallel chunks;
* :func:`_ratio_steps` + :func:`chain_products`: chains of step-type families;
* :func:`run`: the Python walk over a program's segments that calls them.

The generic interpreter :func:`_any_run`, compiled for the set of families it is
given (:func:`run_of`), serves the C ABI and the rare chains whose members
overwrite the LR (a per-step interleaving of families). Every kernel also runs as
plain Python (small tables, see :mod:`lrcore.kernels`).
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
    EXPONENTIAL_LR,
    FACTOR,
    LINEAR_LR,
    MULTI_STEP_LR,
    POLYNOMIAL_LR,
    STEP_LR,
    WARM_RESTARTS,
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
from .formulas import CYCLIC as C

CHUNK = 16384
NO_STEP = np.iinfo(np.int64).max

# -- each family's get_lr: (code, off, st, v, base, e, mode, aux, aux_lo, aux_off) -> LR --
# ``off`` is the leaf's record, ``st[li]`` its cache row, ``e`` the step in its segment.


@njit(cache=True)
def step_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    p = off + K.LEAF
    return step_lr(v, base, e, mode, int(code[p + STEP_LR.step_size]), code[p + STEP_LR.gamma])


@njit(cache=True)
def multi_step_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    return multi_step_lr(code, off + K.LEAF, v, base, e, mode)


@njit(cache=True)
def constant_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    p = off + K.LEAF
    factor, total = code[p + CONSTANT_LR.factor], int(code[p + CONSTANT_LR.total_iters])
    return constant_lr(v, base, e, mode, factor, total)


@njit(cache=True)
def linear_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    p = off + K.LEAF
    sf, ef = code[p + LINEAR_LR.start_factor], code[p + LINEAR_LR.end_factor]
    return linear_lr(v, base, e, mode, sf, ef, int(code[p + LINEAR_LR.total_iters]))


@njit(cache=True)
def exponential_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    return exponential_lr(v, base, e, mode, code[off + K.LEAF + EXPONENTIAL_LR.gamma])


@njit(cache=True)
def polynomial_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    p = off + K.LEAF
    total, power = code[p + POLYNOMIAL_LR.total_iters], code[p + POLYNOMIAL_LR.power]
    return polynomial_lr(v, base, e, mode, total, power)


@njit(cache=True)
def cosine_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    # st[li] caches (step, cos(pi * step / T_max)) from the previous step
    p = off + K.LEAF
    li = int(code[off + LEAF_HEADER.state_slot])
    t_max, eta = int(code[p + COSINE_ANNEALING_LR.T_max]), code[p + COSINE_ANNEALING_LR.eta_min]
    v, c = cosine_lr(v, base, e, mode, t_max, eta, st[li, 0], st[li, 1])
    st[li, 0] = e if c == c else -1.0
    st[li, 1] = c
    return v


@njit(cache=True)
def warm_restarts_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    # st[li] caches the current cycle: (start, length, index, next start)
    p = off + K.LEAF
    li = int(code[off + LEAF_HEADER.state_slot])
    R = WARM_RESTARTS
    v, cyc = warm_restarts_lr(
        base,
        e,
        int(code[p + R.T_0]),
        code[p + R.T_mult],
        code[p + R.eta_min],
        code[p + R.decay],
        code[p + R.integral] != 0.0,
        (st[li, 0], st[li, 1], int(st[li, 2]), st[li, 3]),
    )
    st[li, 0], st[li, 1], st[li, 2], st[li, 3] = cyc
    return v


@njit(cache=True)
def cyclic_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    p = off + K.LEAF
    return cyclic_lr(
        e,
        code[p + C.lo],
        code[p + C.hi],
        code[p + C.invert],
        code[p + C.total],
        code[p + C.ratio],
        int(code[p + C.mode]),
        code[p + C.gamma],
    )


@njit(cache=True)
def one_cycle_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    return one_cycle_value(code, off + K.LEAF, e)


@njit(cache=True)
def factor_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    p = off + K.LEAF
    shape, a, b = int(code[p + FACTOR.shape]), code[p + FACTOR.a], code[p + FACTOR.b]
    c, d = code[p + FACTOR.c], code[p + FACTOR.d]
    return base * factor_value(shape, e, a, b, c, d)


@njit(cache=True)
def timm_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    # st[li] caches the current cycle: (index, start, next start, length)
    li = int(code[off + LEAF_HEADER.state_slot])
    v, cyc = timm_value(
        code, off + K.LEAF, base, e, (int(st[li, 0]), st[li, 1], st[li, 2], st[li, 3])
    )
    st[li, 0], st[li, 1], st[li, 2], st[li, 3] = cyc
    return v


def _pointwise_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    """A pointwise family's value at ``e`` (its ``VALUE``): no state, no mode."""
    return VALUE(code, off + K.LEAF, base, e)  # noqa: F821


@njit(cache=True)
def lambda_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    slot = int(code[off + LEAF_HEADER.function_slot])
    return base * aux[aux_off[slot] + e - aux_lo[slot]]


@njit(cache=True)
def multiplicative_get_lr(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    # torch has no closed form, so a milestone multiplies too
    if mode == K.INITIAL:
        return v
    slot = int(code[off + LEAF_HEADER.function_slot])
    return v * aux[aux_off[slot] + e - aux_lo[slot]]


def _get_lr_of(family):
    """A family's get_lr: its own, or its pointwise value's (no state, no mode)."""
    if family.get_lr is not None:
        return family.get_lr
    return specialise(_pointwise_get_lr, kernel_tag(family.value), {"VALUE": family.value})


#: kind -> the family's get_lr (derived from the declarations, :mod:`lrcore.family`)
GET_LR = F.ByKind(_get_lr_of)


# -- drivers: written once, compiled per family ---------------------------------------------
# Each template calls ``GET_LR`` (and ``LEAF_STEPS``), names that :func:`specialise` binds to
# one family's functions. numba compiles and caches each specialisation by its own name, so
# the first table of a family compiles that family's code only. (A function passed as an
# argument would do the same, but numba cannot cache a function that takes one.)


def _leaf_steps(code, off, st, v, base, seg_start, t0, t1, out, out_t0, aux, lo, ao):
    """Steps ``t0 .. t1-1`` of one leaf in ordinary ``step()`` mode from ``v``; writes
    ``out[t - out_t0]`` for ``t >= out_t0``; returns the last LR."""
    for t in range(t0, t1):
        v = GET_LR(code, off, st, v, base, t - seg_start, K.STEP_MODE, aux, lo, ao)  # noqa: F821
        if t >= out_t0:
            out[t - out_t0] = v
    return v


def _leaf_at(code, off, st, v, base, seg_start, t, mode, out, out_t0, aux, lo, ao):
    """Step ``t`` of one leaf in ``mode`` (a segment's first step: the constructor's,
    or SequentialLR's ``_update_lr(0)``)."""
    v = GET_LR(code, off, st, v, base, t - seg_start, mode, aux, lo, ao)  # noqa: F821
    if t >= out_t0:
        out[t - out_t0] = v
    return v


def _leaf_parallel(code, off, base, seg_start, t0, t1, out, out_t0, aux, lo, ao):
    """A stateless leaf (its LR ignores the previous one) over ``t0 .. t1-1`` in
    ordinary ``step()`` mode, in parallel chunks of ``CHUNK`` steps counted from ``out_t0``."""
    first = (t0 - out_t0) // CHUNK
    chunks = (t1 - out_t0 + CHUNK - 1) // CHUNK - first
    for k in prange(chunks):
        a = max(t0, out_t0 + (first + k) * CHUNK)
        b = min(t1, out_t0 + (first + k + 1) * CHUNK)
        st = np.full((max(int(code[PROGRAM_HEADER.n_leaves]), 1), 4), -1.0)
        v = np.nan
        LEAF_STEPS(code, off, st, v, base, seg_start, a, b, out, out_t0, aux, lo, ao)  # noqa: F821


# Three families whose run keeps state between steps, in registers rather than in ``st``
# (2-4x faster than :func:`_leaf_steps` for them); the same formulas, so the same bits.
@njit(cache=True)
def cosine_steps(code, off, st, v, base, seg_start, t0, t1, out, out_t0, aux, lo, ao):
    p = off + K.LEAF
    t_max, eta = int(code[p + COSINE_ANNEALING_LR.T_max]), code[p + COSINE_ANNEALING_LR.eta_min]
    ce, cc = -1.0, np.nan  # the previous step and its cos(pi * step / T_max)
    for t in range(t0, t1):
        e = t - seg_start
        v, cc = cosine_lr(v, base, e, K.STEP_MODE, t_max, eta, ce, cc)
        ce = e if cc == cc else -1.0
        if t >= out_t0:
            out[t - out_t0] = v
    return v


@njit(cache=True)
def warm_restarts_steps(code, off, st, v, base, seg_start, t0, t1, out, out_t0, aux, lo, ao):
    p = off + K.LEAF
    R = WARM_RESTARTS
    T0, m = int(code[p + R.T_0]), code[p + R.T_mult]
    eta, decay = code[p + R.eta_min], code[p + R.decay]
    integral = code[p + R.integral] != 0.0
    cyc = (-1.0, -1.0, 0, -1.0)  # the current cycle: (start, length, index, next start)
    for t in range(t0, t1):
        v, cyc = warm_restarts_lr(base, t - seg_start, T0, m, eta, decay, integral, cyc)
        if t >= out_t0:
            out[t - out_t0] = v
    return v


@njit(cache=True)
def multi_step_steps(code, off, st, v, base, seg_start, t0, t1, out, out_t0, aux, lo, ao):
    # milestones are sorted: walk them alongside the steps
    p = off + K.LEAF
    gamma, n = code[p + MULTI_STEP_LR.gamma], int(code[p + MULTI_STEP_LR.n_milestones])
    ms = p + len(MULTI_STEP_LR)  # the milestones, then their counts
    k = 0
    while k < n and code[ms + k] < t0 - seg_start:
        k += 1
    for t in range(t0, t1):
        if k < n and code[ms + k] == t - seg_start:
            v = v * math.pow(gamma, code[ms + n + k])
            k += 1
        if t >= out_t0:
            out[t - out_t0] = v
    return v


def _ratio_steps(code, off, seg_start, t0, t1, mode, out, aux, lo, ao):
    """``out[i]``: the factor ``r`` of torch's step ``v -> v * r`` at step ``t0 + i``."""
    st = np.empty((1, 4))
    for i in range(t1 - t0):
        out[i] = GET_LR(code, off, st, 1.0, 1.0, t0 + i - seg_start, mode, aux, lo, ao)  # noqa: F821


@njit(cache=True)
def chain_products(ratios, v, t0, out, out_t0):
    """Each step multiplies by every member's factor, in the chain's order."""
    for i in range(ratios.shape[1]):
        for k in range(ratios.shape[0]):
            v = v * ratios[k, i]
        t = t0 + i
        if t >= out_t0:
            out[t - out_t0] = v
    return v


def segments(code) -> list[tuple[int, int, int]]:
    """(first step, number of leaves, offset of the first leaf) of each segment."""
    out = []
    for s in range(int(code[PROGRAM_HEADER.n_segments])):
        h = K.HEADER + K.SEGMENT * s
        start, n = int(code[h + SEGMENT_ROW.start]), int(code[h + SEGMENT_ROW.n_leaves])
        out.append((start, n, int(code[h + SEGMENT_ROW.first_leaf])))
    return out


def _leaves(code, first, n):
    """(kind, offset) of the leaves of one segment."""
    out, off = [], first
    for _ in range(n):
        out.append((int(code[off + LEAF_HEADER.kind]), off))
        off += K.LEAF + int(code[off + LEAF_HEADER.n_params])
    return out


def _compiled(kernel):
    return kernel


def _python(kernel):
    return kernel.py


def program_kinds(code) -> set[int]:
    """The families of a program's leaves."""
    return {kind for _, n, first in segments(code) for kind, _ in _leaves(code, first, n)}


def run(code, base, t0, t1, v, out, out_t0, aux, lo, ao, stateless=False):
    """Steps ``t0 .. t1-1`` from ``v`` (the LR at ``t0 - 1``), as :func:`_any_run`,
    with each family's own compiled drivers; long runs of a stateless program in
    parallel chunks; a short run as plain Python while its families' kernels are
    not compiled (:func:`lrcore.kernels.use_python`). Writes ``out[t - out_t0]``
    for ``t >= out_t0``; the last LR."""
    args = (code, base, t0, t1, v, out, out_t0, aux, lo, ao, stateless)
    if use_python(t1 - t0, [LEAF_STEPS[kind] for kind in program_kinds(code)]):
        return plain_first(lambda: _run(_python, *args), lambda: _run(_compiled, *args))
    return _run(_compiled, *args)


def _run(pick, code, base, t0, t1, v, out, out_t0, aux, lo, ao, stateless):
    segs = segments(code)
    pure = pick is _python
    st = np.full((max(int(code[PROGRAM_HEADER.n_leaves]), 1), 4), -1.0)
    s = 0
    while s + 1 < len(segs) and segs[s + 1][0] <= t0:
        s += 1
    t = t0
    while t < t1:
        seg_start, n_leaves, first = segs[s]
        nxt = segs[s + 1][0] if s + 1 < len(segs) else NO_STEP
        if t >= nxt:
            s += 1
            continue
        leaves = _leaves(code, first, n_leaves)
        if t == seg_start:  # the constructor's step, or SequentialLR's _update_lr(0)
            mode = K.INITIAL if s == 0 else K.MILESTONE
            for kind, off in leaves:
                v = _first_step(
                    pure, kind, code, off, st, v, base, seg_start, t, mode, out, out_t0, aux, lo, ao
                )
            t += 1
            continue
        stop = min(t1, nxt)
        if n_leaves == 1:
            kind, off = leaves[0]
            parallel = stateless and stop - t >= 2 * CHUNK and t >= out_t0 and not pure
            if parallel and use_parallel(LEAF_PARALLEL[kind], stop - t):
                with kernels_parallel_lock():
                    LEAF_PARALLEL[kind](
                        code, off, base, seg_start, t, stop, out, out_t0, aux, lo, ao
                    )
                v = out[stop - 1 - out_t0]
            else:
                v = pick(LEAF_STEPS[kind])(
                    code, off, st, v, base, seg_start, t, stop, out, out_t0, aux, lo, ao
                )
        elif all(F.ratio(kind) for kind, _ in leaves):
            # each member's factors for a block, then the products: O(CHUNK) memory
            for a in range(t, stop, CHUNK):
                b = min(stop, a + CHUNK)
                ratios = np.empty((n_leaves, b - a))
                for k, (kind, off) in enumerate(leaves):
                    fill = pick(RATIO_STEPS[kind])
                    fill(code, off, seg_start, a, b, K.STEP_MODE, ratios[k], aux, lo, ao)
                v = pick(chain_products)(ratios, v, a, out, out_t0)
        else:  # members that overwrite the LR, interleaved step by step
            any_run = run_of(kind for kind, _ in leaves)
            v = pick(any_run)(code, base, t, stop, v, out, out_t0, aux, lo, ao)
        t = stop
    return v


def _first_step(pure, kind, *args):
    """One step (a segment's first) as plain Python, the kernel only where CPython's
    math raises: one step does not pay for compiling (or loading) a kernel."""
    kernel = LEAF_AT[kind]
    if pure:  # inside a plain run, which falls back as a whole
        return kernel.py(*args)
    return plain_first(lambda: kernel.py(*args), lambda: kernel(*args))


def _leaf_strided(code, off, base, t0, stride, out, aux, lo, ao):
    """``out[j]``: a pointwise leaf at step ``t0 + j * stride``."""
    st = np.empty((1, 4))
    for j in range(out.shape[0]):
        e = t0 + j * stride
        out[j] = GET_LR(code, off, st, np.nan, base, e, K.STEP_MODE, aux, lo, ao)  # noqa: F821


def strided_run(code, base, t0, stride, out, aux, lo, ao):
    """The one pointwise leaf of ``code`` at steps ``t0, t0 + stride, ...`` into ``out``,
    as plain Python while short and its family's kernel is not compiled."""
    off = K.HEADER + K.SEGMENT
    kernel = LEAF_STRIDED[int(code[off + LEAF_HEADER.kind])]
    args = (code, off, base, t0, stride, out, aux, lo, ao)
    if use_python(out.shape[0], [kernel]):
        plain_first(lambda: kernel.py(*args), lambda: kernel(*args))
    else:
        kernel(*args)


def segment_origin(code, start: int) -> int:
    """The first step of the segment holding ``start``.

    A later segment starts from its closed form at 0 (SequentialLR's
    ``_update_lr(0)``), so a recurrence reaches ``start`` exactly by streaming from
    there (the caller streams from 0 when a multiplicative leaf continues across
    segments)."""
    return max((seg for seg, _, _ in segments(code) if seg <= start), default=0)


# -- any family of a set: the generic interpreter, compiled for the families it serves --------
# The C ABI (a handle may hold any schedule) and chains whose members overwrite the LR step by
# step need one function over several families. It is a chain of links, one per family (that
# family's function if the leaf is of its kind, else the rest of the chain), made for the
# families a program holds: a cosine handle compiles cosine's code and no other family's.


def _leaf_link(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    """One torch ``get_lr``: family ``KIND``'s, else the rest of the chain's."""
    if int(code[off + LEAF_HEADER.kind]) == KIND:  # noqa: F821
        return GET_LR(code, off, st, v, base, e, mode, aux, aux_lo, aux_off)  # noqa: F821
    return NEXT(code, off, st, v, base, e, mode, aux, aux_lo, aux_off)  # noqa: F821


@njit(cache=True)
def no_leaf(code, off, st, v, base, e, mode, aux, aux_lo, aux_off):
    """The end of a chain: a family it was not made for (its callers check first)."""
    return np.nan


def _any_run(code, base, t0, t1, v, out, out_t0, aux, aux_lo, aux_off):
    """Steps ``t0 .. t1-1`` from ``v`` (the LR at ``t0 - 1``), any program of the chain's
    families, one step of every leaf at a time. Writes ``out[t - out_t0]`` for ``t >= out_t0``."""
    nseg = int(code[PROGRAM_HEADER.n_segments])
    st = np.full((max(int(code[PROGRAM_HEADER.n_leaves]), 1), 4), -1.0)
    s = 0
    while s + 1 < nseg and code[K.HEADER + K.SEGMENT * (s + 1) + SEGMENT_ROW.start] <= t0:
        s += 1
    for t in range(t0, t1):
        while s + 1 < nseg and code[K.HEADER + K.SEGMENT * (s + 1) + SEGMENT_ROW.start] <= t:
            s += 1
        h = K.HEADER + K.SEGMENT * s
        seg_start, n_leaves = int(code[h + SEGMENT_ROW.start]), int(code[h + SEGMENT_ROW.n_leaves])
        off = int(code[h + SEGMENT_ROW.first_leaf])
        mode = K.STEP_MODE
        if t == seg_start:  # the constructor's step, or SequentialLR's _update_lr(0)
            mode = K.INITIAL if s == 0 else K.MILESTONE
        for _ in range(n_leaves):
            v = ANY_LEAF(code, off, st, v, base, t - seg_start, mode, aux, aux_lo, aux_off)  # noqa: F821
            off += K.LEAF + int(code[off + LEAF_HEADER.n_params])
        if t >= out_t0:
            out[t - out_t0] = v
    return v


def kind_mask(kinds) -> int:
    """The families ``kinds`` as bits (kind codes are below 63)."""
    return sum(1 << int(k) for k in set(kinds))


_CHAINS: dict = {}


def chain(link, end, by_kind, slot, kinds):
    """``link`` specialised into a chain over ``kinds``: each link binds ``KIND``, its
    family's ``by_kind[KIND]`` (as ``slot``) and ``NEXT``; the last ``NEXT`` is ``end``.
    One kernel per (link, families), named by the families' bits."""
    kinds = sorted(set(kinds))
    key = (link, kind_mask(kinds))
    if key not in _CHAINS:
        rest = chain(link, end, by_kind, slot, kinds[1:]) if len(kinds) > 1 else end
        names = {"KIND": kinds[0], slot: by_kind[kinds[0]], "NEXT": rest}
        _CHAINS[key] = specialise(link, _chain_tag(key[1], [by_kind[k] for k in kinds]), names)
    return _CHAINS[key]


def _chain_tag(mask, kernels) -> str:
    """A chain's cache name: its families' bits, and a hash of the kernels of families
    declared outside lrcore (see :func:`lrcore.kernels.kernel_tag`)."""
    foreign = [kernel_tag(k) for k in kernels if kernel_tag(k) != k.__name__]
    if not foreign:
        return f"{mask:x}"
    import hashlib

    return f"{mask:x}_{hashlib.sha256(' '.join(foreign).encode()).hexdigest()[:8]}"


def interpreter(template, slot, link, end, by_kind, link_slot, kinds):
    """``template`` compiled for the families ``kinds`` and no other: its ``slot`` bound
    to the :func:`chain` of ``link`` over them."""
    kinds = sorted(set(kinds))
    key = (template, kind_mask(kinds))
    if key not in _CHAINS:
        leaf = chain(link, end, by_kind, link_slot, kinds)
        _CHAINS[key] = specialise(
            template, _chain_tag(key[1], [by_kind[k] for k in kinds]), {slot: leaf}
        )
    return _CHAINS[key]


def run_of(kinds):
    """:func:`_any_run` compiled for the families ``kinds`` (and no other)."""
    return interpreter(_any_run, "ANY_LEAF", _leaf_link, no_leaf, GET_LR, "GET_LR", kinds)


@njit(cache=True)
def segment_start(code, start):
    """:func:`segment_origin` inside compiled code (the C ABI)."""
    origin = 0
    for s in range(int(code[PROGRAM_HEADER.n_segments])):
        seg = int(code[K.HEADER + K.SEGMENT * s + SEGMENT_ROW.start])
        if seg <= start:
            origin = seg
    return origin


# -- the per-family drivers, made from the declarations when a family is first used ---------
#: kind -> the family's run of steps: :func:`_leaf_steps`, or its own loop
LEAF_STEPS = F.ByKind(
    lambda f: (
        f.steps or specialise(_leaf_steps, kernel_tag(GET_LR[f.code]), {"GET_LR": GET_LR[f.code]})
    )
)
#: kind -> the family's :func:`_leaf_at`
LEAF_AT = F.ByKind(
    lambda f: specialise(_leaf_at, kernel_tag(GET_LR[f.code]), {"GET_LR": GET_LR[f.code]})
)
#: kind -> the family's :func:`_leaf_parallel`
LEAF_PARALLEL = F.ByKind(
    lambda f: specialise(
        _leaf_parallel,
        kernel_tag(GET_LR[f.code]),
        {"LEAF_STEPS": LEAF_STEPS[f.code]},
        parallel=True,
    )
)
#: kind -> the family's :func:`_leaf_strided` (pointwise families only)
LEAF_STRIDED = F.ByKind(
    lambda f: (
        specialise(_leaf_strided, kernel_tag(GET_LR[f.code]), {"GET_LR": GET_LR[f.code]})
        if f.pointwise
        else None
    )
)
#: kind -> the family's :func:`_ratio_steps` (ratio families only)
RATIO_STEPS = F.ByKind(
    lambda f: (
        specialise(_ratio_steps, kernel_tag(GET_LR[f.code]), {"GET_LR": GET_LR[f.code]})
        if f.ratio
        else None
    )
)
