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
from .._torch_reference import torch_class
from ..family import Family, declare
from ..kernels import closed as cl
from ..kernels import torch_numerics as tn
from ..kernels.formulas import CONSTANT_LR, MULTI_STEP_LR, STEP_LR
from .leaf import Leaf


@dataclass(frozen=True)
class Step(Leaf):
    """torch's StepLR: multiply by ``gamma`` every ``step_size`` steps."""

    step_size: int
    gamma: float = 0.1
    name = "step"

    def __post_init__(self):
        object.__setattr__(
            self, "step_size", v.integer(self.name, "step_size", self.step_size, minimum=1)
        )
        object.__setattr__(
            self, "gamma", v.real(self.name, "gamma", self.gamma, low=0.0, low_open=True)
        )

    def params(self, quantity="lr"):
        return [getattr(self, name) for name in STEP_LR._fields]


@dataclass(frozen=True)
class MultiStep(Leaf):
    """torch's MultiStepLR: multiply by ``gamma`` at each milestone (repeats count twice)."""

    milestones: tuple[int, ...]
    gamma: float = 0.1
    name = "multi_step"

    def __post_init__(self):
        ms = v.integers(self.name, "milestones", self.milestones, minimum=0)
        object.__setattr__(self, "milestones", tuple(sorted(ms)))
        object.__setattr__(
            self, "gamma", v.real(self.name, "gamma", self.gamma, low=0.0, low_open=True)
        )

    def params(self, quantity="lr"):
        counts = sorted(Counter(self.milestones).items())
        named = {"gamma": self.gamma, "n_milestones": len(counts)}
        head = [named[name] for name in MULTI_STEP_LR._fields]
        return head + [m for m, _ in counts] + [c for _, c in counts]


@dataclass(frozen=True)
class Constant(Leaf):
    """torch's ConstantLR: ``factor`` times the base LR for ``total_iters`` steps."""

    factor: float = 1.0 / 3
    total_iters: int = 5
    name = "constant"

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
        return [getattr(self, name) for name in CONSTANT_LR._fields]


# -- the declarations ---------------------------------------------------------------------
def _step_events(spec, steps):
    return list(range(spec.step_size, steps, spec.step_size))


def _step_formula(xp, spec, t):
    return spec.gamma ** xp.floor(t / spec.step_size)


def _quarters(steps):
    q = max(steps // 4, 1)
    return (q, 2 * q, 3 * q)


declare(
    Family(
        name="step",
        code=1,
        framework="torch",
        specs=(Step,),
        layout=STEP_LR._fields,
        get_lr=tn.step_get_lr,
        closed=cl.step_closed,
        ratio=True,
        overwriting=False,
        samples=lambda steps: {"step": Step(step_size=max(steps // 1000, 1), gamma=0.99)},
        reference=torch_class("StepLR"),
        events=_step_events,
        formula=_step_formula,
    )
)
declare(
    Family(
        name="multi_step",
        code=2,
        framework="torch",
        specs=(MultiStep,),
        layout=MULTI_STEP_LR._fields,
        get_lr=tn.multi_step_get_lr,
        closed=cl.multi_step_closed,
        steps=tn.multi_step_steps,
        ratio=True,
        overwriting=False,
        samples=lambda steps: {"multi_step": MultiStep(milestones=_quarters(steps), gamma=0.1)},
        reference=torch_class("MultiStepLR"),
        events=lambda spec, steps: list(spec.milestones),
    )
)
declare(
    Family(
        name="constant",
        code=3,
        framework="torch",
        specs=(Constant,),
        layout=CONSTANT_LR._fields,
        get_lr=tn.constant_get_lr,
        closed=cl.constant_closed,
        ratio=True,
        overwriting=False,
        samples=lambda steps: {"constant": Constant(factor=0.5, total_iters=1000)},
        reference=torch_class("ConstantLR"),
    )
)
