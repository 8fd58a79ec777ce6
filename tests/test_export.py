"""``lrcore convert --to``: each target's artifact, run in the target framework itself
(torch's schedulers, DeepSpeed's classes), or read back through the readers that
``tests/test_convert.py`` and ``tests/test_fairseq.py`` prove against Megatron-Core's
scheduler and fairseq's own option parser; and the refusals."""

import json
import warnings

import pytest
import torch
from catalogue import ABSOLUTE, FRAMEWORKS, PEERS, RELATIVE
from lazy import lazy

import lrcore
from lrcore import convert
from lrcore.cli import main

D = lazy("deepspeed.runtime.lr_schedules")
ALL = [lrcore.parse(s) for s in RELATIVE + PEERS + ABSOLUTE + FRAMEWORKS]


def exportable(target):
    out = []
    for spec in ALL:
        try:
            convert.to_framework(spec, target, exact=True)
        except convert.NotExact:
            continue
        out.append(spec)
    return out


def ids(spec):
    return str(spec)[:70]


def optimizer(lr):
    return torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=lr, momentum=0.9)


@pytest.mark.parametrize("spec", exportable("torch"), ids=ids)
def test_torch_code_runs_in_torch_with_the_tables_values(spec):
    base = 1.0 if spec.absolute else 0.3
    steps = spec.last_step() + 1 if spec.last_step() is not None else 300
    steps = min(steps, 300)
    out = convert.to_framework(spec, "torch", base_lr=base)
    opt = optimizer(base)
    namespace = {"optimizer": opt}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(out.artifact, namespace)  # the artifact itself: torch's own classes
        sched = namespace["scheduler"]
        assert type(sched).__module__ == "torch.optim.lr_scheduler"
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(steps - 1):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
    assert lrs == lrcore.table(spec, steps, base).tolist()


@pytest.mark.parametrize("spec", exportable("deepspeed"), ids=ids)
def test_deepspeed_block_builds_deepspeeds_class_with_the_tables_values(spec):
    base = 1.0 if spec.absolute else 3e-4
    out = convert.to_framework(spec, "deepspeed", base_lr=base)
    block = json.loads(out.artifact)
    assert convert.from_deepspeed_config(block)[0] == spec  # read back: the same spec
    opt = optimizer(base)
    kind = block["scheduler"]["type"]
    sched = getattr(D, kind)(opt, **block["scheduler"]["params"])  # DeepSpeed's own class
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(1999):
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == lrcore.table(spec, 2000, base).tolist()


@pytest.mark.parametrize("spec", exportable("fairseq"), ids=ids)
def test_fairseq_flags_read_back_as_the_spec(spec):
    flags = convert.to_framework(spec, "fairseq").artifact
    assert convert.from_fairseq_args(flags) == spec


@pytest.mark.parametrize("spec", exportable("megatron"), ids=ids)
def test_megatron_flags_read_back_to_the_same_tables(spec):
    flags = convert.to_framework(spec, "megatron").artifact
    back, stride = convert.from_megatron_args(flags)
    assert stride == 1 and "--train-samples" in flags
    n = int(spec.lr_decay_steps) + 50
    for quantity in ("lr", "weight_decay"):
        want = lrcore.table(spec, n, quantity=quantity)
        assert lrcore.table(back, n, quantity=quantity).tolist() == want.tolist()


def test_every_spec_is_its_own_text():
    for spec in ALL:
        assert lrcore.parse(convert.to_framework(spec, "spec").artifact) == spec
    with pytest.raises(convert.NotExact, match="holds a Python function"):
        convert.to_framework(lrcore.Lambda(lr_lambda=lambda e: 0.5), "spec")


