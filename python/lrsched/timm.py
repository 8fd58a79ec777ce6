"""timm's schedulers, table-backed: CosineLRScheduler, TanhLRScheduler, PolyLRScheduler.

Same constructor arguments and defaults as ``timm.scheduler``, the same
``step(epoch, metric=None)`` / ``step_update(num_updates, metric=None)`` protocol
(``t_in_epochs`` picks which one moves the LR), ``lr_scale`` per param group,
``get_cycle_length()`` and a ``state_dict()`` with timm's keys, so a checkpoint
moves between timm's class and this one. timm itself is not needed.

The LRs are lrcore's ``timm_cosine`` / ``timm_tanh`` / ``timm_poly`` tables, equal
to timm's bit for bit (noise included) except where timm's floating-log cycle
index puts a restart one step late (see :mod:`lrcore.schedules.timm`). A step is
a lookup in a window of the table around ``t``. Differences from timm: ``t``
must be a whole number >= 0 (timm's own loops pass ``epoch + 1`` and
``num_updates``), and values timm would assert on or loop forever with
(``t_initial=0``, ``noise_pct=0``) raise a ValueError naming the parameter.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers

import lrcore
from lrcore.schedules.timm import timm_factory

from . import _compile
from ._window import Rows, group_spec, hyperparameter, no_spec, tabulate

_logger = logging.getLogger(__name__)


class _TimmWindow(Rows):
    """The spec and the window (lrsched._window.Rows) of LRs around ``t``, ``rows[g]``
    per group; held in the ``_lrsched`` slot, so ``__dict__`` and ``state_dict()`` hold
    timm's keys only."""

    __slots__ = ("spec",)

    def __init__(self):
        super().__init__()
        self.spec = None


