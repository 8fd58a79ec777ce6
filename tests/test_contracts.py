"""How programs hold and use a scheduler: lrsched's classes behave as torch's do.

The idioms of torch's own test_lrscheduler.py and transformers' test_optimization.py,
in our words, for every lrsched class: however ``step`` is held it is served from
the table; a scheduler is freed by reference counting (with ``gc.disable()``); a
stepped scheduler and a fresh one that loaded its ``state_dict()`` are equal by
``__dict__`` and go on identically; every ``state_dict()`` loads with
``torch.load(weights_only=True)``; 0-d tensor hyperparameters run as in torch; and
torch's warnings come out with torch's category, message, module, file and line.
"""

import copy
import functools
import gc
import io
import pickle
import warnings
import weakref

import lrsched as L
import pytest
import torch
from lrsched import timm as LT
from test_lrsched import CASES, count_slow_steps, metric
from test_transformers import CASES as TRANSFORMERS_CASES
from torch.optim import lr_scheduler as T


def sgd(lr=0.1, groups=1):
    params = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for _ in range(groups)]
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


# one param group, every table-backed class (lib: torch's module or lrsched)
ONE_GROUP = [
    ("LambdaLR", lambda m, o: m.LambdaLR(o, lambda e: 0.99**e)),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.999)),
    ("StepLR", lambda m, o: m.StepLR(o, step_size=30, gamma=0.7)),
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, milestones=[50, 400], gamma=0.5)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=300)),
    ("LinearLR", lambda m, o: m.LinearLR(o, start_factor=0.01, total_iters=900)),
    ("ExponentialLR", lambda m, o: m.ExponentialLR(o, gamma=0.9995)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o, total_iters=3000, power=1.7)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, T_max=700, eta_min=1e-4)),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, 17, 2)),
    ("CyclicLR", lambda m, o: m.CyclicLR(o, base_lr=1e-3, max_lr=0.1, step_size_up=40)),
    ("OneCycleLR", lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=20_000)),
]
IDS = [c[0] for c in ONE_GROUP]

CALL_STYLES = {
    "attribute": lambda s: lambda: s.step(),
    "bound before the first step": lambda s: s.step,
    "getattr": lambda s: s.step,
    "functools.partial": lambda s: functools.partial(s.step),
}


@pytest.mark.parametrize("style", sorted(CALL_STYLES))
@pytest.mark.parametrize("name,build", ONE_GROUP, ids=IDS)
def test_every_call_style_is_served_from_the_table(name, build, style, monkeypatch):
    slow = count_slow_steps(monkeypatch)
    opt, ref_opt = sgd(), sgd()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched, ref = build(L, opt), build(T, ref_opt)
        step = CALL_STYLES[style](sched)
        opt.step()  # once, for torch's order check (its arithmetic touches no LR)
        ref_opt.step()
        for _ in range(5000):
            step()
            ref.step()
            assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]
    assert "step" not in vars(sched)
    assert len(slow) <= 10, slow  # the first step and one per window (64, 128, ...)


def test_a_reference_held_for_a_million_steps_stays_fast(monkeypatch):
    """Many window refills (up to 65,536 steps each) under one held bound method."""
    slow = count_slow_steps(monkeypatch)
    opt = sgd()
    sched = L.ExponentialLR(opt, gamma=0.999999)
    step = sched.step
    for _ in range(1_000_000):
        step()
    assert sched.last_epoch == 1_000_000
    assert len(slow) <= 1 + 11 + 1_000_000 // 65_536 + 1, len(slow)
    ref_opt = sgd()
    ref = T.ExponentialLR(ref_opt, gamma=0.999999)
    ref.last_epoch = 999_999
    ref_opt.param_groups[0]["lr"] = sched.get_last_lr()[0]
    ref.step()
    # one more step continues torch's recurrence from where ours is
    sched.step()
    assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]


