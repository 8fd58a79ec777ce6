"""DeepSpeed's schedulers, table-backed: WarmupLR, WarmupDecayLR, WarmupCosineLR,
OneCycle and LRRangeTest, and :func:`from_deepspeed_config`.

Same constructor arguments, defaults, errors and warnings as
``deepspeed.runtime.lr_schedules`` (0.19), the same ``step(last_batch_iteration=None)``
protocol, ``get_lr()``, ``get_last_lr()`` and a ``state_dict()`` of
``{"last_batch_iteration": ...}``, so a checkpoint moves between DeepSpeed's class and
this one. DeepSpeed itself is not needed. Like DeepSpeed's, these are plain objects
(not ``torch.optim.lr_scheduler.LRScheduler``), which a DeepSpeed engine accepts as
its ``lr_scheduler``.

The LRs are lrcore's ``deepspeed_*`` tables, equal to DeepSpeed's bit for bit; a
step is a lookup in a window of the table around ``last_batch_iteration``. Per-group
lists (``warmup_min_lr=[...]``) give one spec per group. Differences from DeepSpeed:

* ``last_batch_iteration`` must be a whole number, and at least -1 for OneCycle and
  LRRangeTest (DeepSpeed would extrapolate their formulas to negative batches);
* a learning rate or rate DeepSpeed would take negative is refused with lrcore's
  error naming it;
* the hyperparameter attributes (``min_lrs``, ``max_lrs``, ``total_num_steps``, ...)
  are read when assigned; a list changed in place is not seen (assign a new one).
"""

from __future__ import annotations

import logging
import math
import numbers

import torch
from torch.optim import Optimizer

import lrcore
from lrcore.convert import deepspeed_block

from . import _compile
from ._window import Rows, group_spec, hyperparameter, tabulate

logger = logging.getLogger(__name__)

WARMUP_LOG_RATE = "log"
WARMUP_LINEAR_RATE = "linear"
_BEFORE_START = "Attempting to get learning rate from scheduler before it has started"


def get_torch_optimizer(optimizer):
    """The torch optimizer itself, or the one a wrapper holds as ``.optimizer``."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if hasattr(optimizer, "optimizer") and isinstance(optimizer.optimizer, Optimizer):
        return optimizer.optimizer
    raise TypeError(f"{type(optimizer).__name__} is not a subclass of torch.optim.Optimizer")


def _format_param(optimizer, value, name):
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"expected {len(optimizer.param_groups)} value for {name}, got {len(value)}"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


def update_lr(param_groups, lrs):
    """Write each group's LR (a tensor LR is filled in place); the LRs written."""
    for group, lr in zip(param_groups, lrs):
        if torch.is_tensor(group["lr"]):
            group["lr"].fill_(lr.squeeze() if torch.is_tensor(lr) else lr)
        else:
            group["lr"] = lr
    return [group["lr"] for group in param_groups]


def _float(x):
    return float(x.item()) if torch.is_tensor(x) else float(x)


def _whole(x):
    """An integral float (a JSON config's ``1e5``) as the int DeepSpeed computes with."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _warmup_type(warmup_type):
    if warmup_type not in {WARMUP_LOG_RATE, WARMUP_LINEAR_RATE}:
        logger.warning(
            f"Using unknown warmup_type: {warmup_type}. The increasing function "
            "is set to default (log)"
        )
        return WARMUP_LOG_RATE
    return warmup_type


def _warn_short(total, warmup, total_given, warmup_given):
    """DeepSpeed's warning when the run ends inside the warm-up (it keeps going)."""
    if total < warmup:
        logger.warning(
            f"total_num_steps {total_given} is less than warmup_num_steps {warmup_given}"
        )


def _positive_int(name, value):
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")


class _Window:
    """The specs (one per group), their base LRs and the windows of LR and momentum;
    ``fast``: a step may be served from the windows as they are (its ``get_lr`` is
    the lookup itself)."""

    __slots__ = ("specs", "bases", "lr", "momentum", "fast")

    def __init__(self):
        self.specs = self.bases = None
        self.lr, self.momentum = Rows(), Rows()  # rows[g][k]: group g at start + k
        self.fast = False


