r"""Schedules given by a user function of the step: LambdaLR and MultiplicativeLR.

* ``lambda``:         :math:`\eta_t = \eta_0\,f(t)`
* ``multiplicative``: :math:`\eta_t = \eta_{t-1}\,f(t)` (so :math:`\eta_0 \prod_{k \le t} f(k)`)

The function is evaluated once per table window, not once per step: compiled
with numba when it can be, called on an array of steps when it accepts one,
called per step otherwise. Each faster path is checked against plain Python
calls on sample steps (bit for bit) before it is trusted. These specs cannot be
serialised (a function is not data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import _validate as v
from ..family import Family, declare
from ..functions import METHODS
from ..kernels import closed as cl
from ..kernels import torch_numerics as tn
from .leaf import Leaf


class _FunctionLeaf(Leaf):
    """A leaf read from a user function of the step (fields: lr_lambda, evaluation)."""

    def __post_init__(self):
        if not callable(self.lr_lambda):
            v.fail(self.name, "lr_lambda", self.lr_lambda, "a function of the step", TypeError)
        v.choice(self.name, "evaluation", self.evaluation, METHODS)

    def params(self, quantity="lr"):
        return []

    def function(self):
        return self.lr_lambda


@dataclass(frozen=True)
class Lambda(_FunctionLeaf):
    """torch's LambdaLR: the base LR times ``lr_lambda(step)``."""

    lr_lambda: Callable[[int], float]
    evaluation: str = "auto"
    name = "lambda"


@dataclass(frozen=True)
class Multiplicative(_FunctionLeaf):
    """torch's MultiplicativeLR: the current LR times ``lr_lambda(step)`` each step."""

    lr_lambda: Callable[[int], float]
    evaluation: str = "auto"
    name = "multiplicative"


# -- the declarations ---------------------------------------------------------------------
def _halving(e):
    return 0.5 ** (e // 250_000)


def _wobble(e):
    return 0.9999995 if e % 2 else 1.0000004


def _torch_function(class_name):
    def build(spec, optimizer):
        from torch.optim import lr_scheduler

        return getattr(lr_scheduler, class_name)(optimizer, spec.lr_lambda)

    return build


declare(
    Family(
        name="lambda",
        code=11,
        framework="torch",
        specs=(Lambda,),
        get_lr=tn.lambda_get_lr,
        closed=cl.lambda_closed,
        user_function=True,
        samples=lambda steps: {"lambda": Lambda(_halving)},
        reference=_torch_function("LambdaLR"),
    )
)
declare(
    Family(
        name="multiplicative",
        code=12,
        framework="torch",
        specs=(Multiplicative,),
        get_lr=tn.multiplicative_get_lr,
        closed=cl.multiplicative_closed,
        ratio=True,
        overwriting=False,
        user_function=True,
        samples=lambda steps: {"multiplicative": Multiplicative(_wobble)},
        reference=_torch_function("MultiplicativeLR"),
    )
)
