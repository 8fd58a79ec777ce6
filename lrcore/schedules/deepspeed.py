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

import json
import os
from dataclasses import dataclass
from typing import Any

from .. import _validate as v
from .. import kinds as K
from ..family import Family, declare
from ..kernels.formulas import (
    DS_COSINE_P,
    DS_ONE_CYCLE_P,
    DS_RANGE_TEST_P,
    DS_WARMUP_P,
    deepspeed_pieces,
    deepspeed_value,
)
from ..spec import Spec, build
from .leaf import Leaf, shaped

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
        named = {
            "warmup_min_lr": self.warmup_min_lr,
            "warmup_max_lr": self.warmup_max_lr,
            "warmup_num_steps": self.warmup_num_steps,
            "warmup_type": _TYPES[self.warmup_type],
            "total_num_steps": self._total(),
        }
        return shaped(self._shape, DS_WARMUP_P, named)


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
        named = {
            "warmup_num_steps": self.warmup_num_steps,
            "warmup_type": _TYPES[self.warmup_type],
            "total_num_steps": self.total_num_steps,
            "warmup_min_ratio": self.warmup_min_ratio,
            "cos_min_ratio": self.cos_min_ratio,
        }
        return shaped(K.DS_COSINE, DS_COSINE_P, named)


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
        named = {
            "lo": lo,
            "hi": hi,
            "invert": invert,
            "cycle_first_step_size": first,
            "cycle_second_step_size": second,
            "cycle_first_stair_count": self.cycle_first_stair_count,
            "cycle_second_stair_count": stairs2,
            "decay_step_size": self.decay_step_size,
            "decay_rate": rate,
            "skip_decay": 1.0 if skip else 0.0,
        }
        return shaped(K.DS_ONE_CYCLE, DS_ONE_CYCLE_P, named)


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
        named = {
            "lr_range_test_min_lr": self.lr_range_test_min_lr,
            "lr_range_test_step_size": self.lr_range_test_step_size,
            "lr_range_test_step_rate": self.lr_range_test_step_rate,
            "lr_range_test_staircase": 1.0 if self.lr_range_test_staircase else 0.0,
        }
        return shaped(K.DS_RANGE_TEST, DS_RANGE_TEST_P, named)


# -- the converter: a DeepSpeed config's "scheduler" block -------------------------------
#: DeepSpeed's scheduler types and the specs that reproduce them (declared below)
DEEPSPEED = {
    "WarmupLR": DeepSpeedWarmup,
    "WarmupDecayLR": DeepSpeedWarmupDecay,
    "WarmupCosineLR": DeepSpeedWarmupCosine,
    "OneCycle": DeepSpeedOneCycle,
    "LRRangeTest": DeepSpeedLRRangeTest,
}


def deepspeed_block(config: Any, where: str = "from_deepspeed_config"):
    """(type, params, the optimizer's LR or None) of a DeepSpeed config's
    ``"scheduler"`` block; ``config`` is the whole config or the block, as a dict or a
    JSON file's path. Refuses an unknown type and ``"auto"`` values (transformers'
    DeepSpeed integration fills those in)."""
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as f:
            config = json.load(f)
    if not isinstance(config, dict):
        raise TypeError(
            f"{where}: config must be a DeepSpeed config (a dict or a JSON file's path), "
            f"got config={config!r}"
        )
    block = config.get("scheduler", config)
    if not isinstance(block, dict) or "type" not in block:
        raise ValueError(
            f'{where}: config must hold a "scheduler" block with a "type" (one of '
            f"{', '.join(DEEPSPEED)}), got config={config!r}"
        )
    kind, params = block["type"], block.get("params") or {}
    if kind not in DEEPSPEED:
        raise ValueError(
            f"{where}: scheduler type must be one of {', '.join(DEEPSPEED)}, got type={kind!r}"
        )
    if not isinstance(params, dict):
        raise TypeError(f"{where}: scheduler params must be a dict, got params={params!r}")
    auto = sorted(k for k, value in params.items() if value == "auto")
    if auto:
        raise ValueError(
            f"{where}: scheduler params {', '.join(auto)} are 'auto', which transformers' "
            "DeepSpeed integration fills in from its TrainingArguments; give numbers here"
        )
    optimizer = config.get("optimizer") if isinstance(config.get("optimizer"), dict) else {}
    return kind, dict(params), (optimizer.get("params") or {}).get("lr")


def _per_group(params: dict, where: str) -> int:
    """How many param groups a block's per-group lists name (1 when it has none)."""
    sizes = {k: len(v) for k, v in params.items() if isinstance(v, (list, tuple))}
    if len(set(sizes.values())) > 1:
        raise ValueError(
            f"{where}: per-group lists must all have one entry per param group, got lengths "
            + ", ".join(f"{k}={n}" for k, n in sorted(sizes.items()))
        )
    return next(iter(sizes.values()), 1)


def deepspeed_groups(config: Any) -> int:
    """How many param groups a DeepSpeed config's per-group lists name (1 when its
    scheduler params are all single values, which DeepSpeed gives every group)."""
    _, params, _ = deepspeed_block(config, "deepspeed_groups")
    return _per_group(params, "deepspeed_groups")


def from_deepspeed_config(config: Any, group: int | None = None) -> tuple[Spec, float | None]:
    """(spec, base LR) for a DeepSpeed config (see :func:`deepspeed_block`).

    The base LR is the config's ``optimizer.params.lr`` (None when it has none): the
    LR ``WarmupCosineLR`` scales, and ``WarmupLR``'s ``warmup_max_lr`` when that is
    left out (DeepSpeed then reads the optimizer's LR). A spec is one param group's
    schedule: where the block has per-group lists (DeepSpeed's ``warmup_max_lr: [a,
    b]``), ``group`` picks the entry of each (single values apply to every group, as
    in DeepSpeed); :func:`deepspeed_groups` says how many there are."""
    where = "from_deepspeed_config"
    kind, params, base = deepspeed_block(config, where)
    groups = _per_group(params, where)
    lists = [k for k, value in params.items() if isinstance(value, (list, tuple))]
    if lists and group is None:
        raise ValueError(
            f"{where}: scheduler params {', '.join(lists)} are per-group lists ({groups} "
            f"groups); a spec is one group's schedule: pass group=0 to {groups - 1}"
        )
    if group is not None:
        group = v.integer(where, "group", group, minimum=0)
        if lists and group >= groups:
            v.fail(where, "group", group, f"< {groups}, the length of the per-group lists")
        params = {k: (params[k][group] if k in lists else value) for k, value in params.items()}
    params.pop("last_batch_iteration", None)
    if kind == "WarmupLR" and params.get("warmup_max_lr") is None:
        if base is None:
            raise ValueError(
                f"{where}: WarmupLR without warmup_max_lr warms up to the optimizer's LR, and "
                'this config has no "optimizer": {"params": {"lr": ...}}; give either'
            )
        params["warmup_max_lr"] = base
    return build(DEEPSPEED[kind], params), base


# -- the declaration ----------------------------------------------------------------------
declare(
    Family(
        name="deepspeed",
        code=15,
        framework="deepspeed",
        specs=(_DeepSpeed,),
        value=deepspeed_value,
        pieces=deepspeed_pieces,
        names=DEEPSPEED,
        read=from_deepspeed_config,
        samples=lambda steps: {
            "deepspeed_warmup_cosine": DeepSpeedWarmupCosine(total_num_steps=steps)
        },
    )
)
