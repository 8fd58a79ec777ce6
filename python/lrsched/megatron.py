"""Megatron-Core's OptimizerParamScheduler, table-backed.

Same constructor arguments as ``megatron.core.optimizer_param_scheduler`` (0.16),
the same ``step(increment)`` protocol (``num_steps`` grows by ``increment``; Megatron's
training loop passes a global batch of samples), ``get_lr(param_group)``,
``get_wd(param_group)``, per-group ``max_lr`` / ``min_lr`` / ``start_wd`` / ``end_wd``
overrides and ``wd_mult``, and Megatron's ``state_dict()`` / ``load_state_dict()``,
including its checkpoint checks (``use_checkpoint_opt_param_scheduler``,
``override_opt_param_scheduler``) and its older key names. Megatron itself is not
needed.

Each group's LR and weight decay are lrcore's ``megatron`` table (``quantity="lr"``
and ``"weight_decay"``), equal to Megatron's bit for bit. A step is a lookup in a
window of the table strided by the step's increment (``lrcore.table(..., stride=)``),
so a run that counts samples reads one entry per step, not one per sample.

Megatron checks its arguments with bare ``assert`` statements; here a failed check
raises :class:`SchedulerCheckError`, an ``AssertionError`` (what Megatron raises)
that is also a ``ValueError`` and names the parameter.
"""

from __future__ import annotations

import logging

import lrcore

from . import _compile
from ._window import Rows, group_spec, hyperparameter

logger = logging.getLogger(__name__)


class SchedulerCheckError(AssertionError, ValueError):
    """One of Megatron's assertions on the scheduler's arguments failed."""


def get_canonical_lr_for_logging(param_groups):
    """The LR of the first ``default_config=True`` group (Megatron's logging helper)."""
    for group in param_groups:
        if group.get("default_config", False):
            return group.get("lr")
    return None


class _Tables(Rows):
    """One group's LR and weight decay (both from one spec) at steps ``start``,
    ``start + stride``, ... (``size`` of them): a window (lrsched._window.Rows) of
    lrcore's strided table, its rows also held as ``lr`` and ``wd``."""

    __slots__ = ("spec", "lr", "wd")

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.lr = self.wd = None

    def at(self, t, increment):
        """(LR, weight decay) at ``num_steps = t``; a new window when ``t`` is outside,
        strided by ``increment`` (the step's size)."""
        d = t - self.start
        i = d // self.stride
        if 0 <= i < self.size and i * self.stride == d:
            return self.lr[i], self.wd[i]
        self.lr, self.wd = self.refill(t, self._fetch, increment if increment >= 1 else 1)
        return self.lr[0], self.wd[0]

    def _fetch(self, start, size, stride):
        lr = lrcore.table(self.spec, size, start=start, stride=stride)
        wd = lrcore.table(self.spec, size, start=start, stride=stride, quantity="weight_decay")
        return lr.tolist(), wd.tolist()


