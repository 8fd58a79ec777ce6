"""The formulas of torch.optim.lr_scheduler (and transformers' factors) as scalar
numba functions: one per family, written once, called by both numerics' drivers.

Each mirrors the ``get_lr`` (or closed form, where torch uses one) of the matching
torch class, with the same operation order and the same libm calls. Powers are
always ``math.pow(x, float(k))``: numba turns both ``x ** k`` and
``math.pow(x, k)`` with an integer ``k`` into repeated multiplication, which
differs from CPython's ``pow`` in the last bit for most ``x`` (measured: 58% of
random cases).
"""

import math

import numpy as np

from .. import kinds as K
from ..family import offsets
from . import njit
from .noise import timm_noise
from .restarts import NO_CYCLE, float_boundary, restart_float, restart_int, timm_cycle
from .single import cos_, log_, pow_, rnd

# -- one scalar function per chainable family: the formulas, written once --------
# Each family's parameters are a layout of named offsets (torch's names), which both
# numerics' kernels read (``code[p + STEP_LR.gamma]``) and its spec writes.

STEP_LR = offsets(("step_size", "gamma"))
CONSTANT_LR = offsets(("factor", "total_iters"))
LINEAR_LR = offsets(("start_factor", "end_factor", "total_iters"))
EXPONENTIAL_LR = offsets(("gamma",))
POLYNOMIAL_LR = offsets(("total_iters", "power"))
COSINE_ANNEALING_LR = offsets(("T_max", "eta_min"))
#: ``integral``: 1.0 when T_mult is an int (torch's integer cycle arithmetic)
WARM_RESTARTS = offsets(("T_0", "T_mult", "eta_min", "decay", "integral"))
#: MultiStepLR's: then ``n_milestones`` milestones (sorted, distinct), then each one's count
MULTI_STEP_LR = offsets(("gamma", "n_milestones"))


@njit(cache=True)
def step_lr(v, base, e, mode, step_size, gamma):
    if mode == K.MILESTONE:
        return base * math.pow(gamma, float(e // step_size))
    if e == 0 or e % step_size != 0:
        return v
    return v * gamma


@njit(cache=True)
def constant_lr(v, base, e, mode, factor, total):
    if mode == K.MILESTONE:
        return base * (factor + (1.0 if e >= total else 0.0) * (1 - factor))
    if e == 0:
        return v * factor
    if e != total:
        return v
    return v * (1.0 / factor)


@njit(cache=True)
def linear_lr(v, base, e, mode, sf, ef, total):
    if mode == K.MILESTONE:
        return base * (sf + (ef - sf) * float(min(total, e)) / float(total))
    if e == 0:
        return v * sf
    if mode == K.INITIAL or e > total:
        return v
    return v * (1.0 + (ef - sf) / (float(total) * sf + float(e - 1) * (ef - sf)))


@njit(cache=True)
def exponential_lr(v, base, e, mode, gamma):
    if mode == K.MILESTONE:
        return base * math.pow(gamma, float(e))
    if mode == K.INITIAL:
        return v
    return v * gamma


@njit(cache=True)
def polynomial_lr(v, base, e, mode, total, power):
    if mode == K.MILESTONE:
        return base * math.pow(1.0 - float(min(total, e)) / total, power)
    if mode == K.INITIAL or e > total:
        return v
    return v * math.pow((1.0 - e / total) / (1.0 - (e - 1) / total), power)


@njit(cache=True)
def cosine_lr(v, base, e, mode, t_max, eta, cached_e, cached_cos):
    """(new LR, cos(pi * e / T_max) or NaN); ``cached_cos`` is that cosine at ``cached_e``."""
    if mode == K.MILESTONE:
        return eta + (base - eta) * (1 + math.cos(math.pi * e / t_max)) / 2, np.nan
    if mode == K.INITIAL:
        return v, np.nan
    if (e - 1 - t_max) % (2 * t_max) == 0:
        return v + (base - eta) * (1 - math.cos(math.pi / t_max)) / 2, np.nan
    if cached_e == e - 1:
        c_prev = cached_cos
    else:
        c_prev = math.cos(math.pi * (e - 1) / t_max)
    c_now = math.cos(math.pi * e / t_max)
    return (1 + c_now) / (1 + c_prev) * (v - eta) + eta, c_now


#: transformers' factors: the shape code, then :func:`factor_value`'s ``a, b, c, d``, which
#: each shape's layout below names (in that order; zeros after it)
FACTOR = offsets(("shape", "a", "b", "c", "d"))
F_STABLE_P = offsets(())
F_WARMUP_P = offsets(("warmup_steps", "warmup_type", "min_lr_ratio", "warmup_lr_rate"))
F_LINEAR_P = offsets(("decay_steps",))
F_COSINE_P = offsets(("decay_steps", "num_cycles", "min_lr_rate", "progress_offset"))
F_HARD_RESTARTS_P = offsets(("decay_steps", "num_cycles"))
F_POLYNOMIAL_P = offsets(("decay_steps", "lr_init", "lr_end", "power"))
F_INV_SQRT_P = offsets(("timescale",))
F_WSD_P = offsets(("decay_steps", "decay_type", "min_lr_ratio", "num_cycles"))


@njit(cache=True)
def factor_value(shape, e, a, b, c, d):
    """transformers' LambdaLR factors (optimization.py), operation for operation.

    ``e`` counts steps from the start of the segment (after any warm-up)."""
    if shape == K.F_STABLE:
        return 1.0
    if shape == K.F_WARMUP:  # a: warm-up steps, b: type, c: min ratio, d: warmup_lr_rate
        kind = int(b)
        if kind == K.W_PLUS_ONE:
            return (e + 1.0) / max(1.0, a)
        if kind == K.W_FROM:
            return d + (1.0 - d) * float(e) / max(1.0, a - 1.0)
        progress = float(e) / float(max(1.0, a))
        if kind == K.W_LINEAR:
            f = progress
        elif kind == K.W_COSINE:
            f = 0.5 * (1.0 - math.cos(math.pi * progress))
        else:
            f = 1.0 - math.sqrt(1.0 - progress)
        return max(0.0, f * (1.0 - c) + c)
    if shape == K.F_LINEAR:  # a: decay steps
        return max(0.0, float(a - e) / float(max(1.0, a)))
    if shape == K.F_COSINE:  # a: decay steps, b: cycles, c: min rate, d: progress offset
        if d == 0.0:
            progress = float(e) / float(max(1.0, a))
        else:
            progress = (float(e) + d) / max(1.0, a)
        f = 0.5 * (1.0 + math.cos(math.pi * b * 2.0 * progress))
        return max(0.0, f * (1 - c) + c)
    if shape == K.F_HARD_RESTARTS:  # a: decay steps, b: cycles
        progress = float(e) / float(max(1.0, a))
        if progress >= 1.0:
            return 0.0
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((b * progress) % 1.0))))
    if shape == K.F_POLYNOMIAL:  # a: decay steps, b: lr_init, c: lr_end, d: power
        if e > a:
            return c / b
        remaining = 1 - e / a
        return ((b - c) * math.pow(remaining, d) + c) / b
    if shape == K.F_INV_SQRT:  # a: timescale
        return 1.0 / math.sqrt((e + a) / a)
    # F_WSD decay: a: decay steps, b: decay type, c: min ratio, d: cycles
    if e >= a:
        return c
    progress = float(e) / float(max(1.0, a))
    kind = int(b)
    if kind == K.W_LINEAR:
        f = 1.0 - progress
    elif kind == K.W_COSINE:
        f = 0.5 * (1.0 + math.cos(math.pi * d * 2.0 * progress))
    else:
        f = 1.0 - math.sqrt(progress)
    return max(0.0, f * (1.0 - c) + c)


