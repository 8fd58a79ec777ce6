"""The table-backed ``step()`` shared by every drop-in scheduler.

A scheduler keeps, per param group, a window of upcoming LRs computed by lrcore
(torch numerics: the very values torch's ``get_lr`` would produce). ``step()`` is
a lookup while nothing has disturbed the run: the group's LR is still the float
object the scheduler wrote (an edit, another scheduler, an optimizer state load
all replace it), ``last_epoch`` is where the scheduler left it, no ``epoch`` is
passed. Otherwise torch's own ``step()`` runs for that step, and the next window
continues torch's recurrence from the LR it left (lrcore's ``previous_lr``),
which is exact. Windows grow from 64 to 65,536 steps, so memory is O(window)
however long the run.
"""

from __future__ import annotations

import lrcore

from . import _args

FIRST_WINDOW = 64
MAX_WINDOW = 65_536
_PRIVATE = "_lrsched_"


class TableStepMixin:
    """Mixed in before a torch scheduler class; subclasses define ``_specs()``.

    ``_specs()`` returns ``(specs, bases, stateless)``: one lrcore spec per group,
    the base LR of each, and whether the schedule ignores the group's current LR
    (then no continuation value is needed). It raises ``NotImplementedError``
    where lrcore cannot express the scheduler's parameters; torch's own
    ``step()`` is used then.

    The fast path is a closure installed as the instance's ``step`` when a window
    is built: cell variables are several times cheaper than attribute and dict
    look-ups, which dominate a Python step. The class's ``step`` is the way back
    in whenever the closure sees anything unusual.
    """

    #: attributes whose change invalidates the window
    _spec_attrs: tuple[str, ...] = ()
    #: "momentum" when the scheduler also cycles momentum / beta1
    _momentum_key: str | None = None
    #: whether torch's step() counts ``_step_count`` for this class
    _counts_steps = True

    def __init__(self, *args, device=None, dtype=None, horizon=None, **kwargs):
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
        if device is not None:
            self.to_device(device, dtype=dtype, horizon=horizon)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # torch's signature, plus the device-mode keywords
        import inspect

        torch_base = next((b for b in cls.__mro__[1:] if b.__module__.startswith("torch.")), None)
        cls._torch_base = torch_base
        if torch_base is not None and "__init__" in vars(torch_base):
            sig = inspect.signature(torch_base.__init__)
            extra = [
                inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
                for n in ("device", "dtype", "horizon")
            ]
            params = [p for p in sig.parameters.values() if p.kind != p.VAR_KEYWORD]
            cls.__signature__ = sig.replace(parameters=params[1:] + extra)

    # -- device mode (see lrsched.device) ---------------------------------------
    def to_device(self, device, *, dtype=None, horizon=None):
        """Move to device mode: the table on ``device``, ``step()`` as device ops only."""
        import torch

        from .device import DeviceTable, horizon_for

        d = self.__dict__
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
        self._drop_window()
        d["_lrsched_device"] = DeviceTable(
            self.optimizer,
            rows,
            momentum,
            0,
            device,
            dtype,
            self.use_beta1 if momentum is not None else False,
        )
        d["_lrsched_device_origin"] = (epoch, d.get("_step_count"), origin)
        d["_lrsched_device_args"] = (device, dtype, horizon)
        return self

    def _device_epoch(self):
        """The ``last_epoch`` the move to device mode starts from."""
        return self.__dict__["last_epoch"]

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
        return self.__dict__["_lrsched_device"].step_tensor

    @property
    def lr_table(self):
        """Device mode: the (groups, horizon) table on the device."""
        return self.__dict__["_lrsched_device"].lr_table

    def _device_host_state(self):
        """torch's host keys, read back from the device counter (one sync)."""
        d = self.__dict__
        dev = d["_lrsched_device"]
        epoch0, count0, origin = d["_lrsched_device_origin"]
        n = int(dev.step_tensor.item())
        state = {
            "last_epoch": epoch0 + n,
            "_last_lr": [float(g["lr"]) for g in self.optimizer.param_groups],
        }
        if count0 is not None and self._counts_steps:
            state["_step_count"] = count0 + n
        self._advance_state(state, origin, n)
        return state

    def step(self, epoch=None):  # noqa: D102 - torch's docstring applies
        d = self.__dict__
        dev = d.get("_lrsched_device")
        if dev is not None:
            if epoch is not None:
                raise ValueError(
                    f"{type(self).__name__}: step(epoch) is not supported in "
                    "device mode (it needs the host); call step()"
                )
            dev.step()
            return
        grow = d.get("_lrsched_stop") is not None and d["last_epoch"] + 1 >= d["_lrsched_stop"]
        self._slow_step(epoch, grow=grow and epoch is None)

    # -- everything else -------------------------------------------------------
    def _slow_step(self, epoch, grow):
        """torch's own step, then (usually) a new window.

        After a disturbance the window restarts small; while the run is disturbed
        step after step (a chained scheduler, repeated edits) windows are rebuilt
        only on the 1st, 2nd, 4th, 8th... consecutive slow step.
        """
        d = self.__dict__
        before = d.get("last_epoch")
        if epoch is not None:
            super().step(epoch)
        else:
            super().step()
        consecutive = before is not None and before == d.get("_lrsched_slow_at")
        d["_lrsched_slow_at"] = d.get("last_epoch")
        streak = d.get("_lrsched_streak", 0) + 1 if consecutive else 1
        d["_lrsched_streak"] = streak
        if not grow:
            d["_lrsched_size"] = FIRST_WINDOW // 2
        if grow or streak & (streak - 1) == 0:
            self._refill()
        else:
            self._drop_window()

    def _refill(self):
        """Build the window that continues from the LRs torch just left."""
        d = self.__dict__
        self._drop_window()
        if d.get("_lrsched_disabled") or not self._ready():
            return
        groups = self.optimizer.param_groups
        current = [group["lr"] for group in groups]
        if any(not isinstance(v, float) for v in current):
            return  # tensor LRs: torch's path (device mode is lrsched.device)
        try:
            specs, bases, stateless = self._checked_specs()
        except NotImplementedError:
            d["_lrsched_disabled"] = True
            return
        start = d["last_epoch"] + 1
        offset = self._table_start() - start
        old = d.get("_lrsched_size", FIRST_WINDOW // 2)
        size = min(max(old * 2, FIRST_WINDOW), MAX_WINDOW)
        limit = self._last_index()
        if limit is not None:
            size = min(size, limit + 1 - start)
        if size <= 0:
            return
        if all(spec is specs[0] for spec in specs) and not specs[0].absolute:
            # one spec for every group: one table call, one row per group
            prev = None if stateless else current
            rows = lrcore.table(
                specs[0], size, bases, start=start + offset, previous_lr=prev, check_finite=False
            )
            values = rows.tolist()
        else:
            values = []
            for g, (spec, base) in enumerate(zip(specs, bases)):
                prev = None if stateless else current[g]
                row = lrcore.table(
                    spec, size, base, start=start + offset, previous_lr=prev, check_finite=False
                )
                values.append(row.tolist())
        momentum = None
        if self._momentum_key is not None and self.cycle_momentum:
            momentum = [
                lrcore.table(m, size, start=start + offset, check_finite=False).tolist()
                for m in self._momentum_specs()
            ]
        d["_lrsched_size"] = size
        d["_lrsched_stop"] = start + size
        d["step"] = self._fast_step(start, values, current, momentum)

    def _fast_step(self, start, values, written, momentum):
        """The closure that serves steps ``start .. start + len(values[0]) - 1``.

        It checks, every step: no ``epoch``; the window is not exhausted;
        ``last_epoch`` is where it left it; the optimizer still has the same
        ``param_groups`` list, of the same length; each group's LR is the float
        object it wrote. Anything else goes back to the class's ``step``.
        """
        d = self.__dict__
        opt = self.optimizer
        groups = opt.param_groups
        n = len(groups)
        stop = start + len(values[0])
        slow = type(self).step
        me = self
        extra = self._extra_bookkeeping()
        if n == 1 and momentum is None and extra is None and self._counts_steps:
            group, column = groups[0], values[0]
            state = [written[0], start - 1]

            def step(epoch=None):
                t = state[1] + 1
                if (
                    epoch is None
                    and t < stop
                    and group["lr"] is state[0]
                    and d["last_epoch"] == t - 1
                    and opt.param_groups is groups
                    and len(groups) == 1
                ):
                    v = column[t - start]
                    group["lr"] = v
                    state[0] = v
                    state[1] = t
                    d["last_epoch"] = t
                    d["_step_count"] += 1
                    d["_last_lr"] = [v]
                    return None
                return slow(me, epoch)

            return step

        dicts = tuple(groups)
        written = list(written)
        rows = range(n)
        state = [start - 1]
        key = self._momentum_key if momentum is not None else None
        beta = key is not None and self.use_beta1
        counts = self._counts_steps

        def step(epoch=None):
            t = state[0] + 1
            if (
                epoch is None
                and t < stop
                and d["last_epoch"] == t - 1
                and opt.param_groups is groups
                and len(groups) == n
            ):
                for g in rows:
                    if dicts[g]["lr"] is not written[g]:
                        return slow(me, epoch)
                i = t - start
                last = []
                for g in rows:
                    v = values[g][i]
                    dicts[g]["lr"] = written[g] = v
                    last.append(v)
                if key is not None:
                    for g in rows:
                        if beta:
                            dicts[g]["betas"] = (momentum[g][i], *dicts[g]["betas"][1:])
                        else:
                            dicts[g][key] = momentum[g][i]
                if extra is not None:
                    extra(d)
                state[0] = t
                d["last_epoch"] = t
                d["_last_lr"] = last
                if counts:
                    d["_step_count"] += 1
                return None
            return slow(me, epoch)

        return step

    def _extra_bookkeeping(self):
        """A function of the instance dict run on each fast step (None: nothing)."""
        return None

    def _ready(self):
        """Whether the scheduler is past construction and its first step()."""
        return self.__dict__.get("_step_count", 0) >= 2

    def _table_start(self):
        """The index in the specs' tables of the next step."""
        return self.__dict__["last_epoch"] + 1

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

    def _composed_specs(self):
        """``_checked_specs()`` as a child of SequentialLR / ChainedScheduler, whose
        table is indexed by the composition's own step (not this child's state)."""
        return self._checked_specs()

    def _momentum_specs(self):
        raise NotImplementedError

    def _drop_window(self):
        d = self.__dict__
        d.pop("step", None)
        d["_lrsched_stop"] = None

    def __setattr__(self, name, value):
        if name in self._spec_attrs or name in ("base_lrs", "optimizer"):
            self._drop_window()
            self.__dict__["_lrsched_disabled"] = False
            if self.__dict__.get("_lrsched_device") is not None and name != "optimizer":
                # device mode: the host state at this step, then a table from there
                self.__dict__.update(self._device_host_state())
                super().__setattr__(name, value)
                self._rebuild_device(self._last_lr)
                return
        super().__setattr__(name, value)

    def _rebuild_device(self, lrs):
        """Device mode again, from ``lrs`` and the host state (a load, a changed
        hyperparameter). Reads the LRs once (one sync)."""
        d = self.__dict__
        device, dtype, horizon = d["_lrsched_device_args"]
        d["_lrsched_device"] = None
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = float(lr)
        self.to_device(device, dtype=dtype, horizon=horizon)

    def state_dict(self):
        state = {
            k: v
            for k, v in super().state_dict().items()
            if not k.startswith(_PRIVATE) and k != "step"
        }
        if self.__dict__.get("_lrsched_device") is not None:
            state.update(self._device_host_state())
        return state

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._drop_window()
        self.__dict__["_lrsched_disabled"] = False
        if self.__dict__.get("_lrsched_device") is not None:
            # the loaded LRs on the host for a moment, then the table from there
            self._rebuild_device(self._last_lr)

    def get_last_lr(self):
        dev = self.__dict__.get("_lrsched_device")
        if dev is not None:
            return dev.last_lrs()
        return super().get_last_lr()

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "step"}
