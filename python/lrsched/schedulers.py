"""Drop-in replacements for torch.optim.lr_scheduler's classes.

Each class subclasses torch's own class of the same name, so its signature,
defaults, validation, error messages, ``state_dict`` keys and ``isinstance``
checks are torch's; only ``step()`` changes, to a lookup into a window of LRs
computed by lrcore with torch's arithmetic (see :mod:`lrsched._window`).
"""

from __future__ import annotations

import math

from torch.optim import lr_scheduler as _torch

import lrcore
from lrcore.kernels.formulas import cyclic_params, one_cycle_params
from lrcore.schedules import cyclic
from lrcore.schedules.leaf import Raw

from ._window import TableStepMixin


def _spec(cls, **kwargs):
    """An lrcore spec, or NotImplementedError where torch accepts what lrcore refuses.

    Non-finite hyperparameters are refused outright (torch would run on and
    produce NaN or infinite learning rates)."""
    _finite(kwargs)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise NotImplementedError(str(exc)) from None


class NonFiniteError(ValueError):
    """A hyperparameter is NaN or infinite."""


def _finite(named):
    for name, value in named.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for x in values:
            if isinstance(x, float) and not math.isfinite(x):
                raise NonFiniteError(
                    f"{name} must be a finite number, got {name}={value!r} "
                    "(torch would produce non-finite learning rates)"
                )


def _floats(values):
    """Base LRs as floats (a 0-d tensor base, from a tensor LR, is read once)."""
    out = []
    for v in values:
        if isinstance(v, float):
            out.append(v)
        elif hasattr(v, "dim") and v.dim() == 0 and v.is_floating_point():
            out.append(float(v))
        else:
            raise NotImplementedError("non-float base learning rates")
    return out


class _Relative(TableStepMixin):
    """A schedule relative to ``base_lrs``, the same spec for every group."""

    def _spec(self):
        raise NotImplementedError

    def _specs(self):
        bases = _floats(self.base_lrs)
        return [self._spec()] * len(bases), bases, False


def plain_schedule(spec):
    """A spec in a checkpoint: its dict form (``Spec.to_dict()``), which
    ``torch.load(weights_only=True)`` reads; a spec holding a Python function has no
    plain form and stays a spec object."""
    try:
        return spec.to_dict()
    except TypeError:
        return spec


def spec_of(saved):
    """The spec :func:`plain_schedule` saved (its text form too, as older checkpoints
    hold it)."""
    if isinstance(saved, dict):
        return lrcore.from_dict(saved)
    if isinstance(saved, str):
        return lrcore.parse(saved)
    return saved


class ScheduleLambda:
    """An lrcore schedule as an ``lr_lambda``: ``ScheduleLambda(spec)(t)`` is the
    schedule's factor at step ``t``.

    transformers' schedule functions return ``LambdaLR(optimizer, lr_lambda)``; lrsched's
    return lrsched's :class:`LambdaLR` with a ``ScheduleLambda``, which the scheduler
    serves from the schedule's table (the lambda itself is called only on torch's
    path). It pickles as its spec; like transformers' ``functools.partial`` lambdas it
    has an empty ``__dict__``, so ``state_dict()["lr_lambdas"]`` is ``[{}]`` and
    checkpoints move between lrsched's and transformers' schedulers."""

    __slots__ = ("schedule", "__dict__")

    def __init__(self, schedule):
        if not isinstance(schedule, lrcore.Spec) or schedule.absolute:
            raise TypeError(
                "ScheduleLambda: schedule must be an lrcore spec relative to the base LR, "
                f"got schedule={schedule!r}"
            )
        self.schedule = schedule

    def __call__(self, step):
        return float(lrcore.table(self.schedule, 1, 1.0, start=step, check_finite=False)[0])

    def __reduce__(self):
        return (type(self), (self.schedule,))

    def __eq__(self, other):
        return type(other) is type(self) and other.schedule == self.schedule

    def __hash__(self):
        return hash((type(self), self.schedule))

    def __repr__(self):
        return f"ScheduleLambda({self.schedule})"


class LambdaLR(TableStepMixin, _torch.LambdaLR):
    __doc__ = _torch.LambdaLR.__doc__
    _spec_attrs = ("lr_lambdas",)

    def _specs(self):
        specs = [
            fn.schedule
            if isinstance(fn, ScheduleLambda)
            else _spec(lrcore.Lambda, lr_lambda=fn, evaluation="python")
            for fn in self.lr_lambdas
        ]
        return specs, _floats(self.base_lrs), True


class MultiplicativeLR(TableStepMixin, _torch.MultiplicativeLR):
    __doc__ = _torch.MultiplicativeLR.__doc__
    _spec_attrs = ("lr_lambdas",)

    def _specs(self):
        specs = [
            _spec(lrcore.Multiplicative, lr_lambda=fn, evaluation="python")
            for fn in self.lr_lambdas
        ]
        return specs, _floats(self.base_lrs), False


