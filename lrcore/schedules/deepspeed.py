r"""DeepSpeed's schedules (``deepspeed.runtime.lr_schedules``), with its parameter names.

Table index ``t`` is the value DeepSpeed writes once ``step()`` has been called
``t`` times, that is at ``last_batch_iteration = t - 1``; index 0 is what its
constructor writes (``warmup_min_lr``, ``cycle_min_lr``, ``lr_range_test_min_lr``,
and 0 for ``WarmupCosineLR``). With :math:`i = t - 1`, :math:`W = \max(2, w)`
(DeepSpeed raises ``warmup_num_steps`` to 2) and the warm-up fraction
:math:`g = \log(i + 1)/\log W` (``log``) or :math:`i/W` (``linear``) for :math:`i < W`:

* ``deepspeed_warmup`` (``WarmupLR``): :math:`\eta_{min} + (\eta_{max} - \eta_{min})\,g`,
  then :math:`\eta_{max}`.
* ``deepspeed_warmup_decay`` (``WarmupDecayLR``): the same warm-up, then
  :math:`g = \max(0, (T - i)/\max(1, T - W))`, a linear decay to 0 at ``total_num_steps``.
* ``deepspeed_warmup_cosine`` (``WarmupCosineLR``), relative to the base LR:
  :math:`r_0 + (1 - r_0)\,g` in the warm-up, then
  :math:`\max(0, r_c + (1 - r_c)(1 + \cos \pi p)/2)`,
  :math:`p = \min(1, (i - W + 1)/\max(1, T - W))`.
* ``deepspeed_one_cycle`` (``OneCycle``, Smith 2018): a triangle of
  ``cycle_first_step_size`` steps up and ``cycle_second_step_size`` down (optionally
  in stairs), then ``cycle_min_lr / (1 + decay_lr_rate * s / decay_step_size)``
  ``s`` steps after the cycle. ``quantity="momentum"`` gives its inverse momentum
  cycle (DeepSpeed writes it as Adam's ``betas[0]``).
* ``deepspeed_lr_range_test`` (``LRRangeTest``):
  :math:`\eta_{min}(1 + \rho\,t/s)`, with :math:`\lfloor t/s \rfloor` when ``staircase``.

Differences from DeepSpeed, all at its API's edges rather than in the numbers: an
unknown ``warmup_type`` is an error here (DeepSpeed logs a warning and uses
``log``; lrsched.deepspeed does as DeepSpeed), and ``warmup_max_lr`` is a number
(DeepSpeed's ``WarmupLR`` reads the optimizer's LR when it is None; so does the
drop-in). The parameters are DeepSpeed's; DeepSpeed's per-group lists are the
drop-in's (one spec per group).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _validate as v
from .. import kinds as K
from ..family import Family, declare
from ..kernels.formulas import deepspeed_value
from .leaf import Leaf

_TYPES = {"log": K.DS_LOG, "linear": K.DS_LINEAR}


class _DeepSpeed(Leaf):
    absolute = True

    def _set(self, field, value):
        object.__setattr__(self, field, value)

    def _warmup(self):
        n = self.name
        v.integer(n, "warmup_num_steps", self.warmup_num_steps, minimum=1)
        v.choice(n, "warmup_type", self.warmup_type, _TYPES)


class _DeepSpeedWarmupLR(_DeepSpeed):
    _shape: int

    def _check_lrs(self):
        n = self.name
        self._set("warmup_min_lr", v.real(n, "warmup_min_lr", self.warmup_min_lr, low=0.0))
        self._set("warmup_max_lr", v.real(n, "warmup_max_lr", self.warmup_max_lr, low=0.0))
        self._warmup()

    def _total(self):
        return 0.0

    def params(self, quantity="lr"):
        return [
            self._shape,
            self.warmup_min_lr,
            self.warmup_max_lr,
            self.warmup_num_steps,
            _TYPES[self.warmup_type],
            self._total(),
        ]


@dataclass(frozen=True)
class DeepSpeedWarmup(_DeepSpeedWarmupLR):
    """DeepSpeed's WarmupLR: ``log`` or ``linear`` warm-up, then ``warmup_max_lr``."""

    warmup_min_lr: float = 0.0
    warmup_max_lr: float = 0.001
    warmup_num_steps: int = 1000
    warmup_type: str = "log"
    name = "deepspeed_warmup"
    _shape = K.DS_WARMUP

    def __post_init__(self):
        self._check_lrs()


@dataclass(frozen=True)
class DeepSpeedWarmupDecay(_DeepSpeedWarmupLR):
    """DeepSpeed's WarmupDecayLR: WarmupLR's warm-up, then a linear decay to 0 at
    ``total_num_steps``."""

    total_num_steps: int
    warmup_min_lr: float = 0.0
    warmup_max_lr: float = 0.001
    warmup_num_steps: int = 1000
    warmup_type: str = "log"
    name = "deepspeed_warmup_decay"
    _shape = K.DS_WARMUP_DECAY

    def __post_init__(self):
        v.integer(self.name, "total_num_steps", self.total_num_steps, minimum=0)
        self._check_lrs()

    def _total(self):
        return self.total_num_steps


