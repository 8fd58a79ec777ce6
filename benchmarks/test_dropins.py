"""lrsched's drop-ins vs torch.optim.lr_scheduler: the cost of one ``step()``.

Per class, 1 and 4 param groups, 20,000 steps a round (after a warm-up of 2,000);
plus a 10^6-step training-loop skeleton (no model: the scheduler steps and the
loop reads the LR, as a logger would).
"""

import functools
import warnings

import lrsched as L
import pytest
import torch
from torch.optim import lr_scheduler as T

CLASSES = {
    "StepLR": dict(step_size=30, gamma=0.5),
    "MultiStepLR": dict(milestones=[30_000, 60_000], gamma=0.1),
    "ConstantLR": dict(factor=0.5, total_iters=1000),
    "LinearLR": dict(start_factor=0.01, total_iters=100_000),
    "ExponentialLR": dict(gamma=0.99999),
    "PolynomialLR": dict(total_iters=100_000, power=2.0),
    "CosineAnnealingLR": dict(T_max=100_000),
    "CosineAnnealingWarmRestarts": dict(T_0=1000, T_mult=2),
    "CyclicLR": dict(base_lr=0.001, max_lr=0.1, step_size_up=2000),
    "OneCycleLR": dict(max_lr=0.1, total_steps=2_000_000),
    "LambdaLR": dict(lr_lambda=lambda e: 1.0 / (1.0 + e / 1000)),
    "MultiplicativeLR": dict(lr_lambda=lambda e: 0.99999),
}
STEPS = 20_000


def make(lib, name, groups):
    opt = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1 * (g + 1)}
            for g in range(groups)
        ],
        lr=0.1,
        momentum=0.9,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = getattr(lib, name)(opt, **CLASSES[name])
    opt.step()
    for _ in range(2000):
        sched.step()
    return sched


def steps(sched, n):
    for _ in range(n):
        sched.step()


@pytest.mark.parametrize("name", list(CLASSES))
@pytest.mark.parametrize("groups", [1, 4])
@pytest.mark.parametrize("lib", ["torch", "lrsched"])
def test_step_cost(benchmark, name, groups, lib):
    sched = make(T if lib == "torch" else L, name, groups)
    benchmark.group = f"{name} x{groups} groups"
    benchmark.extra_info.update(steps=STEPS, variant=lib, baseline=lib == "lrsched")
    benchmark.pedantic(steps, args=(sched, STEPS), rounds=5, iterations=1)


def loop(lib, n):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    sched = lib.CosineAnnealingLR(opt, T_max=n)
    opt.step()
    group = opt.param_groups[0]
    total = 0.0
    for _ in range(n):
        sched.step()
        total += group["lr"]
    return total


@pytest.mark.parametrize("lib", ["torch", "lrsched"])
def test_million_step_loop(benchmark, lib):
    n = 1_000_000
    benchmark.group = "10^6-step loop skeleton (CosineAnnealingLR)"
    benchmark.extra_info.update(steps=n, variant=lib, baseline=lib == "lrsched")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        benchmark.pedantic(loop, args=(T if lib == "torch" else L, n), rounds=1, iterations=1)


TIMM = {
    "CosineLRScheduler": dict(t_initial=1000, cycle_mul=2.0, cycle_limit=20, warmup_t=100),
    "CosineLRScheduler-noise": dict(t_initial=10**5, noise_range_t=0),
    "TanhLRScheduler": dict(t_initial=10**5, warmup_t=100),
    "PolyLRScheduler": dict(t_initial=10**5, power=2.0, warmup_t=100),
}


def timm_updates(sched, n):
    for t in range(n):
        sched.step_update(t)


@pytest.mark.parametrize("case", list(TIMM))
@pytest.mark.parametrize("lib", ["timm", "lrsched.timm"])
def test_timm_step_update_cost(benchmark, case, lib):
    import lrsched.timm
    from timm_ref import scheduler_module

    module = scheduler_module() if lib == "timm" else lrsched.timm
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = getattr(module, case.split("-")[0])(opt, t_in_epochs=False, **TIMM[case])
    timm_updates(sched, 2000)  # warm-up: first tables (numba's cache) and windows
    benchmark.group = f"timm {case}"
    benchmark.extra_info.update(steps=STEPS, variant=lib, baseline=lib == "lrsched.timm")
    benchmark.pedantic(timm_updates, args=(sched, STEPS), rounds=5, iterations=1)