class _TimmScheduler(_compile.RunsEagerly):
    __slots__ = ("_lrsched",)

    _spec_class: type
    #: the attributes the spec is built from (a change rebuilds the window): the spec
    #: class's fields but its noise seed (a hyperparameter of every timm class, below)
    _spec_fields: tuple[str, ...]

    #: timm's "no effect" warning (cosine and poly; not tanh, step, multistep, wsd)
    _warns_no_effect = False

    def __init_subclass__(cls, **kwargs):
        # the spec's fields: assigning one drops the window (as DeepSpeed's and Megatron's)
        if "_spec_class" in vars(cls):
            fields = dataclasses.fields(cls._spec_class)
            cls._spec_fields = tuple(f.name for f in fields if f.name != "noise_seed")
        for name in vars(cls).get("_spec_fields", ()):
            setattr(cls, name, hyperparameter(name, _TimmScheduler._drop_window))
        super().__init_subclass__(**kwargs)  # then marked to run eagerly (lrsched._compile)

    def _init(self, arguments):
        """timm's constructor, from the subclass's arguments (``locals()``): the
        hyperparameters as attributes, checked before the optimizer is touched,
        then timm's set-up of the param groups."""
        arguments = {k: v for k, v in arguments.items() if k not in ("self", "__class__")}
        object.__setattr__(self, "_lrsched", _TimmWindow())
        self.optimizer = arguments.pop("optimizer")
        initialize = arguments.pop("initialize")
        self.param_group_field = "lr"
        self._initial_param_group_field = "initial_lr"
        self.metric = None
        self.noise_type = "normal"
        seed = arguments.pop("noise_seed")
        self.noise_seed = seed if seed is not None else 42
        for name, value in arguments.items():  # t_in_epochs and the spec's fields
            setattr(self, name, value)
        if self._warns_no_effect and self._no_effect():
            _logger.warning(
                "Cosine annealing scheduler will have no effect on the learning "
                "rate since t_initial = t_mul = eta_mul = 1."
            )
        self._spec()
        groups = self.optimizer.param_groups
        if initialize:
            for i, group in enumerate(groups):
                if "lr" not in group:
                    raise KeyError(f"lr missing from param_groups[{i}]")
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(f"initial_lr missing from param_groups[{i}]")
        self.base_values = [group["initial_lr"] for group in groups]
        self.update_groups(self.base_values)
        if self.warmup_t:
            targets = self._warmup_targets()
            self.warmup_steps = [(v - self.warmup_lr_init) / self.warmup_t for v in targets]
            self.update_groups(self.warmup_lr_init)
        else:
            self.warmup_steps = [1 for _ in self.base_values]

    def _warmup_targets(self):
        return self.base_values

    def _no_effect(self):
        return (self.t_initial, self.cycle_mul, self.cycle_decay) == (1, 1, 1)

    def _lrcore_spec(self, group):
        """``lrcore.convert.spec_of(self, group)``."""
        return group_spec(self, [self._spec()] * len(self.base_values), self.base_values, group)

    def _spec(self):
        kwargs = {f: getattr(self, f) for f in self._spec_fields}
        return self._spec_class(**kwargs, noise_seed=self.noise_seed)

    # -- timm's protocol -------------------------------------------------------
    def step(self, epoch, metric=None):
        d = self.__dict__
        d["metric"] = metric
        if d["t_in_epochs"]:
            self._write(self._values(epoch, "epoch"))

    def step_update(self, num_updates, metric=None):
        d = self.__dict__
        d["metric"] = metric
        if not d["t_in_epochs"]:
            self._write(self._values(num_updates, "num_updates"))

    def _write(self, values):
        for group, value in zip(self.optimizer.param_groups, values):
            scale = group.get("lr_scale")
            group["lr"] = value if scale is None else value * scale

    def update_groups(self, values):
        if not isinstance(values, (list, tuple)):
            values = [values] * len(self.optimizer.param_groups)
        self._write(values)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._drop_window()

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        object.__setattr__(self, "_lrsched", _TimmWindow())
        self.__dict__.update(state)

    # -- the table ---------------------------------------------------------------
    def _values(self, t, name):
        w = self._lrsched
        rows = w.rows
        if type(t) is int and rows is not None:  # the common case: inside the window
            i = t - w.start
            if 0 <= i < len(rows[0]):
                return [row[i] for row in rows]
        if isinstance(t, float) and t.is_integer():
            t = int(t)
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
            raise ValueError(
                f"{type(self).__name__}: {name} must be a whole number >= 0 "
                f"(a table index), got {name}={t!r}"
            )
        t = int(t)
        if rows is None or not (w.start <= t < w.start + len(rows[0])):
            self._refill(w, t)
        return [row[t - w.start] for row in w.rows]

    def _refill(self, w, t):
        if w.spec is None:
            w.spec = self._spec()
        bases = [float(v) for v in self.base_values]

        def fetch(start, size, stride):
            return tabulate(w.spec, bases, start, size, finite=False)

        w.refill(t, fetch)

    def _drop_window(self):
        w = getattr(self, "_lrsched", None)
        if w is not None:
            w.spec = None
            w.clear()


class _CycleScheduler(_TimmScheduler):
    """timm's schedulers with cycles (cosine, tanh, poly)."""

    def get_cycle_length(self, cycles=0):
        cycles = max(1, cycles or self.cycle_limit)
        if self.cycle_mul == 1.0:
            t = self.t_initial * cycles
        else:
            t = int(
                math.floor(-self.t_initial * (self.cycle_mul**cycles - 1) / (1 - self.cycle_mul))
            )
        return t + self.warmup_t if self.warmup_prefix else t


# what every timm scheduler's window is built from besides its spec's fields
for _name in ("noise_seed", "base_values"):
    setattr(_TimmScheduler, _name, hyperparameter(_name, _TimmScheduler._drop_window))