@njit(cache=True)
def multi_step_lr(code, p, v, base, e, mode):
    gamma = code[p + MULTI_STEP_LR.gamma]
    n = int(code[p + MULTI_STEP_LR.n_milestones])
    ms = p + len(MULTI_STEP_LR)  # the milestones, then their counts
    if mode == K.MILESTONE:
        count = 0
        for k in range(n):
            if code[ms + k] <= e:
                count += int(code[ms + n + k])
        return base * math.pow(gamma, float(count))
    for k in range(n):
        if code[ms + k] == e:
            return v * math.pow(gamma, code[ms + n + k])
    return v


@njit(cache=True)
def warm_restarts_lr(base, e, T0, m, eta, decay, integral, cycle):
    """(LR, cycle) at step ``e``; ``cycle`` = (start, length, index, next start) is a cache."""
    start, t_i, i, nxt = cycle
    if not (t_i > 0 and start <= e and e < nxt):
        if integral:
            i, t_cur_int, t_i_int = restart_int(e, T0, int(m))
            start, t_i = float(e - t_cur_int), float(t_i_int)
            nxt = start + t_i
        else:
            i, t_cur_f, t_i = restart_float(float(e), float(T0), m)
            start = e - t_cur_f
            nxt = float_boundary(float(T0), m, i + 1)
    peak = base if decay == 1.0 else base * math.pow(decay, float(i))
    lr = eta + (peak - eta) * (1 + math.cos(math.pi * (e - start) / t_i)) / 2
    return lr, (start, t_i, i, nxt)


#: CyclicLR's parameters: the two bounds (``invert``: the momentum, from ``hi`` down),
#: the cycle's length and its rising fraction, the scale mode and exp_range's gamma
CYCLIC = offsets(("lo", "hi", "invert", "total", "ratio", "mode", "gamma"))
#: OneCycleLR's parameters: then ``n_phases`` records of (end step, start, end value)
ONE_CYCLE = offsets(("total_steps", "n_phases", "anneal"))
PHASE = offsets(("end_step", "start", "end"))


def cyclic_params(*, lo, hi, invert, total, ratio, mode, gamma) -> list:
    """CyclicLR's parameters in :data:`CYCLIC` order."""
    named = dict(lo=lo, hi=hi, invert=invert, total=total, ratio=ratio, mode=mode, gamma=gamma)
    return [named[name] for name in CYCLIC._fields]


def one_cycle_params(*, total_steps, anneal, phases) -> list:
    """OneCycleLR's parameters: :data:`ONE_CYCLE`, then one :data:`PHASE` record per
    phase (``phases``: dicts with its names)."""
    named = dict(total_steps=total_steps, n_phases=len(phases), anneal=anneal)
    out = [named[name] for name in ONE_CYCLE._fields]
    for phase in phases:
        out += [phase[name] for name in PHASE._fields]
    return out


@njit(cache=True)
def cyclic_lr(e, lo, hi, invert, total, ratio, mode, gamma):
    cycle = math.floor(1 + e / total)
    scale = cyclic_scale(mode, gamma, cycle, e)
    return cyclic_at(e, cycle, lo, hi, invert, total, ratio, scale)


@njit(cache=True)
def cyclic_scale(mode, gamma, cycle, e):
    """CyclicLR's ``scale_fn``: of the cycle (triangular, triangular2) or of the step."""
    if mode == K.TRIANGULAR:
        return 1.0
    if mode == K.TRIANGULAR2:
        return 1 / math.pow(2.0, float(cycle - 1))
    return math.pow(gamma, float(e))


@njit(cache=True)
def cyclic_at(e, cycle, lo, hi, invert, total, ratio, scale):
    """CyclicLR's value at step ``e`` of cycle ``cycle`` (``floor(1 + e / total)``)."""
    x = 1.0 + e / total - cycle
    if x <= ratio:
        scale_factor = x / ratio
    else:
        scale_factor = (x - 1) / (ratio - 1)
    height = (hi - lo) * scale_factor
    if invert != 0.0:
        return hi - height * scale
    return lo + height * scale


@njit(cache=True)
def one_cycle_value(code, p, e):
    """torch's OneCycleLR value at step ``e`` (the closed numerics' cosine phases are
    :func:`lrcore.kernels.closed._one_cycle`'s; a linear phase is this formula in both)."""
    n = int(code[p + ONE_CYCLE.n_phases])
    anneal = int(code[p + ONE_CYCLE.anneal])
    start_step = 0.0
    for k in range(n):
        q = p + len(ONE_CYCLE) + len(PHASE) * k
        end_step = code[q + PHASE.end_step]
        if e <= end_step or k == n - 1:
            pct = (e - start_step) / (end_step - start_step)
            a, b = code[q + PHASE.start], code[q + PHASE.end]
            if anneal == K.ANNEAL_LINEAR:
                return (b - a) * pct + a
            return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
        start_step = end_step
    return np.nan


#: timm's cosine, tanh and poly: one layout, by timm's names (``x1``, ``x2``: tanh's lb and
#: ub, poly's power, 0 where the shape has none; tanh's k_decay is 1), the noise range
#: ``[noise_lo, noise_hi)`` (-1: none)
TIMM = offsets(
    (
        "shape",
        "t_initial",
        "lr_min",
        "cycle_mul",
        "cycle_decay",
        "cycle_limit",
        "warmup_t",
        "warmup_lr_init",
        "warmup_prefix",
        "k_decay",
        "x1",
        "x2",
        "noise_lo",
        "noise_hi",
        "noise_pct",
        "noise_std",
        "noise_seed",
    )
)


