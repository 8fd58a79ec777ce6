r"""optax's schedules (``optax.schedules``), with its parameter names.

Table index ``t`` is optax's ``count``. The values are optax's formulas in float64,
in its operation order:

* ``optax_polynomial``: :math:`(v_0 - v_e)(1 - c/T)^k + v_e`,
  :math:`c = \mathrm{clip}(t - b, 0, T)`; ``optax_linear`` is :math:`k = 1`,
  ``optax_warmup_constant`` a linear warm-up to ``peak_value``. An integer power is
  raised by repeated squaring, as ``jax.lax.integer_pow`` does; a float power with
  ``pow``.
* ``optax_exponential_decay``: :math:`v_0 r^{(t - b)/T}` (the exponent floored with
  ``staircase``) for :math:`t > b`, else :math:`v_0`; clipped at ``end_value``.
* ``optax_cosine_decay``: :math:`v_0((1 - \alpha)((1 + \cos(\pi \min(t, T)/T))/2)^k + \alpha)`.
* ``optax_piecewise_constant``: ``init_value`` times every scale whose boundary
  :math:`\le t`; ``optax_piecewise_interpolate``: linear or cosine interpolation
  between the cumulative products at the boundaries (``optax_linear_onecycle``,
  ``optax_cosine_onecycle``).
* ``optax_join`` (``join_schedules``): schedule :math:`i` from boundary :math:`i - 1`
  on, its count restarting there; ``optax_warmup_cosine_decay``,
  ``optax_warmup_exponential_decay`` and ``optax_sgdr`` are joins, as in optax.

Where optax turns a value into a constant schedule (``transition_steps <= 0``, a
``decay_rate`` of 0) or a negative ``transition_begin`` into 0, so does lrcore: those
values are accepted and kept as given, and the table is optax's.

What "optax's values" are needs saying: an optax schedule is jax code, and its
numbers depend on how it runs. Called on one count at a time in float64
(``jax_enable_x64``), it equals these formulas bit for bit (tested). Jitted, or on an
array of counts, XLA rewrites and vectorises the arithmetic, and float32 rounds every
operation: the results move by up to tens of ULPs from the formula, and from each
other (``benchmarks/optax_numerics.py``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from .. import _validate as v
from .. import kinds as K
from ..family import Family, declare
from ..kernels.formulas import (
    O_CONSTANT_P,
    O_COSINE_P,
    O_EXP_P,
    O_POLY_P,
    O_PW_CONSTANT_P,
    O_PW_INTERP_P,
    optax_pieces,
    optax_value,
)
from ..spec import Spec
from .leaf import Leaf, shaped

_NONE = float("nan")  # an absent end_value


class _Optax(Leaf):
    absolute = True

    def _set(self, field, value):
        object.__setattr__(self, field, value)

    def _real(self, field, low=None):
        self._set(field, v.real(self.name, field, getattr(self, field), low=low))

    def _int(self, field, minimum=None):
        v.integer(self.name, field, getattr(self, field), minimum=minimum)


def _power(name, field, value):
    """(k, 1.0 when an int: optax raises it by repeated squaring)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), 1.0
    return v.real(name, field, value), 0.0


def _pairs(name, field, value):
    """optax's ``boundaries_and_scales`` (a dict, or pairs), as sorted (int, float) pairs."""
    if value is None:
        return ()
    items = value.items() if isinstance(value, dict) else value
    allowed = "a dict (or list of pairs) of int boundary >= 0: scale >= 0"
    out = {}
    try:
        for boundary, scale in items:
            if isinstance(boundary, str) and boundary.isdigit():  # JSON turns keys into str
                boundary = int(boundary)
            v.integer(name, field, boundary, minimum=0)
            out[int(boundary)] = v.real(name, field, scale, low=0.0)
    except (TypeError, ValueError):
        v.fail(name, field, value, allowed)
    return tuple(sorted(out.items()))