# every lrsched scheduler: (name, builder(optimizer) -> scheduler, needs a metric)
def _every_scheduler():
    out = [(n, functools.partial(b, L), False) for n, b in ONE_GROUP]
    out += [
        (
            "SequentialLR",
            lambda o: L.SequentialLR(
                o, [L.LinearLR(o, 0.1, total_iters=5), L.ExponentialLR(o, 0.9)], milestones=[5]
            ),
            False,
        ),
        (
            "ChainedScheduler",
            lambda o: L.ChainedScheduler([L.ConstantLR(o, 0.5, 5), L.ExponentialLR(o, 0.99)]),
            False,
        ),
        ("ReduceLROnPlateau", lambda o: L.ReduceLROnPlateau(o, patience=1), True),
        (
            "ReduceLROnPlateau(schedule=)",
            lambda o: L.ReduceLROnPlateau(o, patience=1, schedule="cosine_annealing(T_max=50)"),
            True,
        ),
        ("TableLR", lambda o: L.TableLR(o, "cosine_annealing_warm_restarts(T_0=7)"), False),
        (
            "get_cosine_schedule_with_warmup",
            lambda o: L.get_cosine_schedule_with_warmup(o, 10, 100),
            False,
        ),
        ("get_wsd_schedule", lambda o: L.get_wsd_schedule(o, 5, 20, num_stable_steps=30), False),
        ("timm CosineLRScheduler", lambda o: LT.CosineLRScheduler(o, t_initial=30), None),
        ("timm PolyLRScheduler", lambda o: LT.PolyLRScheduler(o, t_initial=30, warmup_t=3), None),
        ("timm StepLRScheduler", lambda o: LT.StepLRScheduler(o, decay_t=7, warmup_t=3), None),
        (
            "timm MultiStepLRScheduler",
            lambda o: LT.MultiStepLRScheduler(o, decay_t=[5, 12], noise_range_t=4),
            None,
        ),
        (
            "timm WSDLRScheduler",
            lambda o: LT.WSDLRScheduler(o, t_initial=30, decay_t=10, warmup_t=3),
            None,
        ),
    ]
    return out


EVERY = _every_scheduler()
EVERY_IDS = [e[0] for e in EVERY]


def _step(sched, t, metric_needed):
    if metric_needed is None:  # timm's protocol
        sched.step(t + 1)
    elif metric_needed:
        sched.step(metric(t))
    else:
        sched.step()


@pytest.mark.parametrize("device", [None, "cpu"])
@pytest.mark.parametrize("name,build,metric_needed", EVERY, ids=EVERY_IDS)
def test_freed_by_reference_counting(name, build, metric_needed, device):
    """With the cycle collector off, dropping the last reference frees the scheduler,
    its optimizer and the parameters, as for torch's classes."""
    if device is not None and metric_needed is None:
        pytest.skip("timm's classes take t from the host: no device mode")
    # torch's first optimizer step in a process leaves a cycle of its own (lazy
    # imports under an exception handler): a first run takes that, the second counts
    _run_and_drop(build, metric_needed, device)
    assert _run_and_drop(build, metric_needed, device) == [True, True, True]


def _run_and_drop(build, metric_needed, device):
    """Build, step 20 times holding a bound ``step``, drop every reference with the
    cycle collector off: which of (scheduler, optimizer, parameter) are gone."""
    enabled = gc.isenabled()
    gc.disable()  # (no collection first: garbage made before cannot hold these objects)
    try:
        param = torch.nn.Parameter(torch.zeros(3))
        opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = build(opt)
            if device is not None:
                sched = _on_device(sched, opt, device)
            held = sched.step  # a bound method held by the program, then dropped too
            for t in range(20):
                opt.step()
                if metric_needed and device is not None:
                    held(torch.tensor(metric(t)))
                else:
                    _step(sched, t, metric_needed)
        refs = [weakref.ref(x) for x in (sched, opt, param)]
        del sched, opt, param, held
        return [r() is None for r in refs]
    finally:
        if enabled:
            gc.enable()


