r"""Keras 3's learning-rate schedules (``keras.optimizers.schedules``), its names.

Table index ``t`` is the ``step`` Keras passes (the optimizer's ``iterations``).
Keras computes in its float type, ``keras.config.floatx()``: ``dtype`` says which
(``"float32"``, Keras's default, or ``"float64"``). lrcore does the same arithmetic:
every operation's result rounded to that type, in Keras's order, with libm's float32
``cosf``, ``powf`` and ``logf`` (:mod:`lrcore.kernels.single`); a float64 table
holds those float32 values exactly. With :math:`s` the step in the float type:

* ``keras_exponential_decay``: :math:`\eta_0 r^{s/T}` (the exponent floored with ``staircase``)
* ``keras_inverse_time_decay``: :math:`\eta_0 / (1 + r\,s/T)`
* ``keras_polynomial_decay``: :math:`(\eta_0 - \eta_e)(1 - \min(s, T)/T)^k + \eta_e`; with
  ``cycle``, :math:`T` grows to the next multiple of itself past :math:`s`
* ``keras_piecewise_constant_decay``: ``values[i]`` for ``boundaries[i-1] < t <= boundaries[i]``
* ``keras_cosine_decay``: a linear warm-up to ``warmup_target`` (when given), then
  :math:`\eta((1 - \alpha)(1 + \cos \pi \min(s, T)/T)/2 + \alpha)`
* ``keras_cosine_decay_restarts``: SGDR (Loshchilov & Hutter, 2017) with ``t_mul``
  and ``m_mul``, the cycle index from a float logarithm as Keras takes it.

Measured against Keras itself (``tests/test_keras.py``): bit for bit on its jax
backend in float32 and float64. Its torch backend computes ``cos`` with torch's own
float32 code, which differs from ``cosf`` in the last bit now and then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _validate as v
from .. import kinds as K
from ..family import Family, declare
from ..kernels.formulas import (
    K_COSINE_P,
    K_EXP_P,
    K_PIECEWISE_P,
    K_POLY_P,
    K_RESTARTS_P,
    KERAS,
    keras_runs,
    keras_value,
)
from .leaf import Leaf

_DTYPES = ("float32", "float64")


class _Keras(Leaf):
    absolute = True

    def _set(self, field, value):
        object.__setattr__(self, field, value)

    def _check(self, reals=(), positive_ints=(), flags=()):
        n = self.name
        for field in reals:
            self._set(field, v.real(n, field, getattr(self, field), low=0.0))
        for field in positive_ints:
            v.integer(n, field, getattr(self, field), minimum=1)
        for field in flags:
            v.flag(n, field, getattr(self, field))
        v.choice(n, "dtype", self.dtype, _DTYPES)

    @property
    def _single(self) -> bool:
        return self.dtype == "float32"

    def _r(self, x) -> float:
        """``x`` as Keras holds it (a tensor of the float type)."""
        return float(np.float32(x)) if self._single else float(x)

    def _by_layout(self, shape, layout, named):
        """:data:`KERAS` (``shape``, the float type), then ``named`` in ``layout``'s order."""
        head = {"shape": shape, "float32": 1.0 if self._single else 0.0}
        return [*(head[name] for name in KERAS._fields), *(named[name] for name in layout._fields)]


@dataclass(frozen=True)
class KerasExponentialDecay(_Keras):
    """keras.optimizers.schedules.ExponentialDecay."""

    initial_learning_rate: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False
    dtype: str = "float32"
    name = "keras_exponential_decay"
    _shape = K.K_EXP

    def __post_init__(self):
        self._check(("initial_learning_rate", "decay_rate"), ("decay_steps",), ("staircase",))

    def params(self, quantity="lr"):
        named = {
            "initial_learning_rate": self._r(self.initial_learning_rate),
            "decay_steps": self._r(self.decay_steps),
            "decay_rate": self._r(self.decay_rate),
            "staircase": 1.0 if self.staircase else 0.0,
        }
        return self._by_layout(self._shape, K_EXP_P, named)


@dataclass(frozen=True)
class KerasInverseTimeDecay(KerasExponentialDecay):
    """keras.optimizers.schedules.InverseTimeDecay."""

    name = "keras_inverse_time_decay"
    _shape = K.K_INVTIME


@dataclass(frozen=True)
class KerasPolynomialDecay(_Keras):
    """keras.optimizers.schedules.PolynomialDecay (with ``cycle``)."""

    initial_learning_rate: float
    decay_steps: int
    end_learning_rate: float = 0.0001
    power: float = 1.0
    cycle: bool = False
    dtype: str = "float32"
    name = "keras_polynomial_decay"

    def __post_init__(self):
        self._check(
            ("initial_learning_rate", "end_learning_rate", "power"), ("decay_steps",), ("cycle",)
        )

    def params(self, quantity="lr"):
        named = {
            "initial_learning_rate": self._r(self.initial_learning_rate),
            "decay_steps": self._r(self.decay_steps),
            "end_learning_rate": self._r(self.end_learning_rate),
            "power": self._r(self.power),
            "cycle": 1.0 if self.cycle else 0.0,
        }
        return self._by_layout(K.K_POLY, K_POLY_P, named)