@njit(cache=True)
def _timm_after_warmup(shape, base, t, T, lr_min, m, decay, limit, k, x1, x2, cyc):
    """timm's ``_get_lr`` past the warm-up, at (prefix-shifted) step ``t``; ``cyc``
    caches the current cycle (see :func:`timm_cycle`)."""
    if m != 1.0:
        i, t_i, t_curr, cyc = timm_cycle(float(t), float(T), m, limit, cyc)
    else:  # timm's integer arithmetic: i = t // T
        i = t // T
        t_i, t_curr = float(T), float(t - T * i)
    if i >= limit:
        return lr_min, cyc
    lr_max = base * math.pow(decay, float(i))
    if shape == K.T_TANH:
        tr = t_curr / t_i
        return lr_min + 0.5 * (lr_max - lr_min) * (1 - math.tanh(x1 * (1.0 - tr) + x2 * tr)), cyc
    if k != 1.0:  # pow(x, 1.0) is x: skipped, same bits
        t_curr, t_i = math.pow(t_curr, k), math.pow(t_i, k)
    if shape == K.T_POLY:
        return lr_min + (lr_max - lr_min) * math.pow(1 - t_curr / t_i, x1), cyc
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t_curr / t_i)), cyc


@njit(cache=True)
def timm_value(code, p, base, t, cyc):
    """(timm's value at step ``t`` (``step(t)`` / ``step_update(t)``), noise
    included; the cycle cache)."""
    P = TIMM
    shape, T, lr_min = int(code[p + P.shape]), int(code[p + P.t_initial]), code[p + P.lr_min]
    m, decay, limit = code[p + P.cycle_mul], code[p + P.cycle_decay], int(code[p + P.cycle_limit])
    W, init = int(code[p + P.warmup_t]), code[p + P.warmup_lr_init]
    prefix = code[p + P.warmup_prefix] != 0.0
    k, x1, x2 = code[p + P.k_decay], code[p + P.x1], code[p + P.x2]
    if t < W:
        target = base
        if shape == K.T_TANH and not prefix:
            target, _ = _timm_after_warmup(
                shape, base, W, T, lr_min, m, decay, limit, k, x1, x2, NO_CYCLE
            )
        lr = init + t * ((target - init) / W)
    else:
        e = t - W if prefix else t
        lr, cyc = _timm_after_warmup(shape, base, e, T, lr_min, m, decay, limit, k, x1, x2, cyc)
    lo, hi = code[p + P.noise_lo], code[p + P.noise_hi]
    if lo <= t and t < hi:
        seed = int(code[p + P.noise_seed]) + t
        lr = lr + lr * timm_noise(seed, code[p + P.noise_std], code[p + P.noise_pct])
    return lr, cyc


#: DeepSpeed's parameters after the shape code, by its argument names, one layout per
#: shape: WarmupLR's and WarmupDecayLR's (WarmupLR's total_num_steps is 0), WarmupCosineLR's,
#: OneCycle's (the LR's, or with ``invert`` the momentum's: its min, max and decay rate)
#: and LRRangeTest's
DS_WARMUP_P = offsets(
    ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type", "total_num_steps")
)
DS_COSINE_P = offsets(
    ("warmup_num_steps", "warmup_type", "total_num_steps", "warmup_min_ratio", "cos_min_ratio")
)
DS_ONE_CYCLE_P = offsets(
    (
        "lo",
        "hi",
        "invert",
        "cycle_first_step_size",
        "cycle_second_step_size",
        "cycle_first_stair_count",
        "cycle_second_stair_count",
        "decay_step_size",
        "decay_rate",
        "skip_decay",
    )
)
DS_RANGE_TEST_P = offsets(
    (
        "lr_range_test_min_lr",
        "lr_range_test_step_size",
        "lr_range_test_step_rate",
        "lr_range_test_staircase",
    )
)


@njit(cache=True)
def _deepspeed_warmup(i, W, kind):
    """DeepSpeed's warm-up fraction at ``last_batch_iteration = i < W`` (``W`` raised to 2)."""
    if kind == K.DS_LOG:
        return (1.0 / math.log(W)) * math.log(float(i + 1))
    return float(i) / W


@njit(cache=True)
def _deepspeed_one_cycle(code, p, t):
    """OneCycle's LR (or, ``invert``, momentum) after ``t >= 1`` steps (``p``: its
    :data:`DS_ONE_CYCLE_P`)."""
    C = DS_ONE_CYCLE_P
    lo, hi, invert = code[p + C.lo], code[p + C.hi], code[p + C.invert] != 0.0
    first, second = code[p + C.cycle_first_step_size], code[p + C.cycle_second_step_size]
    total = code[p + C.cycle_first_step_size] + code[p + C.cycle_second_step_size]
    if t - 1 < total:  # the cycle, at batch iteration t
        ratio = first / total
        cycle = math.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        if x <= ratio:
            scale, stairs = x / ratio, int(code[p + C.cycle_first_stair_count])
        else:
            scale, stairs = (x - 1) / (ratio - 1), int(code[p + C.cycle_second_stair_count])
        if stairs > 0:
            at = t % total
            if at <= first:
                position = at * stairs / first
            else:
                position = (total - at) * stairs / second
            scale = math.floor(position) / stairs
        if invert:
            return hi - (hi - lo) * scale
        return lo + (hi - lo) * scale
    if code[p + C.skip_decay] != 0.0:
        return hi if invert else lo
    factor = 1 + code[p + C.decay_rate] * ((t - 1 - total + 1) / code[p + C.decay_step_size])
    return hi * factor if invert else lo / factor


@njit(cache=True)
def deepspeed_value(code, p, base, t):
    """DeepSpeed's value after ``t`` steps (``last_batch_iteration = t - 1``); index 0
    is its constructor's."""
    shape = int(code[p])
    q = p + 1
    i = t - 1
    if shape == K.DS_WARMUP or shape == K.DS_WARMUP_DECAY:
        P = DS_WARMUP_P
        lo, hi = code[q + P.warmup_min_lr], code[q + P.warmup_max_lr]
        W = max(2.0, code[q + P.warmup_num_steps])
        kind, T = int(code[q + P.warmup_type]), code[q + P.total_num_steps]
        if i < 0:
            return lo
        if i < W:
            gamma = _deepspeed_warmup(i, W, kind)
        elif shape == K.DS_WARMUP:
            gamma = 1.0
        else:
            gamma = max(0.0, float(T - i) / float(max(1.0, T - W)))
        return lo + (hi - lo) * gamma
    if shape == K.DS_COSINE:
        C = DS_COSINE_P
        W, kind = max(2.0, code[q + C.warmup_num_steps]), int(code[q + C.warmup_type])
        T = code[q + C.total_num_steps]
        r0, rc = code[q + C.warmup_min_ratio], code[q + C.cos_min_ratio]
        if i < 0:
            return 0.0
        if i < W:
            ratio = r0 + _deepspeed_warmup(i, W, kind) * (1.0 - r0)
        else:
            progress = min(1.0, (i - W + 1) / max(1.0, T - W))
            ratio = (1 + math.cos(math.pi * progress)) / 2
            ratio = max(0.0, rc + (1.0 - rc) * ratio)
        return base * ratio
    if shape == K.DS_ONE_CYCLE:
        if t == 0:  # the constructor writes cycle_min_lr and cycle_min_mom
            return code[q + DS_ONE_CYCLE_P.lo]
        return _deepspeed_one_cycle(code, q, t)
    # DS_RANGE_TEST
    R = DS_RANGE_TEST_P
    interval = float(t) / code[q + R.lr_range_test_step_size]
    if code[q + R.lr_range_test_staircase] != 0.0:
        interval = float(math.floor(interval))
    return code[q + R.lr_range_test_min_lr] * (1 + code[q + R.lr_range_test_step_rate] * interval)


