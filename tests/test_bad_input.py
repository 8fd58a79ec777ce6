"""Every parameter walked through the same bad values, everywhere users pass them:
lrcore specs, lrsched's drop-in classes, the transformers-style functions, the CLI.

Each table below says, per parameter, which values are allowed (the *domain*).
Every walk value outside it must raise a ValueError or TypeError naming the
parameter (for the drop-ins: torch's own error where torch has one); every value
inside it must be kept as given (no clamp) and give finite, non-negative
learning rates -- for the drop-ins, torch's learning rates exactly.
"""

import json
import math
import subprocess
import sys
import warnings

import lrsched
import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as T

import lrcore

NAN, INF = math.nan, math.inf

#: the walk: (label, value)
WALK = [
    ("str", "a"),
    ("None", None),
    ("bool", True),
    ("nan", NAN),
    ("inf", INF),
    ("-inf", -INF),
    ("negative", -3),
    ("zero", 0),
    ("half", 0.5),
    ("non-integer", 2.5),
    ("integral float", 4.0),
    ("big", 10**6),
]


# -- domains ---------------------------------------------------------------------


class Domain:
    def __init__(self, text, accepts):
        self.text, self.accepts = text, accepts

    def __repr__(self):
        return self.text


def _int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _real(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def INT(lo, integral_floats=False):
    def ok(x):
        if integral_floats and isinstance(x, float) and x.is_integer():
            x = int(x)
        return _int(x) and x >= lo

    return Domain(f"int >= {lo}" + (" (or integral float)" if integral_floats else ""), ok)


def REAL(lo=None, hi=None, lo_open=False, hi_open=False):
    def ok(x):
        if not _real(x):
            return False
        if lo is not None and (x < lo or (lo_open and x == lo)):
            return False
        return hi is None or not (x > hi or (hi_open and x == hi))

    lo_text = "" if lo is None else f"{'>' if lo_open else '>='} {lo}"
    hi_text = "" if hi is None else f"{'<' if hi_open else '<='} {hi}"
    return Domain(f"real {lo_text} {hi_text}".strip(), ok)


def OR_NONE(d):
    return Domain(f"None or {d.text}", lambda x: x is None or d.accepts(x))


def WHERE(text, predicate):
    return Domain(text, lambda x: _real(x) and predicate(x))


FLAG = Domain("True or False", lambda x: isinstance(x, bool))
NONE = Domain("nothing from the walk", lambda x: False)
NONNEG, POS = REAL(0), REAL(0, lo_open=True)
UNIT, UNIT_OPEN0 = REAL(0, 1), REAL(0, 1, lo_open=True)


def walk(table, owner, check):
    """``check(owner, base, param, domain, value)`` for each of ``owner``'s parameters and
    each value of the walk; fails naming every (parameter, value) whose check failed and
    how (one test per owner: 4,454 cases as single tests cost more in pytest's bookkeeping
    than in the checks)."""
    base, params = table[owner]
    failed = []
    for param, domain in params.items():
        for label, value in WALK:
            try:
                check(owner, base, param, domain, value)
            except (Exception, pytest.fail.Exception) as exc:  # noqa: BLE001 - all reported
                failed.append(f"{owner}-{param}-{label}: {type(exc).__name__}: {exc}")
    assert not failed, "\n".join(failed)


# -- lrcore specs -----------------------------------------------------------------

TIMM_COMMON = {
    "t_initial": INT(1),
    "lr_min": NONNEG,
    "cycle_mul": POS,
    "cycle_decay": POS,
    "cycle_limit": INT(1),
    "warmup_t": INT(0),
    "warmup_lr_init": NONNEG,
    "warmup_prefix": FLAG,
    # timm compares t with it: create_scheduler_v2 passes fractions of t_initial (floats)
    "noise_range_t": OR_NONE(NONNEG),
    "noise_pct": POS,
    "noise_std": NONNEG,
    "noise_seed": INT(0),
}
TIMM_BASE = {
    k: TIMM_COMMON[k]
    for k in (
        "warmup_t",
        "warmup_lr_init",
        "noise_range_t",
        "noise_pct",
        "noise_std",
        "noise_seed",
    )
}

DS_WARMUP = {
    "warmup_min_lr": NONNEG,
    "warmup_max_lr": NONNEG,
    "warmup_num_steps": INT(1),
    "warmup_type": NONE,
}

ANY_INT = Domain("int", _int)
KERAS_DECAY_BASE = {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}
KERAS_DECAY = {
    "initial_learning_rate": NONNEG,
    "decay_steps": INT(1),
    "decay_rate": NONNEG,
    "staircase": FLAG,
    "dtype": NONE,
}
OPTAX_LINEAR = {
    "init_value": NONNEG,
    "end_value": NONNEG,
    "transition_steps": ANY_INT,  # <= 0: optax's constant schedule
    "transition_begin": ANY_INT,  # < 0: optax's 0
}
OPTAX_EXP = {
    "init_value": NONNEG,
    "transition_steps": ANY_INT,
    "decay_rate": NONNEG,
    "transition_begin": ANY_INT,
    "staircase": FLAG,
    "end_value": OR_NONE(NONNEG),
}
OPTAX_ONECYCLE = {
    "transition_steps": INT(1),
    "peak_value": NONNEG,
    "pct_start": NONNEG,
    "div_factor": POS,
    "final_div_factor": POS,
}

# family: (valid keyword arguments, {parameter: domain})
LRCORE = {
    "step": ({"step_size": 10}, {"step_size": INT(1), "gamma": POS}),
    "multi_step": ({"milestones": [5, 9]}, {"gamma": POS}),
    "constant": ({}, {"factor": UNIT_OPEN0, "total_iters": INT(0)}),
    "linear": ({}, {"start_factor": UNIT_OPEN0, "end_factor": UNIT, "total_iters": INT(1)}),
    "exponential": ({"gamma": 0.9}, {"gamma": POS}),
    "polynomial": ({}, {"total_iters": INT(1), "power": NONNEG}),
    "cosine_annealing": ({"T_max": 10}, {"T_max": INT(1), "eta_min": NONNEG}),
    "cosine_annealing_warm_restarts": (
        {"T_0": 10},
        {"T_0": INT(1), "T_mult": REAL(1), "eta_min": NONNEG, "decay": POS},
    ),
    "cyclic": (
        {"base_lr": 0.01, "max_lr": 0.1},
        {
            "base_lr": NONNEG,
            "max_lr": NONNEG,
            "step_size_up": INT(1),
            "step_size_down": OR_NONE(INT(1)),
            "mode": NONE,
            "gamma": POS,
            "base_momentum": NONNEG,
            "max_momentum": NONNEG,
        },
    ),
    "one_cycle": (
        {"max_lr": 0.1, "total_steps": 100},
        {
            "max_lr": NONNEG,
            "total_steps": INT(1),
            "pct_start": REAL(0, 1, lo_open=True, hi_open=True),
            "anneal_strategy": NONE,
            "div_factor": POS,
            "final_div_factor": POS,
            "three_phase": FLAG,
            "base_momentum": NONNEG,
            "max_momentum": NONNEG,
        },
    ),
    "warmup": (
        {"schedule": lrcore.Step(5), "warmup_steps": 10},
        {"warmup_steps": INT(0), "warmup_type": NONE, "min_lr_ratio": UNIT, "warmup_lr_rate": UNIT},
    ),
    "stable": ({}, {}),
    "linear_decay": ({"decay_steps": 100}, {"decay_steps": INT(0)}),
    "cosine_decay": (
        {"decay_steps": 100},
        {"decay_steps": INT(0), "num_cycles": POS, "min_lr_rate": UNIT, "progress_offset": UNIT},
    ),
    "cosine_hard_restarts": ({"decay_steps": 100}, {"decay_steps": INT(0), "num_cycles": POS}),
    "polynomial_decay": (
        {"decay_steps": 100, "lr_init": 1e7},
        {
            "decay_steps": INT(1),
            "lr_init": WHERE("real > lr_end (1e-7)", lambda x: x > 1e-7),
            "lr_end": WHERE("real >= 0, < lr_init (1e7)", lambda x: 0 <= x < 1e7),
            "power": NONNEG,
        },
    ),
    "inverse_sqrt": ({}, {"timescale": INT(1)}),
    "wsd": (
        {"warmup_steps": 10, "stable_steps": 10, "decay_steps": 10},
        {
            "warmup_steps": INT(0),
            "stable_steps": INT(0),
            "decay_steps": INT(0),
            "warmup_type": NONE,
            "decay_type": NONE,
            "min_lr_ratio": UNIT,
            "num_cycles": POS,
        },
    ),
    "wsd_decay": (
        {"decay_steps": 100},
        {"decay_steps": INT(0), "decay_type": NONE, "min_lr_ratio": UNIT, "num_cycles": POS},
    ),
    "timm_cosine": ({"t_initial": 10}, {**TIMM_COMMON, "k_decay": POS}),
    "timm_tanh": (
        {"t_initial": 10},
        {
            **TIMM_COMMON,
            "lb": WHERE("real < ub (3.0)", lambda x: x < 3.0),
            "ub": WHERE("real > lb (-7.0)", lambda x: x > -7.0),
        },
    ),
    "timm_poly": ({"t_initial": 10}, {**TIMM_COMMON, "power": NONNEG, "k_decay": POS}),
    "timm_step": (
        {"decay_t": 10},
        {**TIMM_BASE, "decay_t": POS, "decay_rate": NONNEG, "warmup_prefix": FLAG},
    ),
    "timm_multistep": (
        {"decay_t": [3, 6]},
        {**TIMM_BASE, "decay_t": NONE, "decay_rate": NONNEG, "warmup_prefix": FLAG},
    ),
    "timm_wsd": (
        {"t_initial": 10, "decay_t": 5},
        {
            **TIMM_BASE,
            "t_initial": INT(1),
            "decay_t": WHERE("0 < real <= t_initial (10)", lambda x: 0 < x <= 10),
            "lr_min": NONNEG,
            "stable_fn": NONE,
            "stable_timescale": OR_NONE(REAL()),  # read only by rsqrt and power
            "stable_power": POS,
            "decay_fn": NONE,
            "decay_power": POS,
            "decay_ratio": REAL(0, 1, lo_open=True, hi_open=True),
        },
    ),
    "deepspeed_warmup": ({}, DS_WARMUP),
    "deepspeed_warmup_decay": ({"total_num_steps": 50}, {**DS_WARMUP, "total_num_steps": INT(0)}),
    "deepspeed_warmup_cosine": (
        {"total_num_steps": 50},
        {
            "total_num_steps": INT(0),
            "warmup_min_ratio": NONNEG,
            "warmup_num_steps": INT(1),
            "cos_min_ratio": NONNEG,
            "warmup_type": NONE,
        },
    ),
    "deepspeed_one_cycle": (
        {"cycle_min_lr": 0.01, "cycle_max_lr": 0.1, "cycle_first_step_size": 10},
        {
            "cycle_min_lr": NONNEG,
            "cycle_max_lr": NONNEG,
            "decay_lr_rate": NONNEG,
            "cycle_first_step_size": POS,
            "cycle_second_step_size": OR_NONE(NONNEG),
            "cycle_first_stair_count": INT(0),
            "cycle_second_stair_count": OR_NONE(INT(0)),
            "decay_step_size": NONNEG,
            "cycle_momentum": FLAG,
            "cycle_min_mom": NONNEG,
            "cycle_max_mom": NONNEG,
            "decay_mom_rate": NONNEG,
        },
    ),
    "megatron": (
        {"max_lr": 0.1, "lr_decay_steps": 50, "wd_incr_style": "linear"},
        {
            "max_lr": NONNEG,
            "lr_decay_steps": INT(1),
            "init_lr": REAL(0, 0.1),
            "min_lr": REAL(0, 0.1),
            "lr_warmup_steps": WHERE("real >= 0, < lr_decay_steps (50)", lambda x: 0 <= x < 50),
            "lr_decay_style": NONE,
            "wsd_decay_steps": OR_NONE(INT(0)),
            "lr_wsd_decay_style": OR_NONE(NONE),
            "start_wd": REAL(0, 0.01),
            "end_wd": REAL(0.01),
            "wd_incr_steps": OR_NONE(INT(1)),
            "wd_incr_style": NONE,
        },
    ),
    "fairseq_inverse_sqrt": (
        {"lr": 0.1},
        {"lr": NONNEG, "warmup_updates": INT(1), "warmup_init_lr": REAL()},
    ),
    "fairseq_step": (
        {"lr": 0.1},
        {
            "lr": POS,  # > min_lr
            "warmup_updates": INT(0),
            "warmup_init_lr": REAL(),
            "min_lr": REAL(0, 0.1, hi_open=True),
            "lr_deacy_period": INT(1),
            "lr_decay": REAL(hi=1),
        },
    ),
    "fairseq_cosine": (
        {"lr": 0.1, "max_update": 100},
        {
            "lr": NONNEG,
            "warmup_updates": INT(0),
            "warmup_init_lr": REAL(),
            "min_lr": NONNEG,
            "t_mult": POS,
            "lr_period_updates": REAL(),
            "lr_shrink": NONNEG,
            "max_update": INT(1),  # the period, with lr_period_updates <= 0
        },
    ),
    "fairseq_polynomial_decay": (
        {"lr": 0.1, "total_num_update": 50},
        {
            "lr": NONNEG,
            "total_num_update": POS,
            "warmup_updates": INT(0),
            "end_learning_rate": NONNEG,
            "power": REAL(),
        },
    ),
    "fairseq_tri_stage": (
        {"lr": 0.1, "decay_steps": 10},
        {
            "lr": NONNEG,
            "warmup_steps": INT(0),
            "hold_steps": INT(0),
            "decay_steps": INT(1),
            "phase_ratio": OR_NONE(NONE),
            "init_lr_scale": NONNEG,
            "final_lr_scale": POS,
            "max_update": OR_NONE(NONNEG),
        },
    ),
    "fairseq_triangular": (
        {"lr": 0.1, "max_lr": 1.0},
        {
            "lr": REAL(0, 1.0, hi_open=True),
            "max_lr": REAL(0.1, lo_open=True),
            "lr_period_updates": REAL(2),
            "lr_shrink": NONNEG,
            "shrink_min": FLAG,
        },
    ),
    "fairseq_fixed": (
        {"lr": 0.1},
        {
            "lr": NONNEG,
            "force_anneal": OR_NONE(INT(0)),
            "lr_shrink": NONNEG,
            "warmup_updates": INT(0),
            "updates_per_epoch": OR_NONE(INT(1)),
        },
    ),
    "optax_constant": ({"value": 0.1}, {"value": NONNEG}),
    "optax_linear": (
        {"init_value": 0.1, "end_value": 0.01, "transition_steps": 10},
        OPTAX_LINEAR,
    ),
    "optax_polynomial": (
        {"init_value": 0.1, "end_value": 0.01, "power": 2, "transition_steps": 10},
        {**OPTAX_LINEAR, "power": NONNEG},
    ),
    "optax_exponential_decay": (
        {"init_value": 0.1, "transition_steps": 10, "decay_rate": 0.5},
        OPTAX_EXP,
    ),
    "optax_cosine_decay": (
        {"init_value": 0.1, "decay_steps": 10},
        {"init_value": NONNEG, "decay_steps": INT(1), "alpha": NONNEG, "exponent": NONNEG},
    ),
    "optax_piecewise_constant": (
        {"init_value": 0.1},
        {"init_value": NONNEG, "boundaries_and_scales": OR_NONE(NONE)},
    ),
    "optax_piecewise_interpolate": (
        {"interpolate_type": "linear", "init_value": 0.1},
        {"interpolate_type": NONE, "init_value": NONNEG, "boundaries_and_scales": OR_NONE(NONE)},
    ),
    "optax_linear_onecycle": (
        {"transition_steps": 20, "peak_value": 0.1},
        {**OPTAX_ONECYCLE, "pct_final": NONNEG},
    ),
    "optax_cosine_onecycle": ({"transition_steps": 20, "peak_value": 0.1}, OPTAX_ONECYCLE),
    "optax_warmup_constant": (
        {"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 10},
        {"init_value": NONNEG, "peak_value": NONNEG, "warmup_steps": ANY_INT},
    ),
    "optax_warmup_cosine_decay": (
        {"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 10, "decay_steps": 100},
        {
            "init_value": NONNEG,
            "peak_value": NONNEG,
            "warmup_steps": WHERE(
                "int >= 0, < decay_steps (100)", lambda x: _int(x) and 0 <= x < 100
            ),
            "decay_steps": WHERE("int > warmup_steps (10)", lambda x: _int(x) and x > 10),
            "end_value": NONNEG,
            "exponent": NONNEG,
        },
    ),
    "optax_warmup_exponential_decay": (
        {
            "init_value": 0.0,
            "peak_value": 0.1,
            "warmup_steps": 10,
            "transition_steps": 10,
            "decay_rate": 0.5,
        },
        {**OPTAX_EXP, "peak_value": NONNEG, "warmup_steps": INT(0)},
    ),
    "optax_sgdr": (
        {
            "cosine_kwargs": [
                {"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 2, "decay_steps": 9}
            ]
        },
        {"cosine_kwargs": NONE},
    ),
    "optax_join": (
        {"schedules": [lrcore.OptaxConstant(0.1), lrcore.OptaxConstant(0.2)], "boundaries": [5]},
        {"schedules": NONE, "boundaries": NONE},
    ),
    "keras_exponential_decay": (KERAS_DECAY_BASE, KERAS_DECAY),
    "keras_inverse_time_decay": (KERAS_DECAY_BASE, KERAS_DECAY),
    "keras_polynomial_decay": (
        {"initial_learning_rate": 0.1, "decay_steps": 10},
        {
            "initial_learning_rate": NONNEG,
            "decay_steps": INT(1),
            "end_learning_rate": NONNEG,
            "power": NONNEG,
            "cycle": FLAG,
            "dtype": NONE,
        },
    ),
    "keras_piecewise_constant_decay": (
        {"boundaries": [5, 9], "values": [0.1, 0.01, 0.001]},
        {"boundaries": NONE, "values": NONE, "dtype": NONE},
    ),
    "keras_cosine_decay": (
        {"initial_learning_rate": 0.1, "decay_steps": 10},
        {
            "initial_learning_rate": NONNEG,
            "decay_steps": INT(1),
            "alpha": NONNEG,
            "warmup_target": OR_NONE(NONNEG),
            "warmup_steps": INT(0),
            "dtype": NONE,
        },
    ),
    "keras_cosine_decay_restarts": (
        {"initial_learning_rate": 0.1, "first_decay_steps": 10},
        {
            "initial_learning_rate": NONNEG,
            "first_decay_steps": INT(1),
            "t_mul": POS,
            "m_mul": NONNEG,
            "alpha": NONNEG,
            "dtype": NONE,
        },
    ),
    "deepspeed_lr_range_test": (
        {},
        {
            "lr_range_test_min_lr": NONNEG,
            "lr_range_test_step_size": INT(1),
            "lr_range_test_step_rate": NONNEG,
            "lr_range_test_staircase": FLAG,
        },
    ),
}
# valid parameters whose values overflow float64 within 64 steps: the table says so
OVERFLOWS = {
    ("exponential", "gamma", 10**6),  # 1e6 ** 52 > 1.8e308
    ("timm_cosine", "k_decay", 10**6),  # t ** k_decay, as timm computes it
    ("timm_poly", "k_decay", 10**6),
    # Keras's own NaN: cycles shrinking by t_mul < 1 sum to first / (1 - t_mul) steps,
    # after which its log(1 - fraction * (1 - t_mul)) has no value
    ("keras_cosine_decay_restarts", "t_mul", 0.5),
}
# families whose parameters are functions or other specs: tests/test_specs.py's BAD table
STRUCTURAL = {"lambda", "multiplicative", "sequential", "chained"}


def test_every_lrcore_family_is_walked():
    assert set(LRCORE) | STRUCTURAL == set(lrcore.REGISTRY)


@pytest.mark.parametrize("family", sorted(LRCORE))
def test_lrcore_spec(family):
    walk(LRCORE, family, _check_lrcore_spec)


def _check_lrcore_spec(family, base, param, domain, value):
    cls = lrcore.REGISTRY[family]
    kwargs = {**base, param: value}
    if not domain.accepts(value):
        with pytest.raises((TypeError, ValueError)) as info:
            cls(**kwargs)
        assert str(info.value).startswith(f"{family}: ") and param in str(info.value)
        return
    spec = cls(**kwargs)
    kept = getattr(spec, param)
    assert kept == value and type(kept) is not bool or isinstance(value, bool)  # not clamped
    if (family, param, value) in OVERFLOWS:
        with pytest.raises(ValueError, match=f"table: {family} is not finite from step"):
            lrcore.table(spec, 64)
        return
    lr = lrcore.table(spec, 64)
    closed = lrcore.table(spec, 64, numerics="closed")
    assert np.all(np.isfinite(lr)) and np.all(np.isfinite(closed))
    # torch's own rounding can end a decay a hair below 0 (next test); never more
    assert np.all(closed >= 0) and np.all(lr >= -1e-15)


def test_torchs_linear_decay_to_zero_ends_below_zero():
    # torch's LinearLR recurrence ends at -1.48e-17, not 0: lrcore's torch numerics
    # (and so the drop-in) reproduce it bit for bit; the closed numerics give 0
    spec = lrcore.Linear(start_factor=1 / 3, end_factor=0.0, total_iters=5)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = T.LinearLR(opt, start_factor=1 / 3, end_factor=0.0, total_iters=5)
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] < 0
    assert lrcore.table(spec, 6)[5] == opt.param_groups[0]["lr"]
    assert lrcore.table(spec, 6, numerics="closed")[5] == 0.0


# -- lrsched drop-ins --------------------------------------------------------------

LRSCHED = {
    "StepLR": ({"step_size": 10}, {"step_size": INT(1, True), "gamma": NONNEG}),
    "MultiStepLR": ({"milestones": [5, 9]}, {"gamma": NONNEG}),
    "ConstantLR": ({}, {"factor": UNIT_OPEN0, "total_iters": INT(0, True)}),
    "LinearLR": (
        {},
        {"start_factor": UNIT_OPEN0, "end_factor": UNIT, "total_iters": INT(0, True)},
    ),
    "ExponentialLR": ({"gamma": 0.9}, {"gamma": NONNEG}),
    "PolynomialLR": ({}, {"total_iters": INT(0, True), "power": NONNEG}),
    "CosineAnnealingLR": ({"T_max": 10}, {"T_max": INT(1, True), "eta_min": NONNEG}),
    "CosineAnnealingWarmRestarts": (
        {"T_0": 10},
        {"T_0": INT(1), "T_mult": INT(1), "eta_min": NONNEG},
    ),
    "CyclicLR": (
        {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5},
        {
            "base_lr": NONNEG,
            "max_lr": NONNEG,
            "step_size_up": POS,
            "step_size_down": OR_NONE(POS),
            "gamma": NONNEG,
            "base_momentum": NONNEG,
            "max_momentum": NONNEG,
        },
    ),
    "OneCycleLR": (
        {"max_lr": 0.1, "total_steps": 100},
        {
            "max_lr": NONNEG,
            "total_steps": INT(1),
            "pct_start": Domain("float in [0, 1]", lambda x: isinstance(x, float) and 0 <= x <= 1),
            "div_factor": POS,
            "final_div_factor": POS,
            "three_phase": FLAG,
            "base_momentum": NONNEG,
            "max_momentum": NONNEG,
        },
    ),
}


def _optimizer():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)


def _run(cls, kwargs, steps=40):
    """(LRs, the constructor's error, an error from step())."""
    opt = _optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sched = cls(opt, **kwargs)
        except Exception as exc:  # noqa: BLE001 - whatever torch does, we compare
            return None, exc, None
        out = []
        try:
            for _ in range(steps):
                out.append(opt.param_groups[0]["lr"])
                opt.step()
                sched.step()
        except Exception as exc:  # noqa: BLE001
            return out, None, exc
    return out, None, None


@pytest.mark.parametrize("name", sorted(LRSCHED))
def test_lrsched_class(name):
    walk(LRSCHED, name, _check_lrsched_class)


def _check_lrsched_class(name, base, param, domain, value):
    kwargs = {**base, param: value}
    want, torch_error, torch_step_error = _run(getattr(T, name), kwargs)
    if domain.accepts(value):
        assert torch_error is None and torch_step_error is None
        got = _run(getattr(lrsched, name), kwargs)[0]
        assert got == want
        assert all(math.isfinite(x) and x >= -1e-15 for x in got)
        return
    opt = _optimizer()
    with pytest.raises((TypeError, ValueError)) as info:
        getattr(lrsched, name)(opt, **kwargs)
    message = str(info.value)
    if isinstance(torch_error, ValueError):  # torch's own check: torch's error
        assert (type(info.value), message) == (type(torch_error), str(torch_error))
    else:  # torch would crash, run on with nonsense, or take it: ours names the parameter
        assert message.startswith(f"{name}: ") and param in message
    # a refused scheduler leaves the optimizer as it was
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]


@pytest.mark.parametrize(
    "milestones,ok",
    [
        ([5, 9], True),
        ([5.0, 9.0], True),
        ((3,), True),
        ([-1, 5], False),
        ([2.5], False),
        ([True], False),
        (["5"], False),
        (5, False),
    ],
)
def test_multistep_milestones(milestones, ok):
    if ok:
        want = _run(T.MultiStepLR, {"milestones": milestones})[0]
        assert _run(lrsched.MultiStepLR, {"milestones": milestones})[0] == want
        return
    with pytest.raises((TypeError, ValueError), match="MultiStepLR: milestones"):
        lrsched.MultiStepLR(_optimizer(), milestones=milestones)


def test_drop_in_runs_into_overflow_as_torch_does():
    # the window looks ahead past the overflow; the run only meets it at step 52
    want, _, _ = _run(T.ExponentialLR, {"gamma": 1e6}, steps=60)
    got, _, _ = _run(lrsched.ExponentialLR, {"gamma": 1e6}, steps=60)
    assert got == want and math.isinf(want[-1]) and math.isfinite(want[50])
    spec = lrcore.Exponential(gamma=1e6)
    with pytest.raises(ValueError, match="exponential is not finite from step 52"):
        lrcore.table(spec, 60, 0.1)
    assert lrcore.table(spec, 60, 0.1, check_finite=False).tolist() == want
    # huge but finite values are not an overflow, even where their sum is
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = lrcore.table(lrcore.Constant(factor=1.0, total_iters=0), 4, 1e308)
    assert huge.tolist() == [1e308] * 4


PLATEAU = {
    "factor": REAL(0, 1, hi_open=True),
    "patience": INT(0, True),
    "threshold": NONNEG,
    "cooldown": INT(0, True),
    "min_lr": NONNEG,
    "eps": NONNEG,
}


@pytest.mark.parametrize("param", PLATEAU)
@pytest.mark.parametrize("label,value", WALK, ids=[w[0] for w in WALK])
def test_reduce_on_plateau(param, label, value):
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.95, 0.9, 0.9, 0.9, 0.9, 0.8] * 4

    def run(cls):
        opt = _optimizer()
        sched = cls(opt, **{param: value})
        out = []
        for m in metrics:
            sched.step(m)
            out.append(opt.param_groups[0]["lr"])
        return out

    if PLATEAU[param].accepts(value):
        assert run(lrsched.ReduceLROnPlateau) == run(T.ReduceLROnPlateau)
        return
    with pytest.raises((TypeError, ValueError)) as info:
        run(lrsched.ReduceLROnPlateau)
    assert param in str(info.value) or "Factor" in str(info.value)


