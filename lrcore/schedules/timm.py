r"""timm's schedulers: cosine, tanh and polynomial, with cycles, warm-up and noise.

These reproduce ``timm.scheduler.CosineLRScheduler``, ``TanhLRScheduler`` and
``PolyLRScheduler``: table index ``t`` holds the value timm writes on
``step(t)`` (or ``step_update(t)``), per group with base LR :math:`\eta_0`.
With :math:`T` = ``t_initial`` and :math:`m` = ``cycle_mul``, cycle :math:`i`
starts at :math:`B_i = T(1 - m^i)/(1 - m)` (:math:`iT` when :math:`m = 1`) and
lasts :math:`T_i = m^i T`; with :math:`t_c = t - B_i` and
:math:`\hat\eta = \eta_0\,d^i` (:math:`d` = ``cycle_decay``):

* ``timm_cosine``: :math:`\eta_{min} + (\hat\eta - \eta_{min})(1 + \cos(\pi t_c^k / T_i^k))/2`
* ``timm_tanh``: :math:`\eta_{min} + (\hat\eta - \eta_{min})(1 - \tanh(l_b(1 - r) + u_b r))/2`,
  :math:`r = t_c / T_i` (Hsueh et al., 2019)
* ``timm_poly``: :math:`\eta_{min} + (\hat\eta - \eta_{min})(1 - t_c^k/T_i^k)^p`

:math:`k` is ``k_decay`` (Zhang et al., 2020). After ``cycle_limit`` cycles the
value is ``lr_min``. For ``t < warmup_t`` it is
``warmup_lr_init + t * (target - warmup_lr_init) / warmup_t``, where the target is
the base LR (the tanh schedule without ``warmup_prefix`` aims at its own value at
``warmup_t``); with ``warmup_prefix`` the cycles start after the warm-up.

Noise (``noise_range_t``: a first step, or ``[first, end)``) multiplies the value
by ``1 + n``, ``n`` drawn as timm draws it: ``torch.randn`` from a generator
seeded with ``noise_seed + t``, times ``noise_std``, redrawn until
``|n| < noise_pct``. lrcore has its own Mersenne Twister and Box-Muller, so the
draws equal torch's bit for bit without importing torch.

Two differences from timm, both deliberate: the cycle index is exact (timm takes
it from a floating logarithm, which puts some restarts one step late, e.g.
``t = 121 * t_initial`` with ``cycle_mul=3``), and index 0 is the formula at 0
(timm's constructor writes the base LR, or ``warmup_lr_init``, before any step).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .. import _validate as v
from .. import kinds as K
from ..family import Family, declare, offsets
from ..kernels import closed as cl
from ..kernels import njit
from ..kernels import torch_numerics as tn
from ..kernels.formulas import (
    TIMM,
    cos_piece,
    last_before,
    one_minus_sqrt_piece,
    power_piece,
    ramp_piece,
    rsqrt_linear_piece,
    rsqrt_piece,
    run_piece,
)
from ..kernels.noise import timm_noise
from .leaf import Leaf

_NONE = -1.0  # noise range bound meaning "never"


class _Timm(Leaf):
    shape: int

    def _check_common(self):
        n = self.name
        v.integer(n, "t_initial", self.t_initial, minimum=1)
        self._set("lr_min", v.real(n, "lr_min", self.lr_min, low=0.0))
        self._set("cycle_mul", v.real(n, "cycle_mul", self.cycle_mul, low=0.0, low_open=True))
        self._set("cycle_decay", v.real(n, "cycle_decay", self.cycle_decay, low=0.0, low_open=True))
        v.integer(n, "cycle_limit", self.cycle_limit, minimum=1)
        _check_warmup_and_noise(self)

    def _set(self, field, value):
        object.__setattr__(self, field, value)

    def _extra(self) -> dict:  # k_decay, x1, x2 (see TIMM)
        raise NotImplementedError

    def params(self, quantity="lr"):
        named = {
            "shape": self.shape,
            "t_initial": self.t_initial,
            "lr_min": self.lr_min,
            "cycle_mul": self.cycle_mul,
            "cycle_decay": self.cycle_decay,
            "cycle_limit": self.cycle_limit,
            **_warmup_and_noise(self),
            **self._extra(),
        }
        return [named[name] for name in TIMM._fields]


def _check_warmup_and_noise(spec):
    """timm's Scheduler base arguments (warm-up and noise), checked in timm's order."""
    n = spec.name
    v.integer(n, "warmup_t", spec.warmup_t, minimum=0)
    object.__setattr__(
        spec, "warmup_lr_init", v.real(n, "warmup_lr_init", spec.warmup_lr_init, low=0.0)
    )
    v.flag(n, "warmup_prefix", spec.warmup_prefix)
    object.__setattr__(spec, "noise_range_t", _noise_range(n, spec.noise_range_t))
    object.__setattr__(
        spec, "noise_pct", v.real(n, "noise_pct", spec.noise_pct, low=0.0, low_open=True)
    )
    object.__setattr__(spec, "noise_std", v.real(n, "noise_std", spec.noise_std, low=0.0))
    v.integer(n, "noise_seed", spec.noise_seed, minimum=0)


def _warmup_and_noise(spec) -> dict:
    """The warm-up's and the noise's parameters by their layout names."""
    r = spec.noise_range_t
    if r is None:
        lo, hi = _NONE, _NONE
    elif isinstance(r, tuple):
        lo, hi = float(r[0]), float(r[1])
    else:
        lo, hi = float(r), float("inf")
    return {
        "warmup_t": spec.warmup_t,
        "warmup_lr_init": spec.warmup_lr_init,
        "warmup_prefix": 1.0 if spec.warmup_prefix else 0.0,
        "noise_lo": lo,
        "noise_hi": hi,
        "noise_pct": spec.noise_pct,
        "noise_std": spec.noise_std,
        # torch seeds its twister with the low 32 bits of noise_seed + t: exact in
        # float64 for any seed this way
        "noise_seed": spec.noise_seed % 2**32,
    }


def _noise_range(name, value):
    if value is None:
        return None
    allowed = "None, a first step (a number >= 0) or [first, end) with 0 <= first < end"

    def number(x):
        return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)

    if number(value):
        if value < 0:
            v.fail(name, "noise_range_t", value, allowed)
        return int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = value
        if number(lo) and number(hi) and 0 <= lo < hi:
            # timm's create_scheduler_v2 gives fractions of t_initial: floats are kept
            return tuple(int(x) if isinstance(x, numbers.Integral) else float(x) for x in value)
    v.fail(name, "noise_range_t", value, allowed)


@dataclass(frozen=True)
class TimmCosine(_Timm):
    """timm's CosineLRScheduler (SGDR with float ``cycle_mul``, decay, limit, k-decay)."""

    t_initial: int
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    noise_range_t: int | tuple[int, int] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    k_decay: float = 1.0
    name = "timm_cosine"
    shape = K.T_COSINE

    def __post_init__(self):
        self._check_common()
        self._set("k_decay", v.real(self.name, "k_decay", self.k_decay, low=0.0, low_open=True))

    def _extra(self):
        return {"k_decay": self.k_decay, "x1": 0.0, "x2": 0.0}


