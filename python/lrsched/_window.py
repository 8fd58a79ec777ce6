"""The table-backed ``step()`` shared by every drop-in scheduler.

A scheduler keeps, per param group, a window of upcoming LRs computed by lrcore
(torch numerics: the very values torch's ``get_lr`` would produce). ``step()`` is
a lookup while nothing has disturbed the run: the group's LR is still the float
object the scheduler wrote (an edit, another scheduler, an optimizer state load
all replace it), ``last_epoch`` is where the scheduler left it, no ``epoch`` is
passed. Otherwise torch's own step runs for that step, and the next window
continues torch's recurrence from the LR it left (lrcore's ``previous_lr``),
which is exact. Windows grow from 64 to 65,536 steps, so memory is O(window)
however long the run.

How a program holds the scheduler changes nothing: ``step`` is the class's own
method (``st = sched.step`` taken before the first step serves every later step
from the table), and the window lives in one slot, ``_lrsched`` (a
:class:`_Window`), not in the instance ``__dict__``. So ``__dict__`` and
``state_dict()`` hold exactly torch's keys (a scheduler that stepped and a fresh
one that loaded its ``state_dict()`` compare equal by ``__dict__``, as torch's
own tests compare them), and nothing refers back to the scheduler: it is freed
by reference counting, with its optimizer and parameters, as torch's are.

Attributes are read and written as plain attributes, never through ``__dict__``
and with no ``__setattr__`` override: CPython (3.11) keeps an instance's attributes
inline, and specialises attribute access on them, only until ``__dict__`` is
touched; after that torch's own ``get_lr`` runs ~20% slower on the instance. A
changed hyperparameter (``sched.gamma = 0.5``) is therefore noticed by the step
itself: the window remembers the values it was built from (one C-level
``attrgetter`` call and a tuple comparison a step).

Every adapter keeps its window in a :class:`Rows` (growth, refill, stride; the rows'
quantities from :func:`tabulate`), and has one invalidation policy: when what a window
was made from changes, it is dropped, and the next step builds one from that step.
Only how the change is seen differs, as each framework's attributes allow: torch's
classes compare the values inline (above); timm's, DeepSpeed's and Megatron's
hyperparameters are :func:`hyperparameter` properties whose assignment drops the
window; fairseq's are read-only (fairseq computes them once from ``cfg``);
ReduceLROnPlateau's ``schedule`` is compared by identity.
"""

from __future__ import annotations

import operator
import types
import warnings
import weakref

from torch.optim import lr_scheduler as _torch

import lrcore

from . import _args, _compile

FIRST_WINDOW = 64
MAX_WINDOW = 65_536


def window_size(previous: int, ahead: bool) -> int:
    """The growth rule of every window: one that continues the last (``ahead``) is
    twice as long, up to MAX_WINDOW; a first one, or one after a jump, FIRST_WINDOW."""
    return min(2 * previous, MAX_WINDOW) if ahead and previous else FIRST_WINDOW


def group_spec(owner, specs, bases, group):
    """``lrcore.convert.spec_of``'s answer for ``owner``'s param group ``group``:
    ``(spec, base LR)``, the base ``None`` for a spec of absolute LRs."""
    if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < len(specs):
        raise ValueError(
            f"spec_of: group must be an integer in [0, {len(specs)}) ({type(owner).__name__} "
            f"has {len(specs)} param group(s)), got group={group!r}"
        )
    spec = specs[group]
    if spec.name == "raw":  # CyclicLR's, OneCycleLR's: torch's derived attributes
        raise ValueError(
            f"spec_of: {type(owner).__name__} keeps its schedule in torch's derived form "
            f"(not its constructor's arguments); read its constructor call instead: "
            f"lrcore.convert.from_torch_call('{type(owner).__name__}(optimizer, ...)')"
        )
    return spec, (None if spec.absolute else float(bases[group]))


def no_spec(owner, why):
    """``spec_of``'s refusal for a scheduler that follows no table."""
    raise ValueError(f"spec_of: {type(owner).__name__} {why}; it has no spec")