# -- transformers-style functions ---------------------------------------------------

W, N = {"num_warmup_steps": 10}, {"num_training_steps": 100}
STEPS = Domain("int >= 0, <= num_training_steps (100)", lambda x: _int(x) and 0 <= x <= 100)
TRAINING = Domain("int >= num_warmup_steps (10)", lambda x: _int(x) and x >= 10)
TRANSFORMERS = {
    "get_constant_schedule_with_warmup": (W, {"num_warmup_steps": INT(0)}),
    "get_linear_schedule_with_warmup": (
        {**W, **N},
        {"num_warmup_steps": STEPS, "num_training_steps": TRAINING},
    ),
    "get_cosine_schedule_with_warmup": (
        {**W, **N},
        {"num_warmup_steps": STEPS, "num_training_steps": TRAINING, "num_cycles": POS},
    ),
    "get_cosine_with_hard_restarts_schedule_with_warmup": (
        {**W, **N},
        {"num_warmup_steps": STEPS, "num_training_steps": TRAINING, "num_cycles": POS},
    ),
    "get_polynomial_decay_schedule_with_warmup": (
        {**W, **N},
        {
            "num_warmup_steps": STEPS,
            "num_training_steps": Domain(
                "int > num_warmup_steps (10)", lambda x: _int(x) and x > 10
            ),
            "lr_end": WHERE("real >= 0, < the LR (0.1)", lambda x: 0 <= x < 0.1),
            "power": NONNEG,
        },
    ),
    "get_inverse_sqrt_schedule": (W, {"num_warmup_steps": INT(0), "timescale": OR_NONE(INT(1))}),
    "get_cosine_with_min_lr_schedule_with_warmup": (
        {**W, **N, "min_lr_rate": 0.1},
        {"num_warmup_steps": STEPS, "num_cycles": POS, "min_lr_rate": UNIT},
    ),
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate": (
        {**W, **N, "min_lr": 1e-5},
        {
            "num_warmup_steps": STEPS,
            "min_lr": WHERE("real >= 0, <= the LR (0.1)", lambda x: 0 <= x <= 0.1),
            "warmup_lr_rate": OR_NONE(UNIT),
        },
    ),
    "get_wsd_schedule": (
        {**W, "num_decay_steps": 20, "num_stable_steps": 50},
        {
            "num_warmup_steps": INT(0),
            "num_decay_steps": INT(0),
            "num_stable_steps": INT(0),
            "min_lr_ratio": UNIT,
            "num_cycles": POS,
        },
    ),
}


