"""DeepSpeed's schedules against DeepSpeed itself (deepspeed.runtime.lr_schedules,
installed by the dev set-up): lrcore's tables and lrsched.deepspeed's drop-ins give
its numbers bit for bit, its errors, its checkpoints, and run inside its engine."""

import gc
import json
import logging
import math
import pickle
import textwrap
import weakref

import contract
import numpy as np
import pytest
import torch
from catalogue import FRAMEWORKS
from fresh import free_port, python_json
from lazy import lazy
from lrsched import deepspeed as L

import lrcore

D = lazy("deepspeed.runtime.lr_schedules")

N = 12_000
SPECS = [lrcore.parse(s) for s in FRAMEWORKS if s.startswith("deepspeed_")]
CLASSES = {
    "deepspeed_warmup": "WarmupLR",
    "deepspeed_warmup_decay": "WarmupDecayLR",
    "deepspeed_warmup_cosine": "WarmupCosineLR",
    "deepspeed_one_cycle": "OneCycle",
    "deepspeed_lr_range_test": "LRRangeTest",
}


@pytest.fixture(autouse=True)
def _quiet():
    # both DeepSpeed and lrsched.deepspeed log "before it has started" at batch -1
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def _kwargs(spec):
    return {k: v for k, v in spec.to_dict().items() if k != "name"}


def _optimizer(lrs=(0.1,), cls=torch.optim.Adam):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return cls(groups)


def _run(sched, opt, steps):
    """Each group's LR and beta1 as written: before any step, then after each."""
    lrs = [[g["lr"] for g in opt.param_groups]]
    betas = [[g["betas"] for g in opt.param_groups]]
    for _ in range(steps - 1):
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        betas.append([g["betas"] for g in opt.param_groups])
    return np.array(lrs).T, betas


def _deepspeed(spec, steps, lrs=(0.1,)):
    opt = _optimizer(lrs)
    sched = getattr(D, CLASSES[spec.name])(opt, **_kwargs(spec))
    return _run(sched, opt, steps)


def _ulps(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ia, ib = a.view(np.int64), b.view(np.int64)
    return int(np.max(np.abs(ia - ib))) if a.size else 0


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.brief()[:70])
def test_tables_are_deepspeeds_bits(spec):
    """12,000 steps of DeepSpeed's class, from 0 and from mid-run: its bits, and the closed
    numerics within their contract (tests/contract.py: equal but for cosine stretches)."""
    lrs, betas = _deepspeed(spec, N)
    base = 1.0 if spec.absolute else 0.1
    ours = lrcore.table(spec, N, base)
    assert _ulps(ours, lrs[0]) == 0, np.flatnonzero(ours != lrs[0])[:5]
    mid = lrcore.table(spec, 500, base, start=7001)
    assert _ulps(mid, lrs[0][7001:7501]) == 0
    closed = lrcore.table(spec, N, base, numerics="closed")
    assert contract.outside(closed, lrs[0]).size == 0
    mid = lrcore.table(spec, 500, base, start=7001, numerics="closed")
    assert contract.outside(mid, lrs[0][7001:7501]).size == 0
    if spec.has_momentum:
        beta1 = [b[0][0] for b in betas]
        assert _ulps(lrcore.table(spec, N, quantity="momentum"), beta1) == 0


def test_warmup_cosine_holds_its_floor_after_the_end():
    # DeepSpeed 0.19 clamps the cosine progress at 1 (older releases rose again
    # after total_num_steps); lrcore follows the installed release, tested here
    spec = lrcore.DeepSpeedWarmupCosine(total_num_steps=300, warmup_num_steps=50)
    lrs, _ = _deepspeed(spec, 1000)
    assert np.all(lrs[0][301:] == 0.1 * spec.cos_min_ratio)
    assert _ulps(lrcore.table(spec, 1000, 0.1), lrs[0]) == 0


# -- what DeepSpeed does that a user may not expect, measured on DeepSpeed itself ------


def test_deepspeed_trains_its_first_two_batches_at_the_minimum():
    # index 0 (the constructor's) and index 1 (log(0 + 1) = 0) are both warmup_min_lr
    for spec in SPECS[:2]:
        lrs, _ = _deepspeed(spec, 3)
        assert lrs[0][0] == lrs[0][1] == spec.warmup_min_lr
    cosine = lrcore.DeepSpeedWarmupCosine(total_num_steps=100, warmup_num_steps=10)
    lrs, _ = _deepspeed(cosine, 3)
    assert lrs[0][0] == lrs[0][1] == 0.0  # WarmupCosineLR: an LR of 0 twice