def _drop_window(self):
    if getattr(self, "_lrsched", None) is not None:
        object.__setattr__(self, "_lrsched", _Window())


class _DeepSpeedScheduler(_compile.RunsEagerly):
    __slots__ = ("_lrsched",)

    #: the attributes the specs are built from (each a :func:`._window.hyperparameter`)
    _spec_fields: tuple[str, ...] = ()
    #: the lowest ``last_batch_iteration`` the table serves (-1: the constructor's)
    _lowest = -1

    def __init_subclass__(cls, **kwargs):
        for name in cls._spec_fields:
            setattr(cls, name, hyperparameter(name, _drop_window))
        super().__init_subclass__(**kwargs)  # then marked to run eagerly (lrsched._compile)

    def _begin(self, optimizer):
        object.__setattr__(self, "_lrsched", _Window())
        self.optimizer = get_torch_optimizer(optimizer)

    def _specs(self):
        """(one spec per group, the base LR of each group)."""
        raise NotImplementedError

    def _fast(self):
        """Whether ``get_lr`` at a batch >= 0 is the LR window's values as they are."""
        return True

    def _lrcore_spec(self, group):
        """``lrcore.convert.spec_of(self, group)``."""
        specs, bases = self._specs()
        return group_spec(self, specs, bases, group)

    def _lookup(self, quantity="lr"):
        """The table's values at ``last_batch_iteration`` for every group."""
        t = self.last_batch_iteration
        w = getattr(self._lrsched, quantity)
        if type(t) is int:  # the common case: inside the window
            i = t + 1 - w.start
            if 0 <= i < w.size:
                return [row[i] for row in w.rows]
        return self._values(t, quantity)

    def _values(self, t, quantity):
        if isinstance(t, float) and t.is_integer():
            t = int(t)
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < self._lowest:
            raise ValueError(
                f"{type(self).__name__}: last_batch_iteration must be a whole number >= "
                f"{self._lowest}, got last_batch_iteration={t!r}"
            )
        index = int(t) + 1
        window = self._lrsched
        if window.specs is None:
            window.specs, window.bases = self._specs()
            window.fast = self._fast()
        w = getattr(window, quantity)
        if not (w.start <= index < w.start + w.size):

            def fetch(start, size, stride):
                return tabulate(window.specs, window.bases, start, size, quantity=quantity)

            w.refill(index, fetch)
        return [row[index - w.start] for row in w.rows]

    def _serve(self, t):
        """Write the LRs at batch ``t`` straight from the window (and return True), or
        return False for DeepSpeed's own path (outside the window, tensor LRs,
        a batch before the start)."""
        w = self._lrsched
        r = w.lr
        i = t + 1 - r.start if type(t) is int else -1
        if not (w.fast and 0 <= i < r.size and t >= 0):  # (i is -1 for a non-int t)
            return False
        out = []
        for group, row in zip(self.optimizer.param_groups, r.rows):
            if group["lr"].__class__ is not float:  # a tensor (filled in place), an int
                return False
            value = group["lr"] = row[i]
            out.append(value)
        self._last_lr = out
        return True

    # -- DeepSpeed's protocol ------------------------------------------------------
    def get_last_lr(self):
        """Return last computed learning rate by current scheduler."""
        assert getattr(self, "_last_lr", None) is not None, "need to call step() first"
        return self._last_lr

    def step(self, last_batch_iteration=None):
        if last_batch_iteration is None:
            last_batch_iteration = self.last_batch_iteration + 1
        self.last_batch_iteration = last_batch_iteration
        if not self._serve(last_batch_iteration):
            self._last_lr = update_lr(self.optimizer.param_groups, self.get_lr())

    def state_dict(self):
        return {"last_batch_iteration": self.last_batch_iteration}

    def load_state_dict(self, sd):
        self.last_batch_iteration = sd["last_batch_iteration"]

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        object.__setattr__(self, "_lrsched", _Window())
        self.__dict__.update(state)