@pytest.mark.parametrize(
    "spec,target,message",
    [
        ("timm_cosine(t_initial=10)", "torch", "timm_cosine is not one of torch's schedulers"),
        ("step(step_size=3)", "deepspeed", "step is not one of DeepSpeed's schedules"),
        ("step(step_size=3)", "megatron", "step is not Megatron-Core's scheduler"),
        (
            "cosine_annealing_warm_restarts(T_0=10, decay=0.5)",
            "torch",
            "torch has no cosine_annealing_warm_restarts",
        ),
        ("step(step_size=3)", "fairseq", "step is not one of fairseq's LR schedulers"),
        ("step(step_size=3)", "optax", "step is not one of optax's schedules"),
        ("optax_constant(value=0.1)", "keras", "optax_constant is not one of Keras's schedules"),
        ("step(step_size=3)", "timm", "step is not one of timm's schedulers"),
        ("step(step_size=3)", "transformers", "step is not one of transformers' schedules"),
        (
            "megatron(max_lr=0.001, lr_decay_steps=1000, lr_warmup_steps=12.5)",
            "megatron",
            "lr_warmup_steps=12.5 is not a whole number of samples",
        ),
    ],
)
def test_no_equal_family_is_refused_with_the_reason(spec, target, message, capsys):
    with pytest.raises(convert.NotExact, match=message):
        convert.to_framework(spec, target, exact=True)
    assert main(["convert", spec, "--to", target, "--exact"]) == 2
    assert message in capsys.readouterr().err


def test_cli_prints_the_artifact_and_its_notes(capsys):
    code = main(["convert", "docs/examples/ds_config.json", "--to", "torch", "--exact"])
    out = capsys.readouterr()
    assert code == 2 and "deepspeed_warmup_cosine is not one of torch's schedulers" in out.err
    code = main(["convert", "docs/examples/ds_config.json", "--to", "torch", "--steps", "500"])
    out = capsys.readouterr()
    assert code == 0 and "LambdaLR(optimizer, lr_lambda)" in out.out
    assert "# no equal family (deepspeed_warmup_cosine is not one of torch's" in out.err
    assert "max relative difference" in out.err and "over steps 0..499" in out.err
    code = main(["convert", "docs/examples/ds_config.json", "--to", "deepspeed"])
    out = capsys.readouterr()
    block = json.loads(out.out)
    assert code == 0 and block["optimizer"]["params"]["lr"] == 0.0003  # the source's base LR
    assert "WarmupCosineLR scales the optimizer's LR" in out.err
    code = main(["convert", "step(step_size=7, gamma=0.5)", "--to", "torch", "--base-lr", "0.1"])
    out = capsys.readouterr()
    assert "StepLR(optimizer, step_size=7, gamma=0.5)" in out.out and "here: 0.1" in out.err


@pytest.mark.parametrize("spec", exportable("torch"), ids=ids)
def test_torch_code_reads_back_as_the_spec(spec):
    """Export, then import: the constructor call read back is the same spec."""
    code = convert.to_framework(spec, "torch").artifact
    call = code.split("scheduler = ", 1)[1]
    assert convert.from_torch_call(call) == spec


@pytest.mark.parametrize(
    "call,message",
    [
        ("MyLR(optimizer, k=1)", "'MyLR' is not one of torch's schedulers lrcore reproduces"),
        ("StepLR(optimizer, 30)", "give StepLR's arguments by name after the optimizer"),
        ("StepLR(optimizer, step_size=n)", "step_size must be a literal"),
        ("StepLR(optimizer, step_size=0)", "step: step_size must be an integer >= 1"),
        ("LambdaLR(optimizer, lr_lambda=f)", "'LambdaLR' is not one of torch's schedulers"),
    ],
)
def test_torch_calls_that_cannot_be_read_say_why(call, message):
    with pytest.raises(ValueError, match=message):
        convert.from_torch_call(call)


def test_cli_reads_a_torch_call(capsys):
    assert main(["convert", "torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)"]) == 0
    assert capsys.readouterr().out == "cosine_annealing(T_max=100, eta_min=0.0)\n"


# convert --to optax and --to keras are run in optax and Keras by tests/test_optax.py
# and tests/test_keras.py, in the processes that measure those frameworks against lrcore