class Rows:
    """The window core of every drop-in (torch's classes, transformers' and timm's,
    DeepSpeed's, Megatron's, fairseq's, ReduceLROnPlateau's ``schedule=``): ``rows`` as
    ``fetch`` made them for table indices ``start``, ``start + stride``, ... (``size`` of
    them; 0: none yet). It owns the growth rule (:func:`window_size`), the refill, the
    stride, and the one invalidation: :meth:`clear`, when what the rows were made from
    changes. What rows hold (one quantity or several, one row per group or one) is the
    ``fetch``'s, usually :func:`tabulate`. An adapter translates its framework's counter
    into an index, reads ``rows`` directly in its step and calls :meth:`refill` outside
    it."""

    __slots__ = ("rows", "start", "stride", "size")

    def __init__(self):
        self.rows, self.start, self.stride, self.size = None, 0, 1, 0

    def refill(self, t, fetch, stride=1, *, stop=None, ahead=None):
        """The window from index ``t``: ``fetch(t, size, stride)`` makes its rows (and
        they are returned). ``ahead``: whether it continues the last window (by default,
        whether it starts where the last one ended); ``stop``: one past the last index
        the schedule defines (None: unbounded; a window empty by it is no window)."""
        if ahead is None:
            ahead = stride == self.stride and t == self.start + self.size * stride
        size = window_size(self.size, ahead)
        if stop is not None and stop - t < size:
            size = stop - t
            if size <= 0:
                self.clear()
                return None
        self.rows = fetch(t, size, stride)
        self.start, self.stride, self.size = t, stride, size
        return self.rows

    def clear(self):
        self.rows, self.start, self.stride, self.size = None, 0, 1, 0


def tabulate(specs, bases, start, size, stride=1, *, quantity="lr", previous=None, finite=True):
    """Rows of ``size`` values from table index ``start`` for each param group
    (``rows[g][k]``): ``specs``, one spec for every group or one per group, at each group's
    base LR in ``bases``; ``previous``: each group's current LR, which torch's numerics
    continue from (None: the schedule ignores it); ``finite``: lrcore's finite check."""
    if not isinstance(specs, (list, tuple)):
        specs = [specs] * len(bases)
    if all(spec is specs[0] for spec in specs) and not specs[0].absolute:
        # one spec for every group: one table call, one row per group
        return lrcore.table(
            specs[0],
            size,
            bases,
            start=start,
            stride=stride,
            quantity=quantity,
            previous_lr=previous,
            check_finite=finite,
        ).tolist()
    return [
        lrcore.table(
            spec,
            size,
            base,
            start=start,
            stride=stride,
            quantity=quantity,
            previous_lr=None if previous is None else previous[g],
            check_finite=finite,
        ).tolist()
        for g, (spec, base) in enumerate(zip(specs, bases))
    ]


#: ``_Window.t`` and ``stop`` while no window is served: ``t + 1 < stop`` fails
_IDLE = -(2**62)

