r"""Smooth multiplicative decays: LinearLR, ExponentialLR, PolynomialLR.

* ``linear``:      :math:`\eta_t = \eta_0\,(f_s + (f_e - f_s)\min(t, T)/T)`
* ``exponential``: :math:`\eta_t = \eta_0\,\gamma^t`
* ``polynomial``:  :math:`\eta_t = \eta_0\,(1 - \min(t, T)/T)^p`

torch computes all three as a recurrence on the current learning rate; the
``torch`` numerics reproduce that recurrence, the ``closed`` numerics the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _validate as v
from .. import kinds
from .leaf import Leaf


@dataclass(frozen=True)
class Linear(Leaf):
    """torch's LinearLR: the factor moves linearly from ``start_factor`` to ``end_factor``."""

    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: int = 5
    name = "linear"
    kind = kinds.LINEAR

    def __post_init__(self):
        n = self.name
        object.__setattr__(
            self,
            "start_factor",
            v.real(n, "start_factor", self.start_factor, low=0.0, high=1.0, low_open=True),
        )
        object.__setattr__(
            self, "end_factor", v.real(n, "end_factor", self.end_factor, low=0.0, high=1.0)
        )
        object.__setattr__(
            self, "total_iters", v.integer(n, "total_iters", self.total_iters, minimum=1)
        )

    def params(self, quantity="lr"):
        return [self.start_factor, self.end_factor, self.total_iters]


@dataclass(frozen=True)
class Exponential(Leaf):
    """torch's ExponentialLR: multiply by ``gamma`` every step."""

    gamma: float
    name = "exponential"
    kind = kinds.EXPONENTIAL

    def __post_init__(self):
        object.__setattr__(
            self, "gamma", v.real(self.name, "gamma", self.gamma, low=0.0, low_open=True)
        )

    def params(self, quantity="lr"):
        return [self.gamma]


@dataclass(frozen=True)
class Polynomial(Leaf):
    """torch's PolynomialLR: decay to zero over ``total_iters`` steps with exponent ``power``."""

    total_iters: int = 5
    power: float = 1.0
    name = "polynomial"
    kind = kinds.POLYNOMIAL

    def __post_init__(self):
        object.__setattr__(
            self, "total_iters", v.integer(self.name, "total_iters", self.total_iters, minimum=1)
        )
        object.__setattr__(self, "power", v.real(self.name, "power", self.power, low=0.0))

    def params(self, quantity="lr"):
        return [self.total_iters, self.power]