class CosineLRScheduler(_CycleScheduler):
    """timm's CosineLRScheduler (SGDR with cycles, warm-up, k-decay and noise)."""

    _spec_class = lrcore.TimmCosine
    _warns_no_effect = True

    def __init__(
        self,
        optimizer,
        t_initial: int,
        lr_min: float = 0.0,
        cycle_mul: float = 1.0,
        cycle_decay: float = 1.0,
        cycle_limit: int = 1,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        warmup_prefix: bool = False,
        t_in_epochs: bool = True,
        noise_range_t=None,
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int = 42,
        k_decay: float = 1.0,
        initialize: bool = True,
    ) -> None:
        self._init(locals())


class TanhLRScheduler(_CycleScheduler):
    """timm's TanhLRScheduler (hyperbolic-tangent decay, Hsueh et al. 2019)."""

    _spec_class = lrcore.TimmTanh

    def __init__(
        self,
        optimizer,
        t_initial: int,
        lb: float = -7.0,
        ub: float = 3.0,
        lr_min: float = 0.0,
        cycle_mul: float = 1.0,
        cycle_decay: float = 1.0,
        cycle_limit: int = 1,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        warmup_prefix: bool = False,
        t_in_epochs: bool = True,
        noise_range_t=None,
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int = 42,
        initialize: bool = True,
    ) -> None:
        self._init(locals())

    def _warmup_targets(self):
        # timm's tanh warm-up aims at its own value at warmup_t unless prefixed
        if self.warmup_prefix:
            return self.base_values
        fields = {f: getattr(self, f) for f in self._spec_fields}
        spec = lrcore.TimmTanh(**{**fields, "warmup_t": 0, "noise_range_t": None})
        bases = [float(v) for v in self.base_values]
        return lrcore.table(spec, 1, bases, start=self.warmup_t)[:, 0].tolist()


class PolyLRScheduler(_CycleScheduler):
    """timm's PolyLRScheduler (polynomial decay with warm-up, k-decay and noise)."""

    _spec_class = lrcore.TimmPoly
    _warns_no_effect = True

    def __init__(
        self,
        optimizer,
        t_initial: int,
        power: float = 0.5,
        lr_min: float = 0.0,
        cycle_mul: float = 1.0,
        cycle_decay: float = 1.0,
        cycle_limit: int = 1,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        warmup_prefix: bool = False,
        t_in_epochs: bool = True,
        noise_range_t=None,
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int = 42,
        k_decay: float = 1.0,
        initialize: bool = True,
    ) -> None:
        self._init(locals())


class StepLRScheduler(_TimmScheduler):
    """timm's StepLRScheduler (``decay_rate`` every ``decay_t``, warm-up and noise)."""

    _spec_class = lrcore.TimmStep

    def __init__(
        self,
        optimizer,
        decay_t: float,
        decay_rate: float = 1.0,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        warmup_prefix: bool = True,
        t_in_epochs: bool = True,
        noise_range_t=None,
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int = 42,
        initialize: bool = True,
    ) -> None:
        self._init(locals())


class MultiStepLRScheduler(_TimmScheduler):
    """timm's MultiStepLRScheduler: milestone ``m`` of ``decay_t`` applies from
    ``t = m - 1`` (timm's convention, one step before torch's MultiStepLR)."""

    _spec_class = lrcore.TimmMultiStep

    def __init__(
        self,
        optimizer,
        decay_t: list,
        decay_rate: float = 1.0,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        warmup_prefix: bool = True,
        t_in_epochs: bool = True,
        noise_range_t=None,
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int = 42,
        initialize: bool = True,
    ) -> None:
        self._init(locals())

    def get_curr_decay_steps(self, t):
        """How many milestones have applied at ``t`` (timm's ``bisect_right(decay_t, t + 1)``)."""
        import bisect

        return bisect.bisect_right(self.decay_t, t + 1)