class StepLR(_Relative, _torch.StepLR):
    __doc__ = _torch.StepLR.__doc__
    _spec_attrs = ("step_size", "gamma")

    def _spec(self):
        return _spec(lrcore.Step, step_size=self.step_size, gamma=self.gamma)


class MultiStepLR(_Relative, _torch.MultiStepLR):
    __doc__ = _torch.MultiStepLR.__doc__
    _spec_attrs = ("milestones", "gamma")

    def _spec(self):
        # torch's Counter finds step 30 among milestones [30.0]: the same steps as ints
        steps = [int(m) if isinstance(m, float) else m for m in self.milestones.elements()]
        return _spec(lrcore.MultiStep, milestones=steps, gamma=self.gamma)


class ConstantLR(_Relative, _torch.ConstantLR):
    __doc__ = _torch.ConstantLR.__doc__
    _spec_attrs = ("factor", "total_iters")

    def _spec(self):
        return _spec(lrcore.Constant, factor=self.factor, total_iters=self.total_iters)


class LinearLR(_Relative, _torch.LinearLR):
    __doc__ = _torch.LinearLR.__doc__
    _spec_attrs = ("start_factor", "end_factor", "total_iters")

    def _spec(self):
        return _spec(
            lrcore.Linear,
            start_factor=self.start_factor,
            end_factor=self.end_factor,
            total_iters=self.total_iters,
        )


class ExponentialLR(_Relative, _torch.ExponentialLR):
    __doc__ = _torch.ExponentialLR.__doc__
    _spec_attrs = ("gamma",)

    def _spec(self):
        return _spec(lrcore.Exponential, gamma=self.gamma)


class PolynomialLR(_Relative, _torch.PolynomialLR):
    __doc__ = _torch.PolynomialLR.__doc__
    _spec_attrs = ("total_iters", "power")

    def _spec(self):
        return _spec(lrcore.Polynomial, total_iters=self.total_iters, power=self.power)


class CosineAnnealingLR(_Relative, _torch.CosineAnnealingLR):
    __doc__ = _torch.CosineAnnealingLR.__doc__
    _spec_attrs = ("T_max", "eta_min")

    def _spec(self):
        return _spec(lrcore.CosineAnnealing, T_max=self.T_max, eta_min=self.eta_min)


class CyclicLR(TableStepMixin, _torch.CyclicLR):
    __doc__ = _torch.CyclicLR.__doc__
    _spec_attrs = (
        "max_lrs",
        "total_size",
        "step_ratio",
        "mode",
        "gamma",
        "scale_mode",
        "_scale_fn_custom",
        "cycle_momentum",
    )
    _momentum_key = "momentum"

    def _watched(self):
        # the momenta exist only with cycle_momentum (then the window has momentum,
        # and every step checks them)
        extra = ("base_momentums", "max_momentums") if self.cycle_momentum else ()
        return (*super()._watched(), *extra)

    def _raw(self, lo, hi, invert):
        if self._scale_fn_custom is not None or self.mode not in cyclic.MODES:
            raise NotImplementedError("custom scale_fn")
        _finite({"base_lr/max_lr or momentum": [lo, hi], "gamma": self.gamma})
        params = cyclic_params(
            lo=lo,
            hi=hi,
            invert=invert,
            total=self.total_size,
            ratio=self.step_ratio,
            mode=cyclic.MODES[self.mode],
            gamma=self.gamma,
        )
        if not all(isinstance(x, (int, float)) for x in params):
            raise NotImplementedError("non-float parameters")
        return Raw(lrcore.Cyclic.kind, params, absolute=True)

    def _specs(self):
        specs = [self._raw(b, m, 0.0) for b, m in zip(self.base_lrs, self.max_lrs)]
        return specs, [1.0] * len(specs), True

    def _momentum_specs(self):
        return [self._raw(b, m, 1.0) for b, m in zip(self.base_momentums, self.max_momentums)]


class OneCycleLR(TableStepMixin, _torch.OneCycleLR):
    __doc__ = _torch.OneCycleLR.__doc__
    _spec_attrs = ("total_steps", "_schedule_phases")
    _momentum_key = "momentum"

    def _watched(self):
        # a legacy state_dict (torch < 2.2) has no _anneal_func_type
        extra = ("_anneal_func_type",) if hasattr(self, "_anneal_func_type") else ()
        return (*super()._watched(), *extra)

    def _raw(self, group, start_key, end_key):
        anneal = cyclic.ANNEAL.get(getattr(self, "_anneal_func_type", None))
        if anneal is None:
            raise NotImplementedError("anneal function")
        phases = [
            {"end_step": p["end_step"], "start": group[p[start_key]], "end": group[p[end_key]]}
            for p in self._schedule_phases
        ]
        params = one_cycle_params(total_steps=self.total_steps, anneal=anneal, phases=phases)
        _finite({"max_lr, div_factor, final_div_factor or momentum": params})
        if not all(isinstance(x, (int, float)) for x in params):
            raise NotImplementedError("non-float parameters")
        return Raw(lrcore.OneCycle.kind, params, absolute=True, last=self.total_steps)

    def _specs(self):
        groups = self.optimizer.param_groups
        specs = [self._raw(g, "start_lr", "end_lr") for g in groups]
        return specs, [1.0] * len(specs), True

    def _momentum_specs(self):
        groups = self.optimizer.param_groups
        return [self._raw(g, "start_momentum", "end_momentum") for g in groups]

    def _last_index(self):
        return self.total_steps