def test_timm_code_runs_in_timm_with_the_tables_values():
    import sys

    from timm_ref import scheduler_module

    scheduler_module()  # timm.scheduler, importable as the artifact imports it
    samples = [s for s in lrcore.family.samples(400).values() if s.name.startswith("timm_")]
    specs = [s for s in ALL if s.name.startswith("timm_")] + samples
    assert {s.name for s in specs} >= {"timm_cosine", "timm_step", "timm_multistep", "timm_wsd"}
    specs.append(lrcore.parse("timm_tanh(t_initial=300, lb=-6.0)"))  # no factory argument
    factory = 0
    for spec in specs:
        code = convert.to_framework(spec, "timm").artifact
        opt = optimizer(0.3)
        namespace = {"optimizer": opt, "timm": sys.modules["timm"]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, namespace)  # timm's own factory, or its class
        sched = namespace["scheduler"]
        assert type(sched).__module__.startswith("timm.scheduler.")
        call = code.split(" = ", 1)[1]
        assert convert.from_call(call, "timm") == spec  # read back: the same spec
        if "create_scheduler_v2" in code:
            factory += 1
            assert namespace["num_epochs"] >= 1
        lrs = []
        for t in range(400):
            sched.step(t)
            lrs.append(opt.param_groups[0]["lr"])
        assert lrs == lrcore.table(spec, 400, 0.3).tolist(), str(spec)
    assert factory == len(specs) - 1  # all but tanh's lb: create_scheduler_v2's arguments


def test_transformers_code_runs_in_transformers_with_the_tables_values():
    pytest.importorskip("transformers")
    extra = [  # each of transformers' functions, bare and behind a warm-up
        "stable()",
        "warmup(stable(), warmup_steps=20)",
        "warmup(linear_decay(decay_steps=250), warmup_steps=30)",
        "linear_decay(decay_steps=280)",
        "warmup(cosine_decay(decay_steps=200, num_cycles=0.7), warmup_steps=25)",
        "warmup(cosine_decay(decay_steps=200, min_lr_rate=0.1), warmup_steps=25)",
        "warmup(cosine_hard_restarts(decay_steps=240, num_cycles=3), warmup_steps=10)",
        "warmup(polynomial_decay(decay_steps=200, lr_init=0.3, lr_end=0.001, power=2.0),"
        " warmup_steps=40)",
        "warmup(inverse_sqrt(timescale=50), warmup_steps=50)",
        "inverse_sqrt(timescale=70)",
    ]
    specs = exportable("transformers") + [lrcore.parse(t) for t in extra]
    names = {s.schedule.name if s.name == "warmup" else s.name for s in specs}
    assert names >= {"stable", "linear_decay", "cosine_decay", "cosine_hard_restarts",
                     "polynomial_decay", "inverse_sqrt"}  # fmt: skip
    for spec in specs:
        decay = spec.schedule if spec.name == "warmup" else spec
        base = decay.lr_init if decay.name == "polynomial_decay" else 0.3
        code = convert.to_framework(spec, "transformers").artifact
        opt = optimizer(base)
        namespace = {"optimizer": opt}
        exec(code, namespace)  # transformers' own function
        sched = namespace["scheduler"]
        assert type(sched).__module__ == "torch.optim.lr_scheduler"
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(299):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        assert lrs == lrcore.table(spec, 300, base).tolist(), str(spec)
        if decay.name != "polynomial_decay":  # (its lr_init is the optimizer's LR)
            call = code.split("scheduler = ", 1)[1]
            assert convert.from_transformers_call(call) == spec  # read back: the same spec


