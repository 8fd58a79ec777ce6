r"""Cyclical schedules with absolute learning rates: CyclicLR and OneCycleLR.

* ``cyclic`` (Smith, 2017): with :math:`S = s_{up} + s_{down}`,
  :math:`c = \lfloor 1 + t/S \rfloor`, :math:`x = 1 + t/S - c`, the scale
  :math:`h = x/r` on the way up (:math:`x \le r = s_{up}/S`) and
  :math:`(x-1)/(r-1)` down, :math:`\eta_t = \eta_{lo} + (\eta_{hi}-\eta_{lo})\,h\,g`
  with :math:`g = 1`, :math:`2^{1-c}` or :math:`\gamma^t` (triangular,
  triangular2, exp_range).
* ``one_cycle`` (Smith & Topin, 2018): phases annealed from one value to the next,
  :math:`a(s, e, p) = e + (s - e)(1 + \cos \pi p)/2` (``cos``) or
  :math:`s + (e - s)p` (``linear``), :math:`p` the fraction of the phase done.

These specs hold the learning rates themselves, so ``table``'s ``base_lr`` is not
used with them, and they cannot sit inside a composition. ``quantity="momentum"``
gives the momentum (or Adam beta1) cycle torch writes beside the LR.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _validate as v
from .. import kinds
from .._torch_reference import torch_class
from ..family import Family, declare
from ..kernels import closed as cl
from ..kernels import torch_numerics as tn
from ..kernels.formulas import CYCLIC, ONE_CYCLE, PHASE, cyclic_params, one_cycle_params
from .leaf import Leaf

_MODES = {
    "triangular": kinds.TRIANGULAR,
    "triangular2": kinds.TRIANGULAR2,
    "exp_range": kinds.EXP_RANGE,
}
#: CyclicLR's scale modes and OneCycleLR's anneal strategies, by torch's names
MODES = _MODES
ANNEAL = {"cos": kinds.ANNEAL_COS, "linear": kinds.ANNEAL_LINEAR}


@dataclass(frozen=True)
class Cyclic(Leaf):
    """torch's CyclicLR (built-in modes; a custom ``scale_fn`` lives in lrsched)."""

    base_lr: float
    max_lr: float
    step_size_up: int = 2000
    step_size_down: int | None = None
    mode: str = "triangular"
    gamma: float = 1.0
    base_momentum: float = 0.8
    max_momentum: float = 0.9
    name = "cyclic"
    absolute = True
    has_momentum = True

    def __post_init__(self):
        n = self.name
        object.__setattr__(self, "base_lr", v.real(n, "base_lr", self.base_lr, low=0.0))
        object.__setattr__(self, "max_lr", v.real(n, "max_lr", self.max_lr, low=0.0))
        object.__setattr__(
            self, "step_size_up", v.integer(n, "step_size_up", self.step_size_up, minimum=1)
        )
        if self.step_size_down is not None:
            object.__setattr__(
                self,
                "step_size_down",
                v.integer(n, "step_size_down", self.step_size_down, minimum=1),
            )
        v.choice(n, "mode", self.mode, _MODES)
        object.__setattr__(self, "gamma", v.real(n, "gamma", self.gamma, low=0.0, low_open=True))
        object.__setattr__(
            self, "base_momentum", v.real(n, "base_momentum", self.base_momentum, low=0.0)
        )
        object.__setattr__(
            self, "max_momentum", v.real(n, "max_momentum", self.max_momentum, low=0.0)
        )

    def params(self, quantity="lr"):
        up = float(self.step_size_up)
        down = float(self.step_size_down) if self.step_size_down is not None else up
        total = up + down
        if quantity == "momentum":
            lo, hi, invert = self.base_momentum, self.max_momentum, 1.0
        else:
            lo, hi, invert = self.base_lr, self.max_lr, 0.0
        mode = _MODES[self.mode]
        return cyclic_params(
            lo=lo, hi=hi, invert=invert, total=total, ratio=up / total, mode=mode, gamma=self.gamma
        )


