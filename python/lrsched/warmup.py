"""transformers' schedule functions, with its names, signatures and errors,
returning what transformers returns: a ``LambdaLR`` (lrsched's, table-backed,
whose ``lr_lambdas`` is one picklable :class:`~lrsched.schedulers.ScheduleLambda`),
or a ``ReduceLROnPlateau``; with transformers' numbers.

Each also takes ``device=``, ``dtype=`` and ``horizon=`` (see lrsched.device).
"""

from __future__ import annotations

import enum
import warnings

from lrcore import (
    WSD,
    CosineDecay,
    CosineHardRestarts,
    InverseSqrt,
    LinearDecay,
    PolynomialDecay,
    Stable,
    Warmup,
)

from .plateau import ReduceLROnPlateau
from .schedulers import LambdaLR, ScheduleLambda


class SchedulerType(str, enum.Enum):
    """transformers' scheduler names (``TrainingArguments.lr_scheduler_type``)."""

    LINEAR = "linear"
    COSINE = "cosine"
    COSINE_WITH_RESTARTS = "cosine_with_restarts"
    POLYNOMIAL = "polynomial"
    CONSTANT = "constant"
    CONSTANT_WITH_WARMUP = "constant_with_warmup"
    INVERSE_SQRT = "inverse_sqrt"
    REDUCE_ON_PLATEAU = "reduce_lr_on_plateau"
    COSINE_WITH_MIN_LR = "cosine_with_min_lr"
    COSINE_WARMUP_WITH_MIN_LR = "cosine_warmup_with_min_lr"
    WARMUP_STABLE_DECAY = "warmup_stable_decay"
    GREEDY = "greedy"

    @classmethod
    def _missing_(cls, value):
        raise ValueError(
            f"{value} is not a valid {cls.__name__}, please select one of "
            f"{list(cls._value2member_map_.keys())}"
        )


def _check(where, **named):
    """transformers' argument names, checked before lrcore sees the values."""
    from lrcore import _validate as v

    for name, value in named.items():
        if name in (
            "num_warmup_steps",
            "num_training_steps",
            "num_decay_steps",
            "num_stable_steps",
            "timescale",
        ):
            v.integer(where, name, value, minimum=1 if name == "timescale" else 0)
        elif name == "num_cycles":
            v.real(where, name, value, low=0.0, low_open=True)
        elif name in ("min_lr_rate", "min_lr_ratio", "warmup_lr_rate"):
            v.real(where, name, value, low=0.0, high=1.0)
        else:  # lr_end, power, min_lr
            v.real(where, name, value, low=0.0)


def _table(optimizer, spec, last_epoch, device, dtype, horizon):
    return LambdaLR(
        optimizer, ScheduleLambda(spec), last_epoch, device=device, dtype=dtype, horizon=horizon
    )


def _warm(schedule, num_warmup_steps, **kw):
    return Warmup(schedule, num_warmup_steps, **kw) if num_warmup_steps else schedule


def get_constant_schedule(optimizer, last_epoch=-1, *, device=None, dtype=None, horizon=None):
    """The optimizer's LR, constant."""
    return _table(optimizer, Stable(), last_epoch, device, dtype, horizon)


def get_constant_schedule_with_warmup(
    optimizer, num_warmup_steps, last_epoch=-1, *, device=None, dtype=None, horizon=None
):
    """Linear warm-up from 0 over ``num_warmup_steps``, then constant."""
    _check("get_constant_schedule_with_warmup", num_warmup_steps=num_warmup_steps)
    spec = _warm(Stable(), num_warmup_steps)
    return _table(optimizer, spec, last_epoch, device, dtype, horizon)


def get_linear_schedule_with_warmup(
    optimizer,
    num_warmup_steps,
    num_training_steps,
    last_epoch=-1,
    *,
    device=None,
    dtype=None,
    horizon=None,
):
    """Linear warm-up, then linear decay to 0 at ``num_training_steps``."""
    _check(
        "get_linear_schedule_with_warmup",
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
    )
    spec = _warm(LinearDecay(_decay_steps(num_warmup_steps, num_training_steps)), num_warmup_steps)
    return _table(optimizer, spec, last_epoch, device, dtype, horizon)


def _decay_steps(warmup, total):
    """Steps after the warm-up. transformers lets num_training_steps < num_warmup_steps
    run into negative progress; lrsched refuses it."""
    if total < warmup:
        raise ValueError(
            f"num_training_steps ({total}) must be at least num_warmup_steps ({warmup})"
        )
    return total - warmup


