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
from .._torch_reference import torch_class
from ..family import Family, declare
from ..kernels import closed as cl
from ..kernels import torch_numerics as tn
from ..kernels.formulas import EXPONENTIAL_LR, LINEAR_LR, POLYNOMIAL_LR
from .leaf import Leaf


@dataclass(frozen=True)
class Linear(Leaf):
    """torch's LinearLR: the factor moves linearly from ``start_factor`` to ``end_factor``."""

    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: int = 5
    name = "linear"

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
        return [getattr(self, name) for name in LINEAR_LR._fields]


@dataclass(frozen=True)
class Exponential(Leaf):
    """torch's ExponentialLR: multiply by ``gamma`` every step."""

    gamma: float
    name = "exponential"

    def __post_init__(self):
        object.__setattr__(
            self, "gamma", v.real(self.name, "gamma", self.gamma, low=0.0, low_open=True)
        )

    def params(self, quantity="lr"):
        return [getattr(self, name) for name in EXPONENTIAL_LR._fields]


@dataclass(frozen=True)
class Polynomial(Leaf):
    """torch's PolynomialLR: decay to zero over ``total_iters`` steps with exponent ``power``."""

    total_iters: int = 5
    power: float = 1.0
    name = "polynomial"

    def __post_init__(self):
        object.__setattr__(
            self, "total_iters", v.integer(self.name, "total_iters", self.total_iters, minimum=1)
        )
        object.__setattr__(self, "power", v.real(self.name, "power", self.power, low=0.0))

    def params(self, quantity="lr"):
        return [getattr(self, name) for name in POLYNOMIAL_LR._fields]


# -- the declarations ---------------------------------------------------------------------
def _linear_formula(xp, spec, t):
    f0, f1, total = spec.start_factor, spec.end_factor, spec.total_iters
    return f0 + (f1 - f0) * xp.minimum(t, t * 0 + total) / total


def _polynomial_formula(xp, spec, t):
    return (1 - xp.minimum(t, t * 0 + spec.total_iters) / spec.total_iters) ** spec.power


declare(
    Family(
        name="linear",
        code=4,
        framework="torch",
        specs=(Linear,),
        layout=LINEAR_LR._fields,
        get_lr=tn.linear_get_lr,
        closed=cl.linear_closed,
        ratio=True,
        overwriting=False,
        samples=lambda steps: {"linear": Linear(start_factor=0.001, total_iters=steps)},
        reference=torch_class("LinearLR"),
        formula=_linear_formula,
    )
)
declare(
    Family(
        name="exponential",
        code=5,
        framework="torch",
        specs=(Exponential,),
        layout=EXPONENTIAL_LR._fields,
        get_lr=tn.exponential_get_lr,
        closed=cl.exponential_closed,
        ratio=True,
        overwriting=False,
        samples=lambda steps: {"exponential": Exponential(gamma=0.999995)},
        reference=torch_class("ExponentialLR"),
        formula=lambda xp, spec, t: spec.gamma**t,
    )
)
declare(
    Family(
        name="polynomial",
        code=6,
        framework="torch",
        specs=(Polynomial,),
        layout=POLYNOMIAL_LR._fields,
        get_lr=tn.polynomial_get_lr,
        closed=cl.polynomial_closed,
        ratio=True,
        overwriting=False,
        samples=lambda steps: {"polynomial": Polynomial(total_iters=steps, power=2.0)},
        reference=torch_class("PolynomialLR"),
        formula=_polynomial_formula,
    )
)