# -- pieces (Family.pieces): (last step, shape, lo, hi, a, x, k) from step t --------------


@njit(cache=True)
def run_piece(last):
    """Step ``t``'s value up to ``last``."""
    return last, K.PIECE_RUN, 0.0, 0.0, 0.0, 0.0, 0.0


@njit(cache=True)
def cos_piece(last, lo, hi, theta, x):
    """``lo + (hi - lo) * cos(theta * x)**2`` (``(1 + cos 2 theta x) / 2``) up to ``last``."""
    return last, K.PIECE_COS2, lo, hi, theta, x, 0.0


@njit(cache=True)
def power_piece(last, lo, hi, a, x, k):
    """``lo + (hi - lo) * (1 - a x)**k`` for an integer ``k >= 1`` up to ``last``."""
    return last, K.PIECE_POWER, lo, hi, a, x, k


@njit(cache=True)
def rsqrt_piece(last, lo, hi, a, x):
    """``lo + (hi - lo) / sqrt(a x)`` up to ``last``."""
    return last, K.PIECE_RSQRT, lo, hi, a, x, 0.0


@njit(cache=True)
def rsqrt_linear_piece(last, lo, hi, a, x, k):
    """``lo + (hi - lo) * (k - x) / sqrt(a x)`` up to ``last``."""
    return last, K.PIECE_RSQRT_LINEAR, lo, hi, a, x, k


@njit(cache=True)
def ramp_piece(last, lo, a, x):
    """``lo + x * a`` up to ``last`` (a warm-up's ``init + t * step``, the same bits)."""
    return last, K.PIECE_RAMP, lo, 0.0, a, x, 0.0


@njit(cache=True)
def one_minus_sqrt_piece(last, lo, hi, a, x):
    """``lo + (hi - lo) * (1 - sqrt(a x))`` up to ``last``."""
    return last, K.PIECE_ONE_MINUS_SQRT, lo, hi, a, x, 0.0


@njit(cache=True)
def integral_power(k) -> bool:
    """Whether a power is one the pieces raise by multiplication: 1, 2, ..., 8."""
    return k >= 1.0 and k <= 8.0 and k == math.floor(k)


@njit(cache=True)
def last_before(bound, limit):
    """The last step ``s <= limit`` with ``s < bound`` (a float)."""
    if bound > limit:
        return limit
    return int(math.ceil(bound)) - 1


@njit(cache=True)
def _last_below(t, a, d, limit):
    """The last step ``s`` in ``t .. limit`` with ``(s - a) / d < 1`` (``t``'s holds), as
    the kernels compute that ratio: the stretch of a decay over ``d`` steps from ``a``."""
    last = last_before(a + d, limit)
    while last > t and not (last - a) / d < 1.0:
        last -= 1
    return max(last, t)


@njit(cache=True)
def deepspeed_pieces(code, p, base, t, limit):
    """``Family.pieces`` of DeepSpeed's schedules: WarmupCosineLR's cosine (its
    ``cos_min_ratio`` in [0, 1], where the clamp at 0 does nothing) and WarmupDecayLR's
    linear decay as stretches, the constant ends as runs; one step at a time otherwise."""
    shape, q, i = int(code[p]), p + 1, t - 1
    if shape == K.DS_COSINE:
        C = DS_COSINE_P
        W, T = max(2.0, code[q + C.warmup_num_steps]), code[q + C.total_num_steps]
        rc, d = code[q + C.cos_min_ratio], max(1.0, T - W)
        if i >= W and 0.0 <= rc <= 1.0:
            if (t - W) / d < 1.0:
                last = _last_below(t, W, d, limit)
                return cos_piece(last, base * rc, base, 0.5 * math.pi / d, t - W)
            return run_piece(limit)  # progress 1 from here on
    elif shape == K.DS_WARMUP or shape == K.DS_WARMUP_DECAY:
        P = DS_WARMUP_P
        lo, hi = code[q + P.warmup_min_lr], code[q + P.warmup_max_lr]
        W, T = max(2.0, code[q + P.warmup_num_steps]), code[q + P.total_num_steps]
        if i >= W and (shape == K.DS_WARMUP or i >= T):  # 1, or max(0, T - i < 0)
            return run_piece(limit)
        if i >= W:  # (T - i) / d = 1 - (i - (T - d)) / d, down to step T
            d = max(1.0, T - W)
            return power_piece(last_before(T + 1.0, limit), lo, hi, 1.0 / d, i - (T - d), 1.0)
    return run_piece(t)


#: Megatron's parameters after the shape code, by its attribute names: ``get_lr``'s
#: (``sqrt_exponent``: 0.5, see :func:`megatron_value`) and ``get_wd``'s
MG_LR_P = offsets(
    (
        "lr_decay_style",
        "init_lr",
        "max_lr",
        "min_lr",
        "lr_warmup_steps",
        "lr_decay_steps",
        "wsd_decay_steps",
        "lr_wsd_decay_style",
        "sqrt_exponent",
    )
)
MG_WD_P = offsets(("wd_incr_style", "start_wd", "end_wd", "wd_incr_steps"))


@njit(cache=True)
def _megatron_coeff(style, ratio, half):
    if style == K.MG_LINEAR:
        return 1.0 - ratio
    if style == K.MG_COSINE:
        return 0.5 * (math.cos(math.pi * ratio) + 1.0)
    if style == K.MG_EXPONENTIAL:
        return (2.0 * math.pow(half, ratio)) - 1.0
    return 1.0 - math.sqrt(ratio)  # MG_MINUS_SQRT