@pytest.mark.parametrize("fn", sorted(TRANSFORMERS))
def test_transformers_function(fn):
    walk(TRANSFORMERS, fn, _check_transformers_function)
    if _transformers() is None:  # the bad values were checked; the good ones not compared
        pytest.skip("transformers is not installed: no comparison with its functions")


def _transformers():
    try:
        from transformers import optimization
    except ImportError:
        return None
    return optimization


def _check_transformers_function(fn, base, param, domain, value):
    kwargs = {**base, param: value}
    if not domain.accepts(value):
        with pytest.raises((TypeError, ValueError)) as info:
            getattr(lrsched, fn)(_optimizer(), **kwargs)
        assert param in str(info.value)
        return
    got, error, step_error = _run(getattr(lrsched, fn), kwargs, steps=150)
    assert error is None and step_error is None
    assert all(math.isfinite(x) and x >= 0 for x in got)
    optimization = _transformers()
    if optimization is not None:
        assert got == _run(getattr(optimization, fn), kwargs, steps=150)[0]


# -- the command line ---------------------------------------------------------------

SPEC = "cosine_annealing(T_max=10)"
# (command line with {} where the bad value goes, the option the error must name, bad values)
CLI = [
    (["table", SPEC, "--steps", "{}", "-o", "x.npy"], "--steps", ["0", "-3", "2.5", "a", "nan"]),
    (["table", SPEC, "--steps", "5", "--start", "{}", "-o", "x.npy"], "--start", ["-1", "a"]),
    (
        ["table", SPEC, "--steps", "5", "--base-lr", "{}", "-o", "x.npy"],
        "--base-lr",
        ["nan", "inf", "-inf", "-0.1", "a"],
    ),
    (["table", SPEC, "--steps", "5", "--numerics", "{}", "-o", "x.npy"], "--numerics", ["fast"]),
    (["table", SPEC, "--steps", "5", "-o", "{}"], "-o", ["x.txt", "missing/x.npy"]),
    (["table", "{}", "--steps", "5", "-o", "x.npy"], "T_max", ["cosine_annealing(T_max=0)"]),
    (["plot", SPEC, "--steps", "{}", "-o", "x.png"], "--steps", ["0", "-5", "a"]),
    (["plot", SPEC, "--steps", "5", "--base-lr", "{}", "-o", "x.png"], "--base-lr", ["nan", "-1"]),
    (["plot", SPEC, "--steps", "5", "-o", "{}"], "-o", ["x.jpg", "missing/x.png"]),
    (["bench", "--steps", "{}"], "--steps", ["0", "-1", "a"]),
    (["bench", "--torch-steps", "{}"], "--torch-steps", ["0", "a"]),
    (["bench", "--steps", "10", "--json", "{}"], "--json", ["missing/x.json"]),
    (["demo", "--steps", "{}"], "--steps", ["-2"]),
    (["convert", "ds.json", "--group", "{}"], "--group", ["-1", "2", "a", "0.5"]),
    (["convert", SPEC, "--group", "{}"], "--group", ["0"]),  # no per-group lists there
]