def test_deepspeed_raises_one_warmup_step_to_two():
    one = lrcore.DeepSpeedWarmup(warmup_max_lr=0.1, warmup_num_steps=1, warmup_type="linear")
    two = lrcore.DeepSpeedWarmup(warmup_max_lr=0.1, warmup_num_steps=2, warmup_type="linear")
    lrs, _ = _deepspeed(one, 5)
    assert lrs[0].tolist() == [0.0, 0.0, 0.05, 0.1, 0.1]
    assert lrcore.table(one, 5).tolist() == lrcore.table(two, 5).tolist() == lrs[0].tolist()


def test_deepspeed_one_cycle_momentum_starts_at_the_minimum_and_forces_beta2():
    # its constructor writes cycle_min_mom; its formula (and every step) starts from
    # cycle_max_mom; every write sets betas[1] to 0.99, whatever the optimizer had
    spec = lrcore.DeepSpeedOneCycle(cycle_min_lr=0.01, cycle_max_lr=0.1, cycle_first_step_size=10)
    opt = _optimizer()
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)
    sched = D.OneCycle(opt, **_kwargs(spec))
    assert opt.param_groups[0]["betas"] == (0.8, 0.99)
    sched.step()
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.9 - 0.01, abs=1e-12)
    moms = lrcore.table(spec, 2, quantity="momentum")
    assert moms[0] == 0.8 and moms[1] == opt.param_groups[0]["betas"][0]


def test_deepspeed_one_cycle_stairs_touch_the_top_for_one_step():
    spec = lrcore.DeepSpeedOneCycle(
        cycle_min_lr=0.005, cycle_max_lr=0.04, cycle_first_step_size=150, cycle_first_stair_count=5
    )
    lrs, _ = _deepspeed(spec, 300)
    top = np.flatnonzero(lrs[0] == 0.04)
    assert top.tolist() == [150]  # step() called 150 times: batch 149, cycle position 150
    assert len(set(lrs[0][:150].tolist())) == 5  # five stairs below the top
    assert lrcore.table(spec, 300).tolist() == lrs[0].tolist()


# -- the drop-ins ----------------------------------------------------------------------

GROUPED = [  # (class name, keyword arguments with per-group lists), three groups
    ("WarmupLR", dict(warmup_min_lr=[0.0, 1e-4, 1e-3], warmup_num_steps=300)),
    ("WarmupLR", dict(warmup_max_lr=[0.1, 0.2, 0.3], warmup_type="linear")),
    (
        "WarmupDecayLR",
        dict(total_num_steps=2000, warmup_max_lr=[0.1, 0.02, 0.3], warmup_num_steps=100),
    ),
    ("WarmupCosineLR", dict(total_num_steps=2500, warmup_num_steps=200, warmup_min_ratio=0.05)),
    (
        "OneCycle",
        dict(
            cycle_min_lr=[1e-4, 2e-4, 3e-4],
            cycle_max_lr=[0.01, 0.02, 0.03],
            cycle_first_step_size=400,
            cycle_second_step_size=300,
            cycle_first_stair_count=5,
            decay_step_size=40,
            decay_lr_rate=0.2,
            cycle_min_mom=[0.8, 0.85, 0.7],
            decay_mom_rate=0.01,
        ),
    ),
    ("LRRangeTest", dict(lr_range_test_min_lr=[1e-4, 1e-3, 1e-2], lr_range_test_step_size=50)),
    ("LRRangeTest", dict(lr_range_test_step_size=7, lr_range_test_staircase=True)),
]
LRS = (0.1, 0.05, 0.2)


def _both(name, kwargs, lrs=LRS, cls=torch.optim.Adam):
    ref_opt, our_opt = _optimizer(lrs, cls), _optimizer(lrs, cls)
    ref = getattr(D, name)(ref_opt, **kwargs)
    ours = getattr(L, name)(our_opt, **kwargs)
    return ref, ref_opt, ours, our_opt


def _groups(opt):
    return [(g["lr"], g.get("betas")) for g in opt.param_groups]


@pytest.mark.parametrize(
    "name,kwargs", GROUPED, ids=[f"{n}{i}" for i, (n, _) in enumerate(GROUPED)]
)
def test_dropin_steps_as_deepspeed(name, kwargs):
    ref, ref_opt, ours, our_opt = _both(name, kwargs)
    assert _groups(our_opt) == _groups(ref_opt)
    assert ours.__dict__.keys() - {"optimizer"} >= ref.state_dict().keys()
    for t in range(3000):
        ref.step()
        ours.step()
        assert _groups(our_opt) == _groups(ref_opt), t
        assert ours.get_last_lr() == ref.get_last_lr()
        assert ours.state_dict() == ref.state_dict()
    assert ours.get_lr() == ref.get_lr()