@njit(cache=True)
def megatron_value(code, p, base, t):
    """Megatron-Core's ``get_lr`` (or ``get_wd``) at ``num_steps = t``."""
    q = p + 1
    if int(code[p]) == K.MG_WD:
        WD = MG_WD_P
        style, start = int(code[q + WD.wd_incr_style]), code[q + WD.start_wd]
        end, steps = code[q + WD.end_wd], code[q + WD.wd_incr_steps]
        if t > steps or style == K.MG_CONSTANT:
            return end
        ratio = float(t) / float(steps)
        if style == K.MG_LINEAR:
            coeff = ratio
        else:
            coeff = 0.5 * (math.cos(math.pi * (1 - ratio)) + 1.0)
        return start + coeff * (end - start)
    P = MG_LR_P
    style, init = int(code[q + P.lr_decay_style]), code[q + P.init_lr]
    top, low = code[q + P.max_lr], code[q + P.min_lr]
    W, D = code[q + P.lr_warmup_steps], code[q + P.lr_decay_steps]
    S, wsd = code[q + P.wsd_decay_steps], int(code[q + P.lr_wsd_decay_style])
    # 0.5 comes from the program: LLVM folds a literal pow(x, 0.5) into sqrt(x), and
    # pow(0.5, r) into exp2(-r), which differ from libm's pow (Megatron's) in the last bit
    half = code[q + P.sqrt_exponent]
    if W > 0 and t <= W:
        return init + ((top - init) * float(t) / float(W))
    if style == K.MG_CONSTANT:
        return top
    if t > D:
        return low
    if style == K.MG_INV_SQRT:
        lr = top * math.pow(max(W, 1.0), half) / math.pow(float(max(t, 1)), half)
        return max(low, lr)
    if style == K.MG_WSD:
        start = D - S
        if t <= start:
            coeff = 1.0
        else:
            coeff = _megatron_coeff(wsd, float(t - start) / float(S), half)
    else:
        coeff = _megatron_coeff(style, float(t - W) / float(D - W), half)
    return low + coeff * (top - low)


@njit(cache=True)
def megatron_pieces(code, p, base, t, limit):
    """``Family.pieces`` of Megatron-Core's LR: the cosine, linear and 1 - sqrt decays
    (WSD's too) as stretches, its constant parts (``constant``, WSD's stable phase, past
    the decay) as runs; one step at a time otherwise (and for the weight decay)."""
    q = p + 1
    if int(code[p]) == K.MG_WD:
        return run_piece(t)
    P = MG_LR_P
    style, top, low = int(code[q + P.lr_decay_style]), code[q + P.max_lr], code[q + P.min_lr]
    W, D = code[q + P.lr_warmup_steps], code[q + P.lr_decay_steps]
    S, wsd = code[q + P.wsd_decay_steps], int(code[q + P.lr_wsd_decay_style])
    if W > 0 and t <= W:
        return run_piece(t)
    if style == K.MG_CONSTANT or t > D:
        return run_piece(limit)
    last = min(limit, int(math.floor(D)))  # t <= D from t to here
    if style == K.MG_WSD:
        start = D - S
        if t <= start:
            return run_piece(min(limit, int(math.floor(start))))
        style, x, span = wsd, float(t - start), S
    else:
        x, span = float(t - W), D - W
    if span > 0:
        if style == K.MG_COSINE:
            return cos_piece(last, low, top, 0.5 * math.pi / span, x)
        if style == K.MG_LINEAR:
            return power_piece(last, low, top, 1.0 / span, x, 1.0)
        if style == K.MG_MINUS_SQRT:
            return one_minus_sqrt_piece(last, low, top, 1.0 / span, x)
    return run_piece(t)


@njit(cache=True)
def _integer_pow(x, n):
    """x ** n for an int n >= 0 as jax.lax.integer_pow computes it: by repeated squaring."""
    if n == 0:
        return 1.0
    acc = np.nan
    first = True
    while n > 0:
        if n & 1:
            if first:
                acc, first = x, False
            else:
                acc = acc * x
        n >>= 1
        if n > 0:
            x = x * x
    return acc


@njit(cache=True)
def _optax_pow(x, k, integral):
    if integral != 0.0:
        return _integer_pow(x, int(k))
    return math.pow(x, k)


#: optax's parameters after the shape code, by its argument names, one layout per shape
#: (``integral``: 1.0 when the power is an int, raised by repeated squaring; ``end_value``
#: NaN: none); the piecewise ones are followed by their boundaries, then their scales
#: (interpolate's: the boundaries from 0, then the values at them, cumulative products)
O_CONSTANT_P = offsets(("value",))
O_POLY_P = offsets(
    ("init_value", "end_value", "power", "integral", "transition_steps", "transition_begin")
)
O_EXP_P = offsets(
    ("init_value", "transition_steps", "decay_rate", "transition_begin", "staircase", "end_value")
)
O_COSINE_P = offsets(("init_value", "decay_steps", "alpha", "exponent", "integral"))
O_PW_CONSTANT_P = offsets(("init_value", "n_boundaries"))
O_PW_INTERP_P = offsets(("interpolate_type", "n_boundaries"))


@njit(cache=True)
def optax_value(code, p, base, t):
    """optax's schedule at ``count = t``, float64, in optax's operation order."""
    shape = int(code[p])
    q = p + 1
    if shape == K.O_CONSTANT:
        return code[q + O_CONSTANT_P.value]
    if shape == K.O_POLY:
        P = O_POLY_P
        init, end = code[q + P.init_value], code[q + P.end_value]
        k, integral = code[q + P.power], code[q + P.integral]
        steps, begin = int(code[q + P.transition_steps]), int(code[q + P.transition_begin])
        c = min(max(t - begin, 0), steps)
        frac = 1 - float(c) / float(steps)
        return (init - end) * _optax_pow(frac, k, integral) + end
    if shape == K.O_EXP:
        E = O_EXP_P
        init, steps = code[q + E.init_value], code[q + E.transition_steps]
        rate, begin = code[q + E.decay_rate], int(code[q + E.transition_begin])
        d = t - begin
        ratio = float(d) / steps
        if code[q + E.staircase] != 0.0:
            ratio = math.floor(ratio)
        value = init if d <= 0 else init * math.pow(rate, ratio)
        end = code[q + E.end_value]
        if end == end:
            value = max(value, end) if rate < 1.0 else min(value, end)
        return value
    if shape == K.O_COSINE:
        C = O_COSINE_P
        init, steps, alpha = code[q + C.init_value], code[q + C.decay_steps], code[q + C.alpha]
        c = min(float(t), steps)
        cosine = 0.5 * (1 + math.cos(math.pi * c / steps))
        k, integral = code[q + C.exponent], code[q + C.integral]
        return init * ((1 - alpha) * _optax_pow(cosine, k, integral) + alpha)
    if shape == K.O_PW_CONSTANT:
        value, n = code[q + O_PW_CONSTANT_P.init_value], int(code[q + O_PW_CONSTANT_P.n_boundaries])
        bounds = q + len(O_PW_CONSTANT_P)
        scales = bounds + n
        for k in range(n):
            if code[bounds + k] <= t:
                value = value * code[scales + k]
        return value
    # O_PW_INTERP
    kind = int(code[q + O_PW_INTERP_P.interpolate_type])
    n = int(code[q + O_PW_INTERP_P.n_boundaries])
    r = q + len(O_PW_INTERP_P)  # the boundaries (0 first)
    values = r + n  # at the boundaries
    out = 0.0
    for k in range(n - 1):
        lo, hi = code[r + k], code[r + k + 1]
        if lo <= t and t < hi:
            pct = (t - lo) / max(hi - lo, 1.0)
            a, b = code[values + k], code[values + k + 1]
            if kind == K.O_LINEAR:
                out += (b - a) * pct + a
            else:
                out += b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
    if code[r + n - 1] <= t:
        out += code[values + n - 1]
    return out


