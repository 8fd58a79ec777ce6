"""timm's cosine, tanh and poly schedules: lrcore's tables equal timm's classes.

Every step of every case is compared with ``==`` against timm's own scheduler
(``step_update(t)``), three param groups at once. The only steps allowed to
differ are the ones where timm's floating-log cycle index is wrong, which this
file finds independently with exact fractions.
"""

import math
import os
import warnings
from fractions import Fraction

import contract
import lrsched
import lrsched.timm as lrsched_timm
import naive
import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from timm_ref import scheduler_module

import lrcore
from lrcore.kernels.noise import timm_noise

timm = scheduler_module()

BASES = [0.1, 3e-4, 1.0]
STEPS = 2500

CLASSES = {
    "timm_cosine": (lrcore.TimmCosine, timm.CosineLRScheduler),
    "timm_tanh": (lrcore.TimmTanh, timm.TanhLRScheduler),
    "timm_poly": (lrcore.TimmPoly, timm.PolyLRScheduler),
}

# (family, keyword arguments) -- timm's names, so both sides take the same dict
CASES = [
    ("timm_cosine", dict(t_initial=200)),
    (
        "timm_cosine",
        dict(
            t_initial=50,
            lr_min=1e-4,
            cycle_mul=1.5,
            cycle_decay=0.7,
            cycle_limit=8,
            warmup_t=10,
            warmup_lr_init=1e-3,
            k_decay=1.3,
        ),
    ),
    ("timm_cosine", dict(t_initial=7, cycle_mul=3, cycle_limit=10)),  # timm slips at 847
    (
        "timm_cosine",
        dict(
            t_initial=100,
            lr_min=1e-5,
            cycle_limit=20,
            cycle_decay=0.9,
            warmup_t=25,
            warmup_prefix=True,
        ),
    ),
    (
        "timm_cosine",
        dict(
            t_initial=30,
            cycle_mul=2.0,
            cycle_limit=7,
            warmup_t=5,
            noise_range_t=[40, 900],
            noise_pct=0.2,
            noise_std=0.5,
            noise_seed=3,
        ),
    ),
    (
        "timm_cosine",
        dict(t_initial=300, cycle_mul=1.1, cycle_limit=100, k_decay=0.5, noise_range_t=150),
    ),
    ("timm_tanh", dict(t_initial=400)),
    (
        "timm_tanh",
        dict(
            t_initial=40, lr_min=1e-5, cycle_mul=2.0, cycle_limit=6, warmup_t=8, warmup_lr_init=1e-4
        ),
    ),
    (
        "timm_tanh",
        dict(
            t_initial=90,
            lb=-5.0,
            ub=4.0,
            cycle_limit=30,
            cycle_decay=0.5,
            warmup_t=8,
            warmup_prefix=True,
            noise_range_t=[0, 100],
        ),
    ),
    ("timm_tanh", dict(t_initial=13, cycle_mul=3.0, cycle_limit=8)),
    ("timm_poly", dict(t_initial=1000, power=2.0, lr_min=1e-6, warmup_t=50)),
    (
        "timm_poly",
        dict(
            t_initial=60,
            cycle_mul=1.25,
            cycle_limit=20,
            k_decay=2.0,
            warmup_t=3,
            warmup_lr_init=0.01,
        ),
    ),
    (
        "timm_poly",
        dict(
            t_initial=500,
            power=1.0,
            cycle_limit=4,
            cycle_decay=0.8,
            noise_range_t=10,
            noise_pct=0.05,
            noise_seed=2**63 + 5,  # past int64 and float64 precision
        ),
    ),
    # shrinking cycles: timm itself fails past t_initial / (1 - cycle_mul) = 300
    ("timm_poly", dict(t_initial=60, power=0.5, lr_min=1e-5, cycle_mul=0.8, cycle_limit=5)),
]