@dataclass(frozen=True)
class OptaxConstant(_Optax):
    """optax.constant_schedule."""

    value: float
    name = "optax_constant"

    def __post_init__(self):
        self._real("value", low=0.0)

    def params(self, quantity="lr"):
        return shaped(K.O_CONSTANT, O_CONSTANT_P, {"value": self.value})


@dataclass(frozen=True)
class OptaxPolynomial(_Optax):
    """optax.polynomial_schedule."""

    init_value: float
    end_value: float
    power: float
    transition_steps: int
    transition_begin: int = 0
    name = "optax_polynomial"

    def __post_init__(self):
        self._real("init_value", low=0.0)
        self._real("end_value", low=0.0)
        k, _ = _power(self.name, "power", self.power)
        if not k >= 0:
            v.fail(self.name, "power", self.power, "a finite number >= 0")
        self._set("power", k)
        self._int("transition_steps")
        self._int("transition_begin")

    def params(self, quantity="lr"):
        if self.transition_steps <= 0:  # optax: a constant schedule of init_value
            return shaped(K.O_CONSTANT, O_CONSTANT_P, {"value": self.init_value})
        k, integral = _power(self.name, "power", self.power)
        named = {
            "init_value": self.init_value,
            "end_value": self.end_value,
            "power": k,
            "integral": integral,
            "transition_steps": self.transition_steps,
            # optax: a negative begin falls back to 0
            "transition_begin": max(self.transition_begin, 0),
        }
        return shaped(K.O_POLY, O_POLY_P, named)


@dataclass(frozen=True)
class OptaxLinear(_Optax):
    """optax.linear_schedule (a polynomial of power 1)."""

    init_value: float
    end_value: float
    transition_steps: int
    transition_begin: int = 0
    name = "optax_linear"

    def __post_init__(self):
        self._real("init_value", low=0.0)
        self._real("end_value", low=0.0)
        self._int("transition_steps")
        self._int("transition_begin")

    def params(self, quantity="lr"):
        return OptaxPolynomial(
            self.init_value, self.end_value, 1, self.transition_steps, self.transition_begin
        ).params()


@dataclass(frozen=True)
class OptaxWarmupConstant(_Optax):
    """optax.warmup_constant_schedule: linear from init_value to peak_value, then constant."""

    init_value: float
    peak_value: float
    warmup_steps: int
    name = "optax_warmup_constant"

    def __post_init__(self):
        self._real("init_value", low=0.0)
        self._real("peak_value", low=0.0)
        self._int("warmup_steps")

    def params(self, quantity="lr"):
        return OptaxLinear(self.init_value, self.peak_value, self.warmup_steps).params()


@dataclass(frozen=True)
class OptaxExponentialDecay(_Optax):
    """optax.exponential_decay."""

    init_value: float
    transition_steps: int
    decay_rate: float
    transition_begin: int = 0
    staircase: bool = False
    end_value: float | None = None
    name = "optax_exponential_decay"

    def __post_init__(self):
        self._real("init_value", low=0.0)
        self._int("transition_steps")
        self._real("decay_rate", low=0.0)
        self._int("transition_begin")
        v.flag(self.name, "staircase", self.staircase)
        if self.end_value is not None:
            self._real("end_value", low=0.0)

    def params(self, quantity="lr"):
        if self.transition_steps <= 0 or self.decay_rate == 0:  # optax: constant
            return shaped(K.O_CONSTANT, O_CONSTANT_P, {"value": self.init_value})
        named = {
            "init_value": self.init_value,
            "transition_steps": self.transition_steps,
            "decay_rate": self.decay_rate,
            "transition_begin": max(self.transition_begin, 0),
            "staircase": 1.0 if self.staircase else 0.0,
            "end_value": _NONE if self.end_value is None else self.end_value,
        }
        return shaped(K.O_EXP, O_EXP_P, named)