@njit(cache=True)
def optax_runs(code, p, t, limit):
    """The last step <= ``limit`` where optax's value is step ``t``'s, where it is known
    to stay (``Family.runs``): the constant, a staircase's stair, the piecewise constant
    schedule up to its next boundary, every schedule past its end; ``t`` otherwise."""
    shape = int(code[p])
    q = p + 1
    if shape == K.O_CONSTANT:
        return limit
    if shape == K.O_POLY:
        P = O_POLY_P
        begin, steps = int(code[q + P.transition_begin]), int(code[q + P.transition_steps])
        if t - begin >= steps:  # c = steps from here on
            return limit
        if t <= begin:  # c = 0 up to the beginning
            return min(begin, limit)
        return t
    if shape == K.O_EXP:
        E = O_EXP_P
        steps, begin = code[q + E.transition_steps], int(code[q + E.transition_begin])
        d = t - begin
        if d <= 0:
            return min(begin, limit)
        if code[q + E.staircase] == 0.0:
            return t
        k = math.floor(float(d) / steps)
        last = min(begin + int(math.ceil((k + 1.0) * steps)) - 1, limit)
        if last > t and math.floor(float(last - begin) / steps) == k:  # the count checked
            return last
        return t
    if shape == K.O_COSINE:
        return limit if t >= code[q + O_COSINE_P.decay_steps] else t
    if shape == K.O_PW_CONSTANT:
        n = int(code[q + O_PW_CONSTANT_P.n_boundaries])
        bounds = q + len(O_PW_CONSTANT_P)
        stop = float(limit + 1)  # the first step a boundary passes after t
        for k in range(n):
            b = code[bounds + k]
            if b > t:
                stop = min(stop, math.ceil(b))
        return max(int(stop) - 1, t)
    return t


@njit(cache=True)
def optax_pieces(code, p, base, t, limit):
    """``Family.pieces`` of optax's schedules: a cosine decay of exponent 1 and a
    polynomial of integral power (linear_schedule's 1) as stretches up to their last
    changing step; the runs of :func:`optax_runs` otherwise."""
    shape, q = int(code[p]), p + 1
    if shape == K.O_COSINE:
        C = O_COSINE_P
        steps, k = code[q + C.decay_steps], code[q + C.exponent]
        if k == 1.0 and float(t) < steps:  # x ** 1 is x, integral or not
            init, alpha = code[q + C.init_value], code[q + C.alpha]
            last = min(limit, int(math.ceil(steps)) - 1)
            return cos_piece(last, init * alpha, init, 0.5 * math.pi / steps, float(t))
    elif shape == K.O_POLY:
        P = O_POLY_P
        begin, steps = int(code[q + P.transition_begin]), int(code[q + P.transition_steps])
        k = code[q + P.power]
        if begin < t and t - begin < steps and integral_power(k):
            init, end = code[q + P.init_value], code[q + P.end_value]
            last = min(limit, begin + steps - 1)
            return power_piece(last, end, init, 1.0 / steps, float(t - begin), k)
    return run_piece(optax_runs(code, p, t, limit))


@njit(cache=True)
def _keras_cosine(step, steps, start, c1, c2, pi, s):
    """Keras CosineDecay's ``_decay_function``, every operation in the float type."""
    fraction = rnd(step / steps, s)
    cosine = rnd(0.5 * rnd(1.0 + cos_(rnd(pi * fraction, s), s), s), s)
    return rnd(start * rnd(rnd(c1 * cosine, s) + c2, s), s)


#: Keras's parameters: the shape code and whether Keras computes in float32, then one
#: layout per shape by Keras's argument names (ExponentialDecay's serves InverseTimeDecay;
#: ``one_minus_alpha`` is ``1 - alpha`` in the float type; ``warmup_target`` NaN: none);
#: PiecewiseConstantDecay's is followed by its boundaries, then its values
KERAS = offsets(("shape", "float32"))
K_EXP_P = offsets(("initial_learning_rate", "decay_steps", "decay_rate", "staircase"))
K_POLY_P = offsets(("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle"))
K_PIECEWISE_P = offsets(("n_boundaries",))
K_COSINE_P = offsets(
    (
        "initial_learning_rate",
        "decay_steps",
        "one_minus_alpha",
        "alpha",
        "warmup_target",
        "warmup_steps",
        "pi",
    )
)
K_RESTARTS_P = offsets(
    ("initial_learning_rate", "first_decay_steps", "alpha", "t_mul", "m_mul", "pi")
)