@pytest.mark.parametrize(
    "name,kwargs", GROUPED, ids=[f"{n}{i}" for i, (n, _) in enumerate(GROUPED)]
)
def test_checkpoints_move_both_ways(name, kwargs, tmp_path):
    """Stop at 1234, save, build a fresh scheduler of the other kind (DeepSpeed's
    resume: construct, then load_state_dict), continue: the same LRs as one run."""
    ref, ref_opt, ours, our_opt = _both(name, kwargs)
    for _ in range(1234):
        ref.step()
        ours.step()
    path = tmp_path / "sched.pt"
    torch.save(ours.state_dict(), path)
    into_ref, into_ref_opt, into_ours, into_ours_opt = _both(name, kwargs)
    into_ref.load_state_dict(torch.load(path, weights_only=True))
    into_ours.load_state_dict(ref.state_dict())
    for t in range(2000):
        for s in (ref, ours, into_ref, into_ours):
            s.step()
        expected = _groups(ref_opt)
        assert _groups(our_opt) == _groups(into_ref_opt) == _groups(into_ours_opt) == expected, t


def test_explicit_batch_iterations_and_resumed_construction():
    for name, kwargs in GROUPED:
        ref, ref_opt, ours, our_opt = _both(name, kwargs)
        for t in (5, 4, 2999, 70_000, 0, 10**6, 11):
            ref.step(t)
            ours.step(t)
            assert _groups(our_opt) == _groups(ref_opt), (name, t)
        # constructed at batch 500: nothing written until the first step, then 501
        ref, ref_opt, ours, our_opt = _both(name, {**kwargs, "last_batch_iteration": 500})
        assert _groups(our_opt) == _groups(ref_opt)
        ref.step()
        ours.step()
        assert _groups(our_opt) == _groups(ref_opt), name


def test_get_lr_ratio_and_the_interval_function():
    ref, _, ours, _ = _both(*GROUPED[3])
    ref2, _, ours2, _ = _both(*GROUPED[6])
    for t in range(0, 3000, 37):
        ref.step(t)
        ours.step(t)
        ref2.step(t)
        ours2.step(t)
        assert ours.get_lr_ratio() == ref.get_lr_ratio()
        assert ours2.interval_fn() == ref2.interval_fn()


def test_unknown_warmup_type_warns_and_runs_log_like_deepspeed(caplog):
    logging.disable(logging.NOTSET)
    with caplog.at_level(logging.WARNING):
        ref, ref_opt, ours, our_opt = _both("WarmupLR", dict(warmup_type="cosine"))
    messages = [r.getMessage() for r in caplog.records if "unknown warmup_type" in r.getMessage()]
    assert len(messages) == 2 and messages[0] == messages[1]
    assert ours.warmup_type == ref.warmup_type == "log"
    for _ in range(50):
        ref.step()
        ours.step()
    assert _groups(our_opt) == _groups(ref_opt)


def test_one_cycle_without_betas_disables_momentum_like_deepspeed():
    kwargs = dict(cycle_min_lr=0.01, cycle_max_lr=0.1, cycle_first_step_size=20)
    ref, ref_opt, ours, our_opt = _both("OneCycle", kwargs, lrs=(0.1,), cls=torch.optim.SGD)
    assert ours.cycle_momentum is ref.cycle_momentum is False
    for _ in range(60):
        ref.step()
        ours.step()
        assert _groups(our_opt) == _groups(ref_opt)
    assert "betas" not in our_opt.param_groups[0]


BAD = [  # (class name, keyword arguments): DeepSpeed's own error, type and message
    ("WarmupLR", dict(warmup_num_steps=0)),
    ("WarmupLR", dict(warmup_num_steps=2.5)),
    ("WarmupLR", dict(warmup_min_lr=[0.0, 0.1])),
    ("WarmupDecayLR", dict(total_num_steps=100, warmup_max_lr=[0.1] * 4)),
    ("WarmupCosineLR", dict(total_num_steps=100, warmup_num_steps=-5)),
    ("OneCycle", dict(cycle_min_lr=0.1, cycle_max_lr=1.0, cycle_first_step_size=0)),
    (
        "OneCycle",
        dict(
            cycle_min_lr=0.1, cycle_max_lr=1.0, cycle_first_step_size=5, cycle_second_step_size=-1
        ),
    ),
    ("OneCycle", dict(cycle_min_lr=[0.1], cycle_max_lr=1.0)),
    ("LRRangeTest", dict(lr_range_test_step_size=0)),
    ("LRRangeTest", dict(lr_range_test_min_lr=[1e-3, 1e-3])),
]