@dataclass(frozen=True)
class OptaxCosineDecay(_Optax):
    """optax.cosine_decay_schedule (with its ``exponent``)."""

    init_value: float
    decay_steps: int
    alpha: float = 0.0
    exponent: float = 1.0
    name = "optax_cosine_decay"

    def __post_init__(self):
        self._real("init_value", low=0.0)
        self._int("decay_steps", minimum=1)
        self._real("alpha", low=0.0)
        k, _ = _power(self.name, "exponent", self.exponent)
        if not k >= 0:
            v.fail(self.name, "exponent", self.exponent, "a finite number >= 0")
        self._set("exponent", k)

    def params(self, quantity="lr"):
        k, integral = _power(self.name, "exponent", self.exponent)
        named = {
            "init_value": self.init_value,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "exponent": k,
            "integral": integral,
        }
        return shaped(K.O_COSINE, O_COSINE_P, named)


@dataclass(frozen=True)
class OptaxPiecewiseConstant(_Optax):
    """optax.piecewise_constant_schedule."""

    init_value: float
    boundaries_and_scales: tuple | None = None
    name = "optax_piecewise_constant"

    def __post_init__(self):
        self._real("init_value", low=0.0)
        if self.boundaries_and_scales is not None:  # optax's default: no boundaries
            pairs = _pairs(self.name, "boundaries_and_scales", self.boundaries_and_scales)
            self._set("boundaries_and_scales", pairs)

    def params(self, quantity="lr"):
        pairs = self.boundaries_and_scales or ()
        named = {"init_value": self.init_value, "n_boundaries": len(pairs)}
        head = shaped(K.O_PW_CONSTANT, O_PW_CONSTANT_P, named)
        return [*head, *[b for b, _ in pairs], *[s for _, s in pairs]]


_INTERPOLATE = {"linear": K.O_LINEAR, "cosine": K.O_COS}


@dataclass(frozen=True)
class OptaxPiecewiseInterpolate(_Optax):
    """optax.piecewise_interpolate_schedule."""

    interpolate_type: str
    init_value: float
    boundaries_and_scales: tuple | None = None
    name = "optax_piecewise_interpolate"

    def __post_init__(self):
        v.choice(self.name, "interpolate_type", self.interpolate_type, _INTERPOLATE)
        self._real("init_value", low=0.0)
        if self.boundaries_and_scales is not None:  # optax's default: no boundaries
            pairs = _pairs(self.name, "boundaries_and_scales", self.boundaries_and_scales)
            self._set("boundaries_and_scales", pairs)

    def params(self, quantity="lr"):
        pairs = self.boundaries_and_scales or ()
        values = [self.init_value]
        for _, scale in pairs:  # jnp.cumprod, one product at a time
            values.append(values[-1] * scale)
        named = {
            "interpolate_type": _INTERPOLATE[self.interpolate_type],
            "n_boundaries": len(pairs) + 1,  # 0 first
        }
        head = shaped(K.O_PW_INTERP, O_PW_INTERP_P, named)
        return [*head, 0, *[b for b, _ in pairs], *values]


def _check_onecycle(spec, pcts):
    """The checks both one-cycle schedules share; ``pcts``: their fractions."""
    v.integer(spec.name, "transition_steps", spec.transition_steps, minimum=1)
    for field in ("peak_value", *pcts):
        spec._real(field, low=0.0)
    for field in ("div_factor", "final_div_factor"):
        spec._set(field, v.real(spec.name, field, getattr(spec, field), low=0.0, low_open=True))


@dataclass(frozen=True)
class OptaxLinearOnecycle(_Optax):
    """optax.linear_onecycle_schedule."""

    transition_steps: int
    peak_value: float
    pct_start: float = 0.3
    pct_final: float = 0.85
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    name = "optax_linear_onecycle"

    def __post_init__(self):
        _check_onecycle(self, ("pct_start", "pct_final"))

    def _interpolate(self):
        T = self.transition_steps
        scales = {
            int(self.pct_start * T): self.div_factor,
            int(self.pct_final * T): 1.0 / self.div_factor,
            T: 1.0 / self.final_div_factor,
        }
        return OptaxPiecewiseInterpolate("linear", self.peak_value / self.div_factor, scales)

    def params(self, quantity="lr"):
        return self._interpolate().params()