@njit(cache=True)
def keras_value(code, p, base, t):
    """Keras 3's schedule at ``step = t``, in float32 (or float64) as Keras computes it:
    ``KERAS.float32`` says float32; every operation's result is rounded to it."""
    shape, s = int(code[p + KERAS.shape]), code[p + KERAS.float32] != 0.0
    q = p + len(KERAS)
    step = rnd(float(t), s)  # ops.cast(step, dtype)
    if shape == K.K_PIECEWISE:
        n = int(code[q + K_PIECEWISE_P.n_boundaries])
        bounds = q + len(K_PIECEWISE_P)
        values = bounds + n  # n + 1 of them
        if t <= code[bounds]:
            return code[values]
        for k in range(n - 1):
            if code[bounds + k] < t and t <= code[bounds + k + 1]:
                return code[values + k + 1]
        return code[values + n]
    init = code[q + K_EXP_P.initial_learning_rate]  # the first of every other layout
    if shape == K.K_EXP or shape == K.K_INVTIME:
        E = K_EXP_P
        p_ = rnd(step / code[q + E.decay_steps], s)
        if code[q + E.staircase] != 0.0:
            p_ = math.floor(p_)
        if shape == K.K_EXP:
            return rnd(init * pow_(code[q + E.decay_rate], p_, s), s)
        return rnd(init / rnd(1.0 + rnd(code[q + E.decay_rate] * p_, s), s), s)
    if shape == K.K_POLY:
        P = K_POLY_P
        steps, end = code[q + P.decay_steps], code[q + P.end_learning_rate]
        power = code[q + P.power]
        if code[q + P.cycle] != 0.0:
            multiplier = 1.0 if step == 0.0 else math.ceil(rnd(step / steps, s))
            steps = rnd(steps * multiplier, s)
        else:
            step = min(step, steps)
        fraction = rnd(step / steps, s)
        decayed = pow_(rnd(1.0 - fraction, s), power, s)
        return rnd(rnd(rnd(init - end, s) * decayed, s) + end, s)
    if shape == K.K_COSINE:
        C = K_COSINE_P
        steps, c1, c2 = code[q + C.decay_steps], code[q + C.one_minus_alpha], code[q + C.alpha]
        target, W, pi = code[q + C.warmup_target], code[q + C.warmup_steps], code[q + C.pi]
        if target != target:  # no warm-up
            return _keras_cosine(min(step, steps), steps, init, c1, c2, pi, s)
        step = min(step, rnd(steps + W, s))
        if step < W:
            delta = rnd(target - init, s)
            return rnd(rnd(delta * rnd(step / W, s), s) + init, s)
        return _keras_cosine(rnd(step - W, s), steps, target, c1, c2, pi, s)
    # K_RESTARTS
    R = K_RESTARTS_P
    first, alpha = code[q + R.first_decay_steps], code[q + R.alpha]
    t_mul, m_mul, pi = code[q + R.t_mul], code[q + R.m_mul], code[q + R.pi]
    fraction = rnd(step / first, s)
    if t_mul == 1.0:
        i = math.floor(fraction)
        fraction = rnd(fraction - i, s)
    else:
        inner = rnd(1.0 - rnd(fraction * rnd(1.0 - t_mul, s), s), s)
        i = math.floor(rnd(log_(inner, s) / log_(t_mul, s), s))
        sum_r = rnd(rnd(1.0 - pow_(t_mul, i, s), s) / rnd(1.0 - t_mul, s), s)
        fraction = rnd(rnd(fraction - sum_r, s) / pow_(t_mul, i, s), s)
    m_fac = pow_(m_mul, i, s)
    cosine = rnd(rnd(0.5 * m_fac, s) * rnd(1.0 + cos_(rnd(pi * fraction, s), s), s), s)
    decayed = rnd(rnd(rnd(1.0 - alpha, s) * cosine, s) + alpha, s)
    return rnd(init * decayed, s)


@njit(cache=True)
def _keras_stair(code, q, t, s):
    """Keras's exponential and inverse-time staircase count at ``step = t``."""
    return math.floor(rnd(rnd(float(t), s) / code[q + K_EXP_P.decay_steps], s))


@njit(cache=True)
def keras_runs(code, p, t, limit):
    """The last step <= ``limit`` where Keras's value is step ``t``'s, where it is known
    to stay (``Family.runs``): the piecewise constant decay up to its next boundary, a
    staircase's stair (its count checked at the run's end, in Keras's float type), the
    polynomial and cosine decays past their end; ``t`` otherwise."""
    shape, s = int(code[p + KERAS.shape]), code[p + KERAS.float32] != 0.0
    q = p + len(KERAS)
    if shape == K.K_PIECEWISE:
        n = int(code[q + K_PIECEWISE_P.n_boundaries])
        bounds = q + len(K_PIECEWISE_P)
        for k in range(n - 1):
            if code[bounds + k + 1] < code[bounds + k]:
                return t  # unsorted (Keras takes them): keras_value's search step by step
        for k in range(n):  # the value holds while t <= the next boundary
            if t <= code[bounds + k]:
                return max(min(int(math.floor(code[bounds + k])), limit), t)
        return limit
    if shape == K.K_EXP or shape == K.K_INVTIME:
        if code[q + K_EXP_P.staircase] == 0.0:
            return t
        k = _keras_stair(code, q, t, s)
        last = min(int(math.ceil((k + 1.0) * code[q + K_EXP_P.decay_steps])) - 1, limit)
        if last > t and _keras_stair(code, q, last, s) == k:
            return last
        return t
    step = rnd(float(t), s)
    if shape == K.K_POLY:
        P = K_POLY_P
        if code[q + P.cycle] == 0.0 and step >= code[q + P.decay_steps]:
            return limit
        return t
    if shape == K.K_COSINE:
        C = K_COSINE_P
        W, steps = code[q + C.warmup_steps], code[q + C.decay_steps]
        target = code[q + C.warmup_target]
        end = steps if target != target else rnd(steps + W, s)  # (keras_value's clamps)
        return limit if step >= end else t
    return t


#: fairseq's ``fixed`` after the shape code: the number of its LRs (``lr``), the LRs, then
#: :data:`FS_FIXED_TAIL` (``force_anneal`` NaN: none; ``updates_per_epoch`` 0: none)
FS_FIXED_P = offsets(("n_lr",))
FS_FIXED_TAIL = offsets(("force_anneal", "lr_shrink", "warmup_updates", "updates_per_epoch"))


@njit(cache=True)
def _fairseq_fixed(code, q, t):
    """fairseq's ``fixed``: the epoch's LR (``get_next_lr``) times the warm-up factor."""
    n = int(code[q + FS_FIXED_P.n_lr])
    lrs = q + len(FS_FIXED_P)
    X = FS_FIXED_TAIL
    anneal, shrink = code[lrs + n + X.force_anneal], code[lrs + n + X.lr_shrink]
    W, per = code[lrs + n + X.warmup_updates], code[lrs + n + X.updates_per_epoch]
    epoch = 1 if per == 0.0 else 1 + t // int(per)
    if anneal != anneal or epoch < anneal:
        lr = code[lrs + min(epoch - 1, n - 1)]
    else:
        lr = code[lrs + n - 1] * math.pow(shrink, float(epoch + 1 - anneal))
    if W > 0 and t < W:
        return (float(t + 1) / W) * lr
    return lr