def _cli_case(tmp_path, argv, value):
    args = [value if a == "{}" else a for a in argv]
    if "ds.json" in args:  # a DeepSpeed config with per-group lists for two groups
        params = {"total_num_steps": 9, "warmup_max_lr": [0.1, 0.2]}
        config = {"scheduler": {"type": "WarmupDecayLR", "params": params}}
        (tmp_path / "ds.json").write_text(json.dumps(config))
    return args


def _one_line_naming(option, code, err, tmp_path):
    assert code == 2
    assert option in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] in ([], ["ds.json"])  # nothing written


@pytest.mark.parametrize(
    "argv,option,value",
    [(a, o, v) for a, o, values in CLI for v in values],
    ids=[f"{a[0]}-{o}-{v}" for a, o, values in CLI for v in values],
)
def test_cli_option(tmp_path, monkeypatch, capsys, argv, option, value):
    """``lrcore.cli.main`` as ``python -m lrcore`` runs it (exit 2 from argparse's own
    errors too); the entry point itself in a fresh process: the test below."""
    from lrcore.cli import main

    args = _cli_case(tmp_path, argv, value)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as exc:  # (lrcore's parser reports its own errors in one line)
        code = exc.code
    err = capsys.readouterr().err
    _one_line_naming(option, code, err, tmp_path)


@pytest.mark.parametrize("row", [0, 6, 9, 13], ids=lambda i: CLI[i][0][0])
def test_cli_option_from_a_fresh_process(tmp_path, row):
    argv, option, values = CLI[row]
    args = _cli_case(tmp_path, argv, values[-1])
    out = subprocess.run(
        [sys.executable, "-m", "lrcore", *args], capture_output=True, text=True, cwd=tmp_path
    )
    _one_line_naming(option, out.returncode, out.stderr, tmp_path)