@dataclass(frozen=True)
class OptaxCosineOnecycle(_Optax):
    """optax.cosine_onecycle_schedule."""

    transition_steps: int
    peak_value: float
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    name = "optax_cosine_onecycle"

    def __post_init__(self):
        _check_onecycle(self, ("pct_start",))

    def params(self, quantity="lr"):
        T = self.transition_steps
        scales = {
            int(self.pct_start * T): self.div_factor,
            int(T): 1.0 / (self.div_factor * self.final_div_factor),
        }
        spec = OptaxPiecewiseInterpolate("cosine", self.peak_value / self.div_factor, scales)
        return spec.params()


def _join_segments(schedules, boundaries):
    """optax.join_schedules as segments: schedule i from boundary i - 1, count from 0
    (each lowered by lrcore.program)."""
    return list(zip((0, *boundaries), schedules))


@dataclass(frozen=True)
class OptaxJoin(Spec):
    """optax.join_schedules: ``schedules[i]`` from ``boundaries[i - 1]`` on."""

    schedules: tuple
    boundaries: tuple
    name = "optax_join"
    absolute = True

    def __post_init__(self):
        n = self.name
        schedules = tuple(self.schedules) if isinstance(self.schedules, (list, tuple)) else None
        if not schedules or not all(
            isinstance(s, Spec) and s.name.startswith("optax_") for s in schedules
        ):
            v.fail(n, "schedules", self.schedules, "a non-empty list of optax_* specs", TypeError)
        object.__setattr__(self, "schedules", schedules)
        bounds = v.integers(n, "boundaries", self.boundaries, minimum=0)
        if len(bounds) != len(schedules) - 1 or list(bounds) != sorted(bounds):
            v.fail(
                n,
                "boundaries",
                self.boundaries,
                f"{len(schedules) - 1} non-decreasing steps (one fewer than the schedules)",
            )
        object.__setattr__(self, "boundaries", bounds)

    def segments(self):
        return _join_segments(self.schedules, self.boundaries)


@dataclass(frozen=True)
class OptaxWarmupCosineDecay(Spec):
    """optax.warmup_cosine_decay_schedule: a linear warm-up, then a cosine decay."""

    init_value: float
    peak_value: float
    warmup_steps: int
    decay_steps: int
    end_value: float = 0.0
    exponent: float = 1.0
    name = "optax_warmup_cosine_decay"
    absolute = True

    def __post_init__(self):
        n = self.name
        for field in ("init_value", "peak_value", "end_value"):
            object.__setattr__(self, field, v.real(n, field, getattr(self, field), low=0.0))
        v.integer(n, "warmup_steps", self.warmup_steps, minimum=0)
        v.integer(n, "decay_steps", self.decay_steps)
        k, _ = _power(n, "exponent", self.exponent)
        if not k >= 0:
            v.fail(n, "exponent", self.exponent, "a finite number >= 0")
        object.__setattr__(self, "exponent", k)
        if not self.decay_steps - self.warmup_steps > 0:
            v.fail(
                n,
                "decay_steps",
                self.decay_steps,
                f"> warmup_steps={self.warmup_steps} (optax's cosine decays over the difference)",
            )
        self._parts()  # the members' own checks

    def _parts(self):
        alpha = 0.0 if self.peak_value == 0.0 else self.end_value / self.peak_value
        return [
            OptaxLinear(self.init_value, self.peak_value, self.warmup_steps),
            OptaxCosineDecay(
                self.peak_value, self.decay_steps - self.warmup_steps, alpha, self.exponent
            ),
        ]

    def segments(self):
        return _join_segments(self._parts(), (self.warmup_steps,))