@pytest.mark.parametrize("name,kwargs", BAD, ids=[f"{n}{i}" for i, (n, _) in enumerate(BAD)])
def test_errors_are_deepspeeds(name, kwargs):
    opt = _optimizer((0.1, 0.2, 0.3))
    with pytest.raises(Exception) as ref:
        getattr(D, name)(opt, **kwargs)
    with pytest.raises(type(ref.value)) as ours:
        getattr(L, name)(opt, **kwargs)
    assert str(ours.value) == str(ref.value)


def test_not_an_optimizer_is_deepspeeds_type_error():
    with pytest.raises(TypeError) as ref:
        D.WarmupLR(object())
    with pytest.raises(TypeError) as ours:
        L.WarmupLR(object())
    assert str(ours.value) == str(ref.value)


def test_values_deepspeed_runs_but_lrcore_refuses_name_the_parameter():
    opt = _optimizer()
    with pytest.raises(ValueError, match="warmup_min_lr must be a finite number >= 0.0"):
        L.WarmupLR(opt, warmup_min_lr=-0.1)
    with pytest.raises(ValueError, match="last_batch_iteration must be a whole number >= -1"):
        L.LRRangeTest(opt).step(-3)
    assert opt.param_groups[0]["lr"] == 0.001  # the LRRangeTest's constructor wrote it


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("WarmupCosineLR", dict(total_num_steps=500, warmup_num_steps=50)),
        ("WarmupLR", dict(warmup_min_lr=1e-3, warmup_num_steps=50)),  # max: the tensor LR
        ("WarmupDecayLR", dict(total_num_steps=500, warmup_num_steps=50)),
    ],
)
def test_tensor_lrs_are_filled_in_place_in_their_dtype(name, kwargs):
    # DeepSpeed multiplies a tensor LR in float32; the drop-in does the same
    ref_opt, our_opt = _optimizer(), _optimizer()
    for opt in (ref_opt, our_opt):
        opt.param_groups[0]["lr"] = torch.tensor(0.1)
    lr_tensor = our_opt.param_groups[0]["lr"]
    ref = getattr(D, name)(ref_opt, **kwargs)
    ours = getattr(L, name)(our_opt, **kwargs)
    for t in range(300):
        ref.step()
        ours.step()
        assert our_opt.param_groups[0]["lr"] is lr_tensor
        assert float(lr_tensor) == float(ref_opt.param_groups[0]["lr"]), t


def test_freed_by_reference_counting_pickled_and_held_by_bound_method():
    gc.disable()
    try:
        opt = _optimizer()
        sched = L.OneCycle(opt, 0.01, 0.1, cycle_first_step_size=30)
        step = sched.step  # a bound method held by a callback registry
        for _ in range(100):
            step()
        clone = pickle.loads(pickle.dumps(sched))
        assert clone.get_lr() == sched.get_lr()
        ref = weakref.ref(sched)
        del sched, step
        assert ref() is None
    finally:
        gc.enable()


def test_changed_hyperparameter_is_read():
    ref, ref_opt, ours, our_opt = _both("WarmupDecayLR", dict(total_num_steps=1000))
    for _ in range(10):
        ref.step()
        ours.step()
    ref.total_num_steps = ours.total_num_steps = 3000
    for _ in range(1500):
        ref.step()
        ours.step()
    assert _groups(our_opt) == _groups(ref_opt)


# -- a DeepSpeed config's "scheduler" block --------------------------------------------

CONFIG = {
    "train_batch_size": 8,
    "scheduler": {
        "type": "WarmupDecayLR",
        "params": {
            "total_num_steps": 4000,
            "warmup_min_lr": 0,
            "warmup_max_lr": 3e-4,
            "warmup_num_steps": 400,
        },
    },
}


def test_from_deepspeed_config_builds_what_deepspeed_builds(tmp_path):
    path = tmp_path / "ds_config.json"
    path.write_text(json.dumps(CONFIG))
    block = CONFIG["scheduler"]
    ref_opt = _optimizer(LRS)
    ref = getattr(D, block["type"])(ref_opt, **block["params"])  # as DeepSpeed's engine does
    built = []
    for config in (CONFIG, block, str(path), path):
        opt = _optimizer(LRS)
        built.append((L.from_deepspeed_config(opt, config), opt))
    for _ in range(4500):
        ref.step()
        for sched, opt in built:
            sched.step()
            assert _groups(opt) == _groups(ref_opt)


