"""fairseq's LR schedulers against fairseq itself (fairseq-fixed, installed by the dev
set-up): lrcore's ``fairseq_*`` tables and lrsched.fairseq's drop-ins give its numbers
bit for bit, stepped as fairseq's Trainer steps them; and fairseq's own training loop
(``fairseq_cli.train``) runs with the drop-ins in place of its schedulers, stopped and
resumed, with checkpoints moving both ways.

fairseq runs in fresh processes: importing it configures the root logger and the
warning filters of the process that imports it.
"""

import concurrent.futures
import copy
import gc
import importlib.util
import json
import pickle
import re
import textwrap
import weakref
from argparse import Namespace
from pathlib import Path

import contract
import naive
import numpy as np
import pytest
import torch
from catalogue import FRAMEWORKS
from compiled_step import counts_of_an_eager_step
from fresh import python_json, python_jsons
from lrsched import fairseq as F

import lrcore
import lrcore.convert
from lrcore.kernels.formulas import FS_TRI_STAGE_P

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fairseq") is None, reason="fairseq is not installed (make test)"
)

# torch's first optimizer imports torch._dynamo, and torch.fx's wrap() there keeps its
# importer's frames for good: imported here, so no test's frame (and scheduler) is kept
import torch._dynamo  # noqa: E402, F401

SPECS = [lrcore.parse(s) for s in FRAMEWORKS if s.startswith("fairseq_")]
N = 12_000

# Runs fairseq's scheduler `name` with `cfg` through a protocol of fairseq's Trainer
# calls, recording what each call returns and the optimizer's LR after it.
REFERENCE = textwrap.dedent(
    """
    import json, sys
    import torch
    import fairseq.optim.lr_scheduler as L
    from fairseq.optim.fairseq_optimizer import FairseqOptimizer

    class Optimizer(FairseqOptimizer):
        def __init__(self):
            super().__init__(None)
            self._optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)

    def run(name, cfg, calls):
        cfg = dict(cfg)
        if not isinstance(cfg["lr"], list):
            cfg["lr"] = [cfg["lr"]]
        opt = Optimizer()
        sched = L.LR_SCHEDULER_REGISTRY[name](L.LR_SCHEDULER_DATACLASS_REGISTRY[name](**cfg), opt)
        out = [[None, opt.get_lr()]]
        for call, *args in calls:
            value = getattr(sched, call)(*args)
            out.append([value, opt.get_lr()])
        return out + [sched.state_dict()]

    print(json.dumps([run(*case) for case in json.load(open(sys.argv[1]))]))
    """
)


def _cfg(spec):
    """fairseq's config fields for a spec (lrcore's updates_per_epoch is not one)."""
    out = {k: v for k, v in spec.to_dict().items() if k not in ("name", "updates_per_epoch")}
    if spec.name == "fairseq_tri_stage" and out["phase_ratio"] is not None:
        out["phase_ratio"] = tuple(out["phase_ratio"])
    return out


def _updates_only(spec, steps):
    """fairseq's Trainer calls for ``steps`` updates at a fixed epoch length."""
    per = getattr(spec, "updates_per_epoch", None)
    calls, epoch = [["step_update", 0]], 1
    if per:
        calls += [["step_begin_epoch", 1], ["step_update", 0]]
    for t in range(1, steps):
        calls.append(["step_update", t])
        if per and t % per == 0:  # the epoch ends after update t, the next begins
            calls += [["step", epoch], ["step_update", t]]
            epoch += 1
            calls += [["step_begin_epoch", epoch], ["step_update", t]]
    return calls


def _reference_cases():
    return [(s.name[len("fairseq_") :], _cfg(s), _updates_only(s, N)) for s in SPECS]