@dataclass(frozen=True)
class OneCycle(Leaf):
    """torch's OneCycleLR; the table is defined for steps ``0 .. total_steps``."""

    max_lr: float
    total_steps: int | None = None
    epochs: int | None = None
    steps_per_epoch: int | None = None
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    name = "one_cycle"
    absolute = True
    has_momentum = True

    def __post_init__(self):
        n = self.name
        object.__setattr__(self, "max_lr", v.real(n, "max_lr", self.max_lr, low=0.0))
        if self.total_steps is not None:
            v.integer(n, "total_steps", self.total_steps, minimum=1)
        elif self.epochs is not None and self.steps_per_epoch is not None:
            v.integer(n, "epochs", self.epochs, minimum=1)
            v.integer(n, "steps_per_epoch", self.steps_per_epoch, minimum=1)
        else:
            raise ValueError(
                f"{n}: give total_steps, or epochs and steps_per_epoch; got total_steps=None, "
                f"epochs={self.epochs!r}, steps_per_epoch={self.steps_per_epoch!r}"
            )
        pct = v.real(n, "pct_start", self.pct_start, low=0.0, high=1.0)
        object.__setattr__(self, "pct_start", pct)
        v.choice(n, "anneal_strategy", self.anneal_strategy, ("cos", "linear"))
        for field in ("div_factor", "final_div_factor"):
            value = v.real(n, field, getattr(self, field), low=0.0, low_open=True)
            object.__setattr__(self, field, value)
        if not isinstance(self.three_phase, bool):
            v.fail(n, "three_phase", self.three_phase, "True or False", TypeError)
        for field in ("base_momentum", "max_momentum"):
            object.__setattr__(self, field, v.real(n, field, getattr(self, field), low=0.0))
        ends = [p[0] for p in self._phases("lr")]
        if any(b <= a for a, b in zip([0.0] + ends[:-1], ends)):
            raise ValueError(
                f"{n}: every phase needs a positive length, but pct_start={pct!r} with "
                f"total_steps={self.total} gives phase ends {ends} (pct_start * total_steps "
                "must exceed 1, and the last phase must be longer than the others)"
            )

    @property
    def total(self) -> int:
        if self.total_steps is not None:
            return int(self.total_steps)
        return int(self.epochs) * int(self.steps_per_epoch)

    def last_step(self):
        return self.total

    def _phases(self, quantity):
        total = self.total
        initial = self.max_lr / self.div_factor
        values = {
            "initial_lr": initial,
            "max_lr": self.max_lr,
            "min_lr": initial / self.final_div_factor,
            "max_momentum": self.max_momentum,
            "base_momentum": self.base_momentum,
        }
        end1 = float(self.pct_start * total) - 1
        if self.three_phase:
            lr = [("initial_lr", "max_lr"), ("max_lr", "initial_lr"), ("initial_lr", "min_lr")]
            mom = [
                ("max_momentum", "base_momentum"),
                ("base_momentum", "max_momentum"),
                ("max_momentum", "max_momentum"),
            ]
            ends = [end1, float(2 * self.pct_start * total) - 2, total - 1]
        else:
            lr = [("initial_lr", "max_lr"), ("max_lr", "min_lr")]
            mom = [("max_momentum", "base_momentum"), ("base_momentum", "max_momentum")]
            ends = [end1, total - 1]
        pairs = mom if quantity == "momentum" else lr
        return [(float(e), values[a], values[b]) for e, (a, b) in zip(ends, pairs)]

    def params(self, quantity="lr"):
        phases = [dict(zip(PHASE._fields, phase)) for phase in self._phases(quantity)]
        anneal = ANNEAL[self.anneal_strategy]
        return one_cycle_params(total_steps=self.total, anneal=anneal, phases=phases)


# -- the declarations ---------------------------------------------------------------------
def _cyclic_formula(xp, spec, t):
    if spec.mode != "triangular":
        return None
    size = spec.step_size_up + (spec.step_size_down or spec.step_size_up)
    x = xp.abs(t / spec.step_size_up - 2 * xp.floor(1 + t / size) + 1)
    return spec.base_lr + (spec.max_lr - spec.base_lr) * xp.clip(1 - x, 0, None)


declare(
    Family(
        name="cyclic",
        code=9,
        framework="torch",
        specs=(Cyclic,),
        layout=CYCLIC._fields,
        get_lr=tn.cyclic_get_lr,
        closed=cl.cyclic_closed,
        samples=lambda steps: {"cyclic": Cyclic(base_lr=0.001, max_lr=0.1, step_size_up=2000)},
        reference=torch_class("CyclicLR"),
        formula=_cyclic_formula,
    )
)
declare(
    Family(
        name="one_cycle",
        code=10,
        framework="torch",
        specs=(OneCycle,),
        layout=ONE_CYCLE._fields,
        get_lr=tn.one_cycle_get_lr,
        closed=cl.one_cycle_closed,
        samples=lambda steps: {"one_cycle": OneCycle(max_lr=0.1, total_steps=max(steps - 1, 2))},
        reference=torch_class("OneCycleLR"),
    )
)