@pytest.mark.parametrize(
    "config,match",
    [
        ({"train_batch_size": 8}, 'a "scheduler" block'),
        ({"scheduler": {"type": "CosineLR", "params": {}}}, "type must be one of"),
        (
            {"scheduler": {"type": "WarmupLR", "params": {"warmup_max_lr": "auto"}}},
            "warmup_max_lr are 'auto'",
        ),
        ([1, 2], "config must be a DeepSpeed config"),
    ],
)
def test_from_deepspeed_config_errors(config, match):
    with pytest.raises((TypeError, ValueError), match=match):
        L.from_deepspeed_config(_optimizer(), config)


# -- inside DeepSpeed's engine ---------------------------------------------------------

ENGINE = textwrap.dedent(
    """
    import json, os, sys
    import torch, deepspeed
    import deepspeed.comm.torch
    from deepspeed.runtime import lr_schedules as D
    from lrsched import deepspeed as L

    # the CPU accelerator compiles a shared-memory collective on first use (40 s on two
    # cores with ninja, again whenever the build command changes: another venv's torch);
    # one rank needs none. (`import deepspeed.comm.torch as m` binds torch itself:
    # deepspeed.comm's attribute `torch` is the torch module, so take the submodule.)
    sys.modules["deepspeed.comm.torch"].build_shm_op = lambda: None
    CONFIG = {"train_batch_size": 2, "steps_per_print": 10**6}
    PARAMS = {"total_num_steps": 60, "warmup_num_steps": 10}
    folder = sys.argv[1]

    def engine(scheduler_class):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 2)
        opt = torch.optim.AdamW(model.parameters(), lr=0.01)
        eng, *_ = deepspeed.initialize(model=model, optimizer=opt, config=CONFIG,
                                       lr_scheduler=scheduler_class(opt, **PARAMS))
        return eng

    def train(eng, steps):
        out = []
        for _ in range(steps):
            x = torch.ones(2, 4)
            eng.backward(eng(x).pow(2).mean())
            eng.step()
            out.append(eng.get_lr()[0])
        return out

    reference = train(engine(D.WarmupCosineLR), 50)  # DeepSpeed's own, one run
    ours = engine(L.WarmupCosineLR)
    first = train(ours, 20)
    ours.save_checkpoint(folder, tag="ours")
    resumed = engine(L.WarmupCosineLR)
    resumed.load_checkpoint(folder, tag="ours")
    rest = train(resumed, 30)
    # DeepSpeed's scheduler resumes from the checkpoint ours wrote
    theirs = engine(D.WarmupCosineLR)
    theirs.load_checkpoint(folder, tag="ours")
    their_rest = train(theirs, 30)
    print(json.dumps({"reference": reference, "ours": first + rest,
                      "theirs": first + their_rest,
                      "type": type(resumed.lr_scheduler).__module__}))
    """
)


def test_inside_deepspeeds_engine_stopped_and_resumed(tmp_path, capsys):
    port = free_port()  # a port no other test process (pytest-xdist's other worker) holds
    result = python_json(
        ENGINE,
        str(tmp_path),
        timeout=300,
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=port,
        RANK="0",
        LOCAL_RANK="0",
        WORLD_SIZE="1",
    )
    assert result["type"] == "lrsched.deepspeed"
    assert result["ours"] == result["reference"]
    assert result["theirs"] == result["reference"]
    assert not math.isclose(result["reference"][5], result["reference"][40])
    # lrcore audit on the run's logged LRs (engine.get_lr() after each step, as a
    # training script logs them), against the spec of the run's DeepSpeed block
    from lrcore.cli import main

    block = {"scheduler": {"type": "WarmupCosineLR", "params": {"total_num_steps": 60,
             "warmup_num_steps": 10}}, "optimizer": {"params": {"lr": 0.01}}}  # fmt: skip
    spec, base = lrcore.convert.from_deepspeed_config(block)

    def audit(lrs):
        log = tmp_path / "lr.csv"
        log.write_text("step,lr\n" + "".join(f"{k + 1},{v!r}\n" for k, v in enumerate(lrs)))
        return main(["audit", str(log), "--spec", str(spec), "--base-lr", str(base)])

    assert audit(result["reference"]) == 0
    assert audit(result["ours"]) == 0  # stopped at 20 and resumed: it followed the spec
    restarted = result["ours"][:20] + result["reference"][:30]  # a resume that restarted it
    capsys.readouterr()
    assert audit(restarted) == 1
    assert "step 21: the schedule restarted from its step 0" in capsys.readouterr().out