#: fairseq's schedulers inside a training step compiled whole (tests/compiled_step.py),
#: run in fairseq_runs's process beside the other jobs
COMPILED_STEPS = 72  # past lrsched's first window (64) and into the second
COMPILED = [
    ("inverse_sqrt", dict(lr=[0.0005], warmup_updates=40)),
    ("step", dict(lr=[0.001], warmup_updates=10, min_lr=1e-05, lr_deacy_period=30, lr_decay=0.5)),
    ("cosine", dict(lr=[0.001], min_lr=1e-5, lr_period_updates=30, t_mult=2.0, max_update=0)),
    ("polynomial_decay", dict(lr=[0.001], warmup_updates=10, total_num_update=60, power=2.0)),
    ("tri_stage", dict(lr=[0.001], phase_ratio=(0.1, 0.3, 0.6), max_update=COMPILED_STEPS)),
    ("triangular", dict(lr=[0.0001], max_lr=0.001, lr_period_updates=40, shrink_min=True)),
    ("fixed", dict(lr=[0.001], warmup_updates=15)),
]

COMPILED_RUN = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[2])
    import fairseq.optim.lr_scheduler as P
    from fairseq.optim.fairseq_optimizer import FairseqOptimizer
    from lrsched import fairseq as F
    from compiled_step import compiled_run

    class Optimizer(FairseqOptimizer):
        def __init__(self, torch_optimizer):
            super().__init__(None)
            self._optimizer = torch_optimizer

    out = []
    for name, cfg, steps in json.load(open(sys.argv[1])):
        if "phase_ratio" in cfg:
            cfg["phase_ratio"] = tuple(cfg["phase_ratio"])
        config = P.LR_SCHEDULER_DATACLASS_REGISTRY[name]
        theirs = compiled_run(
            lambda opt: P.LR_SCHEDULER_REGISTRY[name](config(**cfg), Optimizer(opt)),
            "step_update(i)", steps, backend="eager")
        ours = compiled_run(lambda opt: F.SCHEDULERS[name](dict(cfg), opt), "step_update(i)", steps,
                            backend="eager")
        out.append([ours, theirs])
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def fairseq_runs(tmp_path_factory):
    """fairseq's own results for this module's tests, computed in one process (fairseq
    imported once, not once a test): the catalogue's tables, the drop-ins' Trainer
    protocol, fairseq's own config dataclasses, its option parser and its schedulers in a
    compiled training step."""
    folder = tmp_path_factory.mktemp("fairseq_runs")
    jobs = {
        "reference": (REFERENCE, _reference_cases()),
        "drop_ins": (REFERENCE, _drop_in_cases()),
        "own_configs": (OWN_CONFIGS, _own_config_cases()),
        "parse": (PARSE, _parse_cases()),
        "compiled": (COMPILED_RUN, [[n, c, COMPILED_STEPS] for n, c in COMPILED]),
    }
    for name, (_, cases) in jobs.items():
        (folder / f"{name}.json").write_text(json.dumps(cases))
    tests = str(Path(__file__).parent)  # (compiled_step, for the compiled job)
    runs = python_jsons(
        [(code, [str(folder / f"{name}.json"), tests]) for name, (code, _) in jobs.items()],
        folder,
        timeout=600,
        PYTHONWARNINGS="ignore",
    )
    return dict(zip(jobs, runs))