class WSDLRScheduler(_TimmScheduler):
    """timm's WSDLRScheduler: warm-up, a stable phase, a decay to ``lr_min`` over the
    last ``decay_t`` steps of ``t_initial``. A ``decay_fn`` given as a Python function is
    called as timm calls it, step by step on the host; the named ones are tables."""

    _spec_class = lrcore.TimmWSD

    def __init__(
        self,
        optimizer,
        t_initial: int,
        decay_t: int,
        lr_min: float = 0.0,
        stable_fn: str = "constant",
        stable_timescale=None,
        stable_power: float = 0.5,
        decay_fn="1-sqrt",
        decay_power: float = 0.5,
        decay_ratio: float = 0.1,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        t_in_epochs: bool = True,
        noise_range_t=None,
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int = 42,
        initialize: bool = True,
    ) -> None:
        if stable_fn != "constant" and stable_timescale is None:
            stable_timescale = warmup_t  # timm's default, kept as the attribute
        self._init(locals())

    def get_cycle_length(self, cycles=0):
        return self.warmup_t + self.t_initial

    def _spec(self):
        kwargs = {f: getattr(self, f) for f in self._spec_fields}
        if callable(kwargs["decay_fn"]):  # checked with a named one; run on the host
            kwargs["decay_fn"] = "linear"
        return self._spec_class(**kwargs, noise_seed=self.noise_seed)

    def _values(self, t, name):
        decay_fn = self.__dict__["decay_fn"]
        if not callable(decay_fn):
            return super()._values(t, name)
        return [self._host_lr(v, t, decay_fn) for v in self.base_values]

    def _host_lr(self, base, t, decay_fn):
        """timm's value with a Python decay function: the kernel's arithmetic in Python."""
        if t < self.warmup_t:
            lr = self.warmup_lr_init + t * ((base - self.warmup_lr_init) / self.warmup_t)
        else:
            t_s = t - self.warmup_t
            stable = 1.0
            if self.stable_fn != "constant":
                power = 0.5 if self.stable_fn == "rsqrt" else self.stable_power
                stable = (1.0 + t_s / self.stable_timescale) ** -power
            lr = max(base * stable, self.lr_min)
            t_decay = t_s - (self.t_initial - self.decay_t)
            if t_decay > 0:
                lr = self.lr_min + (lr - self.lr_min) * decay_fn(min(t_decay / self.decay_t, 1.0))
        r = self.noise_range_t
        if r is not None and (r[0] <= t < r[1] if isinstance(r, (list, tuple)) else t >= r):
            from lrcore.kernels.noise import timm_noise  # compiled: 2 µs a draw (plain: 150)

            lr = lr + lr * timm_noise(self.noise_seed + t, self.noise_std, self.noise_pct)
        return lr