def _on_device(sched, opt, device):
    """The same scheduler in device mode."""
    if isinstance(sched, T.ReduceLROnPlateau):
        return L.ReduceLROnPlateau(opt, patience=1, device=device)
    if isinstance(sched, T.SequentialLR):
        return type(sched)(
            opt, sched._schedulers, milestones=sched._milestones, device=device, horizon=64
        )
    if isinstance(sched, T.ChainedScheduler):
        return type(sched)(sched._schedulers, device=device, horizon=64)
    return sched.to_device(device, horizon=64)


def _equal(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return torch.equal(torch.as_tensor(a), torch.as_tensor(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, T.LRScheduler) and isinstance(b, T.LRScheduler):
        return type(a) is type(b) and _equal(_plain_dict(a), _plain_dict(b))
    return a == b


def _plain_dict(sched):
    return {k: v for k, v in vars(sched).items() if k != "optimizer"}


def _stepped(build, opt, steps, metric_needed):
    sched = build(opt)
    for t in range(steps):
        opt.step()
        _step(sched, t, metric_needed)
    return sched


def _go_on_together(a, b, t0, t1, metric_needed):
    """Step two (optimizer, scheduler) pairs from ``t0`` to ``t1``: the same LRs."""
    for t in range(t0, t1):
        for opt, sched in (a, b):
            opt.step()
            _step(sched, t, metric_needed)
        assert a[0].param_groups[0]["lr"] == b[0].param_groups[0]["lr"], t


def _through_weights_only(state):
    """``state`` saved with torch.save and read back with ``weights_only=True``."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("name,build,metric_needed", EVERY, ids=EVERY_IDS)
def test_state_dict_round_trip_equal_by_dict(name, build, metric_needed):
    """torch's idiom: a scheduler stepped 37 times and a fresh one (built, stepped
    once, then loaded) are equal key by key in ``__dict__`` and go on identically."""
    opt, opt2 = sgd(), sgd()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = _stepped(build, opt, 37, metric_needed)
        fresh = build(opt2)
        _step(fresh, 0, metric_needed)
        fresh.load_state_dict(copy.deepcopy(sched.state_dict()))
        opt2.load_state_dict(opt.state_dict())
        mine, theirs = _plain_dict(sched), _plain_dict(fresh)
        assert mine.keys() == theirs.keys()
        for key in mine:
            if key == "lr_lambdas" and name in ("LambdaLR", "MultiplicativeLR"):
                continue  # two different Python lambdas (torch's tests skip them too)
            assert _equal(mine[key], theirs[key]), key
        _go_on_together((opt, sched), (opt2, fresh), 37, 300, metric_needed)


@pytest.mark.parametrize("name,build,metric_needed", EVERY, ids=EVERY_IDS)
def test_state_dict_loads_with_weights_only(name, build, metric_needed):
    """What Trainer and accelerate do with scheduler.pt: torch.save, then
    torch.load(weights_only=True), then load_state_dict."""
    opt, opt2 = sgd(), sgd()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = _stepped(build, opt, 25, metric_needed)
        state = _through_weights_only(sched.state_dict())
        fresh = build(opt2)
        opt2.load_state_dict(opt.state_dict())
        fresh.load_state_dict(state)
        _go_on_together((opt, sched), (opt2, fresh), 25, 200, metric_needed)


@pytest.mark.parametrize("device", [None, "cpu"])
def test_weights_only_in_device_mode(device):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=torch.tensor(0.1))
    sched = L.get_linear_schedule_with_warmup(opt, 5, 50, device=device)
    for _ in range(12):
        opt.step()
        sched.step()
    state = _through_weights_only(sched.state_dict())
    assert state["last_epoch"] == 12 and state["lr_lambdas"] == [{}]


# -- tensor hyperparameters ----------------------------------------------------------
def t(x):
    return torch.tensor(x)


TENSOR_CASES = [
    ("StepLR", dict(step_size=3, gamma=t(0.5))),
    ("MultiStepLR", dict(milestones=[2, 4], gamma=t(0.5))),
    ("ConstantLR", dict(factor=t(0.5), total_iters=3)),
    ("LinearLR", dict(start_factor=t(0.5), end_factor=t(0.9), total_iters=3)),
    ("ExponentialLR", dict(gamma=t(0.9))),
    ("PolynomialLR", dict(total_iters=5, power=t(2.0))),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=t(0.01))),
    (
        "CyclicLR",
        dict(base_lr=t(0.01), max_lr=t(0.1), step_size_up=2, base_momentum=t(0.8)),
    ),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, gamma=t(0.9), mode="exp_range")),
    ("OneCycleLR", dict(max_lr=t(0.1), total_steps=10, base_momentum=t(0.8))),
    ("ReduceLROnPlateau", dict(factor=t(0.5), min_lr=t(0.001), patience=0)),
    ("StepLR", dict(step_size=t(3))),
    ("LinearLR", dict(start_factor=0.5, total_iters=t(4))),
    ("CosineAnnealingLR", dict(T_max=t(5))),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=t(2))),
    ("ReduceLROnPlateau", dict(patience=t(1), cooldown=t(1))),
]


@pytest.mark.parametrize("tensor_lr", [False, True])
@pytest.mark.parametrize(
    "name,kwargs", TENSOR_CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in TENSOR_CASES]
)
def test_tensor_hyperparameters_run_as_in_torch(name, kwargs, tensor_lr):
    runs = []
    for lib in (T, L):
        lr = torch.tensor(0.1) if tensor_lr else 0.1
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = getattr(lib, name)(opt, **copy.deepcopy(kwargs))
            seen = []
            for _ in range(9):
                opt.step()
                sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
                group = opt.param_groups[0]
                seen.append((float(group["lr"]), type(group["lr"]), float(group["momentum"])))
        runs.append(seen)
    assert runs[0] == runs[1]


def test_tensor_milestones_are_refused():
    """torch keeps tensor milestones as Counter keys no step equals: its LR silently
    never decays. lrsched says so instead."""
    opt = sgd()
    sched = T.MultiStepLR(opt, milestones=[t(2)], gamma=0.5)
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.1  # torch: never decayed
    with pytest.raises(TypeError, match="MultiStepLR: milestones must be a list of integers"):
        L.MultiStepLR(sgd(), milestones=[t(2)], gamma=0.5)


@pytest.mark.parametrize("kwargs", [dict(T_0=3, eta_min=t(0.01)), dict(T_0=t(3))])
def test_tensors_torch_refuses_are_refused_with_torchs_error(kwargs):
    with pytest.raises(ValueError) as theirs:
        T.CosineAnnealingWarmRestarts(sgd(), **kwargs)
    with pytest.raises(ValueError) as ours:
        L.CosineAnnealingWarmRestarts(sgd(), **kwargs)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("CyclicLR", dict(base_lr=t(0.01), max_lr=float("nan"), step_size_up=2)),
        ("OneCycleLR", dict(max_lr=t(0.1), total_steps=10, div_factor=-1.0)),
        ("StepLR", dict(step_size=3, gamma=t(float("nan")))),
        ("CosineAnnealingLR", dict(T_max=5, eta_min=t(-0.01))),
    ],
    ids=["CyclicLR-nan", "OneCycleLR-div", "StepLR-nan-tensor", "Cosine-negative-tensor"],
)
def test_a_refused_constructor_leaves_tensor_lrs_as_they_were(name, kwargs):
    lr = torch.tensor(0.1)
    betas_lr = torch.tensor(0.1)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)
    adam = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=betas_lr)
    for o in (opt, adam):
        before = dict(o.param_groups[0])
        with pytest.raises((ValueError, TypeError), match=name):
            getattr(L, name)(o, **kwargs)
        after = o.param_groups[0]
        assert after.keys() == before.keys()
        for key in before:
            assert after[key] is before[key], key
        assert float(after["lr"]) == float(torch.tensor(0.1))


# -- warnings ---------------------------------------------------------------------------
def _records(make, actions):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        sched = make(opt)
        actions(opt, sched)
    return [(w.category, str(w.message), w.filename, w.lineno) for w in caught]


def _before_optimizer(opt, sched):
    sched.step()
    sched.step()


def _with_epoch(opt, sched):
    opt.step()
    sched.step(3)


def _overridden(opt, sched):
    opt.step = lambda: None
    opt.step()
    sched.step()


SOURCES = {  # where the warning must point: the line of the action that stepped
    "before optimizer.step()": _before_optimizer,
    "step(epoch)": _with_epoch,
    "optimizer.step overridden": _overridden,
}


@pytest.mark.parametrize("action", sorted(SOURCES))
@pytest.mark.parametrize(
    "name,build",
    [c for c in ONE_GROUP if c[0] != "CosineAnnealingWarmRestarts"]
    + [(n, b) for n, b in CASES if n in ("SequentialLR", "ChainedScheduler")],
    ids=[c[0] for c in ONE_GROUP if c[0] != "CosineAnnealingWarmRestarts"]
    + ["SequentialLR", "ChainedScheduler"],
)
def test_warnings_are_torchs_field_by_field(name, build, action):
    if action == "step(epoch)" and name in ("SequentialLR", "ChainedScheduler"):
        pytest.skip("their step() takes no epoch")
    act = SOURCES[action]
    theirs = _records(functools.partial(build, T), act)
    ours = _records(functools.partial(build, L), act)
    assert ours == theirs
    assert theirs or name in ("SequentialLR", "ChainedScheduler")


def test_plateau_epoch_warning_is_torchs():
    def act(opt, sched):
        sched.step(1.0, 5)

    theirs = _records(lambda o: T.ReduceLROnPlateau(o), act)
    ours = _records(lambda o: L.ReduceLROnPlateau(o), act)
    assert ours == theirs and len(theirs) == 1


def test_device_mode_keeps_the_first_step_warning():
    """In eager device mode the first step() before optimizer.step() warns, as torch
    does, at the caller's line."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=torch.tensor(0.1))
    sched = L.CosineAnnealingLR(opt, T_max=10, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.step()
        line = _this_line() - 1
        sched.step()
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]
    assert "before `optimizer.step()`" in str(caught[0].message)


def _this_line():
    import sys

    return sys._getframe(1).f_lineno


# -- transformers' types ------------------------------------------------------------------
transformers = pytest.importorskip("transformers")

# test_transformers.py's configurations: every function, warm-ups of 0 to 4000 steps
FUNCTIONS = [(name, kwargs) for name, kwargs in TRANSFORMERS_CASES if name != "get_scheduler"]


@pytest.mark.parametrize("name,kwargs", FUNCTIONS)
@pytest.mark.parametrize("direction", ["transformers->lrsched", "lrsched->transformers"])
def test_transformers_checkpoints_load_both_ways(name, kwargs, direction):
    libs = {"transformers": transformers, "lrsched": L}
    src, dst = (libs[x] for x in direction.split("->"))
    opt, opt2, ref_opt = sgd(0.5), sgd(0.5), sgd(0.5)
    sched = getattr(src, name)(opt, **kwargs)
    ref = getattr(transformers, name)(ref_opt, **kwargs)
    assert isinstance(sched, T.LambdaLR) and isinstance(ref, T.LambdaLR)
    stop = kwargs.get("num_warmup_steps", 0) + 33  # past the warm-up: the decay resumes
    _go_on_together((opt, sched), (ref_opt, ref), 0, stop, False)
    state = _through_weights_only(sched.state_dict())
    resumed = getattr(dst, name)(opt2, **kwargs)
    opt2.load_state_dict(opt.state_dict())
    resumed.load_state_dict(state)
    _go_on_together((opt2, resumed), (ref_opt, ref), stop, stop + 150, False)


def test_transformers_lambdas_pickle_and_give_the_factor():
    opt = sgd(0.5)
    sched = L.get_cosine_schedule_with_warmup(opt, 10, 100)
    (fn,) = set(sched.lr_lambdas)
    ref_fn = transformers.get_cosine_schedule_with_warmup(sgd(0.5), 10, 100).lr_lambdas[0]
    assert [fn(s) for s in range(0, 120, 7)] == [ref_fn(s) for s in range(0, 120, 7)]
    copy_ = pickle.loads(pickle.dumps(sched))
    assert copy_.lr_lambdas == sched.lr_lambdas and isinstance(copy_, L.LambdaLR)
    # the lambda alone runs torch's path: step(epoch) gives transformers' LR there
    ref_opt = sgd(0.5)
    ref = transformers.get_cosine_schedule_with_warmup(ref_opt, 10, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched.step(57)
        ref.step(57)
    assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]


@pytest.mark.parametrize(
    "name",
    [n.value for n in L.SchedulerType if n.value != "greedy"],
)
def test_get_scheduler_returns_transformers_types(name):
    kwargs = dict(num_warmup_steps=5, num_training_steps=50)
    extra = {
        "cosine_with_min_lr": dict(min_lr_rate=0.1),
        "cosine_warmup_with_min_lr": dict(min_lr_rate=0.1),
        "warmup_stable_decay": dict(num_decay_steps=10),
    }.get(name)
    ours = L.get_scheduler(name, sgd(), scheduler_specific_kwargs=extra, **kwargs)
    theirs = transformers.get_scheduler(name, sgd(), scheduler_specific_kwargs=extra, **kwargs)
    torch_type = next(c for c in type(theirs).__mro__ if c.__module__ == T.__name__)
    assert isinstance(ours, torch_type)
    assert ours.state_dict().keys() == theirs.state_dict().keys()


# -- hyperparameters changed mid-run ----------------------------------------------------
CHANGES = [
    ("StepLR", "gamma", 0.5),
    ("StepLR", "step_size", 7),
    ("MultiStepLR", "gamma", 0.9),
    ("ConstantLR", "factor", 0.75),
    ("LinearLR", "end_factor", 0.5),
    ("ExponentialLR", "gamma", 0.99),
    ("PolynomialLR", "power", 0.5),
    ("CosineAnnealingLR", "eta_min", 0.01),
    ("CosineAnnealingLR", "T_max", 300),
    ("CosineAnnealingWarmRestarts", "eta_min", 1e-3),
    ("CyclicLR", "max_lrs", [0.3]),
    ("LambdaLR", "lr_lambdas", [lambda e: 0.5]),
    ("MultiplicativeLR", "lr_lambdas", [lambda e: 0.99]),
    ("LambdaLR", "base_lrs", [0.2]),
]


@pytest.mark.parametrize("name,attr,value", CHANGES, ids=[f"{n}.{a}" for n, a, _ in CHANGES])
def test_a_changed_hyperparameter_takes_effect_at_the_next_step(name, attr, value):
    """The generated step checks each of the class's hyperparameters inline: an
    assignment mid-window changes the next LR exactly as in torch."""
    build = dict(ONE_GROUP)[name]
    runs = []
    for lib, change in ((T, False), (T, True), (L, True)):
        opt = sgd()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = build(lib, opt)
            seen = []
            for step in range(400):
                if step == 150 and change:
                    setattr(sched, attr, copy.copy(value))
                opt.step()
                sched.step()
                seen.append(opt.param_groups[0]["lr"])
        runs.append(seen)
    unchanged, theirs, ours = runs
    assert theirs != unchanged  # the change matters to torch
    assert ours == theirs