@pytest.fixture(scope="module")
def reference(fairseq_runs):
    """fairseq's LR after ``step_update(t)``, t < N, for every catalogue spec."""
    cases = _reference_cases()
    runs = fairseq_runs["reference"]
    out = {}
    for spec, (case, run) in zip(SPECS, zip(cases, runs)):
        # the LR in effect for each count: the last call at that count wins
        lrs = {}
        for (call, *args), (_, lr) in zip(case[2], run[1:-1]):
            if call == "step_update":
                lrs[args[0]] = lr
        out[spec] = np.array([lrs[t] for t in range(N)])
    return out


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.brief()[8:70])
def test_tables_are_fairseqs_bits(spec, reference):
    theirs = reference[spec]
    ours = lrcore.table(spec, N)
    assert np.array_equal(ours, theirs), np.flatnonzero(ours != theirs)[:5]
    assert np.array_equal(lrcore.table(spec, 700, start=5_000), theirs[5_000:5_700])
    # the closed numerics: within their contract (tests/contract.py; smooth stretches)
    assert contract.outside(lrcore.table(spec, N, numerics="closed"), theirs).size == 0
    window = lrcore.table(spec, 700, start=5_000, numerics="closed")
    assert contract.outside(window, theirs[5_000:5_700]).size == 0
    assert np.array_equal(lrcore.table(spec, N // 7, stride=7), theirs[::7][: N // 7])


def test_fairseqs_cosine_restarts_a_step_late_where_its_float_log_falls_short(reference):
    # fairseq finds the cycle as floor(log(1 + c (t_mult - 1) / period, t_mult)); at the
    # first update of cycle 5 of a period-10, t_mult=3 schedule (c = 10 (3^5 - 1)/2 =
    # 1210) the logarithm is just below 5, so that update runs at the bottom of cycle 4
    # (min_lr) and cycle 5's peak is never used. lrcore's table does the same; the
    # formula (cycles walked one by one) restarts there.
    spec = next(s for s in SPECS if s.name == "fairseq_cosine" and s.t_mult == 3.0)
    theirs = reference[spec]
    assert theirs[1210] == spec.min_lr == 0.0
    assert naive.fairseq(spec, 1210) == spec.lr
    assert lrcore.table(spec, 1, start=1210)[0] == theirs[1210]
    late = [t for t in range(1, N) if theirs[t] != pytest.approx(naive.fairseq(spec, t), rel=1e-9)]
    assert late == [1210]


# -- the drop-ins, stepped as fairseq's Trainer steps them ------------------------------

DROP_INS = [
    ("inverse_sqrt", dict(lr=[0.0005], warmup_updates=400)),
    ("inverse_sqrt", dict(lr=[0.0005], warmup_updates=1, warmup_init_lr=0.0001)),
    ("step", dict(lr=[0.001], warmup_updates=50, min_lr=1e-05, lr_deacy_period=300, lr_decay=0.5)),
    ("cosine", dict(lr=[0.001], warmup_updates=100, max_update=2000, lr_shrink=0.5)),
    ("cosine", dict(lr=[0.001], min_lr=0.01, lr_period_updates=300, t_mult=2.0, max_update=0)),
    ("polynomial_decay", dict(lr=[0.001], warmup_updates=100, total_num_update=1500, power=2.0)),
    # an LR per epoch (fairseq indexes them by epoch here), then force_anneal: the decay
    # restarts from the LR of the moment
    (
        "polynomial_decay",
        dict(lr=[0.003, 0.002, 0.001], force_anneal=4, total_num_update=2600, warmup_updates=10),
    ),
    ("tri_stage", dict(lr=[0.001], phase_ratio=(0.1, 0.3, 0.6), max_update=2000)),
    ("tri_stage", dict(lr=[0.001], warmup_steps=0, hold_steps=100, decay_steps=700)),
    ("triangular", dict(lr=[0.0001], max_lr=0.001, lr_period_updates=400, shrink_min=True)),
    ("fixed", dict(lr=[0.001])),
    ("fixed", dict(lr=[0.003, 0.002, 0.001], force_anneal=4, lr_shrink=0.5, warmup_updates=150)),
]


def _trainer_calls(epochs, per_epoch, resume_at=None):
    """fairseq's Trainer: build (step_update(0)); per epoch step_begin_epoch(e) and
    step_update(n), step_update after each update, step(e, val_loss) and step_update(n)
    at its end. Validation losses go up and down, so ``best`` moves."""
    calls, n = [["step_update", 0]], 0
    for epoch in range(1, epochs + 1):
        calls += [["step_begin_epoch", epoch], ["step_update", n]]
        for _ in range(per_epoch):
            n += 1
            calls.append(["step_update", n])
        calls += [["step", epoch, 3.0 + (epoch % 3) - epoch / 10], ["step_update", n]]
    return calls


def _ours(name, cfg, calls, groups=3):
    opt = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.0} for _ in range(groups)]
    )
    sched = F.SCHEDULERS[name](copy.deepcopy(dict(cfg)), opt)
    out = [[None, opt.param_groups[0]["lr"]]]
    for call, *args in calls:
        value = getattr(sched, call)(*args)
        lrs = {g["lr"] for g in opt.param_groups}
        assert len(lrs) == 1, "set_lr gives every group the LR"
        out.append([value, opt.param_groups[0]["lr"]])
    return sched, out


def _drop_in_cases():
    calls = _trainer_calls(epochs=7, per_epoch=400)
    return [(name, {**cfg, "lr": list(cfg["lr"])}, calls) for name, cfg in DROP_INS]