class PlateauLRScheduler(_compile.RunsEagerly):
    """timm's PlateauLRScheduler: torch's ReduceLROnPlateau stepped with the metric
    after a linear warm-up (``epoch <= warmup_t``), with timm's seeded noise on top.
    Metric-driven, so no table: this is timm's protocol around lrsched's own
    ReduceLROnPlateau. timm deprecates it, and so warns; its ``state_dict`` holds
    ``best`` and ``last_epoch`` only, as timm's."""

    def __init__(
        self,
        optimizer,
        decay_rate: float = 0.1,
        patience_t: int = 10,
        threshold: float = 1e-4,
        cooldown_t: int = 0,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        lr_min: float = 0.0,
        mode: str = "max",
        noise_range_t=None,
        noise_type: str = "normal",
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed=None,
        initialize: bool = True,
    ) -> None:
        from .plateau import ReduceLROnPlateau

        self.optimizer = optimizer
        self.param_group_field = "lr"
        self._initial_param_group_field = "initial_lr"
        groups = optimizer.param_groups
        if initialize:
            for i, group in enumerate(groups):
                if "lr" not in group:
                    raise KeyError(f"lr missing from param_groups[{i}]")
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(f"initial_lr missing from param_groups[{i}]")
        self.base_values = [group["initial_lr"] for group in groups]
        self.metric = None
        self.t_in_epochs = True
        self.noise_range_t = noise_range_t
        self.noise_pct = noise_pct
        self.noise_type = noise_type
        self.noise_std = noise_std
        self.noise_seed = noise_seed if noise_seed is not None else 42
        self.update_groups(self.base_values)
        import warnings

        warnings.warn(
            "PlateauLRScheduler is deprecated and will be removed in a future timm release. "
            "Its metric-driven state (best metric, patience and cooldown counters) is not "
            "saved in checkpoints, so a resumed run restarts the plateau logic, and checkpoint "
            "support will not be added. Use a fixed schedule such as cosine or wsd, sweep.py "
            "can branch WSD cooldowns at several budgets to compare against a plateau-driven "
            "decay.",
            FutureWarning,
            stacklevel=2,
        )
        self.lr_scheduler = ReduceLROnPlateau(
            optimizer,
            patience=patience_t,
            factor=decay_rate,
            threshold=threshold,
            cooldown=cooldown_t,
            mode=mode,
            min_lr=lr_min,
        )
        self.warmup_t = warmup_t
        self.warmup_lr_init = warmup_lr_init
        if warmup_t:
            self.warmup_steps = [(v - warmup_lr_init) / warmup_t for v in self.base_values]
            self.update_groups(warmup_lr_init)
        else:
            self.warmup_steps = [1 for _ in self.base_values]
        self.restore_lr = None

    def _lrcore_spec(self, group):
        no_spec(self, "follows a metric")

    def state_dict(self):
        return {"best": self.lr_scheduler.best, "last_epoch": self.lr_scheduler.last_epoch}

    def load_state_dict(self, state_dict):
        self.lr_scheduler.best = state_dict["best"]
        if "last_epoch" in state_dict:
            self.lr_scheduler.last_epoch = state_dict["last_epoch"]

    def update_groups(self, values):
        if not isinstance(values, (list, tuple)):
            values = [values] * len(self.optimizer.param_groups)
        for group, value in zip(self.optimizer.param_groups, values):
            scale = group.get("lr_scale")
            group["lr"] = value if scale is None else value * scale

    def step(self, epoch, metric=None):
        if epoch <= self.warmup_t:
            self.update_groups([self.warmup_lr_init + epoch * s for s in self.warmup_steps])
            return
        if self.restore_lr is not None:  # the LR before the last noise, for the base step
            for group, lr in zip(self.optimizer.param_groups, self.restore_lr):
                group["lr"] = lr
            self.restore_lr = None
        if metric is not None:
            self.lr_scheduler.step(metric)
        if self._noise_at(epoch):
            noise = self._noise(epoch)
            self.restore_lr = [float(g["lr"]) for g in self.optimizer.param_groups]
            for group, old in zip(self.optimizer.param_groups, self.restore_lr):
                group["lr"] = old + old * noise

    def step_update(self, num_updates, metric=None):
        return None

    def _noise_at(self, t):
        r = self.noise_range_t
        if r is None:
            return False
        if isinstance(r, (list, tuple)):
            return r[0] <= t < r[1]
        return t >= r

    def _noise(self, t):
        if self.noise_type == "normal":
            from lrcore.kernels.noise import timm_noise  # compiled: 2 µs a draw (plain: 150)

            return timm_noise(self.noise_seed + t, self.noise_std, self.noise_pct)
        import torch  # timm's uniform noise: one float32 draw of torch's generator

        g = torch.Generator()
        g.manual_seed(self.noise_seed + t)
        return 2 * (torch.rand(1, generator=g).item() - 0.5) * self.noise_pct