@dataclass(frozen=True)
class OptaxWarmupExponentialDecay(Spec):
    """optax.warmup_exponential_decay_schedule: a linear warm-up, then exponential decay."""

    init_value: float
    peak_value: float
    warmup_steps: int
    transition_steps: int
    decay_rate: float
    transition_begin: int = 0
    staircase: bool = False
    end_value: float | None = None
    name = "optax_warmup_exponential_decay"
    absolute = True

    def __post_init__(self):
        n = self.name
        for field in ("init_value", "peak_value"):
            object.__setattr__(self, field, v.real(n, field, getattr(self, field), low=0.0))
        v.integer(n, "warmup_steps", self.warmup_steps, minimum=0)
        v.integer(n, "transition_steps", self.transition_steps)
        object.__setattr__(self, "decay_rate", v.real(n, "decay_rate", self.decay_rate, low=0.0))
        v.integer(n, "transition_begin", self.transition_begin)
        v.flag(n, "staircase", self.staircase)
        if self.end_value is not None:
            object.__setattr__(self, "end_value", v.real(n, "end_value", self.end_value, low=0.0))

    def _parts(self):
        decay = OptaxExponentialDecay(
            self.peak_value,
            self.transition_steps,
            self.decay_rate,
            self.transition_begin,
            self.staircase,
            self.end_value,
        )
        return [OptaxLinear(self.init_value, self.peak_value, self.warmup_steps), decay]

    def segments(self):
        return _join_segments(self._parts(), (self.warmup_steps,))


@dataclass(frozen=True)
class OptaxSGDR(Spec):
    """optax.sgdr_schedule: warm-up-cosine cycles one after another."""

    cosine_kwargs: tuple
    name = "optax_sgdr"
    absolute = True

    def __post_init__(self):
        n = self.name
        items = self.cosine_kwargs
        if not isinstance(items, (list, tuple)) or not items:
            v.fail(
                n, "cosine_kwargs", items, "a non-empty list of warm-up-cosine arguments", TypeError
            )
        cycles = []
        for item in items:
            if isinstance(item, OptaxWarmupCosineDecay):
                cycles.append(item)
            elif isinstance(item, dict):
                cycles.append(OptaxWarmupCosineDecay(**item))
            else:
                v.fail(
                    n,
                    "cosine_kwargs",
                    items,
                    "dicts of optax_warmup_cosine_decay arguments",
                    TypeError,
                )
        object.__setattr__(self, "cosine_kwargs", tuple(cycles))

    def segments(self):
        boundaries, step = [], 0
        for cycle in self.cosine_kwargs:
            step += cycle.decay_steps
            boundaries.append(step)
        return _join_segments(self.cosine_kwargs, boundaries[:-1])


# -- the declaration ----------------------------------------------------------------------
declare(
    Family(
        name="optax",
        code=17,
        framework="optax",
        specs=(_Optax,),
        value=optax_value,
        pieces=optax_pieces,
        # optax's functions (compositions included) -> the specs with their arguments
        names={
            "constant_schedule": OptaxConstant,
            "linear_schedule": OptaxLinear,
            "polynomial_schedule": OptaxPolynomial,
            "exponential_decay": OptaxExponentialDecay,
            "cosine_decay_schedule": OptaxCosineDecay,
            "piecewise_constant_schedule": OptaxPiecewiseConstant,
            "piecewise_interpolate_schedule": OptaxPiecewiseInterpolate,
            "linear_onecycle_schedule": OptaxLinearOnecycle,
            "cosine_onecycle_schedule": OptaxCosineOnecycle,
            "warmup_constant_schedule": OptaxWarmupConstant,
            "warmup_cosine_decay_schedule": OptaxWarmupCosineDecay,
            "warmup_exponential_decay_schedule": OptaxWarmupExponentialDecay,
            "sgdr_schedule": OptaxSGDR,
            "join_schedules": OptaxJoin,
        },
        samples=lambda steps: {
            "optax_cosine_decay": OptaxCosineDecay(init_value=0.001, decay_steps=steps)
        },
    )
)