@pytest.mark.parametrize(
    "call,message",
    [
        ("get_foo(optimizer)", "expected a call of one of get_constant_schedule"),
        ("get_linear_schedule_with_warmup(optimizer, 10)", "needs num_training_steps"),
        ("get_linear_schedule_with_warmup(optimizer, 10, 5)", "must be at least num_warmup"),
        ("get_cosine_with_min_lr_schedule_with_warmup(opt, 1, 9, min_lr=1e-5)", "give min_lr_rate"),
        ("get_constant_schedule(optimizer, warmup=3)", "takes no arguments"),
    ],
)
def test_transformers_calls_that_cannot_be_read_say_why(call, message):
    with pytest.raises(ValueError, match=message):
        convert.from_transformers_call(call)


# -- more sources: timm's, optax's and Keras's calls; a live lrsched scheduler -------------------


def test_optax_and_timm_calls_read_back_as_the_spec():
    # (Keras's are read back in tests/test_keras.py, beside Keras's own signatures; optax's
    # positional order is checked against optax's in tests/test_optax.py)
    for spec in exportable("optax"):
        call = convert.to_framework(spec, "optax").artifact.split("schedule = ", 1)[1]
        assert convert.from_call(call, "optax") == spec
    positional = "optax.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 1000, end_value=1e-5)"
    assert convert.from_call(positional, "optax") == lrcore.parse(
        "optax_warmup_cosine_decay(init_value=0.0, peak_value=0.001, warmup_steps=100, "
        "decay_steps=1000, end_value=1e-05)"
    )


@pytest.mark.parametrize(
    "call,framework,message",
    [
        ("optax.foo_schedule(1.0)", "optax", "'foo_schedule' is not one of optax's schedules"),
        ("optax.cosine_decay_schedule(0.1, 100, 0.0)", "optax", "give cosine_decay_schedule's"),
        ("optax.cosine_decay_schedule(lr, 100)", "optax", "arguments must be literals"),
        ("optax.constant_schedule(0.1, value=0.2)", "optax", "got value twice"),
        ("keras.optimizers.schedules.CosineDecay(0.1)", "keras", "decay_steps"),
        ("create_scheduler_v2(opt, sched='plateau')", "timm", "follows a metric"),
        ("create_scheduler_v2(opt, sched='none')", "timm", "makes no scheduler"),
        ("create_scheduler_v2(opt, sched='cos')", "timm", "Unknown scheduler 'cos'"),
        ("create_scheduler_v2(opt, epochs=10)", "timm", "unexpected keyword argument 'epochs'"),
        ("create_scheduler_v2(opt, step_on_epochs=False)", "timm", "updates_per_epoch must"),
        ("CosineLRScheduler(opt, t_initial=0)", "timm", "t_initial"),
    ],
)
def test_calls_that_cannot_be_read_say_why(call, framework, message):
    with pytest.raises((ValueError, TypeError, AssertionError), match=message):
        convert.from_call(call, framework)