#: fairseq's parameters after the shape code, by fairseq's attribute names, one layout
#: per scheduler (the specs in lrcore.schedules.fairseq write them in this order)
FS_INV_SQRT_P = offsets(("lr_step", "warmup_init_lr", "warmup_updates", "decay_factor", "exponent"))
FS_STEP_P = offsets(
    (
        "warmup_lr_step",
        "warmup_init_lr",
        "warmup_updates",
        "max_lr",
        "min_lr",
        "lr_deacy_period",
        "lr_decay",
    )
)
FS_COSINE_P = offsets(
    (
        "lr_step",
        "warmup_init_lr",
        "warmup_updates",
        "max_lr",
        "min_lr",
        "period",
        "t_mult",
        "lr_shrink",
        "pi",
    )
)
FS_POLY_P = offsets(("lr", "warmup_updates", "end_learning_rate", "power", "total_num_update"))
FS_TRI_STAGE_P = offsets(
    (
        "init_lr",
        "warmup_rate",
        "warmup_steps",
        "hold_steps",
        "decay_steps",
        "peak_lr",
        "decay_factor",
        "final_lr",
    )
)
FS_TRIANGULAR_P = offsets(("lr", "max_lr", "half_period", "lr_shrink", "shrink_min"))


@njit(cache=True)
def fairseq_value(code, p, base, t):
    """fairseq's LR after ``step_update(t)``, in fairseq's order (Python's ``max(a, b)``
    is ``b if b > a else a``, kept so for signed zeros)."""
    shape = int(code[p])
    q = p + 1
    if shape == K.FS_POLY:
        P = FS_POLY_P
        lr, W, end = code[q + P.lr], code[q + P.warmup_updates], code[q + P.end_learning_rate]
        power, total = code[q + P.power], code[q + P.total_num_update]
        if W > 0 and t <= W:
            return (t / W) * lr
        if t >= total:
            return end
        pct = 1 - (t - W) / (total - W)
        return (lr - end) * math.pow(pct, power) + end
    if shape == K.FS_TRI_STAGE:
        T = FS_TRI_STAGE_P
        W, H, D = code[q + T.warmup_steps], code[q + T.hold_steps], code[q + T.decay_steps]
        if t < W:
            return code[q + T.init_lr] + code[q + T.warmup_rate] * t
        if t < W + H:
            return code[q + T.peak_lr]
        if t <= W + H + D:
            return code[q + T.peak_lr] * math.exp(-code[q + T.decay_factor] * (t - W - H))
        return code[q + T.final_lr]
    if shape == K.FS_TRIANGULAR:
        R = FS_TRIANGULAR_P
        low, high, size = code[q + R.lr], code[q + R.max_lr], code[q + R.half_period]
        cycle = math.floor(t / (2 * size))
        shrink = math.pow(code[q + R.lr_shrink], float(cycle))
        high = high * shrink
        if code[q + R.shrink_min] != 0.0:
            low = low * shrink
        x = abs(t / size - 2 * (cycle + 1) + 1)
        rise = 1 - x
        return low + (high - low) * (rise if rise > 0 else 0.0)
    if shape == K.FS_FIXED:
        return _fairseq_fixed(code, q, t)
    # the warm-up of inverse_sqrt, step and cosine: the first three of their layouts
    C = FS_COSINE_P
    if t < code[q + C.warmup_updates]:
        return code[q + C.warmup_init_lr] + t * code[q + C.lr_step]
    if shape == K.FS_INV_SQRT:  # the exponent -0.5 as data: see megatron_value
        I = FS_INV_SQRT_P  # noqa: E741
        return code[q + I.decay_factor] * math.pow(float(t), code[q + I.exponent])
    c = t - code[q + C.warmup_updates]
    if shape == K.FS_STEP:
        S = FS_STEP_P
        lr, low = code[q + S.max_lr], code[q + S.min_lr]
        period, decay = code[q + S.lr_deacy_period], code[q + S.lr_decay]
        value = lr * math.pow(decay, float(math.floor(c / period)))
        return low if low > value else value
    # FS_COSINE
    lr, low, period = code[q + C.max_lr], code[q + C.min_lr], code[q + C.period]
    t_mult, pi = code[q + C.t_mult], code[q + C.pi]
    if t_mult != 1:
        inner = 1 - c / period * (1 - t_mult)
        if not inner > 0.0:  # fairseq: math.log raises (ValueError)
            return np.nan
        i = float(math.floor(math.log(inner) / math.log(t_mult)))
        t_i = math.pow(t_mult, i) * period
        t_curr = c - (1 - math.pow(t_mult, i)) / (1 - t_mult) * period
    else:
        i = float(math.floor(c / period))
        t_i = period
        t_curr = c - (period * i)
    shrink = math.pow(code[q + C.lr_shrink], i)
    low, lr = low * shrink, lr * shrink
    return low + 0.5 * (lr - low) * (1 + math.cos(pi * t_curr / t_i))


@njit(cache=True)
def fairseq_pieces(code, p, base, t, limit):
    """``Family.pieces`` of fairseq's schedulers: inverse_sqrt's decay (exponent -1/2),
    a polynomial decay of integral power and a cosine cycle (t_mult 1) as stretches,
    the constant ends and tri_stage's hold as runs; one step at a time otherwise."""
    shape, q = int(code[p]), p + 1
    if shape == K.FS_POLY:
        P = FS_POLY_P
        lr, W, end = code[q + P.lr], code[q + P.warmup_updates], code[q + P.end_learning_rate]
        power, total = code[q + P.power], code[q + P.total_num_update]
        if W > 0 and t <= W:
            return run_piece(t)
        if t >= total:
            return run_piece(limit)
        if integral_power(power):
            return power_piece(last_before(total, limit), end, lr, 1.0 / (total - W), t - W, power)
        return run_piece(t)
    if shape == K.FS_TRI_STAGE:
        T = FS_TRI_STAGE_P
        W, H, D = code[q + T.warmup_steps], code[q + T.hold_steps], code[q + T.decay_steps]
        if W <= t and t < W + H:
            return run_piece(last_before(W + H, limit))
        if t > W + H + D:
            return run_piece(limit)
        return run_piece(t)
    if shape == K.FS_TRIANGULAR or shape == K.FS_FIXED or shape == K.FS_STEP:
        return run_piece(t)
    C = FS_COSINE_P
    W = code[q + C.warmup_updates]
    if t < W:
        return run_piece(t)
    if shape == K.FS_INV_SQRT:
        I = FS_INV_SQRT_P  # noqa: E741
        if code[q + I.exponent] == -0.5:
            return rsqrt_piece(limit, 0.0, code[q + I.decay_factor], 1.0, float(t))
        return run_piece(t)
    period, t_mult = code[q + C.period], code[q + C.t_mult]
    if t_mult == 1 and period > 0:  # the cosine's cycle i, to its last step
        c = t - W
        i = float(math.floor(c / period))
        last = last_before(W + period * (i + 1.0), limit)
        while last > t and float(math.floor((last - W) / period)) != i:
            last -= 1
        shrink = math.pow(code[q + C.lr_shrink], i)
        low, lr = code[q + C.min_lr] * shrink, code[q + C.max_lr] * shrink
        return cos_piece(last, low, lr, 0.5 * code[q + C.pi] / period, c - (period * i))
    return run_piece(t)