def test_drop_ins_step_as_fairseqs_classes(fairseq_runs):
    calls = _trainer_calls(epochs=7, per_epoch=400)
    theirs = fairseq_runs["drop_ins"]
    for (name, cfg), run in zip(DROP_INS, theirs):
        sched, ours = _ours(name, cfg, calls)
        # returned values and the optimizer's LR, call for call, bit for bit
        assert json.loads(json.dumps(ours)) == run[:-1], (name, cfg)
        assert sched.state_dict() == run[-1]


def test_fairseq_schedulers_in_a_compiled_step(fairseq_runs):
    """Inside ``torch.compile``, each drop-in gives fairseq's class's LRs after every step
    and costs what an eager step costs (see tests/test_compiled.py), every scheduler."""
    assert sorted({name for name, _ in COMPILED}) == sorted(F.SCHEDULERS)
    for (name, _), (ours, theirs) in zip(COMPILED, fairseq_runs["compiled"]):
        assert ours[0] == theirs[0], name
        counts_of_an_eager_step(ours[1], theirs[1], "step_update(i)")


def test_drop_ins_resume_from_a_checkpoint_loaded_with_weights_only(tmp_path):
    calls = _trainer_calls(epochs=6, per_epoch=300)
    half = len(calls) // 2
    for name, cfg in DROP_INS:
        first, whole = _ours(name, cfg, calls[:half]), _ours(name, cfg, calls)[1]
        torch.save({"lr_scheduler_state": first[0].state_dict()}, tmp_path / "ck.pt")
        state = torch.load(tmp_path / "ck.pt", weights_only=True)["lr_scheduler_state"]
        sched, _ = _ours(name, cfg, [])
        sched.load_state_dict(state)
        if name == "polynomial_decay" and "force_anneal" in cfg:
            continue  # its epoch LR comes from the optimizer, as in fairseq (tested below)
        # what step_update sets (the epoch hooks' own return values are transient: a
        # resumed polynomial_decay's begins from its constructor's warm-up factor, as
        # fairseq's does)
        rest = [(call, getattr(sched, call)(*args)) for call, *args in calls[half:]]
        updates = [
            v
            for (call, *_), (v, _) in zip(calls[half:], whole[half + 1 :])
            if call == "step_update"
        ]
        assert [v for call, v in rest if call == "step_update"] == updates, (name, cfg)


OWN_CONFIGS = textwrap.dedent(
    """
    import json, sys
    import torch
    import fairseq.optim.lr_scheduler as L
    import lrsched.fairseq as F

    out = []
    for name, cfg, calls in json.load(open(sys.argv[1])):
        runs = []
        for build in (L.LR_SCHEDULER_REGISTRY[name], F.SCHEDULERS[name]):
            config = L.LR_SCHEDULER_DATACLASS_REGISTRY[name](**cfg)  # no hydra: "${...}" kept
            opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
            if build is L.LR_SCHEDULER_REGISTRY[name]:
                from fairseq.optim.fairseq_optimizer import FairseqOptimizer
                wrapped = FairseqOptimizer(None)
                wrapped._optimizer = opt
                sched = build(config, wrapped)
            else:
                sched = build(config, opt)
            runs.append([getattr(sched, call)(*args) for call, *args in calls])
        out.append(runs)
    print(json.dumps(out))
    """
)


#: fairseq's config dataclasses, made directly, hold "${optimization.max_update}" in the
#: fields it fills from other groups; both classes read what they need
OWN_CONFIG_CASES = [
    ("cosine", dict(lr=[0.001], warmup_updates=100, lr_period_updates=500, t_mult=2.0)),
    ("tri_stage", dict(lr=[0.001], warmup_steps=50, hold_steps=100, decay_steps=300)),
    ("inverse_sqrt", dict(lr=[0.0005], warmup_updates=100)),
    ("fixed", dict(lr=[0.001, 0.0005], warmup_updates=20)),
]


def _own_config_cases():
    calls = _trainer_calls(epochs=3, per_epoch=300)
    return [[n, c, calls] for n, c in OWN_CONFIG_CASES]