def _ids():
    return [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def timm_run(name, kwargs, steps, bases=BASES):
    """timm's LRs after ``step_update(t)``, shape (groups, steps); NaN where timm raises
    (everywhere if its constructor does)."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in bases]
    opt = torch.optim.SGD([{"params": [p], "lr": b} for p, b in zip(params, bases)])
    out = np.full((len(bases), steps), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sched = CLASSES[name][1](opt, t_in_epochs=False, **kwargs)
        except ValueError:  # the tanh warm-up target past timm's last cycle (log fails)
            return out
    for t in range(steps):
        try:
            sched.step_update(t)
            out[:, t] = [g["lr"] for g in opt.param_groups]
        except (ValueError, TypeError):  # timm's log fails, or a negative t_curr ** k
            continue  # (raising, or leaving a complex LR)
    return out


def timm_index(t, T, m):
    """timm's own cycle index (floor of a floating logarithm); None where timm raises."""
    if m == 1:
        return t // T
    arg = 1 - t / T * (1 - m)
    return math.floor(math.log(arg, m)) if arg > 0 else None


def slip_steps(kwargs, steps, name=None):
    """Steps where timm misplaces a restart: its cycle index differs from the exact
    one, or a restart lands exactly on the step and timm's rounded cycle start
    does not (timm's steps since the restart are then not 0). timm's tanh warm-up
    (without prefix) aims at the value at warmup_t: a slip there moves it too."""
    T, m = kwargs["t_initial"], kwargs.get("cycle_mul", 1.0)
    limit, warm = kwargs.get("cycle_limit", 1), kwargs.get("warmup_t", 0)
    q = Fraction(str(m))
    out = set()
    for t in range(warm, steps):
        e = t - warm if kwargs.get("warmup_prefix", False) else t
        mine, theirs = naive.timm_cycle(e, T, m, limit), timm_index(e, T, m)
        if theirs is None:
            continue
        if min(theirs, limit) != mine:
            out.add(t)
        elif m != 1 and mine < limit and T * (q**mine - 1) / (q - 1) == e:
            if e - (1 - m**mine) / (1 - m) * T != 0:
                out.add(t)
    if name == "timm_tanh" and not kwargs.get("warmup_prefix", False) and warm in out:
        out |= set(range(1, warm))
    return out


def past_the_cycles(spec, ours, t):
    """Where timm's logarithm fails past its last cycle: lr_min (times any noise), as
    the naive reference says."""
    return all(
        ours[g, t] == pytest.approx(naive.closed(spec, t, b), rel=1e-12)
        for g, b in enumerate(BASES)
    )


@pytest.mark.parametrize("name, kwargs", CASES, ids=_ids())
def test_equals_timm_at_every_step(name, kwargs):
    spec = CLASSES[name][0](**kwargs)
    ref = timm_run(name, kwargs, STEPS)
    ours = lrcore.table(spec, STEPS, BASES)
    closed = lrcore.table(spec, STEPS, BASES, numerics="closed")
    # timm's forms are closed already: one arithmetic, but for the stretches the closed
    # numerics write in their own shapes (cycle_mul and k_decay 1, no noise: cosines by
    # angle addition, integral powers): the closed contract (tests/contract.py)
    assert contract.outside(closed, ours).size == 0
    slips = slip_steps(kwargs, STEPS, name)
    for t in np.nonzero(np.isnan(ref[0]))[0]:
        # timm raises past its last cycle (log of a negative number) or at a slip
        # where its index is one too high (a negative t_curr to a fractional power)
        assert t in slips or past_the_cycles(spec, ours, t), t
    differs = set(np.nonzero(np.any(ours != ref, axis=0) & ~np.isnan(ref[0]))[0].tolist())
    assert differs <= slips


def test_timm_slip_is_a_restart_one_step_late():
    kwargs = dict(t_initial=7, cycle_mul=3, cycle_limit=10)
    ref = timm_run("timm_cosine", kwargs, 900, [0.1])[0]
    ours = lrcore.table(lrcore.TimmCosine(**kwargs), 900, 0.1)
    assert slip_steps(kwargs, 900) == {847}  # 121 * 7: log(243, 3) = 4.999...
    assert ours[847] == 0.1  # the restart: peak LR
    assert ref[847] == 0.0  # timm: the end of the previous cycle
    assert ours[848] == ref[848] < 0.1


def test_tables_are_windows_of_one_function():
    spec = lrcore.TimmCosine(t_initial=30, cycle_mul=2.0, cycle_limit=7, noise_range_t=[40, 900])
    whole = lrcore.table(spec, 3050, 0.5)
    for start in (0, 1, 39, 40, 209, 899, 3000):
        window = lrcore.table(spec, 50, 0.5, start=start)
        np.testing.assert_array_equal(window, whole[start : start + 50])


def test_inside_a_composition():
    spec = lrcore.parse(
        "sequential([linear(start_factor=0.1, total_iters=20), timm_tanh(t_initial=50)],"
        " milestones=[20])"
    )
    ref = timm_run("timm_tanh", dict(t_initial=50), 80, [0.1])[0]
    np.testing.assert_array_equal(lrcore.table(spec, 100, 0.1)[20:], ref)


# -- the noise: torch's own generator, reproduced -------------------------------


@pytest.mark.parametrize("pct, std", [(0.67, 1.0), (0.2, 0.5), (0.01, 1.0), (0.002, 2.0)])
def test_noise_equals_torch_randn(pct, std):
    # small pct/std ratios reject hundreds of draws: past the twister's 624 words
    for seed in list(range(40)) + [2**32 - 1, 2**32 + 5, 10**12]:
        g = torch.Generator()
        g.manual_seed(seed)
        while True:
            n = torch.randn(1, generator=g).item() * std
            if abs(n) < pct:
                break
        assert timm_noise(seed, std, pct) == n
        assert timm_noise.py(seed, std, pct) == n  # the plain-Python engine's draw


# -- naive references from the formulas ----------------------------------------


@pytest.mark.parametrize("name, kwargs", CASES, ids=_ids())
def test_close_to_the_formulas(name, kwargs):
    spec = CLASSES[name][0](**kwargs)
    ours = lrcore.table(spec, 1500, 0.1)
    for t in range(0, 1500, 7):
        want = naive.closed(spec, t, 0.1)
        assert abs(ours[t] - want) <= 1e-13 * 0.1 + 1e-12 * abs(want), (t, ours[t], want)


def test_table_lr_serves_a_timm_schedule():
    kwargs = dict(t_initial=40, cycle_mul=2.0, cycle_limit=4, warmup_t=5, warmup_lr_init=1e-3)
    ref = timm_run("timm_cosine", kwargs, 200, [0.1])[0]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = lrsched.TableLR(opt, lrcore.TimmCosine(**kwargs))
    seen = [opt.param_groups[0]["lr"]]
    for _ in range(199):
        opt.step()
        sched.step()
        seen.append(opt.param_groups[0]["lr"])
    assert seen == ref.tolist()


# -- lrsched.timm: timm's classes, table-backed ------------------------------------

DROPINS = {
    "timm_cosine": lrsched_timm.CosineLRScheduler,
    "timm_tanh": lrsched_timm.TanhLRScheduler,
    "timm_poly": lrsched_timm.PolyLRScheduler,
}


def _pair(name, kwargs, t_in_epochs=False):
    """timm's scheduler and ours, each on its own optimizer (one group with lr_scale)."""
    out = []
    for cls in (CLASSES[name][1], DROPINS[name]):
        params = [torch.nn.Parameter(torch.zeros(1)) for _ in BASES]
        groups = [{"params": [p], "lr": b} for p, b in zip(params, BASES)]
        groups[1]["lr_scale"] = 0.5
        opt = torch.optim.SGD(groups)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append((opt, cls(opt, t_in_epochs=t_in_epochs, **kwargs)))
    return out


def _lrs(opt):
    return [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("name, kwargs", CASES[:-1], ids=_ids()[:-1])
def test_dropin_steps_as_timm(name, kwargs):
    (o_ref, ref), (o, ours) = _pair(name, kwargs)
    assert _lrs(o) == _lrs(o_ref)  # the constructor's values
    assert ours.state_dict() == ref.state_dict()
    slips = slip_steps(kwargs, 1200, name)
    for t in range(1, 1200):
        ours.step_update(t)
        ours.step(t)  # t_in_epochs=False: step() leaves the LR alone, as timm's
        try:
            ref.step_update(t)
        except (ValueError, TypeError):  # timm's own failures (see above)
            assert t in slips or _lrs(o)[0] == kwargs.get("lr_min", 0.0), t
            continue
        assert _lrs(o) == _lrs(o_ref) or t in slips, t
    assert ours.get_cycle_length() == ref.get_cycle_length()
    assert ours.get_cycle_length(3) == ref.get_cycle_length(3)


def test_dropin_epochs_resume_and_checkpoints():
    kwargs = dict(t_initial=30, cycle_mul=2.0, cycle_limit=5, warmup_t=4, noise_range_t=[10, 60])
    (o_ref, ref), (o, ours) = _pair("timm_cosine", kwargs, t_in_epochs=True)
    for epoch in range(1, 40):
        ref.step(epoch, metric=0.5)
        ours.step(epoch, metric=0.5)
        ref.step_update(epoch * 100, metric=0.25)
        ours.step_update(epoch * 100, metric=0.25)  # t_in_epochs=True: only the metric
        assert _lrs(o) == _lrs(o_ref)
    assert ours.state_dict() == ref.state_dict()
    # timm's checkpoint into ours and ours into timm's, then a jump in t
    (o2_ref, ref2), (o2, ours2) = _pair("timm_cosine", dict(t_initial=5), t_in_epochs=True)
    ours2.load_state_dict(ref.state_dict())
    ref2.load_state_dict(ours.state_dict())
    for epoch in (40, 41, 90, 7, 150):
        ref2.step(epoch)
        ours2.step(epoch)
        assert _lrs(o2) == _lrs(o2_ref)


def test_dropin_refuses_what_timm_cannot_run_on():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="timm_cosine: noise_pct must be"):
        lrsched_timm.CosineLRScheduler(opt, t_initial=10, noise_range_t=0, noise_pct=0.0)
    assert "initial_lr" not in opt.param_groups[0]  # refused before touching the optimizer
    sched = lrsched_timm.PolyLRScheduler(opt, t_initial=10, t_in_epochs=False)
    with pytest.raises(ValueError, match="num_updates must be a whole number >= 0"):
        sched.step_update(2.5)
    sched.step_update(3.0)  # an integral float is the step it names
    assert opt.param_groups[0]["lr"] == lrcore.table(lrcore.TimmPoly(t_initial=10), 4, 0.1)[3]


# -- random parameters against timm ---------------------------------------------------

EXAMPLES = int(os.environ.get("LRCORE_EXAMPLES", "200")) // 4
FAMILY_KWARGS = {
    "timm_cosine": dict(k_decay=st.floats(0.25, 4.0)),
    "timm_tanh": dict(lb=st.floats(-9.0, -1.0), ub=st.floats(0.5, 6.0)),
    "timm_poly": dict(power=st.floats(0.1, 4.0), k_decay=st.floats(0.25, 4.0)),
}


@st.composite
def timm_cases(draw):
    name = draw(st.sampled_from(sorted(FAMILY_KWARGS)))
    kwargs = dict(
        t_initial=draw(st.integers(1, 300)),
        lr_min=draw(st.sampled_from([0.0, 1e-5, 1e-3])),
        cycle_mul=draw(st.one_of(st.just(1.0), st.floats(1.0, 3.0), st.sampled_from([2, 3, 0.5]))),
        cycle_decay=draw(st.floats(0.3, 1.0)),
        cycle_limit=draw(st.integers(1, 12)),
        warmup_t=draw(st.integers(0, 50)),
        warmup_lr_init=draw(st.sampled_from([0.0, 1e-4, 1e-2])),
        warmup_prefix=draw(st.booleans()),
        noise_range_t=draw(st.one_of(st.none(), st.integers(0, 400), st.just([50, 300]))),
        noise_pct=draw(st.floats(0.05, 1.0)),
        noise_std=draw(st.floats(0.0, 2.0)),
        noise_seed=draw(st.integers(0, 2**40)),
    )
    kwargs.update({k: draw(v) for k, v in FAMILY_KWARGS[name].items()})
    return name, kwargs


# `make test` runs a fixed set of examples (a landing must not depend on luck);
# `make fuzz` (LRCORE_EXAMPLES set) explores new ones each run
@settings(max_examples=EXAMPLES, deadline=None, derandomize="LRCORE_EXAMPLES" not in os.environ)
@given(timm_cases())
@example(  # found in CI: a slip at warmup_t moves timm's whole tanh warm-up
    (
        "timm_tanh",
        dict(t_initial=1, cycle_mul=1.0000000000000002, cycle_limit=2, warmup_t=2, lb=-1.0, ub=1.0),
    )
)
def test_random_parameters_equal_timm(case):
    name, kwargs = case
    steps = 600
    ref = timm_run(name, kwargs, steps)
    spec = CLASSES[name][0](**kwargs)
    ours = lrcore.table(spec, steps, BASES)
    slips = slip_steps(kwargs, steps, name)
    for t in np.nonzero(np.isnan(ref[0]))[0]:
        assert t in slips or past_the_cycles(spec, ours, t), t
    differs = set(np.nonzero(np.any(ours != ref, axis=0) & ~np.isnan(ref[0]))[0].tolist())
    assert differs <= slips


TIMM_CHANGES = [
    ("timm_cosine", dict(t_initial=200, warmup_t=5), "t_initial", 120),
    ("timm_cosine", dict(t_initial=200, noise_range_t=(10, 300)), "noise_seed", 7),
    ("timm_tanh", dict(t_initial=300), "lb", -5.0),
    ("timm_poly", dict(t_initial=300, power=2.0), "power", 0.5),
    ("timm_poly", dict(t_initial=300), "base_values", [0.2, 1e-3, 0.5]),
]


@pytest.mark.parametrize(
    "name, kwargs, attr, value", TIMM_CHANGES, ids=[f"{c[0]}.{c[2]}" for c in TIMM_CHANGES]
)
def test_a_changed_hyperparameter_takes_effect_as_in_timm(name, kwargs, attr, value):
    """timm reads its attributes at every step: an assignment mid-run (a spec field,
    the noise seed, the base values) changes the next LR as it does in timm."""
    runs = []
    for change in (False, True):
        for opt, sched in _pair(name, kwargs):
            seen = []
            for t in range(400):
                if t == 150 and change:
                    setattr(sched, attr, list(value) if isinstance(value, list) else value)
                sched.step_update(t)
                seen.append(_lrs(opt))
            runs.append(seen)
    (timm_unchanged, _), (theirs, ours) = runs[:2], runs[2:]
    assert theirs != timm_unchanged  # the change matters to timm
    assert ours == theirs
