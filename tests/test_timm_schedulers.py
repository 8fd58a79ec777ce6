"""timm's step, multi-step, WSD and plateau schedulers and its factory, against timm itself.

Every value is compared with ``==`` against timm's own classes (timm_ref loads the
installed timm 1.0.x scheduler package): lrcore's ``timm_step`` / ``timm_multistep`` /
``timm_wsd`` tables in both numerics, and lrsched.timm's drop-ins stepped per epoch and
per update with two param groups (one with an ``lr_scale``), checkpoints moved both
ways mid-run, and ``create_scheduler_v2`` / ``scheduler_kwargs`` for every schedule name.
"""

import argparse
import random
import warnings

import contract
import lrsched.timm as LT
import numpy as np
import pytest
import torch
from timm_ref import scheduler_module

import lrcore

timm = scheduler_module()

BASES = (0.1, 3e-4)
STEPS = 400

# (timm class, lrcore spec class, keyword arguments): timm's names on both sides
CASES = [
    ("StepLRScheduler", lrcore.TimmStep, dict(decay_t=30, decay_rate=0.5)),
    (
        "StepLRScheduler",
        lrcore.TimmStep,
        dict(decay_t=45, decay_rate=0.7, warmup_t=12, warmup_lr_init=1e-4),
    ),
    (
        "StepLRScheduler",
        lrcore.TimmStep,
        dict(
            decay_t=2.5,  # a float period: Python's floor division of t by it
            decay_rate=0.97,
            warmup_t=7,
            warmup_prefix=False,
            noise_range_t=[20, 300],
            noise_pct=0.2,
            noise_std=0.5,
            noise_seed=7,
        ),
    ),
    ("MultiStepLRScheduler", lrcore.TimmMultiStep, dict(decay_t=[30, 100, 100, 250])),
    (
        "MultiStepLRScheduler",
        lrcore.TimmMultiStep,
        dict(decay_t=[1, 60, 61, 300], decay_rate=0.3, warmup_t=10, warmup_lr_init=1e-5),
    ),
    (  # unsorted milestones: timm bisects the list as given
        "MultiStepLRScheduler",
        lrcore.TimmMultiStep,
        dict(decay_t=[200, 20, 90], decay_rate=0.5, warmup_prefix=False, noise_range_t=50),
    ),
    ("WSDLRScheduler", lrcore.TimmWSD, dict(t_initial=300, decay_t=60)),
    (
        "WSDLRScheduler",
        lrcore.TimmWSD,
        dict(t_initial=330, decay_t=100, lr_min=1e-5, warmup_t=40, warmup_lr_init=1e-6),
    ),
    (
        "WSDLRScheduler",
        lrcore.TimmWSD,
        dict(t_initial=350, decay_t=90, stable_fn="rsqrt", decay_fn="linear", warmup_t=25),
    ),
    (
        "WSDLRScheduler",
        lrcore.TimmWSD,
        dict(
            t_initial=300,
            decay_t=300,
            stable_fn="power",
            stable_power=0.3,
            stable_timescale=7,
            decay_fn="exp",
            decay_ratio=0.05,
            noise_range_t=[0.5, 150.5],  # create_scheduler_v2 gives fractions of t_initial
        ),
    ),
    (
        "WSDLRScheduler",
        lrcore.TimmWSD,
        dict(t_initial=280, decay_t=80, decay_fn="cosine", lr_min=0.01, warmup_t=5),
    ),
    (
        "WSDLRScheduler",
        lrcore.TimmWSD,
        dict(t_initial=200, decay_t=120, decay_fn="power", decay_power=2.0, lr_min=0.2),
    ),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _optimizer(bases=BASES, scale=True):
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in bases]
    groups = [{"params": [p], "lr": b} for p, b in zip(params, bases)]
    if scale:
        groups[-1]["lr_scale"] = 0.5  # timm's layer-wise decay: the LR written is scaled
    return torch.optim.SGD(groups)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _run(sched, opt, steps, on_updates, start=0):
    out = np.empty((steps - start, len(opt.param_groups)))
    for t in range(start, steps):
        (sched.step_update if on_updates else sched.step)(t)
        out[t - start] = [g["lr"] for g in opt.param_groups]
    return out


def _timm_values(name, kwargs, steps=STEPS, bases=BASES):
    """timm's LRs after step_update(t), per group without lr_scale: shape (steps, groups)."""
    opt = _optimizer(bases, scale=False)
    sched = _quiet(getattr(timm, name), opt, t_in_epochs=False, **kwargs)
    return _run(sched, opt, steps, on_updates=True)


