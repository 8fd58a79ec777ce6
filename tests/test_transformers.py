"""transformers' schedule functions: lrsched's equal transformers' own at every step."""

import warnings

import lrsched
import pytest
import torch

import lrcore

optimization = pytest.importorskip("transformers.optimization")

STEPS = 12_000
BASES = [1e-3, 3e-4, 0.1]

# (function name, keyword arguments)
CASES = (
    [
        ("get_constant_schedule", {}),
        ("get_constant_schedule_with_warmup", dict(num_warmup_steps=500)),
        ("get_linear_schedule_with_warmup", dict(num_warmup_steps=500, num_training_steps=10_000)),
        ("get_linear_schedule_with_warmup", dict(num_warmup_steps=0, num_training_steps=7)),
        ("get_linear_schedule_with_warmup", dict(num_warmup_steps=300, num_training_steps=300)),
        ("get_cosine_schedule_with_warmup", dict(num_warmup_steps=1000, num_training_steps=10_000)),
        (
            "get_cosine_schedule_with_warmup",
            dict(num_warmup_steps=17, num_training_steps=9_000, num_cycles=2.5),
        ),
        (
            "get_cosine_with_hard_restarts_schedule_with_warmup",
            dict(num_warmup_steps=200, num_training_steps=10_000, num_cycles=4),
        ),
        (
            "get_polynomial_decay_schedule_with_warmup",
            dict(num_warmup_steps=400, num_training_steps=10_000, lr_end=1e-5, power=2.0),
        ),
        (
            "get_polynomial_decay_schedule_with_warmup",
            dict(num_warmup_steps=0, num_training_steps=5_000),
        ),
        ("get_inverse_sqrt_schedule", dict(num_warmup_steps=4000)),
        ("get_inverse_sqrt_schedule", dict(num_warmup_steps=100, timescale=37)),
        ("get_inverse_sqrt_schedule", dict(num_warmup_steps=0)),
        (
            "get_cosine_with_min_lr_schedule_with_warmup",
            dict(num_warmup_steps=500, num_training_steps=10_000, min_lr=1e-5),
        ),
        (
            "get_cosine_with_min_lr_schedule_with_warmup",
            dict(num_warmup_steps=500, num_training_steps=10_000, min_lr_rate=0.1, num_cycles=1.5),
        ),
        (
            "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
            dict(num_warmup_steps=500, num_training_steps=10_000, min_lr_rate=0.05),
        ),
        (
            "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
            dict(num_warmup_steps=500, num_training_steps=10_000, min_lr=1e-6, warmup_lr_rate=0.1),
        ),
    ]
    + [
        (
            "get_wsd_schedule",
            dict(
                num_warmup_steps=w,
                num_decay_steps=2000,
                num_training_steps=10_000,
                warmup_type=wt,
                decay_type=dt,
                min_lr_ratio=m,
            ),
        )
        for w, wt, dt, m in [
            (500, "linear", "cosine", 0.0),
            (500, "cosine", "linear", 0.1),
            (300, "1-sqrt", "1-sqrt", 0.05),
            (0, "linear", "cosine", 0.2),
            (700, "linear", "cosine", 0.0),
        ]
    ]
    + [
        (
            "get_wsd_schedule",
            dict(
                num_warmup_steps=100, num_decay_steps=500, num_stable_steps=0, decay_type="1-sqrt"
            ),
        ),
    ]
)