DEEPSPEED = {
    "WarmupLR": dict(warmup_max_lr=0.1, warmup_num_steps=10_000),
    "WarmupDecayLR": dict(total_num_steps=10**6, warmup_max_lr=0.1, warmup_num_steps=1000),
    "WarmupCosineLR": dict(total_num_steps=10**6, warmup_num_steps=1000),
    "OneCycle": dict(cycle_min_lr=0.001, cycle_max_lr=0.1, cycle_first_step_size=5000),
    "LRRangeTest": dict(lr_range_test_step_size=1000),
}


def deepspeed_steps(sched, n):
    for _ in range(n):
        sched.step()


@pytest.mark.parametrize("case", list(DEEPSPEED))
@pytest.mark.parametrize("lib", ["deepspeed", "lrsched.deepspeed"])
def test_deepspeed_step_cost(benchmark, case, lib):
    import logging

    import lrsched.deepspeed

    if lib == "deepspeed":
        logging.disable(logging.WARNING)  # DeepSpeed's accelerator notice on import
        from deepspeed.runtime import lr_schedules as module
    else:
        module = lrsched.deepspeed
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = getattr(module, case)(opt, **DEEPSPEED[case])
    deepspeed_steps(sched, 2000)  # warm-up: first tables (numba's cache) and windows
    benchmark.group = f"deepspeed {case}"
    benchmark.extra_info.update(steps=STEPS, variant=lib, baseline=lib == "lrsched.deepspeed")
    benchmark.pedantic(deepspeed_steps, args=(sched, STEPS), rounds=5, iterations=1)


MEGATRON = dict(
    init_lr=0.0,
    max_lr=3e-4,
    min_lr=3e-5,
    lr_warmup_steps=2000 * 256,
    lr_decay_steps=10**6 * 256,
    start_wd=0.0,
    end_wd=0.1,
    wd_incr_steps=10**6 * 256,
    wd_incr_style="linear",
)


@pytest.mark.parametrize("increment", [1, 256])  # iterations, or samples of a global batch
@pytest.mark.parametrize("style", ["cosine", "WSD"])
@pytest.mark.parametrize("lib", ["megatron", "lrsched.megatron"])
def test_megatron_step_cost(benchmark, lib, style, increment):
    import lrsched.megatron

    if lib == "megatron":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler
    else:
        OptimizerParamScheduler = lrsched.megatron.OptimizerParamScheduler
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    extra = (
        dict(wsd_decay_steps=10**5 * 256, lr_wsd_decay_style="minus_sqrt") if style == "WSD" else {}
    )
    sched = OptimizerParamScheduler(opt, lr_decay_style=style, **MEGATRON, **extra)
    for _ in range(3000):  # past the warm-up: first tables (numba's cache) and windows
        sched.step(increment)
    benchmark.group = f"megatron {style}, increment {increment}"
    benchmark.extra_info.update(steps=STEPS, variant=lib, baseline=lib == "lrsched.megatron")
    benchmark.pedantic(_megatron_steps, args=(sched, increment, STEPS), rounds=5, iterations=1)


def _megatron_steps(sched, increment, n):
    for _ in range(n):
        sched.step(increment)


FAIRSEQ = {
    "inverse_sqrt": dict(lr=[5e-4], warmup_updates=4000),
    "cosine": dict(lr=[1e-3], warmup_updates=1000, lr_period_updates=5000, t_mult=2.0),
    "tri_stage": dict(lr=[1e-3], phase_ratio=(0.1, 0.4, 0.5), max_update=10**6),
    "polynomial_decay": dict(lr=[1e-3], warmup_updates=1000, total_num_update=10**6, power=2.0),
    "fixed": dict(lr=[1e-3], warmup_updates=1000),  # fairseq's default scheduler
}