def test_drop_ins_take_fairseqs_own_dataclass_configs(fairseq_runs):
    runs = fairseq_runs["own_configs"]
    assert len(runs) == len(OWN_CONFIG_CASES)
    for (name, _), (theirs, ours) in zip(OWN_CONFIG_CASES, runs):
        assert ours == theirs, name
    with pytest.raises(ValueError, match="Either --max_update or --lr-period-updates"):
        F.CosineLRSchedule({"lr": [0.1], "max_update": "${optimization.max_update}"}, _sgd())


def _sgd():
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)


def test_configs_come_as_fairseq_holds_them():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
    ns = Namespace(lr=[0.001], warmup_updates=10, warmup_init_lr=-1, lr_scheduler="inverse_sqrt")
    sched = F.build_lr_scheduler(ns, opt)
    assert isinstance(sched, F.InverseSquareRootSchedule) and sched.optimizer.optimizer is opt
    assert ns.warmup_init_lr == 0  # written back, as fairseq does
    assert sched.step_update(10) == 0.001 and opt.param_groups[0]["lr"] == 0.001
    omegaconf = pytest.importorskip("omegaconf")
    dc = omegaconf.OmegaConf.create(
        {"_name": "cosine", "lr": [0.01], "min_lr": 0.1, "warmup_init_lr": -1, "max_update": 50}
    )
    sched = F.build_lr_scheduler(dc, opt)
    assert dc.min_lr == 0.01 and dc.warmup_init_lr == 0.01  # fairseq lowers min_lr to lr
    assert sched.period == 50 and sched.max_lr == 0.01
    # omegaconf's lists (ListConfig) where fairseq has lists
    tri = omegaconf.OmegaConf.create(
        {"_name": "tri_stage", "lr": [0.01], "phase_ratio": [0.1, 0.4, 0.5], "max_update": 100}
    )
    sched = F.build_lr_scheduler(tri, opt)
    assert (sched.warmup_steps, sched.hold_steps, sched.decay_steps) == (10, 40, 50)
    fixed = omegaconf.OmegaConf.create({"_name": "fixed", "lr": [0.01, 0.005]})
    sched = F.build_lr_scheduler(fixed, opt)
    sched.step_begin_epoch(2)
    assert sched.step_update(0) == 0.005
    # a plain number for lr, a dict config, a fairseq-like optimizer
    log = []

    class Wrapped:
        def get_lr(self):
            return log[-1] if log else None

        def set_lr(self, lr):
            log.append(lr)

    sched = F.build_lr_scheduler({"_name": "step", "lr": 0.01, "lr_deacy_period": 5}, Wrapped())
    assert sched.step_update(12) == 0.01 * 0.5**2 == log[-1]


def test_bad_input_is_named():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
    with pytest.raises(ValueError, match="Cannot use a fixed learning rate schedule with cosine"):
        F.CosineLRSchedule({"lr": [0.1, 0.2], "max_update": 10}, opt)
    with pytest.raises(ValueError, match="Either --max_update or --lr-period-updates"):
        F.CosineLRSchedule({"lr": [0.1]}, opt)
    with pytest.raises(ValueError, match="warmup_updates must be an integer >= 1"):
        F.InverseSquareRootSchedule({"lr": [0.1], "warmup_updates": 0}, opt)
    with pytest.raises(ValueError, match="max_lr must be > lr"):
        F.TriangularLRSchedule({"lr": [0.1], "max_lr": 0.1}, opt)
    with pytest.raises(ValueError, match="lr_scheduler must be one of .*got lr_scheduler='manual'"):
        F.build_lr_scheduler({"_name": "manual", "lr": [0.1]}, opt)
    with pytest.raises(ValueError, match="optimizer must be a fairseq optimizer"):
        F.StepLRSchedule({"lr": [0.1]}, object())
    sched = F.StepLRSchedule({"lr": [0.1]}, opt)
    for bad, exc in ((-1, ValueError), (2.5, TypeError), ("3", TypeError)):
        with pytest.raises(exc, match="num_updates must be a whole number >= 0"):
            sched.step_update(bad)
    assert sched.step_update(3.0) == sched.step_update(3)
    with pytest.raises(AttributeError, match="computed from cfg"):
        sched.lr_decay = 0.1