def get_cosine_schedule_with_warmup(
    optimizer,
    num_warmup_steps,
    num_training_steps,
    num_cycles=0.5,
    last_epoch=-1,
    *,
    device=None,
    dtype=None,
    horizon=None,
):
    """Linear warm-up, then cosine decay (``num_cycles`` waves; 0.5: to 0 once)."""
    _check(
        "get_cosine_schedule_with_warmup",
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
    )
    decay = CosineDecay(_decay_steps(num_warmup_steps, num_training_steps), num_cycles)
    return _table(optimizer, _warm(decay, num_warmup_steps), last_epoch, device, dtype, horizon)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer,
    num_warmup_steps,
    num_training_steps,
    num_cycles=1,
    last_epoch=-1,
    *,
    device=None,
    dtype=None,
    horizon=None,
):
    """Linear warm-up, then ``num_cycles`` cosine decays with hard restarts."""
    _check(
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
    )
    decay = CosineHardRestarts(_decay_steps(num_warmup_steps, num_training_steps), num_cycles)
    return _table(optimizer, _warm(decay, num_warmup_steps), last_epoch, device, dtype, horizon)


def get_polynomial_decay_schedule_with_warmup(
    optimizer,
    num_warmup_steps,
    num_training_steps,
    lr_end=1e-7,
    power=1.0,
    last_epoch=-1,
    *,
    device=None,
    dtype=None,
    horizon=None,
):
    """Linear warm-up, then polynomial decay from the optimizer's LR to ``lr_end``."""
    _check(
        "get_polynomial_decay_schedule_with_warmup",
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        lr_end=lr_end,
        power=power,
    )
    lr_init = optimizer.defaults["lr"]
    if not (lr_init > lr_end):
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    if num_training_steps <= num_warmup_steps:
        # transformers divides by num_training_steps - num_warmup_steps at that step
        raise ValueError(
            f"num_training_steps ({num_training_steps}) must be greater than "
            f"num_warmup_steps ({num_warmup_steps})"
        )
    decay = PolynomialDecay(num_training_steps - num_warmup_steps, lr_init, lr_end, power)
    return _table(optimizer, _warm(decay, num_warmup_steps), last_epoch, device, dtype, horizon)


def get_inverse_sqrt_schedule(
    optimizer,
    num_warmup_steps,
    timescale=None,
    last_epoch=-1,
    *,
    device=None,
    dtype=None,
    horizon=None,
):
    """Linear warm-up, then ``1/sqrt((t + timescale - warmup) / timescale)``."""
    _check("get_inverse_sqrt_schedule", num_warmup_steps=num_warmup_steps)
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    _check("get_inverse_sqrt_schedule", timescale=timescale)
    return _table(
        optimizer,
        _warm(InverseSqrt(timescale), num_warmup_steps),
        last_epoch,
        device,
        dtype,
        horizon,
    )


def _min_lr_rate(where, optimizer, min_lr, min_lr_rate):
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    if min_lr is not None:
        _check(where, min_lr=min_lr)
        lr = optimizer.defaults["lr"]
        if min_lr > lr:
            raise ValueError(
                f"{where}: min_lr ({min_lr}) must be at most the optimizer's lr ({lr}); "
                "above it the 'decay' would raise the LR"
            )
        return min_lr / lr
    if min_lr_rate is None:
        raise ValueError(
            "One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`"
        )
    _check(where, min_lr_rate=min_lr_rate)
    return min_lr_rate


def get_cosine_with_min_lr_schedule_with_warmup(
    optimizer,
    num_warmup_steps,
    num_training_steps,
    num_cycles=0.5,
    last_epoch=-1,
    min_lr=None,
    min_lr_rate=None,
    *,
    device=None,
    dtype=None,
    horizon=None,
):
    """Linear warm-up, then cosine decay to ``min_lr`` (or ``min_lr_rate`` of the LR)."""
    _check(
        "get_cosine_with_min_lr_schedule_with_warmup",
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
    )
    rate = _min_lr_rate(
        "get_cosine_with_min_lr_schedule_with_warmup", optimizer, min_lr, min_lr_rate
    )
    decay = CosineDecay(_decay_steps(num_warmup_steps, num_training_steps), num_cycles, rate)
    return _table(optimizer, _warm(decay, num_warmup_steps), last_epoch, device, dtype, horizon)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    optimizer,
    num_warmup_steps,
    num_training_steps,
    num_cycles=0.5,
    last_epoch=-1,
    min_lr=None,
    min_lr_rate=None,
    warmup_lr_rate=None,
    *,
    device=None,
    dtype=None,
    horizon=None,
):
    """The variant whose warm-up starts above 0 and whose cosine is one step ahead."""
    _check(
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
    )
    rate = _min_lr_rate(
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate", optimizer, min_lr, min_lr_rate
    )
    decay = CosineDecay(_decay_steps(num_warmup_steps, num_training_steps), num_cycles, rate, 1.0)
    if warmup_lr_rate is not None:
        _check("get_cosine_with_min_lr_schedule_with_warmup_lr_rate", warmup_lr_rate=warmup_lr_rate)
    if warmup_lr_rate is None:
        spec = _warm(decay, num_warmup_steps, warmup_type="linear_plus_one")
    else:
        spec = _warm(
            decay, num_warmup_steps, warmup_type="linear_from", warmup_lr_rate=warmup_lr_rate
        )
    return _table(optimizer, spec, last_epoch, device, dtype, horizon)