@pytest.mark.parametrize("case", sorted(FAIRSEQ))
@pytest.mark.parametrize("lib", ["fairseq", "lrsched.fairseq"])
def test_fairseq_step_update_cost(benchmark, case, lib):
    # both drive the same fairseq optimizer (its set_lr writes every group), as its
    # Trainer does after every update
    import lrsched.fairseq

    fairseq = pytest.importorskip("fairseq.optim.lr_scheduler")
    from fairseq.optim.fairseq_optimizer import FairseqOptimizer

    class Optimizer(FairseqOptimizer):
        def __init__(self):
            super().__init__(None)
            self._optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)

    config = fairseq.LR_SCHEDULER_DATACLASS_REGISTRY[case](**FAIRSEQ[case])
    if lib == "fairseq":
        sched = fairseq.LR_SCHEDULER_REGISTRY[case](config, Optimizer())
    else:
        sched = lrsched.fairseq.SCHEDULERS[case](config, Optimizer())
    _fairseq_updates(sched, 0, 3000)  # warm-up: first tables (numba's cache) and windows
    benchmark.group = f"fairseq {case}"
    benchmark.extra_info.update(steps=STEPS, variant=lib, baseline=lib == "lrsched.fairseq")
    counter = iter(range(3000, 10**9, STEPS))
    benchmark.pedantic(
        lambda: _fairseq_updates(sched, next(counter), STEPS), rounds=5, iterations=1
    )


def _fairseq_updates(sched, start, n):
    step_update = sched.step_update
    for t in range(start, start + n):
        step_update(t)


# -- how the program holds step(): every style is served from the table ----------------
CALL_STYLES = {
    "sched.step()": lambda s: lambda: s.step(),
    "st = sched.step (before the first step)": lambda s: s.step,
    "getattr(sched, 'step')": lambda s, name="step": getattr(s, name),
    "functools.partial(sched.step)": lambda s: functools.partial(s.step),
}


def call(fn, n):
    for _ in range(n):
        fn()


@pytest.mark.parametrize("style", list(CALL_STYLES))
@pytest.mark.parametrize("lib", ["torch", "lrsched"])
def test_call_style_cost(benchmark, style, lib):
    """CosineAnnealingLR, one group: the bound method is taken before the first step
    (as a callback registry would) and held through every window refill."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = (T if lib == "torch" else L).CosineAnnealingLR(opt, T_max=10**7)
        fn = CALL_STYLES[style](sched)
        opt.step()
        call(fn, 2000)
    benchmark.group = f"call style: {style}"
    benchmark.extra_info.update(steps=STEPS, variant=lib, baseline=lib == "torch")
    benchmark.pedantic(call, args=(fn, STEPS), rounds=5, iterations=1)


@pytest.mark.parametrize("lib", ["torch", "lrsched"])
def test_held_reference_over_many_windows(benchmark, lib):
    """One bound method held for 300,000 steps: five 65,536-step window refills."""
    n = 300_000

    def run():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        sched = (T if lib == "torch" else L).ExponentialLR(opt, gamma=0.999999)
        opt.step()
        call(sched.step, n)

    benchmark.group = "a held step() over 3e5 steps (window refills included)"
    benchmark.extra_info.update(steps=n, variant=lib, baseline=lib == "torch")
    benchmark.pedantic(run, rounds=3, iterations=1)


# -- the disturbed path: torch's own step, at no more than torch's cost --------------------
def _opt(lr=0.1):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def _chained(m):
    o = _opt()
    s = m.ChainedScheduler([m.ConstantLR(o, 0.5, 10**9), m.ExponentialLR(o, 0.99999)])
    return s.step


def _edited(m):
    o = _opt()
    s = m.CosineAnnealingLR(o, T_max=10**6)
    g = o.param_groups[0]

    def f():
        g["lr"] = g["lr"] * 1.0000001  # another writer changes the LR every step
        s.step()

    return f


def _tensor_lr(m):
    o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=torch.tensor(0.1))
    return m.CosineAnnealingLR(o, T_max=10**6).step


def _epoch(m):
    s = m.CosineAnnealingLR(_opt(), T_max=10**6)
    count = iter(range(1, 10**9))
    return lambda: s.step(next(count))


def _sequential(m):
    o = _opt()
    s = m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=10), m.CosineAnnealingLR(o, T_max=10**6)], [10]
    )
    return s.step


DISTURBED = {
    "ChainedScheduler (children disturb each other)": _chained,
    "LR edited every step": _edited,
    "tensor LR": _tensor_lr,
    "step(epoch)": _epoch,
    "SequentialLR": _sequential,
}


@pytest.mark.parametrize("case", list(DISTURBED))
@pytest.mark.parametrize("lib", ["torch", "lrsched"])
def test_disturbed_step_cost(benchmark, case, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = DISTURBED[case](T if lib == "torch" else L)
        call(fn, 2000)
        benchmark.group = f"disturbed: {case}"
        benchmark.extra_info.update(steps=STEPS, variant=lib, baseline=lib == "torch")
        benchmark.pedantic(call, args=(fn, STEPS), rounds=5, iterations=1)
