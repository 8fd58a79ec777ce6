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

import logging
import math
import numbers

import lrcore

from . import _compile
from ._window import FIRST_WINDOW, MAX_WINDOW, hyperparameter

_logger = logging.getLogger(__name__)


class _TimmWindow:
    """The spec and the window of LRs around ``t``; held in the ``_lrsched`` slot,
    so ``__dict__`` and ``state_dict()`` hold timm's keys only."""

    __slots__ = ("spec", "rows", "start", "size")

    def __init__(self):
        self.spec = self.rows = self.start = None
        self.size = FIRST_WINDOW // 2


class _TimmScheduler(_compile.RunsEagerly):
    __slots__ = ("_lrsched",)

    _spec_class: type
    #: the attributes the spec is built from (a change rebuilds the window)
    _spec_fields: tuple[str, ...]

    #: timm's "no effect" warning (cosine and poly; not tanh)
    _warns_no_effect = True

    def __init_subclass__(cls, **kwargs):
        # the spec's fields: assigning one drops the window (as DeepSpeed's and Megatron's)
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
        no_effect = (self.t_initial, self.cycle_mul, self.cycle_decay) == (1, 1, 1)
        if self._warns_no_effect and no_effect:
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

    def get_cycle_length(self, cycles=0):
        cycles = max(1, cycles or self.cycle_limit)
        if self.cycle_mul == 1.0:
            t = self.t_initial * cycles
        else:
            t = int(
                math.floor(-self.t_initial * (self.cycle_mul**cycles - 1) / (1 - self.cycle_mul))
            )
        return t + self.warmup_t if self.warmup_prefix else t

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
        # a window that starts where the last one ended doubles; a jump starts small
        ahead = w.rows is not None and t == w.start + len(w.rows[0])
        size = min(2 * w.size, MAX_WINDOW) if ahead else FIRST_WINDOW
        table = lrcore.table(
            w.spec, size, [float(v) for v in self.base_values], start=t, check_finite=False
        )
        w.size = size
        w.start = t
        w.rows = table.tolist()

    def _drop_window(self):
        w = getattr(self, "_lrsched", None)
        if w is not None:
            w.spec = w.rows = w.start = None
            w.size = FIRST_WINDOW // 2


_COMMON = (
    "t_initial",
    "lr_min",
    "cycle_mul",
    "cycle_decay",
    "cycle_limit",
    "warmup_t",
    "warmup_lr_init",
    "warmup_prefix",
    "noise_range_t",
    "noise_pct",
    "noise_std",
)


# what every timm scheduler's window is built from besides its spec's fields
for _name in ("noise_seed", "base_values"):
    setattr(_TimmScheduler, _name, hyperparameter(_name, _TimmScheduler._drop_window))


class CosineLRScheduler(_TimmScheduler):
    """timm's CosineLRScheduler (SGDR with cycles, warm-up, k-decay and noise)."""

    _spec_class = lrcore.TimmCosine
    _spec_fields = (*_COMMON, "k_decay")

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


class TanhLRScheduler(_TimmScheduler):
    """timm's TanhLRScheduler (hyperbolic-tangent decay, Hsueh et al. 2019)."""

    _spec_class = lrcore.TimmTanh
    _spec_fields = (*_COMMON, "lb", "ub")
    _warns_no_effect = False

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


class PolyLRScheduler(_TimmScheduler):
    """timm's PolyLRScheduler (polynomial decay with warm-up, k-decay and noise)."""

    _spec_class = lrcore.TimmPoly
    _spec_fields = (*_COMMON, "power", "k_decay")

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
