r"""Cosine annealing (Loshchilov & Hutter, SGDR, ICLR 2017).

* ``cosine_annealing``:
  :math:`\eta_t = \eta_{min} + (\eta_0 - \eta_{min})\,\frac{1 + \cos(\pi t / T_{max})}{2}`
* ``cosine_annealing_warm_restarts``: the same within each cycle, with
  :math:`T_{cur}` the steps since the last restart and :math:`T_i = T_0 T_{mult}^i`
  the length of cycle :math:`i`. Cycle :math:`i` starts at
  :math:`B_i = T_0 (T_{mult}^i - 1)/(T_{mult} - 1)` (:math:`i T_0` when
  :math:`T_{mult} = 1`). The cycle index is solved in closed form from a
  logarithm and corrected with exact integer arithmetic, so every restart lands
  on its step (torch's ``step(epoch)`` and timm put some restarts one step late).

``T_mult`` may be a float (timm's ``cycle_mul``); ``decay`` multiplies the peak by
``decay**i`` in cycle ``i`` (timm's ``cycle_decay``, Keras's ``m_mul``). torch's
class accepts integer ``T_mult`` and no decay.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .. import _validate as v
from .._torch_reference import torch_class
from ..family import Family, declare
from ..kernels import closed as cl
from ..kernels import torch_numerics as tn
from ..kernels.formulas import COSINE_ANNEALING_LR, WARM_RESTARTS
from .leaf import Leaf


@dataclass(frozen=True)
class CosineAnnealing(Leaf):
    """torch's CosineAnnealingLR (period ``2 * T_max``, as torch's recurrence)."""

    T_max: int
    eta_min: float = 0.0
    name = "cosine_annealing"

    def __post_init__(self):
        object.__setattr__(self, "T_max", v.integer(self.name, "T_max", self.T_max, minimum=1))
        object.__setattr__(self, "eta_min", v.real(self.name, "eta_min", self.eta_min, low=0.0))

    def params(self, quantity="lr"):
        return [getattr(self, name) for name in COSINE_ANNEALING_LR._fields]


@dataclass(frozen=True)
class CosineAnnealingWarmRestarts(Leaf):
    """torch's CosineAnnealingWarmRestarts, plus float ``T_mult`` and peak ``decay``."""

    T_0: int
    T_mult: float = 1
    eta_min: float = 0.0
    decay: float = 1.0
    name = "cosine_annealing_warm_restarts"

    def __post_init__(self):
        n = self.name
        object.__setattr__(self, "T_0", v.integer(n, "T_0", self.T_0, minimum=1))
        if isinstance(self.T_mult, numbers.Integral) and not isinstance(self.T_mult, bool):
            object.__setattr__(self, "T_mult", v.integer(n, "T_mult", self.T_mult, minimum=1))
        else:
            t_mult = v.real(n, "T_mult", self.T_mult, low=1.0)
            # An integral float keeps the exact integer cycle arithmetic.
            object.__setattr__(self, "T_mult", int(t_mult) if t_mult.is_integer() else t_mult)
        object.__setattr__(self, "eta_min", v.real(n, "eta_min", self.eta_min, low=0.0))
        object.__setattr__(self, "decay", v.real(n, "decay", self.decay, low=0.0, low_open=True))

    def params(self, quantity="lr"):
        named = {
            "T_0": self.T_0,
            "T_mult": float(self.T_mult),
            "eta_min": self.eta_min,
            "decay": self.decay,
            "integral": 1.0 if isinstance(self.T_mult, int) else 0.0,
        }
        return [named[name] for name in WARM_RESTARTS._fields]


# -- the declarations ---------------------------------------------------------------------
def _cosine_formula(xp, spec, t):
    return spec.eta_min + (1 - spec.eta_min) * (1 + xp.cos(math.pi * t / spec.T_max)) / 2


def _restarts_formula(xp, spec, t):
    if spec.T_mult != 2 or spec.decay != 1.0:
        return None
    i = xp.floor(xp.log2(t / spec.T_0 + 1))
    t_i = spec.T_0 * 2**i
    t_cur = t - (t_i - spec.T_0)
    return spec.eta_min + (1 - spec.eta_min) * (1 + xp.cos(math.pi * t_cur / t_i)) / 2


def _restarts_events(spec, steps):
    out, start, length, i = [], 0.0, float(spec.T_0), 0
    while start < steps:
        if start > 0:
            out.append(math.ceil(start))
        i += 1
        start += length
        length = spec.T_0 * spec.T_mult**i
    return out


def _torch_restarts(spec, kwargs):
    if kwargs.pop("decay") != 1.0 or not isinstance(spec.T_mult, int):
        raise ValueError(f"torch has no {spec}")
    return kwargs


declare(
    Family(
        name="cosine_annealing",
        code=7,
        framework="torch",
        specs=(CosineAnnealing,),
        layout=COSINE_ANNEALING_LR._fields,
        get_lr=tn.cosine_get_lr,
        closed=cl.cosine_closed,
        steps=tn.cosine_steps,
        overwriting=False,
        samples=lambda steps: {"cosine_annealing": CosineAnnealing(T_max=steps, eta_min=1e-5)},
        reference=torch_class("CosineAnnealingLR"),
        formula=_cosine_formula,
    )
)
declare(
    Family(
        name="cosine_annealing_warm_restarts",
        code=8,
        framework="torch",
        specs=(CosineAnnealingWarmRestarts,),
        layout=WARM_RESTARTS._fields,
        get_lr=tn.warm_restarts_get_lr,
        closed=cl.warm_restarts_closed,
        steps=tn.warm_restarts_steps,
        samples=lambda steps: {
            "cosine_annealing_warm_restarts": CosineAnnealingWarmRestarts(
                T_0=1000, T_mult=2, eta_min=1e-5
            )
        },
        reference=torch_class("CosineAnnealingWarmRestarts", _torch_restarts),
        events=_restarts_events,
        formula=_restarts_formula,
    )
)