@dataclass(frozen=True)
class TimmTanh(_Timm):
    """timm's TanhLRScheduler (hyperbolic-tangent decay from ``lb`` to ``ub``)."""

    t_initial: int
    lb: float = -7.0
    ub: float = 3.0
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    noise_range_t: int | tuple[int, int] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    name = "timm_tanh"
    shape = K.T_TANH

    def __post_init__(self):
        self._check_common()
        lb = v.real(self.name, "lb", self.lb)
        ub = v.real(self.name, "ub", self.ub)
        if not lb < ub:
            v.fail(self.name, "ub", self.ub, f"greater than lb={lb!r}")
        self._set("lb", lb)
        self._set("ub", ub)

    def _extra(self):
        return {"k_decay": 1.0, "x1": self.lb, "x2": self.ub}


@dataclass(frozen=True)
class TimmPoly(_Timm):
    """timm's PolyLRScheduler (polynomial decay to ``lr_min`` with ``power``)."""

    t_initial: int
    power: float = 0.5
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    noise_range_t: int | tuple[int, int] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    k_decay: float = 1.0
    name = "timm_poly"
    shape = K.T_POLY

    def __post_init__(self):
        self._check_common()
        self._set("power", v.real(self.name, "power", self.power, low=0.0))
        self._set("k_decay", v.real(self.name, "k_decay", self.k_decay, low=0.0, low_open=True))

    def _extra(self):
        return {"k_decay": self.k_decay, "x1": self.power, "x2": 0.0}


# -- the declaration ----------------------------------------------------------------------
def _cycle_events(spec, steps):
    """The starts of timm's cycles (and the end of the last)."""
    out = []
    start, length, i = float(spec.warmup_t if spec.warmup_prefix else 0), spec.t_initial, 0
    while i < spec.cycle_limit and start < steps:
        if start > 0:
            out.append(math.ceil(start))
        i += 1
        start += length
        length = spec.t_initial * spec.cycle_mul**i
    if i == spec.cycle_limit and 0 < start < steps:
        out.append(math.ceil(start))  # the end of the last cycle
    return out