@dataclass(frozen=True)
class DeepSpeedWarmupCosine(_DeepSpeed):
    """DeepSpeed's WarmupCosineLR: a ratio of the base LR, warm-up then cosine."""

    total_num_steps: int
    warmup_min_ratio: float = 0.0
    warmup_num_steps: int = 1000
    cos_min_ratio: float = 0.0001
    warmup_type: str = "log"
    name = "deepspeed_warmup_cosine"
    absolute = False

    def __post_init__(self):
        n = self.name
        v.integer(n, "total_num_steps", self.total_num_steps, minimum=0)
        self._set("warmup_min_ratio", v.real(n, "warmup_min_ratio", self.warmup_min_ratio, low=0.0))
        self._set("cos_min_ratio", v.real(n, "cos_min_ratio", self.cos_min_ratio, low=0.0))
        self._warmup()

    def params(self, quantity="lr"):
        return [
            K.DS_COSINE,
            self.warmup_num_steps,
            _TYPES[self.warmup_type],
            self.total_num_steps,
            self.warmup_min_ratio,
            self.cos_min_ratio,
        ]


@dataclass(frozen=True)
class DeepSpeedOneCycle(_DeepSpeed):
    """DeepSpeed's OneCycle: one triangular cycle (stairs optional), then a decay."""

    cycle_min_lr: float
    cycle_max_lr: float
    decay_lr_rate: float = 0.0
    cycle_first_step_size: float = 2000.0
    cycle_second_step_size: float | None = None
    cycle_first_stair_count: int = 0
    cycle_second_stair_count: int | None = None
    decay_step_size: float = 0.0
    cycle_momentum: bool = True
    cycle_min_mom: float = 0.8
    cycle_max_mom: float = 0.9
    decay_mom_rate: float = 0.0
    name = "deepspeed_one_cycle"

    def __post_init__(self):
        n = self.name
        for field in (
            "cycle_min_lr",
            "cycle_max_lr",
            "decay_lr_rate",
            "decay_step_size",
            "cycle_min_mom",
            "cycle_max_mom",
            "decay_mom_rate",
        ):
            self._set(field, v.real(n, field, getattr(self, field), low=0.0))
        first = self.cycle_first_step_size
        self._set(
            "cycle_first_step_size",
            v.real(n, "cycle_first_step_size", first, low=0.0, low_open=True),
        )
        if self.cycle_second_step_size is not None:
            second = v.real(n, "cycle_second_step_size", self.cycle_second_step_size, low=0.0)
            self._set("cycle_second_step_size", second)
        v.integer(n, "cycle_first_stair_count", self.cycle_first_stair_count, minimum=0)
        if self.cycle_second_stair_count is not None:
            v.integer(n, "cycle_second_stair_count", self.cycle_second_stair_count, minimum=0)
        v.flag(n, "cycle_momentum", self.cycle_momentum)

    @property
    def has_momentum(self) -> bool:
        return self.cycle_momentum

    def params(self, quantity="lr"):
        first = self.cycle_first_step_size
        second = first if self.cycle_second_step_size is None else self.cycle_second_step_size
        stairs2 = self.cycle_second_stair_count
        stairs2 = self.cycle_first_stair_count if stairs2 is None else stairs2
        if quantity == "momentum":
            lo, hi, rate, invert = self.cycle_min_mom, self.cycle_max_mom, self.decay_mom_rate, 1.0
        else:
            lo, hi, rate, invert = self.cycle_min_lr, self.cycle_max_lr, self.decay_lr_rate, 0.0
        # DeepSpeed skips the decay when math.isclose(x, 0), which is x == 0
        skip = self.decay_step_size == 0.0 or rate == 0.0
        return [
            K.DS_ONE_CYCLE,
            lo,
            hi,
            invert,
            first,
            second,
            self.cycle_first_stair_count,
            stairs2,
            self.decay_step_size,
            rate,
            1.0 if skip else 0.0,
        ]


@dataclass(frozen=True)
class DeepSpeedLRRangeTest(_DeepSpeed):
    """DeepSpeed's LRRangeTest: a linear (or staircase) increase from the minimum."""

    lr_range_test_min_lr: float = 0.001
    lr_range_test_step_size: int = 2000
    lr_range_test_step_rate: float = 1.0
    lr_range_test_staircase: bool = False
    name = "deepspeed_lr_range_test"

    def __post_init__(self):
        n = self.name
        self._set(
            "lr_range_test_min_lr",
            v.real(n, "lr_range_test_min_lr", self.lr_range_test_min_lr, low=0.0),
        )
        v.integer(n, "lr_range_test_step_size", self.lr_range_test_step_size, minimum=1)
        self._set(
            "lr_range_test_step_rate",
            v.real(n, "lr_range_test_step_rate", self.lr_range_test_step_rate, low=0.0),
        )
        v.flag(n, "lr_range_test_staircase", self.lr_range_test_staircase)

    def params(self, quantity="lr"):
        return [
            K.DS_RANGE_TEST,
            self.lr_range_test_min_lr,
            self.lr_range_test_step_size,
            self.lr_range_test_step_rate,
            1.0 if self.lr_range_test_staircase else 0.0,
        ]


# -- the declaration ----------------------------------------------------------------------
declare(
    Family(
        name="deepspeed",
        code=15,
        framework="deepspeed",
        specs=(_DeepSpeed,),
        value=deepspeed_value,
        samples=lambda steps: {
            "deepspeed_warmup_cosine": DeepSpeedWarmupCosine(total_num_steps=steps)
        },
    )
)