def run(module, name, kwargs, steps=STEPS):
    opt = torch.optim.AdamW(
        [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": b} for b in BASES], lr=BASES[0]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = getattr(module, name)(opt, **kwargs)
        out = []
        for t in range(steps):
            out.append(tuple(float(g["lr"]) for g in opt.param_groups))
            if t == 0:  # (AdamW's arithmetic writes nothing a schedule reads; Trainer's
                opt.step()  # loop, test_trainer.py, steps it every time)
            sched.step()
    return out, sched


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_same_numbers_as_transformers(name, kwargs):
    want, _ = run(optimization, name, kwargs)
    got, sched = run(lrsched, name, kwargs)
    bad = [t for t, (a, b) in enumerate(zip(got, want)) if a != b]
    assert not bad, (bad[:5], got[bad[0]], want[bad[0]])
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)


@pytest.mark.parametrize("name,kwargs", CASES[:8], ids=[c[0] for c in CASES[:8]])
def test_device_mode(name, kwargs):
    want, _ = run(optimization, name, kwargs, 2000)
    got, _ = run(lrsched, name, {**kwargs, "device": "cpu", "dtype": torch.float64}, 2000)
    assert got == want


@pytest.mark.parametrize(
    "args,kwargs",
    [
        (("linear",), {}),
        (("cosine",), dict(num_warmup_steps=10)),
        (("nope",), {}),
        (("cosine_with_min_lr",), dict(num_warmup_steps=1, num_training_steps=10)),
        (
            ("cosine_with_min_lr",),
            dict(
                num_warmup_steps=1,
                num_training_steps=10,
                scheduler_specific_kwargs=dict(min_lr=0.1, min_lr_rate=0.1),
            ),
        ),
        (
            ("warmup_stable_decay",),
            dict(num_warmup_steps=1, scheduler_specific_kwargs=dict(num_decay_steps=5)),
        ),
        (
            ("polynomial",),
            dict(
                num_warmup_steps=1,
                num_training_steps=10,
                scheduler_specific_kwargs=dict(lr_end=1.0),
            ),
        ),
    ],
)
def test_same_errors_as_transformers(args, kwargs):
    def make(module):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        return module.get_scheduler(args[0], opt, **kwargs)

    with pytest.raises(ValueError) as theirs:
        make(optimization)
    with pytest.raises(ValueError, match=None) as ours:
        make(lrsched)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", [n for n in lrsched.SchedulerType if n.value != "greedy"])
def test_get_scheduler_names(name):
    kw = {}
    if name.value == "cosine_with_min_lr" or name.value == "cosine_warmup_with_min_lr":
        kw = {"min_lr_rate": 0.1}
    elif name.value == "warmup_stable_decay":
        kw = {"num_decay_steps": 100}
    out = {}
    for module in (optimization, lrsched):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        sched = module.get_scheduler(
            name.value,
            opt,
            num_warmup_steps=50,
            num_training_steps=1000,
            scheduler_specific_kwargs=kw,
        )
        lrs = []
        for t in range(1200):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step(1.0 / (1 + t)) if name.value == "reduce_lr_on_plateau" else sched.step()
        out[module.__name__] = lrs
    assert out["lrsched"] == out["transformers.optimization"]


def test_warmup_composes_with_any_schedule():
    # warm-up in front of torch's cosine (a composition, not a copy of a warmup block)
    spec = lrcore.Warmup(lrcore.CosineAnnealing(T_max=900), warmup_steps=100)
    lr = lrcore.table(spec, 1000, 0.1)
    assert lr[0] == 0.0 and lr[50] == 0.1 * 50 / 100 and lr[100] == 0.1
    assert list(lr[100:]) == list(lrcore.table(lrcore.CosineAnnealing(T_max=900), 900, 0.1))
    nested = lrcore.Warmup(
        lrcore.parse("sequential([exponential(gamma=0.99), step(step_size=5)], milestones=[20])"),
        warmup_steps=10,
    )
    inner = lrcore.table(nested.schedule, 90, 0.1)
    assert list(lrcore.table(nested, 100, 0.1)[10:]) == list(inner)
    assert lrcore.parse(str(nested)) == nested


NAN, INF = float("nan"), float("inf")
W, N = dict(num_warmup_steps=10), dict(num_warmup_steps=10, num_training_steps=100)

# (function, keyword arguments, the argument the error must name); these are values
# transformers runs on silently (negative steps, NaN rates)
BAD = [
    ("get_constant_schedule_with_warmup", dict(num_warmup_steps=-1), "num_warmup_steps"),
    ("get_constant_schedule_with_warmup", dict(num_warmup_steps=2.5), "num_warmup_steps"),
    (
        "get_linear_schedule_with_warmup",
        dict(num_warmup_steps=True, num_training_steps=9),
        "num_warmup_steps",
    ),
    (
        "get_linear_schedule_with_warmup",
        dict(num_warmup_steps=5, num_training_steps=-9),
        "num_training_steps",
    ),
    (
        "get_linear_schedule_with_warmup",
        dict(num_warmup_steps=50, num_training_steps=9),
        "num_training_steps",
    ),
    ("get_cosine_schedule_with_warmup", dict(N, num_cycles=NAN), "num_cycles"),
    ("get_cosine_schedule_with_warmup", dict(N, num_cycles=0.0), "num_cycles"),
    ("get_cosine_with_hard_restarts_schedule_with_warmup", dict(N, num_cycles=-1), "num_cycles"),
    ("get_polynomial_decay_schedule_with_warmup", dict(N, power=INF), "power"),
    ("get_polynomial_decay_schedule_with_warmup", dict(N, lr_end=-1e-3), "lr_end"),
    ("get_inverse_sqrt_schedule", dict(W, timescale=0), "timescale"),
    ("get_inverse_sqrt_schedule", dict(num_warmup_steps=-3), "num_warmup_steps"),
    ("get_cosine_with_min_lr_schedule_with_warmup", dict(N, min_lr=NAN), "min_lr"),
    ("get_cosine_with_min_lr_schedule_with_warmup", dict(N, min_lr_rate=1.5), "min_lr_rate"),
    (
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
        dict(N, min_lr_rate=0.1, warmup_lr_rate=-0.1),
        "warmup_lr_rate",
    ),
    ("get_wsd_schedule", dict(W, num_decay_steps=-5, num_training_steps=100), "num_decay_steps"),
    ("get_wsd_schedule", dict(W, num_decay_steps=50, num_training_steps=30), "num_training_steps"),
    ("get_wsd_schedule", dict(W, num_decay_steps=50, num_stable_steps=-1), "num_stable_steps"),
    (
        "get_wsd_schedule",
        dict(W, num_decay_steps=50, num_stable_steps=5, min_lr_ratio=INF),
        "min_lr_ratio",
    ),
]


@pytest.mark.parametrize(
    "name,kwargs,param", BAD, ids=[f"{n}-{p}-{i}" for i, (n, _, p) in enumerate(BAD)]
)
def test_bad_arguments_are_named_in_transformers_terms(name, kwargs, param):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises((ValueError, TypeError)) as info:
        getattr(lrsched, name)(opt, **kwargs)
    assert param in str(info.value)
    assert "warmup_steps=" not in str(info.value).replace("num_warmup_steps=", "")
