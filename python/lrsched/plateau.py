"""ReduceLROnPlateau: torch's class, plus ``schedule=`` and ``device=``."""

from __future__ import annotations

import warnings

from torch.optim import lr_scheduler as _torch

import lrcore

from . import _args, _compile
from ._window import Rows, no_spec
from .schedulers import plain_schedule, spec_of

#: torch's constructor, bound now: a program may point torch's module at lrsched's class
_TORCH_INIT = _torch.ReduceLROnPlateau.__init__


class _Factors(Rows):
    """``schedule=``'s factors, ``rows[k]`` at step ``start + k``: a window
    (lrsched._window.Rows) of the spec it was made from."""

    __slots__ = ("spec",)

    def __init__(self):
        super().__init__()
        self.spec = None

    def fetch(self, start, size, stride):
        return lrcore.table(self.spec, size, 1.0, start=start, check_finite=False).tolist()


class ReduceLROnPlateau(_torch.ReduceLROnPlateau):
    """torch's ReduceLROnPlateau, plus ``schedule=`` and ``device=``.

    Without either, this is torch's class, unchanged.

    ``schedule=`` (an lrcore spec relative to the base LR, or its text): each
    ``step(metrics)`` advances the schedule by one step and sets each group's LR to
    ``base_lr * schedule(t) * scale``, where ``scale`` starts at 1 and is
    multiplied by ``factor`` whenever torch's own plateau logic (mode, threshold,
    patience, cooldown) decides to reduce and that reduction changes the current LR
    by more than ``eps`` without taking it below the group's ``min_lr``.
    ``base_lr`` is each group's LR when the scheduler is built. Example::

        warm_cos = lrcore.parse("sequential([linear(start_factor=0.01, total_iters=500),"
                                " cosine_annealing(T_max=9500)], milestones=[500])")
        sched = lrsched.ReduceLROnPlateau(opt, patience=5, factor=0.5, schedule=warm_cos)

    ``device=``: the metric may be a 0-d tensor, the decision is made with tensor
    ops (float64, as torch's host arithmetic) and the LRs are 0-d device tensors:
    no ``.item()``, no synchronisation, so it can run inside a CUDA graph. The
    decisions are torch's on the same metric sequence.
    """

    # the schedule's window of factors and the device state: slots, so that
    # ``__dict__`` and ``state_dict()`` hold torch's keys (and ``schedule``) only
    __slots__ = ("_lrsched_factors", "_lrsched_device")

    def __init__(self, optimizer, *args, schedule=None, device=None, dtype=None, **kwargs):
        self._lrsched_factors = self._lrsched_device = None
        # torch's checks first, then what torch lets through (lrsched._args)
        arguments = _args.bind(_TORCH_INIT, (optimizer, *args), kwargs)
        try:
            super().__init__(optimizer, *args, **kwargs)
        except (ArithmeticError, TypeError):  # torch failed on a value it did not check
            _args.check("ReduceLROnPlateau", arguments)
            raise
        _args.check("ReduceLROnPlateau", arguments)
        self.schedule = None
        if schedule is not None:
            if device is not None:
                raise ValueError("ReduceLROnPlateau: schedule= and device= cannot be combined")
            if isinstance(schedule, str):
                schedule = lrcore.parse(schedule)
            if not isinstance(schedule, lrcore.Spec) or schedule.absolute:
                raise TypeError(
                    "ReduceLROnPlateau: schedule must be an lrcore spec relative to the base "
                    "LR (not one that sets its own LRs: cyclic, one_cycle, megatron, ...), "
                    f"got schedule={schedule!r}"
                )
            self.schedule = schedule
            self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
            self.scales = [1.0] * len(self.base_lrs)
            self._apply(0)
        if device is not None:
            from .device import PlateauState

            self._lrsched_device = PlateauState(self, device, dtype)
            self.__class__ = _compile.device_class(type(self), type(self)._device_mode_step)

    # -- schedule= --------------------------------------------------------------
    def _factor_at(self, t):
        w = self._lrsched_factors
        if w is None:
            w = self._lrsched_factors = _Factors()
        spec = self.schedule
        if w.spec is not spec:  # a new schedule (assigned, loaded): a new window
            w.clear()
            w.spec = spec
        i = t - w.start
        if 0 <= i < w.size:
            return w.rows[i]
        return w.refill(t, w.fetch)[0]

    def _apply(self, t):
        f = self._factor_at(t)
        for g, group in enumerate(self.optimizer.param_groups):
            group["lr"] = self.base_lrs[g] * f * self.scales[g]
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self, metrics, epoch=None):  # noqa: D102 - torch's docstring applies
        if self._lrsched_device is not None:  # a step held from before the move
            self._device_mode_step(metrics, epoch)
            return
        if epoch is not None:  # torch's deprecation warning, at the caller's line
            warnings.warn(_torch.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=r"The epoch parameter")
                super().step(metrics, epoch)
        else:
            super().step(metrics)
        if self.schedule is not None:
            self._apply(self.last_epoch)

    def _device_mode_step(self, metrics, epoch=None):
        """``step()`` in device mode (the device class's): tensor ops only, which
        dynamo traces into the caller's graph."""
        if epoch is not None:
            raise ValueError("ReduceLROnPlateau: step(epoch=...) is not supported in device mode")
        self._lrsched_device.step(self, metrics)

    def _reduce_lr(self, epoch):
        if self.schedule is None:
            return super()._reduce_lr(epoch)
        f = self._factor_at(epoch)
        for g, min_lr in enumerate(self.min_lrs):
            old = self.base_lrs[g] * f * self.scales[g]
            new = old * self.factor
            if new >= min_lr and old - new > self.eps:
                self.scales[g] *= self.factor
        return None

    def _lrcore_spec(self, group):
        no_spec(self, "follows a metric")

    def state_dict(self):
        state = super().state_dict()
        if self.schedule is not None:
            state["schedule"] = plain_schedule(self.schedule)
        else:
            del state["schedule"]  # torch's keys exactly
        if self._lrsched_device is not None:
            state.update(self._lrsched_device.host_state(self))
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        if "schedule" in state:
            state["schedule"] = spec_of(state["schedule"])
        super().load_state_dict(state)
        self._lrsched_factors = None
        if self._lrsched_device is not None:
            self._lrsched_device.load(self)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_lrsched_device"] = self._lrsched_device
        return state

    def __setstate__(self, state):
        state = dict(state)
        self._lrsched_device = state.pop("_lrsched_device", None)
        self._lrsched_factors = None
        self.__dict__.update(state)
        if self._lrsched_device is not None:
            self.__class__ = _compile.device_class(type(self), type(self)._device_mode_step)


# host mode runs eagerly inside a compiled function, as torch's class does
_compile.run_class_eagerly(ReduceLROnPlateau, traced=("_device_mode_step",))