class CosineAnnealingWarmRestarts(TableStepMixin, _torch.CosineAnnealingWarmRestarts):
    """torch's CosineAnnealingWarmRestarts, table-backed.

    The table continues from torch's own ``T_cur`` and ``T_i`` (so a resume through
    ``last_epoch`` or ``step(epoch)`` continues exactly as torch does, including
    the log-based cycle index of the deprecated ``step(epoch)``).
    """

    _spec_attrs = ("T_0", "T_mult", "eta_min")

    # torch's CosineAnnealingWarmRestarts.step never counts _step_count
    _counts_steps = False

    _extra = True

    def _advance_fast(self):
        # torch's own bookkeeping of the cycle
        t_cur = self.T_cur + 1
        if t_cur >= self.T_i:
            t_cur = t_cur % self.T_i
            self.T_i = self.T_i * self.T_mult
        self.T_cur = t_cur

    def _origin_state(self):
        return (self.T_cur, self.T_i)

    def _restart_origin(self):
        return (0, self.T_0)

    def _advance_state(self, state, origin, steps):
        from lrcore.kernels.restarts import restart_int

        t_cur, t_i = origin
        _, state["T_cur"], state["T_i"] = restart_int(t_cur + steps, t_i, self.T_mult)

    def _ready(self):
        return (
            getattr(self, "last_epoch", -1) >= 0
            and type(getattr(self, "T_cur", None)) is int
            and type(getattr(self, "T_i", None)) is int
        )

    def _table_start(self):
        return self.T_cur + 1

    def _specs(self, T_0=None):
        # from the current cycle (T_i, indexed by T_cur): exact after step(epoch) too
        spec = _spec(
            lrcore.CosineAnnealingWarmRestarts,
            T_0=self.T_i if T_0 is None else T_0,
            T_mult=self.T_mult,
            eta_min=self.eta_min,
        )
        bases = _floats(self.base_lrs)
        return [spec] * len(bases), bases, True

    def _composed_specs(self):
        return self._specs(T_0=self.T_0)  # from the first cycle: the composition's index


class TableLR(TableStepMixin, _torch.LRScheduler):
    """Any lrcore schedule (its spec or text form) as a torch scheduler.

    Compositions included: ``TableLR(opt, "sequential([linear(start_factor=0.01,
    total_iters=500), cosine_annealing(T_max=9500)], milestones=[500])")`` gives the
    numbers of torch's SequentialLR of those two classes, in one table (and, with
    ``device=``, in one device tensor). LRs are ``base_lr * schedule(t)`` for specs
    relative to the base LR, the spec's own values for cyclic and one_cycle.
    """

    _spec_attrs = ("schedule",)

    def __init__(self, optimizer, schedule, last_epoch=-1, **device_kwargs):
        if isinstance(schedule, str):
            schedule = lrcore.parse(schedule)
        if not isinstance(schedule, lrcore.Spec):
            raise TypeError(
                f"TableLR: schedule must be an lrcore spec or its text form, "
                f"got schedule={schedule!r}"
            )
        self.schedule = schedule
        super().__init__(optimizer, last_epoch, **device_kwargs)

    def _bases(self):
        n = len(self.optimizer.param_groups)
        return [1.0] * n if self.schedule.absolute else _floats(self.base_lrs)

    def get_lr(self):
        """torch's path: the schedule's value at ``last_epoch`` from the current LRs."""
        t = self.last_epoch
        if self.schedule.last_step() is not None and t > self.schedule.last_step():
            raise ValueError(
                f"TableLR: {self.schedule.name} defines steps "
                f"0..{self.schedule.last_step()}, tried to step to {t}"
            )
        out = []
        for base, group in zip(self._bases(), self.optimizer.param_groups):
            prev = float(group["lr"]) if t > 0 else None
            out.append(
                float(
                    lrcore.table(
                        self.schedule, 1, base, start=t, previous_lr=prev, check_finite=False
                    )[0]
                )
            )
        return out

    def _specs(self):
        from lrcore.program import lower

        bases = self._bases()
        return [self.schedule] * len(bases), bases, lower(self.schedule).stateless

    def _last_index(self):
        return self.schedule.last_step()

    def state_dict(self):
        """torch's keys, the schedule in its plain form (:func:`plain_schedule`)."""
        state = super().state_dict()
        state["schedule"] = plain_schedule(self.schedule)
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        if "schedule" in state:
            state["schedule"] = spec_of(state["schedule"])
        super().load_state_dict(state)