def test_create_scheduler_v2_arguments_are_read_with_timms_arithmetic():
    from timm_ref import scheduler_module

    scheduler_module()
    from timm.scheduler import create_scheduler_v2

    cases = [
        dict(sched="cosine", num_epochs=20, warmup_epochs=3, noise=(0.25, 0.5), cycle_limit=2),
        dict(sched="step", num_epochs=30, decay_epochs=7, decay_rate=0.5, warmup_epochs=2),
        dict(sched="multistep", decay_milestones=[5, 12], warmup_epochs=1, warmup_prefix=True),
        dict(sched="poly", num_epochs=25, decay_rate=2.0, min_lr=1e-4),
        dict(sched="wsd", num_epochs=40, warmup_epochs=4, decay_epochs=0.25),
        dict(sched="rsqrt", num_epochs=40, warmup_epochs=4, stable_timescale=5),
        dict(sched="cosine", num_epochs=4, warmup_epochs=1, step_on_epochs=False,
             updates_per_epoch=10),
    ]  # fmt: skip
    for kwargs in cases:
        text = (
            "create_scheduler_v2(optimizer, "
            + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            + ")"
        )
        spec = convert.from_call(text, "timm")
        opt = optimizer(0.3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched, _ = create_scheduler_v2(opt, **kwargs)  # timm's own factory
        stepped = []
        for t in range(60):
            if kwargs.get("step_on_epochs", True):
                sched.step(t)
            else:
                sched.step_update(t)
            stepped.append(opt.param_groups[0]["lr"])
        assert stepped == lrcore.table(spec, 60, 0.3).tolist(), text
    assert main(["convert", "create_scheduler_v2(opt, sched='step', decay_epochs=7)"]) == 0


def _live():
    """lrsched schedulers as programs hold them, and how each is stepped to table index t."""
    import lrsched
    import lrsched.deepspeed as LD
    import lrsched.fairseq as LF
    import lrsched.megatron as LM
    import lrsched.timm as LT

    def two_groups():
        return torch.optim.SGD(
            [
                {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
                {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02},
            ],
            momentum=0.9,
        )

    def torch_step(sched, t):
        sched.step()

    cases = [
        (lambda o: lrsched.StepLR(o, step_size=7, gamma=0.5), torch_step),
        (lambda o: lrsched.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2), torch_step),
        (lambda o: lrsched.get_cosine_schedule_with_warmup(o, 10, 80), torch_step),
        (
            lambda o: lrsched.SequentialLR(
                o,
                [lrsched.LinearLR(o, 0.1, total_iters=5), lrsched.ExponentialLR(o, 0.97)],
                milestones=[5],
            ),
            torch_step,
        ),
        (
            lambda o: LT.create_scheduler_v2(o, sched="cosine", num_epochs=30, warmup_epochs=4)[0],
            lambda s, t: s.step(t),
        ),
        (lambda o: LT.StepLRScheduler(o, decay_t=9, decay_rate=0.3), lambda s, t: s.step(t)),
        (lambda o: LD.WarmupCosineLR(o, total_num_steps=70, warmup_num_steps=8), torch_step),
        (
            lambda o: LM.OptimizerParamScheduler(
                o,
                init_lr=0.0,
                max_lr=0.01,
                min_lr=0.001,
                lr_warmup_steps=5,
                lr_decay_steps=60,
                lr_decay_style="cosine",
                start_wd=0.0,
                end_wd=0.1,
                wd_incr_steps=60,
                wd_incr_style="linear",
            ),
            lambda s, t: s.step(1),
        ),  # fmt: skip
        (
            lambda o: LF.SCHEDULERS["cosine"](
                {"lr": [0.01], "warmup_updates": 5, "lr_period_updates": 30}, o
            ),
            lambda s, t: s.step_update(t),
        ),
    ]
    return two_groups, cases


def test_spec_of_a_live_scheduler_tabulates_what_it_steps():
    two_groups, cases = _live()
    for make, step in cases:
        opt = two_groups()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = make(opt)
            seen = [[g["lr"] for g in opt.param_groups]]
            for t in range(1, 90):
                opt.step()
                step(sched, t)
                seen.append([g["lr"] for g in opt.param_groups])
        for group in (0, 1):
            spec, base = convert.spec_of(sched, group)
            assert (base is None) == spec.absolute
            want = lrcore.table(spec, 90, 1.0 if base is None else base)
            got = [row[group] for row in seen]
            assert got == want.tolist(), (type(sched).__name__, group)
            assert lrcore.parse(str(spec)) == spec  # a spec with a text form


def test_spec_of_follows_a_changed_hyperparameter_and_refuses_what_has_no_table():
    import lrsched

    opt = optimizer(0.1)
    sched = lrsched.StepLR(opt, step_size=5, gamma=0.5)
    sched.gamma = 0.25  # as a program may change it mid-run
    assert convert.spec_of(sched) == (lrcore.parse("step(step_size=5, gamma=0.25)"), 0.1)
    with pytest.raises(ValueError, match=r"group must be an integer in \[0, 1\)"):
        convert.spec_of(sched, 1)
    with pytest.raises(ValueError, match="ReduceLROnPlateau follows a metric"):
        convert.spec_of(lrsched.ReduceLROnPlateau(optimizer(0.1)))
    with pytest.raises(ValueError, match="from_torch_call"):
        convert.spec_of(lrsched.OneCycleLR(optimizer(0.1), max_lr=1.0, total_steps=10))
    with pytest.raises(TypeError, match="expected an lrsched scheduler"):
        convert.spec_of(torch.optim.lr_scheduler.StepLR(optimizer(0.1), step_size=3))


def test_cli_reads_optax_keras_and_timm_calls(capsys):
    for source, want in [
        ("optax.cosine_decay_schedule(0.1, 1000)", "optax_cosine_decay(init_value=0.1"),
        ("keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9)", "keras_exponential"),
        ("timm.scheduler.StepLRScheduler(opt, decay_t=5)", "timm_step(decay_t=5"),
        ("create_scheduler_v2(opt, sched='tanh', num_epochs=50)", "timm_tanh(t_initial=50"),
    ]:
        assert main(["convert", source]) == 0
        assert capsys.readouterr().out.startswith(want)


# -- the nearest expression, where the target has no equal family -------------------------------

NOT_TORCH = [s for s in ALL if s not in exportable("torch") and s.name not in ("lambda",
             "multiplicative")]  # fmt: skip


@pytest.mark.parametrize("spec", NOT_TORCH[::3], ids=ids)
def test_nearest_lambdalr_runs_in_torch_within_its_stated_difference(spec):
    base = 1.0 if spec.absolute else 0.3
    out = convert.to_framework(spec, "torch", base_lr=base, steps=400)
    assert not out.exact and 0 <= out.max_rel_diff <= 1e-4
    assert f"max relative difference {out.max_rel_diff:.3g}" in out.notes[0]
    opt = optimizer(base)
    namespace = {"optimizer": opt}
    exec(out.artifact, namespace)  # needs no lrcore: torch's LambdaLR and a lambda
    sched = namespace["scheduler"]
    assert type(sched) is torch.optim.lr_scheduler.LambdaLR
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(399):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    want = lrcore.table(spec, 400, base)
    from lrcore.nearest import relative_difference

    measured = relative_difference(lrs, want)
    assert measured <= out.max_rel_diff * (1 + 1e-9) + 1e-15  # what the note says, at most
    assert lrs[-1] == pytest.approx(want[-1], rel=1e-4)


def test_nearest_is_exact_on_staircases_and_tighter_on_request():
    step = lrcore.parse("timm_step(decay_t=30, decay_rate=0.5, warmup_t=5)")
    assert convert.to_framework(step, "torch", steps=300).max_rel_diff <= 1e-15
    cosine = lrcore.parse("timm_cosine(t_initial=1000)")
    loose = convert.to_framework(cosine, "optax", steps=1000)
    tight = convert.to_framework(cosine, "optax", steps=1000, tolerance=1e-7)
    assert tight.max_rel_diff <= 1e-7 < loose.max_rel_diff <= 1e-4
    assert len(tight.artifact) > len(loose.artifact)
    with pytest.raises(ValueError, match="give --steps N"):
        convert.to_framework(lrcore.parse("exponential(gamma=0.9)"), "optax")
    with pytest.raises(ValueError, match="tolerance must be a number in"):
        convert.to_framework(cosine, "keras", steps=10, tolerance=-1.0)
    with pytest.raises(convert.NotExact, match="timm_cosine is not one of DeepSpeed"):
        convert.to_framework(cosine, "deepspeed", steps=10)  # no function idiom: refused


def test_nearest_for_transformers_is_a_lambdalr_too():
    spec = lrcore.parse("cosine_annealing_warm_restarts(T_0=50, T_mult=2)")
    out = convert.to_framework(spec, "transformers", base_lr=0.1, steps=300)
    assert "LambdaLR(optimizer, lr_lambda)" in out.artifact and not out.exact
    assert main(["convert", str(spec), "--to", "transformers", "--exact"]) == 2
    assert main(["convert", str(spec), "--steps", "10"]) == 2  # --steps needs --to
