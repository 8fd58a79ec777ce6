"""fairseq's LR schedulers (``fairseq.optim.lr_scheduler``), table-backed.

The classes take what fairseq's take, ``(cfg, optimizer)``, and keep its protocol:
fairseq's Trainer calls ``step_update(num_updates)`` after building the scheduler
and after every update, ``step_begin_epoch(epoch)`` when an epoch starts and
``step(epoch, val_loss)`` when it ends; each sets the optimizer's LR and returns it.
``state_dict()`` / ``load_state_dict()`` have fairseq's keys (``{"best": ...}``, and
``{"lr": ...}`` for ``fixed``), so checkpoints move both ways. fairseq itself is not
needed.

* ``cfg``: fairseq's dataclass config, an omegaconf ``DictConfig``, an argparse
  ``Namespace`` or a dict; a missing field takes fairseq's default. ``cfg.lr`` is a
  list (fairseq's ``--lr``) or a number. Like fairseq's classes, the constructor writes
  the resolved ``warmup_init_lr`` (and ``cosine``'s lowered ``min_lr``) back into it.
* ``optimizer``: a fairseq optimizer (anything with ``get_lr()`` / ``set_lr(lr)``) or a
  ``torch.optim.Optimizer``, whose groups then all get the LR, as fairseq's
  ``set_lr`` does (``sched.optimizer`` is then a fairseq-style view of it, and
  ``sched.optimizer.optimizer`` the torch optimizer, as with fairseq's wrappers).

``step_update`` reads lrcore's ``fairseq_*`` table (equal to fairseq's values bit for
bit) through a window that grows while the updates run in order. ``fixed`` and the
epoch parts of ``polynomial_decay`` (an LR per epoch, ``force_anneal``) are
fairseq's per-epoch arithmetic, done as fairseq does it; ``polynomial_decay``
re-tables its decay when its epoch LR changes.

To use them inside fairseq's own Trainer, replace its builder before the Trainer is
made::

    import fairseq.optim.lr_scheduler, lrsched.fairseq
    fairseq.optim.lr_scheduler.build_lr_scheduler = lrsched.fairseq.build_lr_scheduler

Differences from fairseq: ``num_updates`` must be a whole number >= 0 (fairseq would
compute its formula at a negative or fractional count), and the values derived from
``cfg`` at construction (``decay_factor``, ``period``, ...) are read-only here, since
the table is made from them; change ``cfg`` and build a new scheduler instead.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping

import lrcore
from lrcore.schedules.fairseq import SCHEDULERS as SPECS
from lrcore.schedules.fairseq import from_config

from . import _compile
from ._window import Rows, group_spec, no_spec

__all__ = [
    "FairseqLRScheduler",
    "InverseSquareRootSchedule",
    "StepLRSchedule",
    "CosineLRSchedule",
    "PolynomialDecayLRSchedule",
    "TriStageLRSchedule",
    "TriangularLRSchedule",
    "FixedLRSchedule",
    "SCHEDULERS",
    "build_lr_scheduler",
]

_MISSING = object()


def _get(cfg, name, default=_MISSING):
    value = cfg.get(name, _MISSING) if isinstance(cfg, Mapping) else getattr(cfg, name, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise ValueError(f"fairseq scheduler: cfg has no {name!r} (fairseq's --{name})")
        return default
    return value


#: fairseq's defaults, per scheduler: its specs' (and polynomial_decay's force_anneal,
#: which is fairseq's but not the spec's: epochs drive it)
_DEFAULTS = {
    name: {f.name: f.default for f in dataclasses.fields(cls)} for name, cls in SPECS.items()
}
_DEFAULTS["polynomial_decay"]["force_anneal"] = None
_NO_WARMUP = _DEFAULTS["fixed"]["warmup_updates"]


def _put(cfg, name, value):
    if isinstance(cfg, Mapping):
        cfg[name] = value
    else:
        setattr(cfg, name, value)


def _lrs(cfg):
    """``cfg.lr`` as fairseq holds it: a list (a number becomes a one-entry list)."""
    lr = _get(cfg, "lr")
    if isinstance(lr, numbers.Real):
        return [lr]
    return list(lr)


def _single_lr(cfg, who, show=False):
    """``cfg.lr[0]``, refused as fairseq refuses a list of several LRs (``show``: its
    message ends with the list, as fairseq's ``cosine`` writes it)."""
    lrs = _lrs(cfg)
    if len(lrs) > 1:
        end = f" ({_get(cfg, 'lr')})" if show else ""
        raise ValueError(
            f"Cannot use a fixed learning rate schedule with {who}."
            f" Consider --lr-scheduler=fixed instead.{end}"
        )
    return lrs[0]


class _TorchOptimizer:
    """A torch optimizer seen as fairseq's optimizer (``get_lr`` / ``set_lr``)."""

    __slots__ = ("optimizer",)

    def __init__(self, optimizer):
        self.optimizer = optimizer

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    def get_lr(self):
        return self.optimizer.param_groups[0]["lr"]

    def set_lr(self, lr):
        for group in self.optimizer.param_groups:
            group["lr"] = lr


def _as_fairseq_optimizer(optimizer):
    if callable(getattr(optimizer, "set_lr", None)) and callable(
        getattr(optimizer, "get_lr", None)
    ):
        return optimizer
    if isinstance(getattr(optimizer, "param_groups", None), list):
        return _TorchOptimizer(optimizer)
    raise ValueError(
        "optimizer must be a fairseq optimizer (with get_lr() and set_lr()) or a "
        f"torch.optim.Optimizer, got {type(optimizer).__name__}"
    )


def _updates(num_updates):
    """fairseq's update count as the table index: a whole number >= 0."""
    if isinstance(num_updates, numbers.Integral) and not isinstance(num_updates, bool):
        t = int(num_updates)
    elif isinstance(num_updates, float) and num_updates.is_integer():
        t = int(num_updates)
    else:
        raise TypeError(f"num_updates must be a whole number >= 0, got num_updates={num_updates!r}")
    if t < 0:
        raise ValueError(
            f"num_updates must be a whole number >= 0, got num_updates={num_updates!r}"
        )
    return t


class _Series(Rows):
    """The table of one spec, ``rows[k]`` at ``start + k``: a window (lrsched._window.Rows)."""

    __slots__ = ("spec",)

    def __init__(self, spec):
        super().__init__()
        self.spec = spec

    def at(self, t):
        i = t - self.start
        if 0 <= i < self.size:
            return self.rows[i]
        return self.refill(t, self._fetch)[0]

    def _fetch(self, start, size, stride):
        return lrcore.table(self.spec, size, start=start).tolist()


class FairseqLRScheduler(_compile.RunsEagerly):
    """fairseq's scheduler base: ``best`` tracks the lowest validation loss."""

    #: fairseq's ``--lr-scheduler`` name (its defaults, its spec)
    scheduler = None

    def __init__(self, cfg, optimizer):
        self.cfg = cfg
        self.optimizer = _as_fairseq_optimizer(optimizer)
        self.best = None
        self._mapping = isinstance(cfg, Mapping)

    def _setting(self, name):
        """``cfg``'s value of ``name``, read now (fairseq reads its config as it goes), or
        fairseq's default."""
        default = _DEFAULTS[self.scheduler][name]
        if self._mapping:
            return self.cfg.get(name, default)
        return getattr(self.cfg, name, default)

    def _spec(self, **given):
        """lrcore's spec of this scheduler from ``cfg`` (a field it lacks takes fairseq's
        default), with ``given`` fields resolved here."""
        name = self.scheduler
        fields = {f.name: _get(self.cfg, f.name, None) for f in dataclasses.fields(SPECS[name])}
        for key, value in fields.items():
            # fairseq's dataclass configs, made without hydra, keep their defaults from
            # other groups as "${optimization.max_update}"; fairseq reads those only when
            # it needs them (cosine's max_update without lr_period_updates), so they are
            # absent here, and a spec that needs one asks for it
            if isinstance(value, str) and value.startswith("${"):
                fields[key] = None
        return from_config(name, {**fields, **given}, where=name)

    def state_dict(self):
        """Return the LR scheduler state dict."""
        return {"best": self.best}

    def load_state_dict(self, state_dict):
        """Load an LR scheduler state dict."""
        self.best = state_dict["best"]

    def step_begin_epoch(self, epoch):
        """Update the learning rate at the beginning of the given epoch."""

    def step(self, epoch, val_loss=None):
        """Update the learning rate at the end of the given epoch."""
        if val_loss is not None:
            self.best = val_loss if self.best is None else min(self.best, val_loss)

    def step_update(self, num_updates):
        """Update the learning rate after each update."""
        return self.optimizer.get_lr()


def _derived(name):
    """A read-only attribute: what fairseq's constructor computes (the spec's
    ``derived()[name]``), in fairseq's type."""

    def get(self):
        value = self._series.spec.derived()[name]
        return int(value) if isinstance(value, float) and name in self._ints else value

    def refuse(self, value):
        raise AttributeError(
            f"{type(self).__name__}.{name} is computed from cfg when the scheduler is built "
            "(its table is made from it): change cfg and build a new scheduler"
        )

    return property(get, refuse, doc=f"fairseq's ``self.{name}`` (read-only here).")


class _Tabled(FairseqLRScheduler):
    """A scheduler whose LR is a function of ``num_updates``: the epoch hooks leave it."""

    _ints = frozenset()

    def _lrcore_spec(self, group):
        """``lrcore.convert.spec_of(self, group)``: fairseq sets one LR for every group."""
        groups = len(self.optimizer.param_groups)
        return group_spec(self, [self._series.spec] * groups, [None] * groups, group)

    def _start(self, spec, lr):
        self._series = _Series(spec)
        self.lr = lr
        self.optimizer.set_lr(lr)

    def step(self, epoch, val_loss=None):
        """Update the learning rate at the end of the given epoch."""
        super().step(epoch, val_loss)
        # we don't change the learning rate at epoch boundaries
        return self.optimizer.get_lr()

    def step_update(self, num_updates):
        """Update the learning rate after each update."""
        series = self._series
        if type(num_updates) is int and 0 <= num_updates - series.start < series.size:
            lr = series.rows[num_updates - series.start]  # the window: a lookup
        else:
            lr = series.at(_updates(num_updates))
        self.lr = lr
        self.optimizer.set_lr(lr)
        return lr


class InverseSquareRootSchedule(_Tabled):
    """fairseq's ``inverse_sqrt``: linear warm-up, then ``lr * sqrt(W / num_updates)``."""

    scheduler = "inverse_sqrt"

    lr_step = _derived("lr_step")
    decay_factor = _derived("decay_factor")

    def __init__(self, cfg, optimizer):
        super().__init__(cfg, optimizer)
        spec = self._spec(lr=_single_lr(cfg, "inverse_sqrt"))
        init = spec.derived()["warmup_init_lr"]
        if self._setting("warmup_init_lr") < 0:  # resolved, as fairseq writes it back
            _put(cfg, "warmup_init_lr", init)
        self._start(spec, init)


class StepLRSchedule(_Tabled):
    """fairseq's ``step``: linear warm-up, then ``lr_decay`` every ``lr_deacy_period``."""

    scheduler = "step"

    _ints = frozenset({"warmup_updates", "lr_deacy_period"})
    warmup_lr_step = _derived("warmup_lr_step")
    warmup_init_lr = _derived("warmup_init_lr")
    warmup_updates = _derived("warmup_updates")
    max_lr = _derived("max_lr")
    min_lr = _derived("min_lr")
    lr_deacy_period = _derived("lr_deacy_period")
    lr_decay = _derived("lr_decay")

    def __init__(self, cfg, fairseq_optimizer):
        super().__init__(cfg, fairseq_optimizer)
        spec = self._spec(lr=_lrs(cfg)[0])
        self._start(spec, spec.derived()["warmup_init_lr"])


class CosineLRSchedule(_Tabled):
    """fairseq's ``cosine``: linear warm-up, then SGDR cycles (``t_mult``, ``lr_shrink``)."""

    scheduler = "cosine"

    _ints = frozenset({"warmup_updates"})
    lr_step = _derived("lr_step")
    warmup_updates = _derived("warmup_updates")
    max_lr = _derived("max_lr")
    period = _derived("period")
    t_mult = _derived("t_mult")
    lr_shrink = _derived("lr_shrink")

    def __init__(self, cfg, fairseq_optimizer):
        super().__init__(cfg, fairseq_optimizer)
        lr = _single_lr(cfg, "cosine", show=True)
        period, max_update = self._setting("lr_period_updates"), self._setting("max_update")
        if period <= 0 and not (isinstance(max_update, numbers.Real) and max_update > 0):
            raise ValueError("Either --max_update or --lr-period-updates must be set")
        spec = self._spec(lr=lr)
        min_lr, init = spec.derived()["min_lr"], spec.derived()["warmup_init_lr"]
        if min_lr != self._setting("min_lr"):  # lowered to lr, written back as fairseq does
            _put(cfg, "min_lr", min_lr)
        if self._setting("warmup_init_lr") < 0:
            _put(cfg, "warmup_init_lr", init)
        self._start(spec, init)


class TriStageLRSchedule(_Tabled):
    """fairseq's ``tri_stage``: warm-up, hold, exponential decay, then the final LR."""

    scheduler = "tri_stage"

    _ints = frozenset({"warmup_steps", "hold_steps", "decay_steps"})
    init_lr = _derived("init_lr")
    warmup_rate = _derived("warmup_rate")
    warmup_steps = _derived("warmup_steps")
    hold_steps = _derived("hold_steps")
    decay_steps = _derived("decay_steps")
    peak_lr = _derived("peak_lr")
    decay_factor = _derived("decay_factor")
    final_lr = _derived("final_lr")

    def __init__(self, cfg, optimizer):
        super().__init__(cfg, optimizer)
        spec = self._spec(lr=_single_lr(cfg, "tri-stage lr"))
        self._start(spec, spec.derived()["init_lr"])


class TriangularLRSchedule(_Tabled):
    """fairseq's ``triangular``: cycles between ``lr`` and ``max_lr`` (Smith 2017)."""

    scheduler = "triangular"

    min_lr = _derived("min_lr")
    max_lr = _derived("max_lr")
    stepsize = _derived("stepsize")
    lr_shrink = _derived("lr_shrink")

    def __init__(self, cfg, optimizer):
        super().__init__(cfg, optimizer)
        lr = _single_lr(cfg, "triangular")
        self._start(self._spec(lr=lr), lr)

    @property
    def shrink_min(self):
        """fairseq's ``self.shrink_min`` (read-only here)."""
        return self._series.spec.shrink_min


class PolynomialDecayLRSchedule(FairseqLRScheduler):
    """fairseq's ``polynomial_decay``: linear warm-up from 0, then a polynomial decay to
    ``end_learning_rate`` at ``total_num_update``. ``self.lr`` is the epoch's peak
    (``cfg.lr[epoch]``, or with ``force_anneal`` the LR of the moment)."""

    scheduler = "polynomial_decay"

    _ints = frozenset()
    end_learning_rate = _derived("end_learning_rate")
    power = _derived("power")
    total_num_update = _derived("total_num_update")

    def _lrcore_spec(self, group):
        no_spec(self, "follows its epochs (its LR is set per epoch, not a table of updates)")

    def __init__(self, cfg, optimizer):
        super().__init__(cfg, optimizer)
        self.lr = _lrs(cfg)[0]
        spec = self._spec(lr=self.lr)  # fairseq: total_num_update > 0
        self._warmup = warmup = spec.warmup_updates
        self.warmup_factor = 1.0 / warmup if warmup > 0 else 1
        self._series, self._lr = _Series(spec), self.lr
        self.optimizer.set_lr(self.warmup_factor * self.lr)

    def _table(self, lr):
        """The decay from the epoch's LR ``lr`` (fairseq reads ``self.lr`` each update)."""
        self._series = _Series(dataclasses.replace(self._series.spec, lr=lr))
        self._lr = lr
        return self._series

    def get_next_lr(self, epoch):
        lrs = _lrs(self.cfg)
        anneal = self._setting("force_anneal")
        if anneal is None or epoch < anneal:
            return lrs[min(epoch, len(lrs) - 1)]  # fairseq indexes by epoch here
        return self.optimizer.get_lr()

    def step_begin_epoch(self, epoch):
        """Update the learning rate at the beginning of the given epoch."""
        self.lr = self.get_next_lr(epoch)
        self.optimizer.set_lr(self.warmup_factor * self.lr)
        return self.optimizer.get_lr()

    def step_update(self, num_updates):
        """Update the learning rate after each update."""
        t = num_updates if type(num_updates) is int and num_updates >= 0 else _updates(num_updates)
        series = self._series
        if self.lr != self._lr:  # a new epoch LR (or one set by hand): a new table
            series = self._table(self.lr)
        if 0 < self._warmup and t <= self._warmup:
            self.warmup_factor = t / float(self._warmup)
        i = t - series.start
        lr = series.rows[i] if 0 <= i < series.size else series.at(t)
        self.optimizer.set_lr(lr)
        return self.optimizer.get_lr()


class FixedLRSchedule(FairseqLRScheduler):
    """fairseq's ``fixed``: ``cfg.lr[epoch - 1]`` (the last from then on), annealed by
    ``lr_shrink`` after ``force_anneal`` epochs, with a linear warm-up over updates.
    Its LR changes per epoch, so it is fairseq's arithmetic, not a table
    (``lrcore.FairseqFixed`` tabulates it for a fixed epoch length)."""

    scheduler = "fixed"

    def _lrcore_spec(self, group):
        no_spec(self, "follows its epochs (its LR is set per epoch, not a table of updates)")

    def __init__(self, cfg, optimizer):
        super().__init__(cfg, optimizer)
        self._spec(lr=tuple(_lrs(cfg)), updates_per_epoch=None)  # the checks
        self.lr = _lrs(cfg)[0]
        warmup = self._setting("warmup_updates")
        self.warmup_factor = 1.0 / warmup if warmup > 0 else 1

    def state_dict(self):
        return {"lr": self.lr}

    def load_state_dict(self, state_dict):
        if "lr" in state_dict:
            self.lr = state_dict["lr"]

    def get_next_lr(self, epoch):
        lrs = _lrs(self.cfg)
        anneal = self._setting("force_anneal")
        if anneal is None or epoch < anneal:
            return lrs[min(epoch - 1, len(lrs) - 1)]
        return lrs[-1] * self._setting("lr_shrink") ** (epoch + 1 - anneal)

    def step_begin_epoch(self, epoch):
        """Update the learning rate at the beginning of the given epoch."""
        self.lr = self.get_next_lr(epoch)
        self.optimizer.set_lr(self.warmup_factor * self.lr)
        return self.optimizer.get_lr()

    def step_update(self, num_updates):
        """Update the learning rate after each update."""
        t = num_updates if type(num_updates) is int and num_updates >= 0 else _updates(num_updates)
        cfg = self.cfg  # read every update, as fairseq reads it
        if self._mapping:
            warmup = cfg.get("warmup_updates", _NO_WARMUP)
        else:
            warmup = getattr(cfg, "warmup_updates", _NO_WARMUP)
        if warmup > 0 and t < warmup:
            self.warmup_factor = (t + 1) / float(warmup)
            self.optimizer.set_lr(self.warmup_factor * self.lr)
        else:
            self.optimizer.set_lr(self.lr)
        return self.optimizer.get_lr()


#: fairseq's ``--lr-scheduler`` names -> the classes here
SCHEDULERS = {
    cls.scheduler: cls
    for cls in (
        InverseSquareRootSchedule,
        StepLRSchedule,
        CosineLRSchedule,
        PolynomialDecayLRSchedule,
        TriStageLRSchedule,
        TriangularLRSchedule,
        FixedLRSchedule,
    )
}


def build_lr_scheduler(cfg, optimizer):
    """fairseq's ``build_lr_scheduler``: the scheduler named by ``cfg._name`` (fairseq's
    ``--lr-scheduler``; ``fixed`` when absent). A name lrsched does not have is refused,
    naming the ones it has."""
    name = _get(cfg, "_name", None) or _get(cfg, "lr_scheduler", None) or "fixed"
    if name not in SCHEDULERS:
        raise ValueError(
            f"build_lr_scheduler: lr_scheduler must be one of {', '.join(sorted(SCHEDULERS))}, "
            f"got lr_scheduler={name!r}"
        )
    return SCHEDULERS[name](cfg, optimizer)