class WarmupLR(_DeepSpeedScheduler):
    """DeepSpeed's WarmupLR: from ``warmup_min_lr`` to ``warmup_max_lr`` (the
    optimizer's LR when None) over ``warmup_num_steps``, ``log`` or ``linear``."""

    _spec_fields = ("min_lrs", "max_lrs", "warmup_num_steps", "warmup_type")

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_min_lr: float = 0.0,
        warmup_max_lr: float = None,
        warmup_num_steps: int = 1000,
        warmup_type: str = WARMUP_LOG_RATE,
        last_batch_iteration: int = -1,
    ):
        _positive_int("warmup_num_steps", warmup_num_steps)
        self._begin(optimizer)
        if warmup_max_lr is None:
            warmup_max_lr = [group["lr"] for group in self.optimizer.param_groups]
        self.min_lrs = _format_param(self.optimizer, warmup_min_lr, "min_lr")
        self.max_lrs = _format_param(self.optimizer, warmup_max_lr, "max_lr")
        self.delta_lrs = [big - small for big, small in zip(self.max_lrs, self.min_lrs)]
        self.warmup_num_steps = max(2, warmup_num_steps)
        self.warmup_type = _warmup_type(warmup_type)
        self.inverse_log_warm_up = 1.0 / math.log(self.warmup_num_steps)
        self.last_batch_iteration = last_batch_iteration
        self._specs()  # lrcore's checks before the optimizer is touched
        if last_batch_iteration == -1:
            self._last_lr = update_lr(self.optimizer.param_groups, self.get_lr())

    def _spec(self, low, high):
        return lrcore.DeepSpeedWarmup(
            warmup_min_lr=low,
            warmup_max_lr=high,
            warmup_num_steps=int(self.warmup_num_steps),
            warmup_type=self.warmup_type,
        )

    def _specs(self):
        if self._on_tensors():  # the fraction gamma: min 0, max 1
            return [self._spec(0.0, 1.0)], [1.0]
        specs = [
            self._spec(_float(low), _float(high)) for low, high in zip(self.min_lrs, self.max_lrs)
        ]
        return specs, [1.0] * len(specs)

    def _fast(self):
        return not self._on_tensors()

    def _on_tensors(self):
        # tensor LRs (warmup_max_lr=None on tensor param-group LRs): DeepSpeed computes
        # min_lr + delta_lr * gamma in the tensors' dtype, and so does this
        return any(torch.is_tensor(x) for x in (*self.min_lrs, *self.delta_lrs))

    def get_lr(self):
        if self.last_batch_iteration < 0:
            logger.warning(_BEFORE_START)
            return self.min_lrs
        if self._on_tensors():
            gamma = self._lookup()[0]
            return [low + (delta * gamma) for low, delta in zip(self.min_lrs, self.delta_lrs)]
        return self._lookup()


class WarmupDecayLR(WarmupLR):
    """DeepSpeed's WarmupDecayLR: WarmupLR's warm-up, then a linear decay to 0 at
    ``total_num_steps``."""

    _spec_fields = (*WarmupLR._spec_fields, "total_num_steps")

    def __init__(
        self,
        optimizer: Optimizer,
        total_num_steps: int,
        warmup_min_lr: float = 0.0,
        warmup_max_lr: float = 0.001,
        warmup_num_steps: int = 1000,
        warmup_type: str = WARMUP_LOG_RATE,
        last_batch_iteration: int = -1,
    ):
        self.total_num_steps = _whole(total_num_steps)
        super().__init__(
            optimizer,
            warmup_min_lr,
            warmup_max_lr,
            warmup_num_steps,
            warmup_type,
            last_batch_iteration,
        )
        _warn_short(self.total_num_steps, self.warmup_num_steps, total_num_steps, warmup_num_steps)

    def _spec(self, low, high):
        return lrcore.DeepSpeedWarmupDecay(
            total_num_steps=self.total_num_steps,
            warmup_min_lr=low,
            warmup_max_lr=high,
            warmup_num_steps=int(self.warmup_num_steps),
            warmup_type=self.warmup_type,
        )