def test_phase_ratios_add_up_as_fairseq_adds_them():
    # fairseq asserts sum(phase_ratio) == 1 in floats: the order of the ratios matters
    ok = lrcore.FairseqTriStage(lr=0.1, phase_ratio=(0.1, 0.3, 0.6), max_update=100)
    P, got = FS_TRI_STAGE_P, ok.params()[1:]  # the parameters after the shape code
    assert (got[P.warmup_steps], got[P.hold_steps], got[P.decay_steps]) == (10, 30, 60)
    with pytest.raises(ValueError, match=r"float sum is exactly 1 .*got 0\.9999999999999999"):
        lrcore.FairseqTriStage(lr=0.1, phase_ratio=(0.6, 0.3, 0.1), max_update=100)


@pytest.mark.parametrize("name,cfg", DROP_INS[::2], ids=lambda x: x if isinstance(x, str) else "")
def test_freed_by_reference_counting_with_gc_off(name, cfg):
    gc.disable()
    try:
        sched, _ = _ours(name, cfg, _trainer_calls(epochs=2, per_epoch=100))
        step_update = sched.step_update
        step_update(150)
        ref = weakref.ref(sched)
        del sched, step_update
        assert ref() is None
    finally:
        gc.enable()


def test_threads_step_their_own_schedulers():
    # one scheduler a thread, as fairseq's data-parallel workers hold theirs
    calls = _trainer_calls(epochs=3, per_epoch=700)
    expected = [_ours(name, cfg, calls)[1] for name, cfg in DROP_INS[:6]]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        runs = list(pool.map(lambda case: _ours(*case, calls)[1], DROP_INS[:6]))
    assert runs == expected


def test_a_held_step_update_pickles_and_copies():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
    sched = F.CosineLRSchedule({"lr": [0.01], "max_update": 100, "warmup_updates": 10}, opt)
    step = sched.step_update
    values = [step(t) for t in range(120)]
    again = pickle.loads(pickle.dumps(sched))
    assert [again.step_update(t) for t in range(120)] == values
    twin = copy.deepcopy(sched)
    assert [twin.step_update(t) for t in range(119, -1, -1)] == values[::-1]


# -- lrcore convert: fairseq's options, read by fairseq's own parser ------------------

PARSE = textwrap.dedent(
    """
    import json, sys
    import torch
    import fairseq.optim.lr_scheduler as L
    from fairseq import options
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf
    from fairseq.optim.fairseq_optimizer import FairseqOptimizer

    class Optimizer(FairseqOptimizer):
        def __init__(self):
            super().__init__(None)
            self._optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)

    out = []
    for flags, per, steps in json.load(open(sys.argv[1])):
        argv = ["--task", "dummy_lm", "--arch", "transformer_lm", *flags]
        args = options.parse_args_and_arch(options.get_training_parser(), argv)
        cfg = convert_namespace_to_omegaconf(args)
        sched = L.build_lr_scheduler(cfg.lr_scheduler, Optimizer())
        lrs, epoch = [sched.step_update(0)], 1
        if per:
            sched.step_begin_epoch(1)
            lrs[0] = sched.step_update(0)
        for t in range(1, steps):
            if per and t % per == 0:
                epoch += 1
                sched.step_begin_epoch(epoch)
            lrs.append(sched.step_update(t))
        out.append(lrs)
    print(json.dumps(out))
    """
)

CONVERT = [
    "--lr-scheduler inverse_sqrt --lr 0.0005",
    "--lr-scheduler cosine --lr 0.001 --max-update 2500 --warmup-updates 100 --t-mult 2",
    "--lr-scheduler cosine --lr 0.001 --lr-period-updates 300 --min-lr 1e-05 --lr-shrink 0.7",
    "--lr-scheduler polynomial_decay --lr 0.001 --total-num-update 2000 --warmup-updates 50 "
    "--power 2 --end-learning-rate 1e-06",
    "--lr-scheduler tri_stage --lr 0.001 --phase-ratio (0.1,0.4,0.5) --max-update 2000",
    "--lr-scheduler triangular --lr 0.0001 --max-lr 0.001 --lr-period-updates 500 --shrink-min",
    "--lr-scheduler step --lr 0.001 --warmup-updates 100 --lr-deacy-period 400 --lr-decay 0.7",
    "--lr-scheduler fixed --lr 0.003,0.002,0.001 --force-anneal 4 --warmup-updates 50 "
    "--updates-per-epoch 300",
]