declare(
    Family(
        name="timm",
        names={
            "CosineLRScheduler": TimmCosine,
            "TanhLRScheduler": TimmTanh,
            "PolyLRScheduler": TimmPoly,
        },  # timm.scheduler's classes
        code=14,
        framework="timm",
        specs=(_Timm,),
        layout=TIMM._fields,
        get_lr=tn.timm_get_lr,
        closed=cl.timm_closed,
        samples=lambda steps: {
            "timm_cosine": TimmCosine(  # noise over 1/80 of the steps (a draw costs ~0.8 µs)
                t_initial=max(steps // 40, 1),
                warmup_t=10,
                noise_range_t=(steps // 80, steps // 40 + 1),
            ),
            "timm_tanh": TimmTanh(t_initial=steps, warmup_t=10),
            "timm_poly": TimmPoly(t_initial=steps, power=2.0),
        },
        events=_cycle_events,
    )
)


# -- timm's step, multi-step and warmup-stable-decay schedulers ------------------------------
# Three families declared in the new form: a parameter layout whose names the kernels read
# (``code[p + STEP.decay_t]``), a pointwise value (both numerics are made from it) and the
# declaration. Each is a function of the step alone, so a table of any window is exact.
#
# They share timm's Scheduler base: a linear warm-up from ``warmup_lr_init`` over
# ``warmup_t`` steps, then the schedule (on ``t - warmup_t`` where it is prefixed), then
# seeded noise in ``noise_range_t`` (see above).

_BASE = (
    "warmup_t",
    "warmup_lr_init",
    "warmup_prefix",
    "noise_lo",
    "noise_hi",
    "noise_pct",
    "noise_std",
    "noise_seed",
)
STEP = offsets((*_BASE, "decay_t", "decay_rate"))
MULTISTEP = offsets((*_BASE, "decay_rate", "n_milestones"))  # then the milestones
WSD_ = offsets(
    (
        *_BASE,
        "t_initial",
        "decay_t",
        "lr_min",
        "stable_fn",
        "stable_timescale",
        "stable_power",
        "decay_fn",
        "decay_power",
        "decay_ratio",
    )
)
#: WSD's stable and decay functions by name; the layout holds their positions here
STABLE_FNS = ("constant", "rsqrt", "power")
STABLE_CONSTANT, STABLE_RSQRT, STABLE_POWER = range(len(STABLE_FNS))
DECAY_FNS = ("linear", "1-sqrt", "cosine", "power", "exp")
DECAY_LINEAR, DECAY_1_SQRT, DECAY_COSINE, DECAY_POWER, DECAY_EXP = range(len(DECAY_FNS))


class _TimmFixed(Leaf):
    """Warm-up and noise as timm's Scheduler base; the layout names what ``params`` writes."""

    layout: tuple[str, ...]

    def _check_base(self):
        _check_warmup_and_noise(self)

    def _values(self) -> dict:
        return _warmup_and_noise(self)

    def params(self, quantity="lr"):
        values = self._values()
        return [float(values[name]) for name in self.layout] + self._tail()

    def _tail(self) -> list[float]:
        return []


@njit(cache=True)
def _warmup(code, p, base, t):
    """timm's warm-up value at ``t < warmup_t``."""
    init = code[p + STEP.warmup_lr_init]
    return init + t * ((base - init) / code[p + STEP.warmup_t])


@njit(cache=True)
def _noised(code, p, lr, t):
    """``lr`` with timm's noise at ``t`` when ``t`` is in the noise range."""
    if code[p + STEP.noise_lo] <= t and t < code[p + STEP.noise_hi]:
        seed = int(code[p + STEP.noise_seed]) + t
        return lr + lr * timm_noise(seed, code[p + STEP.noise_std], code[p + STEP.noise_pct])
    return lr


@njit(cache=True)
def timm_step_value(code, p, base, t):
    """StepLRScheduler: ``base * decay_rate ** (t // decay_t)`` after the warm-up."""
    if t < code[p + STEP.warmup_t]:
        return _noised(code, p, _warmup(code, p, base, t), t)
    e = t - code[p + STEP.warmup_t] if code[p + STEP.warmup_prefix] != 0.0 else float(t)
    k = e // code[p + STEP.decay_t]  # Python's floor division, as timm's ``t // decay_t``
    return _noised(code, p, base * math.pow(code[p + STEP.decay_rate], k), t)


@njit(cache=True)
def timm_multistep_value(code, p, base, t):
    """MultiStepLRScheduler: ``base * decay_rate ** bisect_right(decay_t, t + 1)``."""
    if t < code[p + MULTISTEP.warmup_t]:
        return _noised(code, p, _warmup(code, p, base, t), t)
    e = t - code[p + MULTISTEP.warmup_t] if code[p + MULTISTEP.warmup_prefix] != 0.0 else t
    n = int(code[p + MULTISTEP.n_milestones])
    first = p + len(MULTISTEP)
    lo, hi = 0, n  # bisect.bisect_right over the milestones as given (timm's own search)
    while lo < hi:
        mid = (lo + hi) // 2
        if e + 1 < code[first + mid]:
            hi = mid
        else:
            lo = mid + 1
    rate = code[p + MULTISTEP.decay_rate]
    return _noised(code, p, base * math.pow(rate, float(lo)), t)


# -- step and multi-step over a run: blocks of one value ------------------------------------
# Past the warm-up and outside the noise range their value is a function of the decay
# count alone, so a run of steps with one count is one value, computed once (by the value
# function itself: the bits are the same) and filled as a block. A block is taken only
# when the count at its last step is the count at its first (the count never decreases).


@njit(cache=True)
def _quiet_until(code, p, t):
    """The first step >= ``t`` that timm's noise touches (``t``: this one; inf: none)."""
    lo, hi = code[p + STEP.noise_lo], code[p + STEP.noise_hi]
    if t >= hi:
        return math.inf
    return max(lo, float(t))


@njit(cache=True)
def timm_step_runs(code, p, t, limit):
    """The last step <= ``limit`` with step ``t``'s decay count (``t`` in the warm-up or
    the noise range): a run of one value (``Family.runs``)."""
    warm, d = code[p + STEP.warmup_t], code[p + STEP.decay_t]
    quiet = _quiet_until(code, p, t)
    if t < warm or quiet <= t:
        return t
    shift = warm if code[p + STEP.warmup_prefix] != 0.0 else 0.0
    k = (t - shift) // d
    last = int(min(math.ceil((k + 1.0) * d) + shift, quiet, float(limit + 1))) - 1
    if last > t and (last - shift) // d == k:
        return last
    return t


@njit(cache=True)
def _milestones_passed(code, p, e):
    """``bisect_right(decay_t, e + 1)`` (timm's search, over the milestones as given)."""
    n = int(code[p + MULTISTEP.n_milestones])
    first = p + len(MULTISTEP)
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if e + 1 < code[first + mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def timm_multistep_runs(code, p, t, limit):
    """The last step <= ``limit`` with step ``t``'s count of milestones passed (``t`` in
    the warm-up or the noise range): a run of one value (``Family.runs``)."""
    warm = code[p + MULTISTEP.warmup_t]
    quiet = _quiet_until(code, p, t)
    if t < warm or quiet <= t:
        return t
    shift = warm if code[p + MULTISTEP.warmup_prefix] != 0.0 else 0.0
    k = _milestones_passed(code, p, t - shift)
    stop = min(quiet, float(limit + 1))
    if k < int(code[p + MULTISTEP.n_milestones]):  # the next milestone m counts from e + 1 == m
        stop = min(stop, code[p + len(MULTISTEP) + k] - 1.0 + shift)
    last = int(math.ceil(stop)) - 1
    if last > t and _milestones_passed(code, p, last - shift) == k:
        return last
    return t


@njit(cache=True)
def _wsd_decay(fn, frac, power, ratio):
    """The decay factor at decay progress ``frac`` in [0, 1], from 1 to 0."""
    if fn == DECAY_LINEAR:
        return 1.0 - frac
    if fn == DECAY_1_SQRT:
        return 1.0 - math.sqrt(frac)
    if fn == DECAY_COSINE:
        return 0.5 * (1.0 + math.cos(math.pi * frac))
    if fn == DECAY_POWER:
        return 1.0 - math.pow(frac, power)
    return (math.pow(ratio, frac) - ratio) / (1.0 - ratio)  # exp, normalised to reach 0


@njit(cache=True)
def timm_wsd_value(code, p, base, t):
    """WSDLRScheduler: ``lr_min + (max(base * stable(t_s), lr_min) - lr_min) * decay(frac)``."""
    if t < code[p + WSD_.warmup_t]:
        return _noised(code, p, _warmup(code, p, base, t), t)
    t_s = t - code[p + WSD_.warmup_t]
    lr_min = code[p + WSD_.lr_min]
    stable = 1.0
    if code[p + WSD_.stable_fn] != STABLE_CONSTANT:
        stable = math.pow(1.0 + t_s / code[p + WSD_.stable_timescale], -code[p + WSD_.stable_power])
    lr = base * stable
    if lr_min > lr:  # Python's max(lr, lr_min)
        lr = lr_min
    t_decay = t_s - (code[p + WSD_.t_initial] - code[p + WSD_.decay_t])
    if t_decay > 0:
        frac = t_decay / code[p + WSD_.decay_t]
        if 1.0 < frac:  # Python's min(frac, 1.)
            frac = 1.0
        decay = _wsd_decay(
            int(code[p + WSD_.decay_fn]),
            frac,
            code[p + WSD_.decay_power],
            code[p + WSD_.decay_ratio],
        )
        lr = lr_min + (lr - lr_min) * decay
    return _noised(code, p, lr, t)


@njit(cache=True)
def timm_wsd_pieces(code, p, base, t, limit):
    """``Family.pieces`` of WSDLRScheduler outside the noise: the warm-up as a ramp, a
    constant stable phase as a run, an ``rsqrt`` one (power 1/2, lr_min 0) and a linear,
    1-sqrt or cosine decay after a constant one as stretches, the end as a run."""
    W, quiet = code[p + WSD_.warmup_t], _quiet_until(code, p, t)
    if quiet <= t:
        return run_piece(t)
    limit = last_before(quiet, limit)
    if t < W:  # _warmup's init + t * ((base - init) / W), step by step
        init = code[p + WSD_.warmup_lr_init]
        return ramp_piece(last_before(W, limit), init, (base - init) / W, float(t))
    t_s, lr_min = t - W, code[p + WSD_.lr_min]
    T, D = code[p + WSD_.t_initial], code[p + WSD_.decay_t]
    stable, tau = int(code[p + WSD_.stable_fn]), code[p + WSD_.stable_timescale]
    # an rsqrt stable phase of power 1/2 above lr_min 0: base / sqrt(1 + t_s / tau)
    rsqrt = stable == STABLE_RSQRT and code[p + WSD_.stable_power] == 0.5 and lr_min == 0.0
    if t_s - (T - D) <= 0:  # the stable phase, up to the decay's first step
        last = min(limit, int(math.floor(W + T - D)))
        if stable == STABLE_CONSTANT:
            return run_piece(last)
        if rsqrt:
            return rsqrt_piece(last, 0.0, base, 1.0 / tau, tau + t_s)
        return run_piece(t)
    if t_s - (T - D) >= D:  # frac 1 from here on
        return run_piece(limit)
    lr = lr_min if lr_min > base else base
    last, x, fn = last_before(W + T, limit), t_s - (T - D), int(code[p + WSD_.decay_fn])
    if stable != STABLE_CONSTANT:  # rsqrt times 1 - x / D = (T - t_s) / D
        if rsqrt and fn == DECAY_LINEAR:
            return rsqrt_linear_piece(last, 0.0, base / D, 1.0 / tau, tau + t_s, tau + T)
        return run_piece(t)
    if fn == DECAY_LINEAR:
        return power_piece(last, lr_min, lr, 1.0 / D, x, 1.0)
    if fn == DECAY_1_SQRT:
        return one_minus_sqrt_piece(last, lr_min, lr, 1.0 / D, x)
    if fn == DECAY_COSINE:
        return cos_piece(last, lr_min, lr, 0.5 * math.pi / D, x)
    return run_piece(t)


@dataclass(frozen=True)
class TimmStep(_TimmFixed):
    """timm's StepLRScheduler: multiply by ``decay_rate`` every ``decay_t`` steps."""

    decay_t: float
    decay_rate: float = 1.0
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = True
    noise_range_t: int | float | tuple | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    name = "timm_step"
    layout = STEP._fields

    def __post_init__(self):
        self._check_base()
        # timm divides by decay_t (ZeroDivisionError at 0); a float period is allowed
        t = v.real(self.name, "decay_t", self.decay_t, low=0.0, low_open=True)
        object.__setattr__(self, "decay_t", int(t) if isinstance(self.decay_t, int) else t)
        rate = v.real(self.name, "decay_rate", self.decay_rate, low=0.0)
        object.__setattr__(self, "decay_rate", rate)

    def _values(self):
        return {**super()._values(), "decay_t": self.decay_t, "decay_rate": self.decay_rate}


@dataclass(frozen=True)
class TimmMultiStep(_TimmFixed):
    """timm's MultiStepLRScheduler: multiply by ``decay_rate`` at each milestone of
    ``decay_t``, timm's way: milestone ``m`` applies from ``t = m - 1`` (after the warm-up
    when prefixed), one step before torch's MultiStepLR."""

    decay_t: tuple
    decay_rate: float = 1.0
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = True
    noise_range_t: int | float | tuple | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    name = "timm_multistep"
    layout = MULTISTEP._fields

    def __post_init__(self):
        self._check_base()
        allowed = "a list of numbers (milestones, in order)"
        if isinstance(self.decay_t, (str, bytes)) or not hasattr(self.decay_t, "__iter__"):
            v.fail(self.name, "decay_t", self.decay_t, allowed, TypeError)
        ms = []
        for m in self.decay_t:
            if isinstance(m, bool) or not isinstance(m, numbers.Real) or not math.isfinite(m):
                v.fail(self.name, "decay_t", self.decay_t, allowed, TypeError)
            ms.append(int(m) if isinstance(m, numbers.Integral) else float(m))
        # kept in the given order: timm bisects the list as it is (it assumes it sorted)
        object.__setattr__(self, "decay_t", tuple(ms))
        rate = v.real(self.name, "decay_rate", self.decay_rate, low=0.0)
        object.__setattr__(self, "decay_rate", rate)

    def _values(self):
        return {
            **super()._values(),
            "decay_rate": self.decay_rate,
            "n_milestones": len(self.decay_t),
        }

    def _tail(self):
        return [float(m) for m in self.decay_t]


@dataclass(frozen=True)
class TimmWSD(_TimmFixed):
    """timm's WSDLRScheduler: warm-up, a stable phase (``constant``, ``rsqrt`` or
    ``power``), then a decay to ``lr_min`` over the last ``decay_t`` of ``t_initial``
    steps (``linear``, ``1-sqrt``, ``cosine``, ``power`` or ``exp``). The warm-up is
    always a prefix: the schedule lasts ``warmup_t + t_initial`` steps."""

    t_initial: int
    decay_t: int
    lr_min: float = 0.0
    stable_fn: str = "constant"
    stable_timescale: float | None = None
    stable_power: float = 0.5
    decay_fn: str = "1-sqrt"
    decay_power: float = 0.5
    decay_ratio: float = 0.1
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    noise_range_t: int | float | tuple | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    name = "timm_wsd"
    layout = WSD_._fields
    warmup_prefix = True  # not a parameter: timm's WSD always prefixes its warm-up

    def __post_init__(self):
        n = self.name
        self._check_base()
        t_initial = v.integer(n, "t_initial", self.t_initial, minimum=1)
        dt = self.decay_t
        if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not 0 < dt <= t_initial:
            v.fail(n, "decay_t", dt, f"a number in (0, t_initial={t_initial}]")
        object.__setattr__(self, "lr_min", v.real(n, "lr_min", self.lr_min, low=0.0))
        v.choice(n, "stable_fn", self.stable_fn, STABLE_FNS)
        v.choice(n, "decay_fn", self.decay_fn, DECAY_FNS)
        object.__setattr__(
            self,
            "decay_ratio",
            v.real(
                n, "decay_ratio", self.decay_ratio, low=0.0, high=1.0, low_open=True, high_open=True
            ),
        )
        for field in ("decay_power", "stable_power"):
            object.__setattr__(
                self, field, v.real(n, field, getattr(self, field), low=0.0, low_open=True)
            )
        ts = self.stable_timescale
        if ts is not None:
            ts = v.real(n, "stable_timescale", ts)
        if self.stable_fn != "constant":
            ts = self.warmup_t if ts is None else ts
            if not ts > 0:
                v.fail(
                    n,
                    "stable_timescale",
                    ts,
                    f"> 0 with stable_fn={self.stable_fn!r} (it defaults to warmup_t, "
                    f"{self.warmup_t}: set it when there is no warm-up)",
                )
        object.__setattr__(self, "stable_timescale", ts)

    def _values(self):
        return {
            **super()._values(),
            "warmup_prefix": 1.0,
            "t_initial": self.t_initial,
            "decay_t": self.decay_t,
            "lr_min": self.lr_min,
            "stable_fn": STABLE_FNS.index(self.stable_fn),
            "stable_timescale": 1.0 if self.stable_timescale is None else self.stable_timescale,
            "stable_power": 0.5 if self.stable_fn == "rsqrt" else self.stable_power,
            "decay_fn": DECAY_FNS.index(self.decay_fn),
            "decay_power": self.decay_power,
            "decay_ratio": self.decay_ratio,
        }


def _step_events(spec, steps):
    first = spec.warmup_t if spec.warmup_prefix else 0
    return [first + k * spec.decay_t for k in range(1, int(steps // spec.decay_t) + 1)]


def _multistep_events(spec, steps):
    first = spec.warmup_t if spec.warmup_prefix else 0
    return [math.ceil(first + m - 1) for m in spec.decay_t]


def _wsd_events(spec, steps):
    return [spec.warmup_t, spec.warmup_t + spec.t_initial - spec.decay_t]


declare(
    Family(
        name="timm_step",
        names={"StepLRScheduler": TimmStep},  # timm.scheduler's classes
        code=20,
        framework="timm",
        specs=(TimmStep,),
        layout=STEP._fields,
        value=timm_step_value,
        runs=timm_step_runs,
        samples=lambda steps: {
            "timm_step": TimmStep(decay_t=max(steps // 10, 1), decay_rate=0.5, warmup_t=5)
        },
        events=_step_events,
    )
)
declare(
    Family(
        name="timm_multistep",
        names={"MultiStepLRScheduler": TimmMultiStep},  # timm.scheduler's classes
        code=21,
        framework="timm",
        specs=(TimmMultiStep,),
        layout=MULTISTEP._fields,
        value=timm_multistep_value,
        runs=timm_multistep_runs,
        samples=lambda steps: {
            "timm_multistep": TimmMultiStep(
                decay_t=(steps // 3, 2 * steps // 3), decay_rate=0.1, warmup_t=5
            )
        },
        events=_multistep_events,
    )
)
declare(
    Family(
        name="timm_wsd",
        names={"WSDLRScheduler": TimmWSD},  # timm.scheduler's classes
        code=22,
        framework="timm",
        specs=(TimmWSD,),
        layout=WSD_._fields,
        value=timm_wsd_value,
        pieces=timm_wsd_pieces,
        samples=lambda steps: {
            "timm_wsd": TimmWSD(t_initial=steps, decay_t=max(steps // 5, 1), warmup_t=5),
            "timm_wsd_rsqrt": TimmWSD(
                t_initial=steps,
                decay_t=max(steps // 5, 1),
                warmup_t=max(steps // 50, 1),
                stable_fn="rsqrt",
                decay_fn="linear",
            ),
        },
        events=_wsd_events,
    )
)


# -- timm's factory: create_scheduler_v2's arithmetic --------------------------------------------
#: ``create_scheduler_v2``'s arguments and timm's defaults for them (timm 1.0.31)
FACTORY_DEFAULTS = dict(
    sched="cosine",
    num_epochs=300,
    decay_epochs=None,
    decay_milestones=(90, 180, 270),
    cooldown_epochs=0,
    patience_epochs=10,
    decay_rate=0.1,
    min_lr=0.0,
    warmup_lr=1e-5,
    warmup_epochs=0,
    warmup_prefix=False,
    noise=None,
    noise_pct=0.67,
    noise_std=1.0,
    noise_seed=42,
    cycle_mul=1.0,
    cycle_decay=0.1,
    cycle_limit=1,
    k_decay=1.0,
    decay_fn=None,
    stable_timescale=None,
    plateau_mode="max",
    step_on_epochs=True,
    updates_per_epoch=0,
)


def timm_factory(**arguments) -> tuple[str | None, dict]:
    """What timm's ``create_scheduler_v2(optimizer, **arguments)`` builds: the name of
    the timm.scheduler class and its constructor's keyword arguments (``(None, {})``
    for ``sched='none'``), with timm's arithmetic: epochs times ``updates_per_epoch``
    when it steps on updates, noise as fractions of the schedule, WSD's decay phase.
    ``lrsched.timm.create_scheduler_v2`` builds lrsched's classes from it and
    ``lrcore convert`` reads timm's calls through it."""
    unknown = sorted(set(arguments) - set(FACTORY_DEFAULTS))
    if unknown:
        raise TypeError(f"create_scheduler_v2() got an unexpected keyword argument {unknown[0]!r}")
    a = {**FACTORY_DEFAULTS, **arguments}
    sched, step_on_epochs = a["sched"], a["step_on_epochs"]
    updates_per_epoch = a["updates_per_epoch"]
    decay_epochs, decay_milestones = a["decay_epochs"], a["decay_milestones"]
    if decay_epochs is None:  # wsd / rsqrt: the last 20% of the schedule; step: every 90
        decay_epochs = 0.2 if sched in ("wsd", "rsqrt") else 90
    t_initial, warmup_t, decay_t = a["num_epochs"], a["warmup_epochs"], decay_epochs
    timescale_t = a["stable_timescale"]
    if not step_on_epochs:
        if not updates_per_epoch > 0:
            raise AssertionError("updates_per_epoch must be set to number of dataloader batches")
        t_initial = t_initial * updates_per_epoch
        warmup_t = warmup_t * updates_per_epoch
        decay_t = decay_t * updates_per_epoch
        decay_milestones = [d * updates_per_epoch for d in decay_milestones]
        if timescale_t is not None:
            timescale_t = timescale_t * updates_per_epoch
    warmup_args = dict(
        warmup_lr_init=a["warmup_lr"], warmup_t=warmup_t, warmup_prefix=a["warmup_prefix"]
    )
    noise = a["noise"]
    if noise is not None:
        if isinstance(noise, (list, tuple)):
            noise_range = [n * t_initial for n in noise]
            if len(noise_range) == 1:
                noise_range = noise_range[0]
        else:
            noise_range = noise * t_initial
    else:
        noise_range = None
    noise_args = dict(
        noise_range_t=noise_range,
        noise_pct=a["noise_pct"],
        noise_std=a["noise_std"],
        noise_seed=a["noise_seed"],
    )
    cycle_args = dict(
        cycle_mul=a["cycle_mul"], cycle_decay=a["cycle_decay"], cycle_limit=a["cycle_limit"]
    )
    on = dict(t_in_epochs=step_on_epochs)
    min_lr, decay_rate = a["min_lr"], a["decay_rate"]
    if sched == "cosine":
        return "CosineLRScheduler", dict(
            t_initial=t_initial,
            lr_min=min_lr,
            **on,
            **cycle_args,
            **warmup_args,
            **noise_args,
            k_decay=a["k_decay"],
        )
    if sched == "tanh":
        return "TanhLRScheduler", dict(
            t_initial=t_initial, lr_min=min_lr, **on, **cycle_args, **warmup_args, **noise_args
        )
    if sched == "step":
        return "StepLRScheduler", dict(
            decay_t=decay_t, decay_rate=decay_rate, **on, **warmup_args, **noise_args
        )
    if sched == "constant":  # a step schedule that never decays (warm-up and lr_scale)
        return "StepLRScheduler", dict(decay_t=1, decay_rate=1.0, **on, **warmup_args, **noise_args)
    if sched == "multistep":
        return "MultiStepLRScheduler", dict(
            decay_t=decay_milestones, decay_rate=decay_rate, **on, **warmup_args, **noise_args
        )
    if sched == "plateau":
        if not step_on_epochs:
            raise AssertionError("Plateau LR only supports step per epoch.")
        warmup_args.pop("warmup_prefix", False)
        return "PlateauLRScheduler", dict(
            decay_rate=decay_rate,
            patience_t=a["patience_epochs"],
            cooldown_t=0,
            **warmup_args,
            lr_min=min_lr,
            mode=a["plateau_mode"],
            **noise_args,
        )
    if sched == "poly":
        return "PolyLRScheduler", dict(
            power=decay_rate,  # timm's overloading of decay_rate as the power
            t_initial=t_initial,
            lr_min=min_lr,
            **on,
            k_decay=a["k_decay"],
            **cycle_args,
            **warmup_args,
            **noise_args,
        )
    if sched in ("wsd", "rsqrt"):
        # the warm-up is always a prefix: without warmup_prefix the stable and decay
        # phases fit within num_epochs, as timm does
        t_sched = t_initial if a["warmup_prefix"] else t_initial - warmup_t
        if 0 < decay_epochs < 1:
            decay_t = decay_epochs * t_sched
        decay_t = int(round(decay_t))
        if not 0 < decay_t <= t_sched:
            within = "" if a["warmup_prefix"] else " - warmup_epochs"
            raise ValueError(
                f"{sched} schedule requires 0 < decay_epochs <= epochs{within}, "
                f"got decay {decay_t} and stable + decay length {t_sched}."
            )
        return "WSDLRScheduler", dict(
            t_initial=t_sched,
            decay_t=decay_t,
            lr_min=min_lr,
            stable_fn="rsqrt" if sched == "rsqrt" else "constant",
            stable_timescale=timescale_t,
            decay_fn=a["decay_fn"] or ("linear" if sched == "rsqrt" else "1-sqrt"),
            t_in_epochs=step_on_epochs,
            warmup_t=warmup_t,
            warmup_lr_init=a["warmup_lr"],
            **noise_args,
        )
    if sched != "none":
        raise ValueError(f"Unknown scheduler '{sched}'.")
    return None, {}