@pytest.mark.parametrize("name, spec_class, kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("numerics", ["torch", "closed"])
def test_tables_equal_timm(name, spec_class, kwargs, numerics):
    spec = spec_class(**kwargs)
    ours = lrcore.table(spec, STEPS, list(BASES), numerics=numerics).T
    theirs = _timm_values(name, kwargs)
    # the closed numerics: timm's bits for a staircase (a family declaring runs=), the
    # closed contract where smooth stretches are written in their own shapes
    same = numerics == "torch" or spec.family.runs is not None
    assert np.array_equal(ours, theirs) if same else contract.outside(ours.T, theirs.T).size == 0
    # any window is the same function (pointwise families: no state between steps)
    window = lrcore.table(spec, 37, list(BASES), start=211, numerics=numerics).T
    if same:
        assert np.array_equal(window, theirs[211:248])
    else:
        assert contract.outside(window.T, theirs[211:248].T).size == 0


@pytest.mark.parametrize("name, spec_class, kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("on_updates", [True, False], ids=["updates", "epochs"])
def test_dropins_step_as_timm(name, spec_class, kwargs, on_updates):
    opt_a, opt_b = _optimizer(), _optimizer()
    theirs = _quiet(getattr(timm, name), opt_a, t_in_epochs=not on_updates, **kwargs)
    ours = _quiet(getattr(LT, name), opt_b, t_in_epochs=not on_updates, **kwargs)
    # the constructor writes the same LRs (the warm-up start or the base) and state
    assert [g["lr"] for g in opt_a.param_groups] == [g["lr"] for g in opt_b.param_groups]
    assert ours.state_dict() == theirs.state_dict()
    a = _run(theirs, opt_a, 200, on_updates)
    b = _run(ours, opt_b, 200, on_updates)
    assert np.array_equal(a, b), np.argwhere(a != b)[:5]
    # the other protocol's call leaves the LR alone, in both
    (theirs.step if on_updates else theirs.step_update)(5)
    (ours.step if on_updates else ours.step_update)(5)
    assert [g["lr"] for g in opt_a.param_groups] == [g["lr"] for g in opt_b.param_groups]


@pytest.mark.parametrize("direction", ["timm->lrsched", "lrsched->timm"])
@pytest.mark.parametrize("name, spec_class, kwargs", CASES[1::2], ids=IDS[1::2])
def test_checkpoints_move_both_ways(name, spec_class, kwargs, direction):
    """A run stopped at 150 in one class and resumed in the other from its state_dict
    (through torch.save / torch.load(weights_only=True), as Trainer loads it) continues
    with the LRs of an uninterrupted timm run."""
    import io

    first, second = (timm, LT) if direction == "timm->lrsched" else (LT, timm)
    full_opt = _optimizer()
    full = _quiet(getattr(timm, name), full_opt, t_in_epochs=False, **kwargs)
    expected = _run(full, full_opt, 300, True)

    opt = _optimizer()
    sched = _quiet(getattr(first, name), opt, t_in_epochs=False, **kwargs)
    _run(sched, opt, 150, True)
    buffer = io.BytesIO()
    torch.save(sched.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)

    opt2 = _optimizer()
    for group, old in zip(opt2.param_groups, opt.param_groups):
        group["initial_lr"] = old["initial_lr"]
    # a resumed run rebuilds the scheduler with other arguments, then loads the state
    other = dict(kwargs, warmup_t=0) if "decay_fn" not in kwargs else dict(kwargs, lr_min=0.0)
    resumed = _quiet(getattr(second, name), opt2, t_in_epochs=False, **other)
    resumed.load_state_dict(state)
    rest = _run(resumed, opt2, 300, True, start=150)
    assert np.array_equal(rest, expected[150:]), np.argwhere(rest != expected[150:])[:5]


def test_wsd_with_a_python_decay_function():
    """timm takes a callable ``decay_fn``; lrsched calls it as timm does (on the host)."""

    def cubic(frac):
        return (1.0 - frac) ** 3

    kwargs = dict(t_initial=250, decay_t=100, decay_fn=cubic, warmup_t=10, noise_range_t=120)
    for on_updates in (True, False):
        opt_a, opt_b = _optimizer(), _optimizer()
        theirs = timm.WSDLRScheduler(opt_a, t_in_epochs=not on_updates, **kwargs)
        ours = LT.WSDLRScheduler(opt_b, t_in_epochs=not on_updates, **kwargs)
        assert np.array_equal(
            _run(theirs, opt_a, 300, on_updates), _run(ours, opt_b, 300, on_updates)
        )


def test_get_curr_decay_steps_and_cycle_length_as_timm():
    a = timm.MultiStepLRScheduler(_optimizer(), decay_t=[10, 20, 20, 35])
    b = LT.MultiStepLRScheduler(_optimizer(), decay_t=[10, 20, 20, 35])
    assert [a.get_curr_decay_steps(t) for t in range(40)] == [
        b.get_curr_decay_steps(t) for t in range(40)
    ]
    w = dict(t_initial=90, decay_t=30, warmup_t=12)
    assert (
        LT.WSDLRScheduler(_optimizer(), **w).get_cycle_length()
        == timm.WSDLRScheduler(_optimizer(), **w).get_cycle_length()
    )
    # timm's step schedulers have no cycles: create_scheduler_v2 tells them apart by this
    for cls in ("StepLRScheduler", "MultiStepLRScheduler", "PlateauLRScheduler"):
        assert hasattr(getattr(LT, cls), "get_cycle_length") == hasattr(
            getattr(timm, cls), "get_cycle_length"
        ), cls


# -- PlateauLRScheduler ------------------------------------------------------------------------


def _metrics(n, seed=0):
    rng = random.Random(seed)
    out, level = [], 2.0
    for i in range(n):
        level *= 0.995 if i % 17 < 9 else 1.0
        out.append(level + rng.uniform(-0.01, 0.01))
    return out


PLATEAU = [
    dict(),
    dict(decay_rate=0.5, patience_t=2, warmup_t=5, warmup_lr_init=1e-4, mode="min"),
    dict(
        decay_rate=0.3,
        patience_t=1,
        cooldown_t=2,
        threshold=1e-3,
        lr_min=1e-3,
        mode="min",
        noise_range_t=[10, 60],
        noise_pct=0.3,
        noise_seed=5,
    ),
    dict(mode="max", patience_t=3, noise_range_t=20, noise_type="uniform", noise_pct=0.1),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[f"plateau-{i}" for i in range(len(PLATEAU))])
def test_plateau_as_timm(kwargs):
    opt_a, opt_b = _optimizer(), _optimizer()
    with pytest.warns(FutureWarning, match="PlateauLRScheduler is deprecated"):
        theirs = timm.PlateauLRScheduler(opt_a, **kwargs)
    with pytest.warns(FutureWarning, match="PlateauLRScheduler is deprecated"):
        ours = LT.PlateauLRScheduler(opt_b, **kwargs)
    assert [g["lr"] for g in opt_a.param_groups] == [g["lr"] for g in opt_b.param_groups]
    for epoch, m in enumerate(_metrics(100)):
        metric = None if epoch % 11 == 10 else m  # a step without a metric changes nothing
        theirs.step(epoch, metric)
        ours.step(epoch, metric)
        assert [g["lr"] for g in opt_a.param_groups] == [g["lr"] for g in opt_b.param_groups], epoch
        assert ours.state_dict() == theirs.state_dict()
        theirs.step_update(epoch)  # per update: nothing, in both
        ours.step_update(epoch)
    # timm's state moves into ours
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = LT.PlateauLRScheduler(_optimizer(), **kwargs)
    other.load_state_dict(theirs.state_dict())
    assert other.state_dict() == theirs.state_dict()


# -- create_scheduler_v2 and scheduler_kwargs --------------------------------------------------

FACTORY = [
    dict(sched="cosine", num_epochs=30, warmup_epochs=3, cycle_limit=2, cycle_decay=0.5),
    dict(sched="tanh", num_epochs=25, warmup_epochs=2, warmup_prefix=True, min_lr=1e-5),
    dict(sched="poly", num_epochs=20, decay_rate=2.0, noise=[0.2, 0.8], noise_pct=0.1),
    dict(sched="step", num_epochs=30, decay_epochs=7, decay_rate=0.5, warmup_epochs=2),
    dict(sched="constant", num_epochs=10, warmup_epochs=3, warmup_prefix=True),
    dict(sched="multistep", num_epochs=30, decay_milestones=[5, 12, 20], noise=0.5),
    dict(sched="wsd", num_epochs=40, warmup_epochs=4),
    dict(sched="wsd", num_epochs=40, warmup_epochs=4, warmup_prefix=True, decay_epochs=10),
    dict(sched="rsqrt", num_epochs=40, warmup_epochs=5, cooldown_epochs=3),
    dict(sched="rsqrt", num_epochs=40, warmup_epochs=0, stable_timescale=3, decay_fn="cosine"),
    dict(sched="plateau", num_epochs=30, patience_epochs=2, warmup_epochs=2, plateau_mode="min"),
    dict(sched="none", num_epochs=12, warmup_prefix=True, warmup_epochs=2),
]


@pytest.mark.parametrize(
    "kwargs", FACTORY, ids=[f"{k['sched']}-{i}" for i, k in enumerate(FACTORY)]
)
@pytest.mark.parametrize("updates_per_epoch", [0, 4], ids=["epochs", "updates"])
def test_create_scheduler_v2_as_timm(kwargs, updates_per_epoch):
    from timm.scheduler.scheduler_factory import create_scheduler_v2

    per_update = updates_per_epoch > 0
    if per_update and kwargs["sched"] == "plateau":
        with pytest.raises(AssertionError, match="Plateau LR only supports step per epoch"):
            _quiet(
                LT.create_scheduler_v2,
                _optimizer(),
                **kwargs,
                step_on_epochs=False,
                updates_per_epoch=4,
            )
        return
    extra = dict(step_on_epochs=not per_update, updates_per_epoch=updates_per_epoch)
    opt_a, opt_b = _optimizer(), _optimizer()
    theirs, n_theirs = _quiet(create_scheduler_v2, opt_a, **kwargs, **extra)
    ours, n_ours = _quiet(LT.create_scheduler_v2, opt_b, **kwargs, **extra)
    assert n_ours == n_theirs
    assert type(ours).__name__ == type(theirs).__name__  # NoneType for 'none'
    if theirs is None:
        return
    assert ours.state_dict() == theirs.state_dict()
    metrics = _metrics(n_theirs)
    for epoch in range(n_theirs):
        for u in range(updates_per_epoch):
            theirs.step_update(epoch * updates_per_epoch + u)
            ours.step_update(epoch * updates_per_epoch + u)
            assert [g["lr"] for g in opt_a.param_groups] == [g["lr"] for g in opt_b.param_groups]
        theirs.step(epoch + 1, metrics[epoch])
        ours.step(epoch + 1, metrics[epoch])
        assert [g["lr"] for g in opt_a.param_groups] == [g["lr"] for g in opt_b.param_groups]


def test_create_scheduler_v2_errors_as_timm():
    from timm.scheduler.scheduler_factory import create_scheduler_v2

    for kwargs, error in [
        (dict(sched="cosine_typo"), ValueError),
        (dict(sched="wsd", num_epochs=10, warmup_epochs=10), ValueError),
        (dict(sched="step", step_on_epochs=False), AssertionError),
    ]:
        with pytest.raises(error) as theirs:
            create_scheduler_v2(_optimizer(), **kwargs)
        with pytest.raises(error) as ours:
            LT.create_scheduler_v2(_optimizer(), **kwargs)
        assert str(ours.value) == str(theirs.value)


def test_scheduler_kwargs_as_timm():
    from timm.scheduler.scheduler_factory import scheduler_kwargs

    full = argparse.Namespace(
        sched="wsd",
        epochs=50,
        decay_epochs=0.3,
        warmup_epochs=2,
        lr_noise=[0.1, 0.9],
        seed=3,
        eval_metric="loss",
        sched_on_updates=True,
        lr_decay_fn="cosine",
    )
    bare = argparse.Namespace(sched="step")
    for cfg in (full, bare):
        for decreasing in (None, True, False):
            assert LT.scheduler_kwargs(cfg, decreasing) == scheduler_kwargs(cfg, decreasing)
    opt_a, opt_b = _optimizer(), _optimizer()
    theirs, n = timm.create_scheduler(full, opt_a, updates_per_epoch=3)
    ours, m = LT.create_scheduler(full, opt_b, updates_per_epoch=3)
    assert n == m and ours.state_dict() == theirs.state_dict()


# -- specs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, spec_class, kwargs", CASES, ids=IDS)
def test_specs_round_trip(name, spec_class, kwargs):
    spec = spec_class(**kwargs)
    assert lrcore.from_dict(spec.to_dict()) == spec
    assert lrcore.parse(str(spec)) == spec
    assert lrcore.parse(spec.brief()) == spec


@pytest.mark.parametrize(
    "text, error, words",
    [
        ("timm_step(decay_t=0)", ValueError, "decay_t must be a finite number > 0.0"),
        ("timm_step(decay_t=5, warmup_t=-1)", ValueError, "warmup_t must be an integer >= 0"),
        ("timm_step(decay_t=5, noise_pct=0)", ValueError, "noise_pct must be"),
        ("timm_multistep(decay_t=[1, 'a'])", TypeError, "decay_t must be a list of numbers"),
        (
            "timm_wsd(t_initial=10, decay_t=11)",
            ValueError,
            "decay_t must be a number in (0, t_initial=10]",
        ),
        (
            "timm_wsd(t_initial=10, decay_t=5, decay_fn='square')",
            ValueError,
            "decay_fn must be one of",
        ),
        ("timm_wsd(t_initial=10, decay_t=5, stable_fn='rsqrt')", ValueError, "stable_timescale"),
        ("timm_wsd(t_initial=10, decay_t=5, decay_ratio=1.0)", ValueError, "decay_ratio"),
        ("timm_wsd(t_initial=10, decay_t=5, noise_range_t=[5, 2])", ValueError, "noise_range_t"),
    ],
)
def test_bad_parameters_are_named(text, error, words):
    with pytest.raises(error, match=None) as info:
        lrcore.parse(text)
    assert words in str(info.value) and text.split("(")[0] in str(info.value)


def test_dropins_refuse_what_timm_would_run_on_wrongly():
    """timm's WSD raises on these (so do we, at the same call); timm's step scheduler
    divides by decay_t=0 at its first step (ZeroDivisionError), ours at construction."""
    with pytest.raises(ValueError):
        timm.WSDLRScheduler(_optimizer(), t_initial=10, decay_t=20)
    with pytest.raises(ValueError, match="decay_t"):
        LT.WSDLRScheduler(_optimizer(), t_initial=10, decay_t=20)
    with pytest.raises(ValueError, match="decay_t"):
        LT.StepLRScheduler(_optimizer(), decay_t=0)


def test_random_parameters_equal_timm():
    """A seeded sweep: random arguments, timm and the lrcore table compared over 300 steps."""
    rng = random.Random(1234)
    for _ in range(40):
        common = dict(
            warmup_t=rng.choice([0, 0, 3, 17]),
            warmup_lr_init=rng.choice([0.0, 1e-5]),
            noise_range_t=rng.choice([None, None, 40, [10, 200]]),
            noise_pct=rng.choice([0.67, 0.1]),
            noise_seed=rng.randrange(0, 2**40),
        )
        which = rng.randrange(3)
        if which == 0:
            name, cls = "StepLRScheduler", lrcore.TimmStep
            kw = dict(decay_t=rng.choice([1, 7, 33, 2.75]), decay_rate=rng.uniform(0.1, 1.0))
            kw["warmup_prefix"] = rng.random() < 0.5
        elif which == 1:
            name, cls = "MultiStepLRScheduler", lrcore.TimmMultiStep
            kw = dict(decay_t=sorted(rng.sample(range(0, 300), 4)), decay_rate=rng.uniform(0.1, 1))
            kw["warmup_prefix"] = rng.random() < 0.5
        else:
            name, cls = "WSDLRScheduler", lrcore.TimmWSD
            t_initial = rng.randrange(50, 300)
            kw = dict(
                t_initial=t_initial,
                decay_t=rng.randrange(1, t_initial + 1),
                lr_min=rng.choice([0.0, 1e-4, 0.05]),
                stable_fn=rng.choice(["constant", "rsqrt", "power"]),
                stable_timescale=rng.choice([None, 5, 12.5]),
                decay_fn=rng.choice(["linear", "1-sqrt", "cosine", "power", "exp"]),
                decay_power=rng.choice([0.5, 1.7]),
                decay_ratio=rng.choice([0.1, 0.3]),
            )
            if kw["stable_fn"] != "constant" and kw["stable_timescale"] is None:
                common["warmup_t"] = common["warmup_t"] or 9
        kw.update(common)
        theirs = _timm_values(name, kw, steps=300)
        ours = lrcore.table(cls(**kw), 300, list(BASES)).T
        assert np.array_equal(ours, theirs), (name, kw, np.argwhere(ours != theirs)[:3])