PARSE_STEPS = 2_500


def _parse_cases():
    steps = PARSE_STEPS
    cases = []
    for flags in CONVERT:
        argv = flags.split()
        per = None
        if "--updates-per-epoch" in argv:  # lrcore's flag, fairseq's Trainer's epochs
            k = argv.index("--updates-per-epoch")
            per = int(argv[k + 1])
            del argv[k : k + 2]
        cases.append([argv, per, steps])
    return cases


def test_convert_reads_fairseqs_options_as_fairseq_does(fairseq_runs):
    steps = PARSE_STEPS
    theirs = fairseq_runs["parse"]
    assert len(theirs) == len(CONVERT)
    for flags, lrs in zip(CONVERT, theirs):
        spec = lrcore.convert.from_fairseq_args(flags)
        assert lrcore.table(spec, steps).tolist() == lrs, flags
    # fairseq's flags are told from Megatron's by --lr-scheduler
    from lrcore.cli import main

    assert main(["convert", CONVERT[0]]) in (None, 0)
    assert main(["convert", "--lr-scheduler=inverse_sqrt --lr 0.0005"]) in (None, 0)


@pytest.mark.parametrize(
    "flags,match",
    [
        ("--lr-scheduler cosine --lr 0.1,0.2 --max-update 9", "cosine takes one"),
        ("--lr-scheduler fixed --lr 0.1,0.2", "--updates-per-epoch"),
        (
            "--lr-scheduler polynomial_decay --lr 0.1 --total-num-update 9 --force-anneal 2",
            "no table",
        ),
        ("--lr-scheduler triangular --lr 0.1", "needs max_lr (--max-lr)"),
        ("--lr-scheduler manual --lr 0.1", "lr_scheduler must be one of"),
        ("--lr-scheduler step --lr x", "need numbers"),
        ("--lr-scheduler tri_stage --lr 0.1 --phase-ratio (0.1,", "--phase-ratio must be"),
        ("--lr-scheduler cosine --lr 0.1", "fairseq_cosine: max_update must be"),
        (
            "--lr-scheduler inverse_sqrt --lr 0.1 --t-mult 2 --updates-per-epoch 9",
            "fairseq's inverse_sqrt scheduler has no --t-mult, --updates-per-epoch",
        ),
    ],
)
def test_convert_refuses_what_has_no_table(flags, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        lrcore.convert.from_fairseq_args(flags)


# -- fairseq's own training loop, with the drop-ins in place of its schedulers ----------

# Runs the steps given as JSON: ["train", who, max_update, save_dir, *flags] trains with
# fairseq's own `fairseq-train` (fairseq_cli.train), with fairseq's schedulers (who =
# "fairseq") or lrsched's (fairseq's builder replaced); ["copy", src, dst] copies a
# checkpoint folder. One process for all: fairseq's import costs 4 s.
TRAIN = textwrap.dedent(
    """
    import json, shutil, sys
    import numpy as np
    import fairseq.optim.lr_scheduler as L
    import lrsched.fairseq
    from fairseq.data import data_utils
    from fairseq_cli import train

    BUILDERS = {"fairseq": L.build_lr_scheduler, "lrsched": lrsched.fairseq.build_lr_scheduler}

    def recording(build, log):
        def builder(cfg, optimizer):
            sched = build(cfg, optimizer)
            log.append(type(sched).__module__)
            step_update = sched.step_update
            def step(n):
                log.append([n, step_update(n), optimizer.get_lr()])
                return log[-1][1]
            sched.step_update = step
            return sched
        return builder

    def batch_by_size(indices, num_tokens_fn, num_tokens_vec=None, max_tokens=None,
                      max_sentences=None, required_batch_size_multiple=1, fixed_shapes=None):
        # fairseq's Cython batching is not built (its LR schedulers need none of it)
        n = max_sentences or 1
        return [np.asarray(indices[i:i + n], dtype=np.int64) for i in range(0, len(indices), n)]

    data_utils.batch_by_size = batch_by_size
    logs = []
    for step in json.load(open(sys.argv[1])):
        if step[0] == "copy":
            shutil.copytree(step[1], step[2])
            continue
        _, who, max_update, save_dir, *flags = step
        log = []
        L.build_lr_scheduler = recording(BUILDERS[who], log)
        sys.argv = ["fairseq-train", *flags, "--max-update", str(max_update)]
        sys.argv += ["--save-dir", save_dir]
        train.cli_main()
        logs.append(log)
    print(json.dumps(logs))
    """
)

ARGS = (
    "--task dummy_lm --dict-size 50 --dataset-size 48 --tokens-per-sample 16 --batch-size 4 "
    "--arch transformer_lm --decoder-layers 1 --decoder-embed-dim 16 --decoder-ffn-embed-dim 16 "
    "--decoder-attention-heads 2 --cpu --optimizer adam --lr 0.001 --log-format none "
    "--disable-validation --no-epoch-checkpoints --seed 3 --num-workers 0"
).split()

SCHEDULES = {
    "cosine": "--lr-scheduler cosine --warmup-updates 5 --lr-period-updates 10 --t-mult 1.5 "
    "--min-lr 1e-05 --lr-shrink 0.5",
    "fixed": "--lr-scheduler fixed --lr 0.002,0.001 --force-anneal 4 --lr-shrink 0.5 "
    "--warmup-updates 7",
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """For each schedule: fairseq's scheduler straight to 60 updates (5 epochs of 12),
    lrsched's to 30 and then resumed to 60, and fairseq's resumed from lrsched's
    checkpoint at 30; each run's log and final weights."""
    root = tmp_path_factory.mktemp("fairseq-train")
    steps, names = [], []
    for name, flags in SCHEDULES.items():
        d = {k: str(root / f"{name}-{k}") for k in "abc"}
        flags = ARGS + flags.split()
        steps += [
            ["train", "fairseq", 60, d["a"], *flags],
            ["train", "lrsched", 30, d["b"], *flags],
            ["copy", d["b"], d["c"]],
            ["train", "lrsched", 60, d["b"], *flags],
            ["train", "fairseq", 60, d["c"], *flags],
        ]
        names += [(name, "straight", d["a"]), (name, "first", None), (name, "rest", d["b"])]
        names += [(name, "again", d["c"])]
    (root / "steps.json").write_text(json.dumps(steps))
    logs = python_json(TRAIN, str(root / "steps.json"), timeout=600, PYTHONWARNINGS="ignore")
    out = {}
    for (name, run, folder), log in zip(names, logs):
        weights = None
        if folder is not None:
            weights = torch.load(Path(folder) / "checkpoint_last.pt", weights_only=False)["model"]
        out[name, run] = (log[0], log[1:], weights)
    return out


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_fairseq_trains_stops_and_resumes_with_the_drop_ins(trained, schedule):
    module, theirs, weights = trained[schedule, "straight"]
    assert module.startswith("fairseq.optim.lr_scheduler")
    module, first, _ = trained[schedule, "first"]
    assert module == "lrsched.fairseq"
    _, rest, ours = trained[schedule, "rest"]
    # the LR each update ran at: the last one set at its count; the resumed run's first
    # step_update(0) comes before the checkpoint is loaded
    resumed = {**_in_effect(first), **_in_effect(n for n in rest if n[0] >= 30)}
    assert resumed == _in_effect(theirs) and len(resumed) == 61
    assert all(lr == optimizer_lr for _, lr, optimizer_lr in first + rest)
    assert sorted(ours) == sorted(weights)
    assert all(torch.equal(ours[k], weights[k]) for k in weights), "trained to the same bits"
    # fairseq's scheduler resumes from lrsched's checkpoint at 30, to the same weights
    _, again, resumed = trained[schedule, "again"]
    assert _in_effect(n for n in again if n[0] >= 30) == _in_effect(n for n in theirs if n[0] >= 30)
    assert all(torch.equal(resumed[k], weights[k]) for k in weights)


def _in_effect(log):
    return {n: lr for n, lr, _ in log}
