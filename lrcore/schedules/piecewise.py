r"""Piecewise-constant factors: StepLR, MultiStepLR, ConstantLR.

With :math:`\eta_0` the base learning rate and :math:`t` the number of
``scheduler.step()`` calls:

* ``step``:        :math:`\eta_t = \eta_0\,\gamma^{\lfloor t / s \rfloor}`
* ``multi_step``:  :math:`\eta_t = \eta_0\,\gamma^{|\{m \in M : m \le t\}|}`
* ``constant``:    :math:`\eta_t = \eta_0 f` for :math:`t < T`, :math:`\eta_0` after.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .. import _validate as v
from .. import kinds
from .leaf import Leaf


@dataclass(frozen=True)
class Step(Leaf):
    """torch's StepLR: multiply by ``gamma`` every ``step_size`` steps."""

    step_size: int
    gamma: float = 0.1
    name = "step"
    kind = kinds.STEP

    def __post_init__(self):
        object.__setattr__(
            self, "step_size", v.integer(self.name, "step_size", self.step_size, minimum=1)
        )
        object.__setattr__(
            self, "gamma", v.real(self.name, "gamma", self.gamma, low=0.0, low_open=True)
        )

    def params(self, quantity="lr"):
        return [self.step_size, self.gamma]


@dataclass(frozen=True)
class MultiStep(Leaf):
    """torch's MultiStepLR: multiply by ``gamma`` at each milestone (repeats count twice)."""

    milestones: tuple[int, ...]
    gamma: float = 0.1
    name = "multi_step"
    kind = kinds.MULTI_STEP

    def __post_init__(self):
        ms = v.integers(self.name, "milestones", self.milestones, minimum=0)
        object.__setattr__(self, "milestones", tuple(sorted(ms)))
        object.__setattr__(
            self, "gamma", v.real(self.name, "gamma", self.gamma, low=0.0, low_open=True)
        )

    def params(self, quantity="lr"):
        counts = sorted(Counter(self.milestones).items())
        return [self.gamma, len(counts)] + [m for m, _ in counts] + [c for _, c in counts]


@dataclass(frozen=True)
class Constant(Leaf):
    """torch's ConstantLR: ``factor`` times the base LR for ``total_iters`` steps."""

    factor: float = 1.0 / 3
    total_iters: int = 5
    name = "constant"
    kind = kinds.CONSTANT

    def __post_init__(self):
        object.__setattr__(
            self,
            "factor",
            v.real(self.name, "factor", self.factor, low=0.0, high=1.0, low_open=True),
        )
        object.__setattr__(
            self, "total_iters", v.integer(self.name, "total_iters", self.total_iters, minimum=0)
        )

    def params(self, quantity="lr"):
        return [self.factor, self.total_iters]