# -- timm's factory -----------------------------------------------------------------------------
def scheduler_kwargs(cfg, decreasing_metric=None):
    """timm's ``scheduler_kwargs``: ``create_scheduler_v2``'s arguments from an argparse
    namespace or a config object, with timm's defaults for what it lacks."""
    eval_metric = getattr(cfg, "eval_metric", "top1")
    if decreasing_metric is not None:
        plateau_mode = "min" if decreasing_metric else "max"
    else:
        plateau_mode = "min" if "loss" in eval_metric else "max"
    return dict(
        sched=cfg.sched,
        num_epochs=getattr(cfg, "epochs", 100),
        decay_epochs=getattr(cfg, "decay_epochs", 30),
        decay_milestones=getattr(cfg, "decay_milestones", [30, 60]),
        warmup_epochs=getattr(cfg, "warmup_epochs", 5),
        cooldown_epochs=getattr(cfg, "cooldown_epochs", 0),
        patience_epochs=getattr(cfg, "patience_epochs", 10),
        decay_rate=getattr(cfg, "decay_rate", 0.1),
        min_lr=getattr(cfg, "min_lr", 0.0),
        warmup_lr=getattr(cfg, "warmup_lr", 1e-5),
        warmup_prefix=getattr(cfg, "warmup_prefix", False),
        noise=getattr(cfg, "lr_noise", None),
        noise_pct=getattr(cfg, "lr_noise_pct", 0.67),
        noise_std=getattr(cfg, "lr_noise_std", 1.0),
        noise_seed=getattr(cfg, "seed", 42),
        cycle_mul=getattr(cfg, "lr_cycle_mul", 1.0),
        cycle_decay=getattr(cfg, "lr_cycle_decay", 0.1),
        cycle_limit=getattr(cfg, "lr_cycle_limit", 1),
        k_decay=getattr(cfg, "lr_k_decay", 1.0),
        decay_fn=getattr(cfg, "lr_decay_fn", None),
        stable_timescale=getattr(cfg, "lr_stable_timescale", None),
        plateau_mode=plateau_mode,
        step_on_epochs=not getattr(cfg, "sched_on_updates", False),
    )


def create_scheduler(args, optimizer, updates_per_epoch: int = 0):
    """timm's ``create_scheduler``: :func:`create_scheduler_v2` from an argparse namespace."""
    return create_scheduler_v2(
        optimizer=optimizer, **scheduler_kwargs(args), updates_per_epoch=updates_per_epoch
    )


def create_scheduler_v2(
    optimizer,
    sched: str = "cosine",
    num_epochs: int = 300,
    decay_epochs=None,
    decay_milestones=(90, 180, 270),
    cooldown_epochs: int = 0,
    patience_epochs: int = 10,
    decay_rate: float = 0.1,
    min_lr: float = 0.0,
    warmup_lr: float = 1e-5,
    warmup_epochs: int = 0,
    warmup_prefix: bool = False,
    noise=None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    cycle_mul: float = 1.0,
    cycle_decay: float = 0.1,
    cycle_limit: int = 1,
    k_decay: float = 1.0,
    decay_fn=None,
    stable_timescale=None,
    plateau_mode: str = "max",
    step_on_epochs: bool = True,
    updates_per_epoch: int = 0,
):
    """timm's ``create_scheduler_v2`` with lrsched's classes: the same names, arguments
    and arithmetic (epochs to updates, noise as fractions of the schedule, WSD's decay
    phase), returning ``(scheduler, num_epochs)`` as timm does (``(None, num_epochs)``
    for ``sched='none'``)."""
    arguments = dict(locals())
    del arguments["optimizer"]
    name, kwargs = timm_factory(**arguments)
    scheduler = None if name is None else globals()[name](optimizer, **kwargs)
    cooldown_t = cooldown_epochs if step_on_epochs else cooldown_epochs * updates_per_epoch
    if hasattr(scheduler, "get_cycle_length"):
        # cycles and cooldown (the warm-up prefix is in get_cycle_length)
        total = scheduler.get_cycle_length() + cooldown_t
        num_epochs = total if step_on_epochs else total // updates_per_epoch
    elif warmup_prefix:
        num_epochs += warmup_epochs
    return scheduler, num_epochs