class WarmupCosineLR(_DeepSpeedScheduler):
    """DeepSpeed's WarmupCosineLR: a ratio of each group's LR, warmed up from
    ``warmup_min_ratio`` to 1, then cosine-annealed to ``cos_min_ratio``."""

    _spec_fields = (
        "total_num_steps",
        "warmup_min_ratio",
        "warmup_num_steps",
        "cos_min_ratio",
        "warmup_type",
        "org_lrs",
    )

    def __init__(
        self,
        optimizer: Optimizer,
        total_num_steps: int,
        warmup_min_ratio: float = 0.0,
        warmup_num_steps: int = 1000,
        cos_min_ratio: float = 0.0001,
        warmup_type: str = WARMUP_LOG_RATE,
        last_batch_iteration: int = -1,
    ):
        _positive_int("warmup_num_steps", warmup_num_steps)
        self._begin(optimizer)
        self.total_num_steps = _whole(total_num_steps)
        self.last_batch_iteration = last_batch_iteration
        self.cos_min_ratio = cos_min_ratio
        self.warmup_type = _warmup_type(warmup_type)
        self.warmup_min_ratio = warmup_min_ratio
        self.warmup_num_steps = max(2, warmup_num_steps)
        self.inverse_log_warm_up = 1.0 / math.log(self.warmup_num_steps)
        _warn_short(self.total_num_steps, self.warmup_num_steps, total_num_steps, warmup_num_steps)
        self.org_lrs = [
            group["lr"].clone() if torch.is_tensor(group["lr"]) else group["lr"]
            for group in self.optimizer.param_groups
        ]
        self._specs()
        if last_batch_iteration == -1:
            self._last_lr = update_lr(self.optimizer.param_groups, self.get_lr())

    def _ratio_spec(self):
        return lrcore.DeepSpeedWarmupCosine(
            total_num_steps=self.total_num_steps,
            warmup_min_ratio=self.warmup_min_ratio,
            warmup_num_steps=int(self.warmup_num_steps),
            cos_min_ratio=self.cos_min_ratio,
            warmup_type=self.warmup_type,
        )

    def _specs(self):
        # a tensor LR is multiplied by the ratio in its dtype, as DeepSpeed does
        bases = [1.0 if torch.is_tensor(lr) else float(lr) for lr in self.org_lrs]
        return [self._ratio_spec()] * len(bases), bases

    def _fast(self):
        return not any(torch.is_tensor(lr) for lr in self.org_lrs)

    def get_lr_ratio(self):
        if self.last_batch_iteration < 0:
            logger.warning(_BEFORE_START)
            return 0.0
        t = self.last_batch_iteration + 1
        return float(lrcore.table(self._ratio_spec(), 1, start=t)[0])

    def get_lr(self):
        if self.last_batch_iteration < 0:
            logger.warning(_BEFORE_START)
            return [0.0 for _ in self.org_lrs]
        values = self._lookup()
        if any(torch.is_tensor(lr) for lr in self.org_lrs):
            return [lr * v if torch.is_tensor(lr) else v for lr, v in zip(self.org_lrs, values)]
        return values