@dataclass(frozen=True)
class KerasPiecewiseConstantDecay(_Keras):
    """keras.optimizers.schedules.PiecewiseConstantDecay."""

    boundaries: tuple
    values: tuple
    dtype: str = "float32"
    name = "keras_piecewise_constant_decay"

    def __post_init__(self):
        n = self.name
        self._set("boundaries", v.integers(n, "boundaries", self.boundaries, minimum=0))
        if isinstance(self.values, (str, bytes)) or not hasattr(self.values, "__iter__"):
            v.fail(n, "values", self.values, "a list of numbers >= 0", TypeError)
        self._set("values", tuple(v.real(n, "values", x, low=0.0) for x in self.values))
        if len(self.boundaries) != len(self.values) - 1 or not self.boundaries:
            v.fail(
                n,
                "values",
                list(self.values),
                f"one more value than boundaries ({len(self.boundaries)}), and at least one "
                "boundary",
            )
        self._check()

    def params(self, quantity="lr"):
        b = self.boundaries
        head = self._by_layout(K.K_PIECEWISE, K_PIECEWISE_P, {"n_boundaries": len(b)})
        return [*head, *b, *[self._r(x) for x in self.values]]


@dataclass(frozen=True)
class KerasCosineDecay(_Keras):
    """keras.optimizers.schedules.CosineDecay (with its linear warm-up)."""

    initial_learning_rate: float
    decay_steps: int
    alpha: float = 0.0
    warmup_target: float | None = None
    warmup_steps: int = 0
    dtype: str = "float32"
    name = "keras_cosine_decay"

    def __post_init__(self):
        self._check(("initial_learning_rate", "alpha"), ("decay_steps",))
        if self.warmup_target is not None:
            self._set(
                "warmup_target", v.real(self.name, "warmup_target", self.warmup_target, low=0.0)
            )
        v.integer(self.name, "warmup_steps", self.warmup_steps, minimum=0)

    def params(self, quantity="lr"):
        target = float("nan") if self.warmup_target is None else self._r(self.warmup_target)
        named = {
            "initial_learning_rate": self._r(self.initial_learning_rate),
            "decay_steps": self._r(self.decay_steps),
            "one_minus_alpha": self._r(1 - self.alpha),  # a Python float in Keras, then the type
            "alpha": self._r(self.alpha),
            "warmup_target": target,
            "warmup_steps": self._r(self.warmup_steps),
            "pi": self._r(math.pi),
        }
        return self._by_layout(K.K_COSINE, K_COSINE_P, named)


@dataclass(frozen=True)
class KerasCosineDecayRestarts(_Keras):
    """keras.optimizers.schedules.CosineDecayRestarts (SGDR)."""

    initial_learning_rate: float
    first_decay_steps: int
    t_mul: float = 2.0
    m_mul: float = 1.0
    alpha: float = 0.0
    dtype: str = "float32"
    name = "keras_cosine_decay_restarts"

    def __post_init__(self):
        self._check(("initial_learning_rate", "m_mul", "alpha"), ("first_decay_steps",))
        self._set("t_mul", v.real(self.name, "t_mul", self.t_mul, low=0.0, low_open=True))

    def params(self, quantity="lr"):
        named = {
            "initial_learning_rate": self._r(self.initial_learning_rate),
            "first_decay_steps": self._r(self.first_decay_steps),
            "alpha": self._r(self.alpha),
            "t_mul": self._r(self.t_mul),
            "m_mul": self._r(self.m_mul),
            "pi": self._r(math.pi),
        }
        return self._by_layout(K.K_RESTARTS, K_RESTARTS_P, named)


# -- the declaration ----------------------------------------------------------------------
declare(
    Family(
        name="keras",
        code=18,
        framework="keras",
        specs=(_Keras,),
        value=keras_value,
        runs=keras_runs,
        names={  # keras.optimizers.schedules' classes -> the specs
            "ExponentialDecay": KerasExponentialDecay,
            "InverseTimeDecay": KerasInverseTimeDecay,
            "PolynomialDecay": KerasPolynomialDecay,
            "PiecewiseConstantDecay": KerasPiecewiseConstantDecay,
            "CosineDecay": KerasCosineDecay,
            "CosineDecayRestarts": KerasCosineDecayRestarts,
        },
        samples=lambda steps: {
            "keras_cosine_decay": KerasCosineDecay(initial_learning_rate=0.001, decay_steps=steps)
        },
    )
)