# torch's messages for the warnings of LRScheduler.step (torch 1.1 to 2.13)
_OVERRIDDEN = (
    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
    "initialization. Please, make sure to call `optimizer.step()` before "
    "`lr_scheduler.step()`. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)
_BEFORE_OPTIMIZER = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
    "will result in PyTorch skipping the first value of the learning rate schedule. "
    "See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)


try:  # torch's own helpers for writing and reading LRs (tensor LRs filled in place)
    from torch.optim.lr_scheduler import _param_groups_val_list, _update_param_group_val
except ImportError:  # torch before 2.6: floats only

    def _update_param_group_val(group, key, value):
        group[key] = value

    def _param_groups_val_list(optimizer, key):
        return [group[key] for group in optimizer.param_groups]


def hyperparameter(name, reset):
    """A property kept under its own name in the instance ``__dict__`` (so ``__dict__``
    holds the peer's keys) whose assignment calls ``reset(self)`` (the tables built
    from it are dropped). The step itself never reads it."""

    def get(self):
        return self.__dict__[name]

    def set(self, value):
        self.__dict__[name] = value
        reset(self)

    # host code: eager inside a compiled function, as the methods that read it
    get, set = _compile.run_eagerly(get), _compile.run_eagerly(set)
    return property(get, set, doc=f"``{name}`` (assigning it rebuilds the table)")


def torch_step_warnings(sched, epoch, stacklevel):
    """The warnings of torch's ``LRScheduler.step``, at ``stacklevel`` from the caller
    of this function (so at the user's line, as torch gives them)."""
    if getattr(sched, "_step_count", None) == 1:
        if not hasattr(sched.optimizer.step, "_wrapped_by_lr_sched"):
            warnings.warn(_OVERRIDDEN, UserWarning, stacklevel=stacklevel + 1)
        elif not getattr(sched.optimizer, "_opt_called", False):
            warnings.warn(_BEFORE_OPTIMIZER, UserWarning, stacklevel=stacklevel + 1)
    if epoch is not None:
        warnings.warn(_torch.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=stacklevel + 1)


def _tracked_step(opt_ref, func):
    """``optimizer.step`` that records the call, as torch's scheduler wraps it.

    torch's wrapper is defined in ``torch/optim/lr_scheduler.py``, a file
    ``torch.compile`` never traces, so a compiled ``optimizer.step()`` with any
    torch scheduler attached runs eagerly. This one is lrsched's own function:
    dynamo traces through it into the optimizer's step. It holds the optimizer
    weakly (no reference cycle through ``optimizer.step``)."""

    def step(*args, **kwargs):
        opt = opt_ref()
        opt._opt_called = True
        return func(opt, *args, **kwargs)

    step.__wrapped__ = func
    step.__name__ = getattr(func, "__name__", "step")
    step.__qualname__ = getattr(func, "__qualname__", "step")
    step.__doc__ = getattr(func, "__doc__", None)
    step._wrapped_by_lr_sched = True
    return step


_TRACKED_CODE = _tracked_step(None, None).__code__


def track_optimizer_step(optimizer):
    """Replace torch's ``optimizer.step`` wrapper by :func:`_tracked_step` (once).

    The instance attribute is read as an attribute, not through ``__dict__``
    (touching ``__dict__`` slows every later attribute access on the optimizer)."""
    current = getattr(optimizer, "step", None)
    if not isinstance(current, types.FunctionType):
        return  # the class's method (bound), or something else: not torch's wrapper
    if not getattr(current, "_wrapped_by_lr_sched", False):
        return
    if current.__code__ is _TRACKED_CODE:
        return  # already ours
    func = getattr(current, "__wrapped__", None)
    if func is None or not callable(func):
        return
    optimizer.step = _tracked_step(weakref.ref(optimizer), func)


def write_momentum(groups, columns, i, beta):
    """Each group's momentum, or Adam's beta1, from its column at ``i``."""
    if beta:
        for group, column in zip(groups, columns):
            group["betas"] = (column[i], *group["betas"][1:])
    else:
        for group, column in zip(groups, columns):
            group["momentum"] = column[i]


class _Window(Rows):
    """A torch drop-in's private state: the window (:class:`Rows`, ``rows[g]`` per
    group) served by the fast path, the slow path's bookkeeping and device mode. Held
    in the ``_lrsched`` slot."""

    __slots__ = (
        "check",  # attrgetter of the attributes the window was built from
        "built_from",  # their values then
        "extra",  # None, or an attrgetter of attributes only some instances have
        "extra_from",  # their values then
        "t",  # the last step served (== last_epoch while the run is undisturbed)
        "stop",  # one past the window's last step (start + size while serving)
        "single",  # one group, no momentum: the short path
        "plain",  # counts _step_count, no extra bookkeeping
        "values",  # single: rows[0]; else rows
        "written",  # single: the float written; else one per group
        "group",  # single: the param group dict
        "dicts",  # the param group dicts
        "groups",  # optimizer.param_groups when the window was built
        "opt",
        "momentum",  # None, or one column per group
        "beta",  # momentum written as betas[0]
        "streak",  # consecutive slow steps
        "slow_at",  # last_epoch after the last slow step
        "disabled",  # values lrcore cannot express (torch's path until they change)
        "device",  # device mode: a lrsched.device.DeviceTable
        "device_origin",
        "device_args",
        "device_check",  # device mode: torch's first-step warning still to check
    )

    def __init__(self, check):
        super().__init__()
        self.check = check
        self.built_from = None
        self.extra = self.extra_from = None
        self.streak = 0
        self.slow_at = None
        self.disabled = None
        self.device = None
        self.device_origin = None
        self.device_args = None
        self.device_check = False
        self.drop()

    def drop(self):
        """Serve nothing (the rows stay, for the growth rule, until the next refill)."""
        self.t = self.stop = _IDLE
        self.single = self.plain = False
        self.values = self.written = self.group = self.dicts = None
        self.groups = self.opt = self.momentum = None
        self.beta = False


#: ``step()`` of every table-backed class, generated per class (as dataclasses
#: generate ``__init__``) so that the class's hyperparameters are checked inline:
#: ``self.<name> is b[i]`` for each name in ``_spec_attrs``, against the values the
#: window was built from. An inline check costs ~10 ns a name; a call to compare
#: them ~70 ns, a quarter of the whole step. Everything else is shared code.
_STEP = """
def step(self, epoch=None):
    w = self._lrsched
    t = w.t + 1
    if t < w.stop and epoch is None:
        b = w.built_from
        if (
            self.last_epoch == w.t
            and self.optimizer is b[0]
            and w.opt.param_groups is w.groups
            and self.base_lrs is b[1]{checks}
            and (w.extra is None or w.extra(self) == w.extra_from)
        ):
            last = None
            if w.single:
                group = w.group
                if group["lr"] is w.written and len(w.groups) == 1:
                    i = t - w.start
                    v = w.values[i]
                    group["lr"] = v
                    w.written = v
                    m = w.momentum
                    if m is not None:  # inline: a call here costs CyclicLR a third
                        if w.beta:
                            group["betas"] = (m[0][i], *group["betas"][1:])
                        else:
                            group["momentum"] = m[0][i]
                    last = [v]
            else:
                last = self._serve_many(w, t)
            if last is not None:
                w.t = t
                self.last_epoch = t
                if w.plain:
                    self._step_count += 1
                else:
                    self._advance_fast()
                self._last_lr = last
                return None
    if w.device is not None:
        self._device_step(w, epoch)
        return None
    if self._base_step and (epoch is not None or self._step_count == 1):
        torch_step_warnings(self, epoch, stacklevel=2)
    self._slow_step(w, epoch)
    return None
"""


def _make_step(cls):
    """``cls.step``: :data:`_STEP` with ``cls._spec_attrs`` checked inline."""
    for name in cls._spec_attrs:
        if not name.isidentifier():
            raise TypeError(f"{cls.__name__}._spec_attrs: {name!r} is not an attribute name")
    checks = "".join(
        f"\n            and self.{name} is b[{i + 2}]" for i, name in enumerate(cls._spec_attrs)
    )
    namespace = {}
    code = compile(_STEP.format(checks=checks), f"<lrsched: {cls.__qualname__}.step>", "exec")
    exec(code, {"torch_step_warnings": torch_step_warnings}, namespace)
    step = namespace["step"]
    step.__qualname__ = f"{cls.__qualname__}.step"
    step.__module__ = cls.__module__
    torch_base = cls._torch_base
    step.__doc__ = getattr(getattr(torch_base, "step", None), "__doc__", None)
    step._lrsched_generated = True
    return _compile.run_eagerly(step)


class TableStepMixin:
    """Mixed in before a torch scheduler class; subclasses define ``_specs()``.

    ``_specs()`` returns ``(specs, bases, stateless)``: one lrcore spec per group,
    the base LR of each, and whether the schedule ignores the group's current LR
    (then no continuation value is needed). It raises ``NotImplementedError``
    where lrcore cannot express the scheduler's parameters; torch's own step is
    used then.
    """

    __slots__ = ("_lrsched",)

    #: attributes whose change invalidates the window
    _spec_attrs: tuple[str, ...] = ()
    #: "momentum" when the scheduler also cycles momentum / beta1
    _momentum_key: str | None = None
    #: whether torch's step() counts ``_step_count`` for this class
    _counts_steps = True
    #: whether each served step also runs :meth:`_advance_fast`
    _extra = False

    def __init__(self, *args, device=None, dtype=None, horizon=None, **kwargs):
        self._lrsched = _Window(None)  # its check is made with the first window
        # torch's constructor first (its own checks and messages), then what torch
        # lets through but cannot run on (lrsched._args); a refused scheduler leaves
        # the optimizer's param groups as they were
        where = self._torch_base.__name__
        arguments = _args.bind(self._torch_base.__init__, args, kwargs)
        saved = _args.snapshot(arguments.get("optimizer"))
        try:
            super().__init__(*args, **kwargs)
        except Exception as exc:
            _args.restore(arguments.get("optimizer"), saved)
            if isinstance(exc, (ArithmeticError, TypeError)):  # a value torch did not check
                _args.check(where, arguments)
            raise
        try:
            _args.check(where, arguments)
            self._checked_specs()  # e.g. a NaN that only a spec reveals: now, not later
        except NotImplementedError:
            pass
        except (TypeError, ValueError):
            _args.restore(self.optimizer, saved)
            raise
        track_optimizer_step(self.optimizer)
        if device is not None:
            self.to_device(device, dtype=dtype, horizon=horizon)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if _compile.is_device_class(cls):
            return  # device mode's twin of a class already set up (see lrsched._compile)
        # torch's signature, plus the device-mode keywords
        import inspect

        torch_base = next((b for b in cls.__mro__[1:] if b.__module__.startswith("torch.")), None)
        cls._torch_base = torch_base
        # torch's step is LRScheduler.step unless the class has its own (CAWR)
        cls._base_step = torch_base is None or torch_base.step is _torch.LRScheduler.step
        inherited = cls.step
        if inherited is TableStepMixin.step or getattr(inherited, "_lrsched_generated", False):
            cls.step = _make_step(cls)  # a class with its own step() (composites) keeps it
        if torch_base is not None and "__init__" in vars(torch_base):
            sig = inspect.signature(torch_base.__init__)
            extra = [
                inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
                for n in ("device", "dtype", "horizon")
            ]
            params = [p for p in sig.parameters.values() if p.kind != p.VAR_KEYWORD]
            cls.__signature__ = sig.replace(parameters=params[1:] + extra)
        # host mode runs eagerly inside a compiled function, as torch's class does
        _compile.run_class_eagerly(cls, traced=TRACED)

    # -- the step ----------------------------------------------------------------
    def _watched(self):
        """The attributes the window depends on besides the LRs: the optimizer,
        ``base_lrs`` and the class's hyperparameters (``_spec_attrs``), in the order
        the generated ``step`` reads them from ``built_from``."""
        return ("optimizer", "base_lrs", *self._spec_attrs)

    def _attribute_getter(self):
        return operator.attrgetter(*self._watched())

    def _watch_extra(self, w):
        """Attributes watched beyond ``_spec_attrs`` (only some instances have them,
        so the generated step cannot read them unconditionally)."""
        names = self._watched()[2 + len(self._spec_attrs) :]
        w.extra = operator.attrgetter(*names) if names else None
        w.extra_from = w.extra(self) if names else None

    def step(self, epoch=None):  # noqa: D102 - replaced per class by _make_step
        raise NotImplementedError

    def _serve_many(self, w, t):
        """Several groups' LRs (and momenta) at step ``t``: their list, or None where a
        group's LR is not the one written (the attributes are already checked)."""
        dicts = w.dicts
        written = w.written
        if len(w.groups) != len(dicts):
            return None
        for group, value in zip(dicts, written):
            if group["lr"] is not value:
                return None
        i = t - w.start
        last = []
        for g, column in enumerate(w.values):
            v = column[i]
            dicts[g]["lr"] = written[g] = v
            last.append(v)
        if w.momentum is not None:
            write_momentum(dicts, w.momentum, i, w.beta)
        return last

    def _advance_fast(self):
        """Bookkeeping beyond ``last_epoch`` on a served step (CosineAnnealingWarmRestarts)."""

    def _slow_step(self, w, epoch):
        """torch's own step, then (usually) a new window.

        After a disturbance the window restarts small; while the run is disturbed
        step after step (a chained scheduler, an LR edited every step, tensor LRs)
        windows are rebuilt only on the 1st, 2nd, 4th, 8th... consecutive slow step,
        and the step costs what torch's own does.
        """
        before = self.last_epoch
        serving = w.stop != _IDLE
        grow = serving and epoch is None and before + 1 >= w.stop
        if self._base_step:
            # torch's LRScheduler.step after its warnings (issued by step()): count,
            # then the LRs from get_lr() (_get_closed_form_lr() for step(epoch) where
            # the class has one), written as torch writes them
            self._step_count += 1
            self._get_lr_called_within_step = True
            try:
                if epoch is None:
                    self.last_epoch = before + 1
                    values = self.get_lr()
                else:
                    self.last_epoch = epoch
                    closed = getattr(self, "_get_closed_form_lr", None)
                    values = closed() if closed is not None else self.get_lr()
            finally:
                self._get_lr_called_within_step = False
            opt = self.optimizer
            for group, lr in zip(opt.param_groups, values, strict=True):
                _update_param_group_val(group, "lr", lr)
            self._last_lr = _param_groups_val_list(opt, "lr")
        else:
            self._torch_base.step(self, epoch)
        streak = w.streak + 1 if before == w.slow_at else 1
        w.streak = streak
        w.slow_at = self.last_epoch
        if grow or streak & (streak - 1) == 0:
            self._refill(w, grow)
        elif serving:
            w.drop()

    def _refill(self, w, grow):
        """Build the window that continues from the LRs torch just left (``grow``: the
        last window ran out, and this one continues it)."""
        w.drop()
        if not self._ready():
            return
        w.check = self._attribute_getter()
        built_from = w.check(self)
        if w.disabled is not None and w.disabled == built_from:
            return  # lrcore cannot express these values: torch's path until they change
        w.disabled = None
        opt = self.optimizer
        groups = opt.param_groups
        current = [group["lr"] for group in groups]
        if any(type(v) is not float for v in current):
            return  # tensor LRs: torch's path (device mode is lrsched.device)
        try:
            specs, bases, stateless = self._checked_specs()
        except NotImplementedError:
            w.disabled = built_from
            return
        start = self.last_epoch + 1
        offset = self._table_start() - start
        limit = self._last_index()
        stop = None if limit is None else limit + 1 + offset

        def fetch(first, size, stride):
            prev = None if stateless else current
            return tabulate(specs, bases, first, size, previous=prev, finite=False)

        values = w.refill(start + offset, fetch, stop=stop, ahead=grow)
        if values is None:
            return
        size = w.size
        momentum = None
        if self._momentum_key is not None and self.cycle_momentum:
            momentum = [
                lrcore.table(m, size, start=start + offset, check_finite=False).tolist()
                for m in self._momentum_specs()
            ]
        w.built_from = built_from
        self._watch_extra(w)
        w.start = start  # (rows are indexed by last_epoch: the table's index less offset)
        w.t = start - 1
        w.stop = start + size
        w.groups = groups
        w.opt = opt
        w.single = len(groups) == 1
        w.plain = self._counts_steps and not self._extra
        w.beta = momentum is not None and self.use_beta1
        w.dicts, w.momentum = tuple(groups), momentum
        if w.single:
            w.group, w.values, w.written = groups[0], values[0], current[0]
        else:
            w.values, w.written = values, list(current)

    def _ready(self):
        """Whether the scheduler is past construction and its first step()."""
        return getattr(self, "_step_count", 0) >= 2

    def _table_start(self):
        """The index in the specs' tables of the next step."""
        return self.last_epoch + 1

    def _last_index(self):
        """The last ``last_epoch`` the schedule defines (None: unbounded)."""
        return None

    def _specs(self):
        raise NotImplementedError

    def _checked_specs(self):
        """``_specs()``, with a non-finite hyperparameter reported under the class name."""
        try:
            return self._specs()
        except ValueError as exc:
            if type(exc).__name__ == "NonFiniteError":
                raise ValueError(f"{type(self).__name__}: {exc}") from None
            raise

    def _lrcore_spec(self, group):
        """``lrcore.convert.spec_of(self, group)``: the whole run's spec, indexed by this
        scheduler's own step (as in a composition)."""
        specs, bases, _ = self._composed_specs()
        return group_spec(self, specs, bases, group)

    def _composed_specs(self):
        """``_checked_specs()`` as a child of SequentialLR / ChainedScheduler, whose
        table is indexed by the composition's own step (not this child's state)."""
        return self._checked_specs()

    def _momentum_specs(self):
        raise NotImplementedError

    # -- device mode (see lrsched.device) ---------------------------------------
    def to_device(self, device, *, dtype=None, horizon=None):
        """Move to device mode: the table on ``device``, ``step()`` as device ops only."""
        import torch

        from .device import DeviceTable, horizon_for

        w = self._lrsched
        try:
            specs, bases, stateless = self._checked_specs()
        except NotImplementedError as exc:
            raise ValueError(
                f"{type(self).__name__}: device mode cannot express this scheduler ({exc})"
            ) from None
        groups = self.optimizer.param_groups
        current = [float(g["lr"]) for g in groups]
        epoch = self._device_epoch()
        origin = self._origin_state()
        first = self._table_start()
        last = self._last_index()
        size = horizon_for(None if last is None else last - epoch, horizon)
        dtype = dtype or (
            groups[0]["lr"].dtype if isinstance(groups[0]["lr"], torch.Tensor) else torch.float32
        )
        rows = []
        for g, (spec, base) in enumerate(zip(specs, bases)):
            prev = None if stateless else current[g]
            rest = lrcore.table(
                spec, size - 1, base, start=first, previous_lr=prev, check_finite=False
            )
            rows.append([current[g], *rest.tolist()])
        momentum = None
        if self._momentum_key is not None and self.cycle_momentum:
            key = "betas" if self.use_beta1 else "momentum"
            now = [float(g[key][0] if key == "betas" else g[key]) for g in groups]
            momentum = [
                [now[g], *lrcore.table(m, size - 1, start=first, check_finite=False).tolist()]
                for g, m in enumerate(self._momentum_specs())
            ]
        w.drop()
        w.device = DeviceTable(
            self.optimizer,
            rows,
            momentum,
            0,
            device,
            dtype,
            self.use_beta1 if momentum is not None else False,
        )
        count = getattr(self, "_step_count", None)
        w.device_origin = (epoch, count, origin)
        w.device_args = (device, dtype, horizon)
        w.device_check = self._base_step and count == 1
        w.check = self._attribute_getter()
        w.built_from = w.check(self)
        self.__class__ = _compile.device_class(type(self), type(self)._device_mode_step)
        return self

    def _device_mode_step(self, epoch=None):
        """``step()`` in device mode (the device class's): device ops only, which dynamo
        traces into the caller's graph."""
        self._device_step(self._lrsched, epoch)

    def _device_step(self, w, epoch):
        if epoch is not None:
            raise ValueError(
                f"{type(self).__name__}: step(epoch) is not supported in "
                "device mode (it needs the host); call step()"
            )
        import torch

        # eager device mode only (a compiled or captured step runs no host code per
        # step): torch's first-step warning, and a changed hyperparameter
        if not torch.compiler.is_compiling():
            if w.device_check:
                w.device_check = False
                torch_step_warnings(self, None, stacklevel=3)
            if w.check(self) != w.built_from:
                self._rebuild_after_change(w)
        w.device.step()

    def rebuild(self):
        """Device mode: take a changed hyperparameter (``sched.gamma = 0.5``) into the
        table now, from the current step (one sync). An eager ``step()`` does this by
        itself; a compiled or captured step runs no host code per step and does not,
        so call this outside the graph after changing one. Host mode: nothing to do
        (the next step sees the change)."""
        w = self._lrsched
        if w.device is not None and w.check(self) != w.built_from:
            self._rebuild_after_change(w)

    def _rebuild_after_change(self, w):
        """Device mode, a hyperparameter changed: torch's host state at this step
        (from the values the table was built from), then a table from there with
        the new values (one sync)."""
        new = w.check(self)
        names = self._watched()
        for name, value in zip(names, w.built_from):
            setattr(self, name, value)
        state = self._device_host_state()
        for name, value in zip(names, new):
            setattr(self, name, value)
        for name, value in state.items():
            setattr(self, name, value)
        self._rebuild_device(self._last_lr)

    def _device_epoch(self):
        """The ``last_epoch`` the move to device mode starts from."""
        return self.last_epoch

    def _origin_state(self):
        """What :meth:`_advance_state` needs, taken at the move (host LRs still)."""
        return None

    def _advance_state(self, state, origin, steps):
        """Host attributes after ``steps`` device steps (CosineAnnealingWarmRestarts)."""

    def _restart_origin(self):
        """The ``origin`` a restart at 0 leaves (SequentialLR's ``_update_lr(0)``)."""
        return None

    @property
    def step_tensor(self):
        """Device mode: the 0-d int64 tensor counting step() calls since the move."""
        return self._lrsched.device.step_tensor

    @property
    def lr_table(self):
        """Device mode: the (groups, horizon) table on the device."""
        return self._lrsched.device.lr_table

    def _device_host_state(self):
        """torch's host keys, read back from the device counter (one sync)."""
        w = self._lrsched
        epoch0, count0, origin = w.device_origin
        n = int(w.device.step_tensor.item())
        state = {
            "last_epoch": epoch0 + n,
            "_last_lr": [float(g["lr"]) for g in self.optimizer.param_groups],
        }
        if count0 is not None and self._counts_steps:
            state["_step_count"] = count0 + n
        self._advance_state(state, origin, n)
        return state

    def _rebuild_device(self, lrs):
        """Device mode again, from ``lrs`` and the host state (a load, a changed
        hyperparameter). Reads the LRs once (one sync)."""
        w = self._lrsched
        device, dtype, horizon = w.device_args
        w.device = None
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = float(lr)
        self.to_device(device, dtype=dtype, horizon=horizon)

    # -- attributes, checkpoints, copies -------------------------------------------
    def state_dict(self):
        state = super().state_dict()
        if self._lrsched.device is not None:
            state.update(self._device_host_state())
        return state

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        w = self._lrsched
        w.drop()
        w.disabled = None
        if w.device is not None:
            # the loaded LRs on the host for a moment, then the table from there
            self._rebuild_device(self._last_lr)

    def get_last_lr(self):
        dev = self._lrsched.device
        if dev is not None:
            return dev.last_lrs()
        return super().get_last_lr()

    def __getstate__(self):
        state = dict(self.__dict__)
        w = self._lrsched
        if w.device is not None:
            state["_lrsched_device_mode"] = (w.device, w.device_origin, w.device_args)
        return state

    def __setstate__(self, state):
        state = dict(state)
        device_mode = state.pop("_lrsched_device_mode", None)
        self.__dict__.update(state)
        w = self._lrsched = _Window(None)
        if device_mode is not None:
            w.device, w.device_origin, w.device_args = device_mode
            self.__class__ = _compile.device_class(type(self), type(self)._device_mode_step)


#: what device mode runs inside a compiled function: traced, not run eagerly
TRACED = ("_device_mode_step", "_device_step", "step_tensor", "lr_table")
_compile.run_class_eagerly(TableStepMixin, traced=TRACED)