class OneCycle(_DeepSpeedScheduler):
    """DeepSpeed's OneCycle: one triangular LR cycle (stairs optional), then a decay,
    with Adam's ``betas[0]`` cycled the other way (``betas[1]`` set to 0.99, as
    DeepSpeed does)."""

    _spec_fields = (
        "min_lrs",
        "max_lrs",
        "decay_lr_rate",
        "first_step_size",
        "second_step_size",
        "first_stair_count",
        "second_stair_count",
        "decay_step_size",
        "min_moms",
        "max_moms",
        "decay_mom_rate",
        "cycle_momentum",
    )

    def __init__(
        self,
        optimizer,
        cycle_min_lr,
        cycle_max_lr,
        decay_lr_rate=0.0,
        cycle_first_step_size=2000,
        cycle_second_step_size=None,
        cycle_first_stair_count=0,
        cycle_second_stair_count=None,
        decay_step_size=0,
        cycle_momentum=True,
        cycle_min_mom=0.8,
        cycle_max_mom=0.9,
        decay_mom_rate=0.0,
        last_batch_iteration=-1,
    ):
        self._begin(optimizer)
        first = float(cycle_first_step_size)
        second = float(cycle_second_step_size) if cycle_second_step_size is not None else first
        if first <= 0:
            raise ValueError(f"cycle_first_step_size must be positive, got {first}")
        if second < 0:
            raise ValueError(f"cycle_second_step_size must be non-negative, got {second}")
        self.total_size = first + second
        self.step_ratio = first / self.total_size
        self.first_step_size = first
        self.second_step_size = second
        self.first_stair_count = cycle_first_stair_count
        stairs = cycle_second_stair_count
        self.second_stair_count = cycle_first_stair_count if stairs is None else stairs
        self.decay_step_size = decay_step_size
        self.skip_lr_decay = self.skip_mom_decay = math.isclose(decay_step_size, 0)
        self.min_lrs = _format_param(self.optimizer, cycle_min_lr, "cycle_min_lr")
        self.max_lrs = _format_param(self.optimizer, cycle_max_lr, "cycle_max_lr")
        self.decay_lr_rate = decay_lr_rate
        if math.isclose(decay_lr_rate, 0):
            self.skip_lr_decay = True
        self.cycle_momentum = cycle_momentum
        self.decay_mom_rate = decay_mom_rate
        self.min_moms = self.max_moms = None
        if cycle_momentum:
            if "betas" not in self.optimizer.defaults:
                logger.warning(
                    "cycle_momentum is disabled because optimizer "
                    f"{type(self.optimizer).__name__} does not support momentum, no betas "
                    "attribute in defaults"
                )
                self.cycle_momentum = False
            else:
                moms = _format_param(self.optimizer, cycle_min_mom, "cycle_min_mom")
                self.min_moms = [(mom, 0.99) for mom in moms]
                moms = _format_param(self.optimizer, cycle_max_mom, "cycle_max_mom")
                self.max_moms = [(mom, 0.99) for mom in moms]
                if math.isclose(decay_mom_rate, 0):
                    self.skip_mom_decay = True
        self._specs()  # lrcore's checks before the optimizer is touched
        if last_batch_iteration == -1:
            update_lr(self.optimizer.param_groups, self.min_lrs)
            if self.cycle_momentum:
                for momentum, group in zip(self.min_moms, self.optimizer.param_groups):
                    group["betas"] = momentum
        self.last_batch_iteration = last_batch_iteration

    def _specs(self):
        groups = len(self.min_lrs)
        moms = self.min_moms or [(0.8, 0.99)] * groups
        top = self.max_moms or [(0.9, 0.99)] * groups
        specs = [
            lrcore.DeepSpeedOneCycle(
                cycle_min_lr=_float(self.min_lrs[g]),
                cycle_max_lr=_float(self.max_lrs[g]),
                decay_lr_rate=self.decay_lr_rate,
                cycle_first_step_size=self.first_step_size,
                cycle_second_step_size=self.second_step_size,
                cycle_first_stair_count=self.first_stair_count,
                cycle_second_stair_count=self.second_stair_count,
                decay_step_size=self.decay_step_size,
                cycle_momentum=bool(self.cycle_momentum),
                cycle_min_mom=moms[g][0],
                cycle_max_mom=top[g][0],
                decay_mom_rate=self.decay_mom_rate,
            )
            for g in range(groups)
        ]
        return specs, [1.0] * groups

    def get_lr(self):
        """Calculates the learning rate at batch index ``last_batch_iteration``."""
        return self._lookup()

    def get_mom(self):
        """The (beta1, beta2) of each group at batch index ``last_batch_iteration``."""
        if not self.cycle_momentum:
            return None
        if self.last_batch_iteration == -1:
            # DeepSpeed's formula at batch -1 (its constructor writes cycle_min_mom instead)
            return self.max_moms
        beta1 = self._lookup("momentum")
        return [(b, top[1]) for b, top in zip(beta1, self.max_moms)]

    def step(self, batch_iteration=None):
        """Updates the optimizer with the learning rate (and momentum) for the next
        batch index."""
        if batch_iteration is None:
            batch_iteration = self.last_batch_iteration + 1
        self.last_batch_iteration = batch_iteration
        if self._serve(batch_iteration):
            if not self.cycle_momentum:
                return
            r = self._lrsched.momentum  # betas from their own window, as the LRs
            i = batch_iteration + 1 - r.start
            if 0 <= i < r.size:
                for group, row, top in zip(self.optimizer.param_groups, r.rows, self.max_moms):
                    group["betas"] = (row[i], top[1])
                return
        else:
            self._last_lr = update_lr(self.optimizer.param_groups, self.get_lr())
        if self.cycle_momentum:
            for group, momentum in zip(self.optimizer.param_groups, self.get_mom()):
                group["betas"] = momentum


