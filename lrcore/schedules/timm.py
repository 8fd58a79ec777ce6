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

import numbers
from dataclasses import dataclass

from .. import _validate as v
from .. import kinds as K
from .leaf import Leaf

_NONE = -1.0  # noise range bound meaning "never"


class _Timm(Leaf):
    kind = K.TIMM
    shape: int

    def _check_common(self):
        n = self.name
        v.integer(n, "t_initial", self.t_initial, minimum=1)
        self._set("lr_min", v.real(n, "lr_min", self.lr_min, low=0.0))
        self._set("cycle_mul", v.real(n, "cycle_mul", self.cycle_mul, low=0.0, low_open=True))
        self._set("cycle_decay", v.real(n, "cycle_decay", self.cycle_decay, low=0.0, low_open=True))
        v.integer(n, "cycle_limit", self.cycle_limit, minimum=1)
        v.integer(n, "warmup_t", self.warmup_t, minimum=0)
        self._set("warmup_lr_init", v.real(n, "warmup_lr_init", self.warmup_lr_init, low=0.0))
        v.flag(n, "warmup_prefix", self.warmup_prefix)
        self._set("noise_range_t", _noise_range(n, self.noise_range_t))
        self._set("noise_pct", v.real(n, "noise_pct", self.noise_pct, low=0.0, low_open=True))
        self._set("noise_std", v.real(n, "noise_std", self.noise_std, low=0.0))
        v.integer(n, "noise_seed", self.noise_seed, minimum=0)

    def _set(self, field, value):
        object.__setattr__(self, field, value)

    def _extra(self):  # (k_decay, shape parameter 1, shape parameter 2)
        raise NotImplementedError

    def params(self, quantity="lr"):
        r = self.noise_range_t
        if r is None:
            lo, hi = _NONE, _NONE
        elif isinstance(r, int):
            lo, hi = float(r), float("inf")
        else:
            lo, hi = float(r[0]), float(r[1])
        return [
            self.shape,
            self.t_initial,
            self.lr_min,
            self.cycle_mul,
            self.cycle_decay,
            self.cycle_limit,
            self.warmup_t,
            self.warmup_lr_init,
            1.0 if self.warmup_prefix else 0.0,
            *self._extra(),
            lo,
            hi,
            self.noise_pct,
            self.noise_std,
            # torch seeds its twister with the low 32 bits of noise_seed + t: exact in
            # float64 for any seed this way
            self.noise_seed % 2**32,
        ]


def _noise_range(name, value):
    if value is None:
        return None
    allowed = "None, a first step (int >= 0) or [first, end) with 0 <= first < end"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return v.integer(name, "noise_range_t", value, minimum=0)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = value
        ok = all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in value)
        if ok and 0 <= lo < hi:
            return (int(lo), int(hi))
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
        return [self.k_decay, 0.0, 0.0]


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
        return [1.0, self.lb, self.ub]


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
        return [self.k_decay, self.power, 0.0]
