"""A whole training step compiled with ``torch.compile`` (inductor), scheduler included:
lrsched's drop-in against the peer's own class, one per framework.

The step is an MLP's forward and backward, AdamW's step, ``zero_grad()`` and the
scheduler's step (tests/compiled_step.py). Each benchmark compiles its step first
(outside the timing), then times rounds of compiled steps. The ratios printed at the
end (conftest.py) are per step, as multiples of lrsched's (host mode), from this one
run; "lrsched device mode" is the same step with the scheduler in device mode (one
graph, no graph break).

torch's and transformers' classes run eagerly inside a compiled function (dynamo skips
torch/optim/lr_scheduler.py), as lrsched's host mode does; timm's, DeepSpeed's,
Megatron's and fairseq's are traced by dynamo.
"""

import logging
import warnings

import pytest
import torch
from compiled_step import training_step

STEPS = 200  # a round
LONG = 10**6  # schedules longer than the run: every step is inside them

CASES = {
    "torch CosineAnnealingWarmRestarts": (
        "torch",
        lambda lib: lambda o: lib.CosineAnnealingWarmRestarts(o, T_0=30, T_mult=2, eta_min=1e-5),
        "step()",
    ),
    "torch OneCycleLR": (
        "torch",
        lambda lib: lambda o: lib.OneCycleLR(o, max_lr=0.01, total_steps=LONG),
        "step()",
    ),
    "torch ReduceLROnPlateau": (
        "torch",
        lambda lib: lambda o: lib.ReduceLROnPlateau(o, patience=3),
        "step(metric)",
    ),
    "transformers get_cosine_schedule_with_warmup": (
        "transformers",
        lambda lib: lambda o: lib.get_cosine_schedule_with_warmup(o, 20, LONG),
        "step()",
    ),
    "timm CosineLRScheduler": (
        "timm",
        lambda lib: (
            lambda o: lib.CosineLRScheduler(o, t_initial=LONG, warmup_t=20, t_in_epochs=False)
        ),
        "step_update(i)",
    ),
    "deepspeed WarmupCosineLR": (
        "deepspeed",
        lambda lib: lambda o: lib.WarmupCosineLR(o, total_num_steps=LONG, warmup_num_steps=20),
        "step()",
    ),
    "megatron OptimizerParamScheduler": (
        "megatron",
        lambda lib: (
            lambda o: lib.OptimizerParamScheduler(
                o,
                init_lr=1e-6,
                max_lr=3e-4,
                min_lr=3e-5,
                lr_warmup_steps=20,
                lr_decay_steps=LONG,
                lr_decay_style="cosine",
                start_wd=0.0,
                end_wd=0.1,
                wd_incr_steps=LONG,
                wd_incr_style="linear",
            )
        ),
        "step(1)",
    ),
}


def _libraries(framework):
    """(the peer's module, lrsched's) for a framework."""
    import lrsched

    if framework == "torch":
        return torch.optim.lr_scheduler, lrsched
    if framework == "transformers":
        from transformers import optimization

        return optimization, lrsched
    if framework == "timm":
        import lrsched.timm
        from timm_ref import scheduler_module

        return scheduler_module(), lrsched.timm
    if framework == "deepspeed":
        import lrsched.deepspeed

        deepspeed = pytest.importorskip("deepspeed.runtime.lr_schedules")
        return deepspeed, lrsched.deepspeed
    import lrsched.megatron

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from megatron.core import optimizer_param_scheduler

    return optimizer_param_scheduler, lrsched.megatron


def _rounds(run, start, n):
    for i in range(start, start + n):
        run(i)


class _OnDevice:
    """lrsched, each scheduler built in device mode (float32 LR tensors on the CPU)."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, name):
        make = getattr(self.module, name)
        return lambda *args, **kw: make(*args, **kw, device="cpu", dtype=torch.float32)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("lib", ["peer", "lrsched", "lrsched device mode"])
def test_compiled_step_cost(benchmark, case, lib):
    import torch._dynamo as dynamo

    framework, make, call = CASES[case]
    module = _libraries(framework)[lib != "peer"]
    if lib == "lrsched device mode":
        if framework not in ("torch", "transformers"):
            pytest.skip("device mode is for torch's classes and transformers' functions")
        module = _OnDevice(module)
    dynamo.reset()
    logging.disable(logging.INFO)  # Megatron and DeepSpeed log as they build
    try:
        run, _ = training_step(make(module), call, optimizer="adamw", hidden=64)
        _rounds(run, 1, 100)  # compiles (inductor), then settles
        benchmark.group = f"compiled step: {case}"
        benchmark.extra_info.update(steps=STEPS, variant=lib, baseline=lib == "lrsched")
        counter = iter(range(101, 10**9, STEPS))
        benchmark.pedantic(lambda: _rounds(run, next(counter), STEPS), rounds=5, iterations=1)
    finally:
        logging.disable(logging.NOTSET)