class LRRangeTest(_DeepSpeedScheduler):
    """DeepSpeed's LRRangeTest: the LR grows from ``lr_range_test_min_lr`` by
    ``lr_range_test_step_rate`` every ``lr_range_test_step_size`` steps (continuously,
    or in stairs)."""

    _spec_fields = ("min_lr", "step_size", "step_rate", "staircase")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_range_test_min_lr: float = 1e-3,
        lr_range_test_step_size: int = 2000,
        lr_range_test_step_rate: float = 1.0,
        lr_range_test_staircase: bool = False,
        last_batch_iteration: int = -1,
    ):
        self._begin(optimizer)
        groups = len(self.optimizer.param_groups)
        if isinstance(lr_range_test_min_lr, (list, tuple)):
            if len(lr_range_test_min_lr) != groups:
                raise ValueError(
                    f"expected {groups} lr_range_test_min_lr, got {len(lr_range_test_min_lr)}"
                )
            self.min_lr = list(lr_range_test_min_lr)
        else:
            self.min_lr = [lr_range_test_min_lr] * groups
        _positive_int("lr_range_test_step_size", lr_range_test_step_size)
        self.step_size = lr_range_test_step_size
        self.step_rate = lr_range_test_step_rate
        self.last_batch_iteration = last_batch_iteration
        self.staircase = lr_range_test_staircase
        self._specs()
        if last_batch_iteration == -1:
            self._last_lr = update_lr(self.optimizer.param_groups, self.min_lr)

    @property
    def interval_fn(self):
        """DeepSpeed's interval function (a property here: no bound method kept on
        the instance, so no reference cycle)."""
        return self._staircase_interval if self.staircase else self._continuous_interval

    def _staircase_interval(self):
        return math.floor(float(self.last_batch_iteration + 1) / self.step_size)

    def _continuous_interval(self):
        return float(self.last_batch_iteration + 1) / self.step_size

    def _get_increase(self):
        return 1 + self.step_rate * self.interval_fn()

    def _specs(self):
        specs = [
            lrcore.DeepSpeedLRRangeTest(
                lr_range_test_min_lr=_float(low),
                lr_range_test_step_size=self.step_size,
                lr_range_test_step_rate=self.step_rate,
                lr_range_test_staircase=bool(self.staircase),
            )
            for low in self.min_lr
        ]
        return specs, [1.0] * len(specs)

    def get_lr(self):
        return self._lookup()

    def step(self, batch_iteration=None):
        _DeepSpeedScheduler.step(self, batch_iteration)


#: DeepSpeed's scheduler names (a config's ``"scheduler": {"type": ...}``)
SCHEDULERS = {
    "LRRangeTest": LRRangeTest,
    "OneCycle": OneCycle,
    "WarmupLR": WarmupLR,
    "WarmupDecayLR": WarmupDecayLR,
    "WarmupCosineLR": WarmupCosineLR,
}


def from_deepspeed_config(optimizer, config):
    """The scheduler a DeepSpeed config's ``"scheduler"`` block describes, on
    ``optimizer``, as DeepSpeed's engine builds it (``Class(optimizer, **params)``);
    ``config`` is the whole config or the block, as a dict or a JSON file's path."""
    kind, params, _ = deepspeed_block(config)
    return SCHEDULERS[kind](optimizer, **params)