class OptimizerParamScheduler(_compile.RunsEagerly):
    """Megatron-Core's OptimizerParamScheduler: the LR (warm-up, then ``constant``,
    ``linear``, ``cosine``, ``inverse-square-root`` or ``WSD`` decay) and the weight
    decay of every param group."""

    _spec_fields = frozenset(
        {
            "init_lr",
            "max_lr",
            "min_lr",
            "lr_warmup_steps",
            "lr_decay_steps",
            "lr_decay_style",
            "wsd_decay_steps",
            "lr_wsd_decay_style",
            "start_wd",
            "end_wd",
            "wd_incr_steps",
            "wd_incr_style",
        }
    )

    def __init__(
        self,
        optimizer,
        init_lr: float,
        max_lr: float,
        min_lr: float,
        lr_warmup_steps: int,
        lr_decay_steps: int,
        lr_decay_style: str,
        start_wd: float,
        end_wd: float,
        wd_incr_steps: int,
        wd_incr_style: str,
        use_checkpoint_opt_param_scheduler: bool | None = True,
        override_opt_param_scheduler: bool | None = False,
        wsd_decay_steps: int | None = None,
        lr_wsd_decay_style: str | None = None,
    ) -> None:
        self._drop_tables()
        self.optimizer = optimizer
        self.init_lr = init_lr
        self.max_lr = float(max_lr)
        self.min_lr = min_lr
        self.lr_warmup_steps = lr_warmup_steps
        self.num_steps = 0
        self.lr_decay_steps = lr_decay_steps
        self.wsd_decay_steps = wsd_decay_steps
        self.lr_wsd_decay_style = lr_wsd_decay_style
        self.lr_decay_style = lr_decay_style
        self.start_wd = start_wd
        self.end_wd = end_wd
        self.wd_incr_steps = wd_incr_steps
        self.wd_incr_style = wd_incr_style
        self.override_opt_param_scheduler = override_opt_param_scheduler
        self.use_checkpoint_opt_param_scheduler = use_checkpoint_opt_param_scheduler
        if override_opt_param_scheduler and use_checkpoint_opt_param_scheduler:
            raise SchedulerCheckError("both override and use-checkpoint are set.")
        self._spec(self.max_lr, self.min_lr, self.start_wd, self.end_wd)  # the checks
        self.step(0)
        logger.info(f"> learning rate decay style: {self.lr_decay_style}")

    # -- the tables ------------------------------------------------------------------
    def _drop_tables(self):
        self.__dict__["_series"] = {}
        self.__dict__["_last"] = (None, None)

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("_series", "_last")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._drop_tables()

    def _spec(self, max_lr, min_lr, start_wd, end_wd):
        try:
            return lrcore.Megatron(
                max_lr=float(max_lr),
                lr_decay_steps=self.lr_decay_steps,
                init_lr=float(self.init_lr),
                min_lr=float(min_lr),
                lr_warmup_steps=self.lr_warmup_steps,
                lr_decay_style=self.lr_decay_style,
                wsd_decay_steps=self.wsd_decay_steps,
                lr_wsd_decay_style=self.lr_wsd_decay_style,
                start_wd=float(start_wd),
                end_wd=float(end_wd),
                wd_incr_steps=self.wd_incr_steps,
                wd_incr_style=self.wd_incr_style,
            )
        except (TypeError, ValueError) as error:
            raise SchedulerCheckError(str(error)) from None

    def _lrcore_spec(self, group):
        """``lrcore.convert.spec_of(self, group)``: the group's own max/min LR and weight
        decay where it has them, as ``step`` reads them."""
        groups = self.optimizer.param_groups
        specs = [self._spec(*self._key(g)) for g in groups]
        return group_spec(self, specs, [None] * len(specs), group)

    def _tables(self, key):
        tables = self.__dict__.setdefault("_series", {})
        found = tables.get(key)
        if found is None:
            found = tables[key] = _Tables(self._spec(*key))
        return found

    def _key(self, param_group):
        if param_group is None:
            return (self.max_lr, self.min_lr, self.start_wd, self.end_wd)
        get = param_group.get
        return (
            get("max_lr", self.max_lr),
            get("min_lr", self.min_lr),
            get("start_wd", self.start_wd),
            get("end_wd", self.end_wd),
        )

    def _num_steps(self):
        t = self.num_steps
        if type(t) is int and t >= 0:
            return t
        if isinstance(t, float) and t.is_integer() and t >= 0:
            return int(t)
        raise ValueError(
            "OptimizerParamScheduler: num_steps must be a whole number >= 0 (the sum of "
            f"the increments), got num_steps={t!r}"
        )

    # -- Megatron's protocol -----------------------------------------------------------
    def get_wd(self, param_group: dict | None = None) -> float:
        """The weight decay at ``num_steps`` (the group's ``start_wd`` / ``end_wd``
        where it sets them)."""
        return self._tables(self._key(param_group)).at(self._num_steps(), 0)[1]

    def get_lr(self, param_group: dict) -> float:
        """The learning rate at ``num_steps`` (the group's ``max_lr`` / ``min_lr``
        where it sets them)."""
        return self._tables(self._key(param_group)).at(self._num_steps(), 0)[0]

    def step(self, increment: int) -> None:
        """Move ``num_steps`` by ``increment`` and set every group's LR and weight decay."""
        d = self.__dict__  # the hyperparameters are properties: read them once, here
        t = d["num_steps"] = d["num_steps"] + increment
        if type(t) is not int or t < 0 or type(increment) is not int:
            t = self._num_steps()
            increment = int(increment) if float(increment).is_integer() else 0
        tables = d["_series"]
        top, low, start, end = d["max_lr"], d["min_lr"], d["start_wd"], d["end_wd"]
        # the last overrides and their tables, kept from step to step: a group with the
        # same ones (all of them, usually) skips the lookup, since a tuple compares its
        # items by identity first and hashes nothing
        last, found = d["_last"]
        for group in self.optimizer.param_groups:
            get = group.get
            key = (
                get("max_lr", top),
                get("min_lr", low),
                get("start_wd", start),
                get("end_wd", end),
            )
            if key != last:
                found = tables.get(key)
                if found is None:
                    found = self._tables(key)
                d["_last"] = (key, found)
                last = key
            gap = t - found.start
            i = gap // found.stride
            if 0 <= i < found.size and i * found.stride == gap:  # inside the window
                lr, wd = found.lr[i], found.wd[i]
            else:
                lr, wd = found.at(t, increment)
            group["lr"] = lr
            group["weight_decay"] = wd * get("wd_mult", 1.0)

    def state_dict(self) -> dict:
        return {
            "max_lr": self.max_lr,
            "lr_warmup_steps": self.lr_warmup_steps,
            "num_steps": self.num_steps,
            "lr_decay_style": self.lr_decay_style,
            "lr_decay_steps": self.lr_decay_steps,
            "min_lr": self.min_lr,
            "start_wd": self.start_wd,
            "end_wd": self.end_wd,
            "wd_incr_style": self.wd_incr_style,
            "wd_incr_steps": self.wd_incr_steps,
        }

    def _check_and_set(self, cls_value, sd_value, name):
        if self.override_opt_param_scheduler:
            logger.info(f" > overriding {name} value to {cls_value}")
            return cls_value
        if not self.use_checkpoint_opt_param_scheduler:
            if cls_value != sd_value:
                raise SchedulerCheckError(
                    f"OptimizerParamScheduler: class input value {cls_value} and checkpoint"
                    f"value {sd_value} for {name} do not match"
                )
        logger.info(f" > using checkpoint value {sd_value} for {name}")
        return sd_value

    @staticmethod
    def _first(state_dict, *names):
        for name in names[:-1]:
            if name in state_dict:
                return state_dict[name]
        return state_dict[names[-1]]

    def load_state_dict(self, state_dict: dict) -> None:
        """Megatron's: each value from the checkpoint (or checked against it, or kept),
        its older key names accepted, then ``step(num_steps)``."""
        sd = state_dict
        check = self._check_and_set
        self.max_lr = check(self.max_lr, self._first(sd, "start_lr", "max_lr"), "learning rate")
        self.min_lr = check(self.min_lr, sd["min_lr"], "minimum learning rate")
        warmup = self._first(sd, "warmup_iter", "warmup_steps", "lr_warmup_steps")
        self.lr_warmup_steps = check(self.lr_warmup_steps, warmup, "warmup iterations")
        decay = self._first(sd, "end_iter", "decay_steps", "lr_decay_steps")
        self.lr_decay_steps = check(self.lr_decay_steps, decay, "total number of iterations")
        style = self._first(sd, "decay_style", "lr_decay_style")
        self.lr_decay_style = check(self.lr_decay_style, style, "learning rate decay style")
        self.step(increment=self._first(sd, "num_iters", "num_steps"))
        if "start_wd" in sd:
            self.start_wd = check(self.start_wd, sd["start_wd"], "start weight decay")
            self.end_wd = check(self.end_wd, sd["end_wd"], "end weight decay")
            self.wd_incr_steps = check(
                self.wd_incr_steps, sd["wd_incr_steps"], "total number of weight decay iterations"
            )
            self.wd_incr_style = check(
                self.wd_incr_style, sd["wd_incr_style"], "weight decay incr style"
            )


for _name in OptimizerParamScheduler._spec_fields:
    _property = hyperparameter(_name, OptimizerParamScheduler._drop_tables)
    setattr(OptimizerParamScheduler, _name, _property)