def get_wsd_schedule(
    optimizer,
    num_warmup_steps,
    num_decay_steps,
    num_training_steps=None,
    num_stable_steps=None,
    warmup_type="linear",
    decay_type="cosine",
    min_lr_ratio=0,
    num_cycles=0.5,
    last_epoch=-1,
    *,
    device=None,
    dtype=None,
    horizon=None,
):
    """Warmup-stable-decay (transformers' get_wsd_schedule)."""
    _check(
        "get_wsd_schedule",
        num_warmup_steps=num_warmup_steps,
        num_decay_steps=num_decay_steps,
        min_lr_ratio=min_lr_ratio,
        num_cycles=num_cycles,
    )
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn(
            "Both num_training_steps and num_stable_steps are specified. "
            "num_stable_steps will be used.",
            stacklevel=2,
        )
    if warmup_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(
            f"Unknown warmup type: {warmup_type}, expected 'linear', 'cosine' or '1-sqrt'"
        )
    if decay_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(
            f"Unknown decay type: {decay_type}, expected 'linear', 'cosine' or '1-sqrt'"
        )
    if num_stable_steps is None:
        _check("get_wsd_schedule", num_training_steps=num_training_steps)
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
        if num_stable_steps < 0:
            raise ValueError(
                f"get_wsd_schedule: num_training_steps ({num_training_steps}) must be at least "
                f"num_warmup_steps + num_decay_steps ({num_warmup_steps + num_decay_steps})"
            )
    _check("get_wsd_schedule", num_stable_steps=num_stable_steps)
    spec = WSD(
        num_warmup_steps,
        num_stable_steps,
        num_decay_steps,
        warmup_type,
        decay_type,
        float(min_lr_ratio),
        num_cycles,
    )
    return _table(optimizer, spec, last_epoch, device, dtype, horizon)


def get_reduce_on_plateau_schedule(optimizer, **kwargs):
    """lrsched.ReduceLROnPlateau (torch's, with schedule= and device=)."""
    return ReduceLROnPlateau(optimizer, **kwargs)


TYPE_TO_SCHEDULER_FUNCTION = {
    SchedulerType.LINEAR: get_linear_schedule_with_warmup,
    SchedulerType.COSINE: get_cosine_schedule_with_warmup,
    SchedulerType.COSINE_WITH_RESTARTS: get_cosine_with_hard_restarts_schedule_with_warmup,
    SchedulerType.POLYNOMIAL: get_polynomial_decay_schedule_with_warmup,
    SchedulerType.CONSTANT: get_constant_schedule,
    SchedulerType.CONSTANT_WITH_WARMUP: get_constant_schedule_with_warmup,
    SchedulerType.INVERSE_SQRT: get_inverse_sqrt_schedule,
    SchedulerType.REDUCE_ON_PLATEAU: get_reduce_on_plateau_schedule,
    SchedulerType.COSINE_WITH_MIN_LR: get_cosine_with_min_lr_schedule_with_warmup,
    SchedulerType.COSINE_WARMUP_WITH_MIN_LR: get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    SchedulerType.WARMUP_STABLE_DECAY: get_wsd_schedule,
}


def get_scheduler(
    name, optimizer, num_warmup_steps=None, num_training_steps=None, scheduler_specific_kwargs=None
):
    """transformers' get_scheduler, with its names and its errors for missing arguments."""
    name = SchedulerType(name)
    if name == SchedulerType.GREEDY:
        raise ValueError(
            "greedy: transformers' GreedyLR is not a table schedule (it reacts "
            "to the loss); use transformers.get_scheduler('greedy', ...)"
        )
    schedule_func = TYPE_TO_SCHEDULER_FUNCTION[name]
    if name == SchedulerType.CONSTANT:
        return schedule_func(optimizer)
    if scheduler_specific_kwargs is None:
        scheduler_specific_kwargs = {}
    if name == SchedulerType.REDUCE_ON_PLATEAU:
        return schedule_func(optimizer, **scheduler_specific_kwargs)
    if num_warmup_steps is None:
        raise ValueError(f"{name} requires `num_warmup_steps`, please provide that argument.")
    if name == SchedulerType.CONSTANT_WITH_WARMUP:
        return schedule_func(optimizer, num_warmup_steps=num_warmup_steps)
    if name == SchedulerType.INVERSE_SQRT:
        return schedule_func(
            optimizer, num_warmup_steps=num_warmup_steps, **scheduler_specific_kwargs
        )
    if name == SchedulerType.WARMUP_STABLE_DECAY:
        return schedule_func(
            optimizer,
            num_warmup_steps=num_warmup_steps,
            num_training_steps=num_training_steps,
            **scheduler_specific_kwargs,
        )
    if num_training_steps is None:
        raise ValueError(f"{name} requires `num_training_steps`, please provide that argument.")
    return schedule_func(
        optimizer,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        **scheduler_specific_kwargs,
    )
