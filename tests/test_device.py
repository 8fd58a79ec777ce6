"""Device mode on CPU tensors (what CI can run; the same code runs on CUDA):
table lookups as tensor ops, torch's numbers, checkpoints across modes, and
torch.compile with fullgraph=True and no recompiles."""

import copy
import warnings

import lrsched as L
import pytest
import torch
from compiled_step import fresh_dynamo, recompiles
from test_lrsched import CASES, optimizer
from torch.optim import lr_scheduler as T

import lrcore

TABLE_BACKED = [
    c for c in CASES if c[0] not in ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau")
]


def with_device(build, **kw):
    def b(lib, opt):
        class Shim:
            def __getattr__(self, name):
                cls = getattr(lib, name)
                if lib is L:
                    return lambda *a, **k: cls(*a, **k, **kw)
                return cls

        return build(Shim(), opt)

    return b


def host_value(v):
    return float(v) if isinstance(v, torch.Tensor) else v


def run(lib, build, steps, kind="sgd"):
    """The LRs and momenta after each step. The optimizer steps once, before the first
    scheduler step (its arithmetic writes nothing a scheduler reads; the training
    loops of test_compiled.py and test_cuda.py step it every time)."""
    opt = optimizer(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = build(lib, opt)
        seen = []
        for t in range(steps):
            row = []
            for g in opt.param_groups:
                row.append(host_value(g["lr"]))
                row.append(
                    host_value(g["betas"][0]) if "betas" in g else host_value(g.get("momentum"))
                )
            seen.append(tuple(row))
            if t == 0:
                opt.step()
            sched.step()
    return seen, sched, opt


@pytest.mark.parametrize("name,build", TABLE_BACKED, ids=[c[0] for c in TABLE_BACKED])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_device_mode_float64_is_torchs_numbers(name, build, kind):
    steps = 1200  # (the cases' warm-ups, cycles and first milestones; test_lrsched.py runs 10,000)
    want, _, _ = run(T, build, steps, kind)
    # a table of the steps run (unbounded schedules default to 2**20 entries, built once)
    device = with_device(build, device="cpu", dtype=torch.float64, horizon=steps)
    got, sched, opt = run(L, device, steps, kind)
    assert got == want
    assert all(isinstance(g["lr"], torch.Tensor) for g in opt.param_groups)
    assert sched.step_tensor.dtype == torch.int64 and sched.step_tensor.dim() == 0


def test_float32_tables_are_torchs_numbers_rounded_once():
    build = CASES[9][1]  # CosineAnnealingLR
    want, _, _ = run(T, build, 1000)
    got, _, _ = run(L, with_device(build, device="cpu"), 1000)
    for w, g in zip(want, got):
        assert g[0] == float(torch.tensor(w[0], dtype=torch.float32))


def test_past_the_end_holds_the_last_value():
    opt = optimizer(bases=[0.1])
    sched = L.OneCycleLR(opt, max_lr=0.1, total_steps=50, device="cpu", dtype=torch.float64)
    table = lrcore.table(lrcore.OneCycle(max_lr=0.1, total_steps=50), 51)
    for t in range(80):
        assert float(opt.param_groups[0]["lr"]) == table[min(t, 50)]
        sched.step()
    opt = optimizer(bases=[0.1])
    sched = L.ExponentialLR(opt, gamma=0.9, device="cpu", dtype=torch.float64, horizon=10)
    for _ in range(30):
        sched.step()
    assert float(opt.param_groups[0]["lr"]) == lrcore.table(lrcore.Exponential(0.9), 10, 0.1)[-1]


@pytest.mark.parametrize(
    "name,build",
    [
        c
        for c in TABLE_BACKED
        if c[0]
        in ("StepLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "LinearLR", "MultiplicativeLR")
    ],
    ids=["StepLR", "CAWR", "OneCycleLR", "LinearLR", "MultiplicativeLR"],
)
@pytest.mark.parametrize("direction", ["device->torch", "torch->device", "device->device"])
def test_checkpoints_cross_modes(name, build, direction):
    steps, at = 2000, 777
    want, _, _ = run(T, build, steps)
    # 4,096 steps tabulated (the run takes 2,000), not the default 2**20
    dev = with_device(build, device="cpu", dtype=torch.float64, horizon=4096)
    src, dst = {
        "device->torch": (dev, build),
        "torch->device": (build, dev),
        "device->device": (dev, dev),
    }[direction]
    src_lib = L if src is dev else T
    dst_lib = L if dst is dev else T
    opt = optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = src(src_lib, opt)
        got = []
        for t in range(steps):
            if t == at:
                saved = copy.deepcopy(
                    (
                        {
                            "param_groups": [
                                {
                                    **{k: host_value(v) for k, v in g.items() if k != "params"},
                                    "params": g["params"],
                                }
                                for g in opt.param_groups
                            ]
                        },
                        sched.state_dict(),
                    )
                )
                opt = optimizer()
                sched = dst(dst_lib, opt)
                for g, sg in zip(opt.param_groups, saved[0]["param_groups"]):
                    for k, v in sg.items():
                        if k != "params":
                            g[k] = v if not isinstance(g[k], torch.Tensor) else g[k].fill_(v)
                sched.load_state_dict(saved[1])
            got.append(tuple(host_value(g["lr"]) for g in opt.param_groups))
            opt.step()
            sched.step()
    assert got == [w[::2] for w in want]


def test_table_lr_runs_a_composition_in_one_table():
    spec = (
        "sequential([linear(start_factor=0.1, total_iters=100), exponential(gamma=0.999),"
        " cosine_annealing(T_max=500)], milestones=[100, 1500])"
    )
    build_torch = CASES[15][1]  # the same SequentialLR, built from torch's classes
    want, _, _ = run(T, build_torch, 3000)
    for kw in ({}, {"device": "cpu", "dtype": torch.float64}):
        got, _, _ = run(L, lambda m, o, kw=kw: L.TableLR(o, spec, **kw), 3000)
        assert [g[::2] for g in got] == [w[::2] for w in want]


def test_optimizer_that_cannot_take_a_tensor_lr_is_named():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.AdamW([p], lr=0.1, foreach=True)
    with pytest.raises(ValueError, match="capturable=True"):
        L.StepLR(opt, step_size=3, device="cpu")


def test_step_epoch_is_refused_in_device_mode():
    sched = L.StepLR(optimizer(), step_size=3, device="cpu")
    with pytest.raises(ValueError, match="step\\(epoch\\) is not supported in device mode"):
        sched.step(5)


def metric_sequence(n):
    return [max(1.0 / (1 + t / 40), 0.25) + 0.02 * ((t * 7919) % 5) for t in range(n)]


@pytest.mark.parametrize(
    "mode,threshold_mode", [("min", "rel"), ("min", "abs"), ("max", "rel"), ("max", "abs")]
)
def test_device_plateau_decides_as_torch(mode, threshold_mode):
    kw = dict(
        mode=mode,
        threshold_mode=threshold_mode,
        patience=3,
        factor=0.5,
        cooldown=2,
        threshold=1e-3,
        min_lr=[1e-4, 0.0, 0.0, 1e-3],
    )
    host_opt, dev_opt = optimizer(), optimizer()
    host = T.ReduceLROnPlateau(host_opt, **kw)
    dev = L.ReduceLROnPlateau(dev_opt, device="cpu", dtype=torch.float64, **kw)
    sign = 1 if mode == "min" else -1
    for value in metric_sequence(400):
        host.step(sign * value)
        dev.step(torch.tensor(sign * value))
        assert [float(g["lr"]) for g in dev_opt.param_groups] == [
            g["lr"] for g in host_opt.param_groups
        ]
    state = dev.state_dict()
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert state[key] == host.state_dict()[key]


def test_compiled_step_has_no_graph_break_and_no_recompile():
    counters = fresh_dynamo()
    opt = optimizer(bases=[0.1, 0.2])
    sched = L.CosineAnnealingLR(opt, T_max=300, device="cpu")  # float32 LR tensors
    step = torch.compile(sched.step, fullgraph=True, backend="aot_eager")
    table = torch.tensor(
        lrcore.table(lrcore.CosineAnnealing(T_max=300), 1001, 0.2), dtype=torch.float32
    )
    for t in range(1, 1001):
        step()
        assert opt.param_groups[1]["lr"] == table[t]
    assert counters["stats"]["unique_graphs"] == 1
    assert not recompiles() and not counters["graph_break"]


def test_inductor_compiles_the_step():
    counters = fresh_dynamo()
    opt = optimizer(bases=[0.1])
    sched = L.OneCycleLR(opt, max_lr=0.1, total_steps=200, device="cpu")
    step = torch.compile(sched.step, fullgraph=True)  # inductor
    table = torch.tensor(
        lrcore.table(lrcore.OneCycle(max_lr=0.1, total_steps=200), 201), dtype=torch.float32
    )
    for t in range(1, 150):
        step()
        assert opt.param_groups[0]["lr"] == table[t]
    assert counters["stats"]["unique_graphs"] == 1


def _train_step_breaks(make_sched, steps=30):
    """Graph-break reasons, recompiles, the optimizer and the LR after each step of a
    compiled ``optimizer.step(); scheduler.step()``."""
    import collections

    counters = fresh_dynamo()
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=torch.tensor(0.1))
    sched = make_sched(opt)

    @torch.compile(backend="aot_eager")
    def train_step(x):
        opt.step()
        if sched is not None:
            sched.step()

    x = torch.randn(8, 4)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's scheduler warns about the wrapped step
        for _ in range(steps):
            model(x).sum().backward()
            train_step(x)
            lrs.append(float(opt.param_groups[0]["lr"]))
    breaks = collections.Counter({k: v for k, v in counters["graph_break"].items()})
    return breaks, recompiles(), opt, lrs


def test_compiled_train_step_breaks_no_more_than_with_a_constant_lr():
    """The optimizer's step is traced as with a constant tensor LR: the same graph
    breaks, reason for reason (none of them "marked as skipped"), no recompiles, and
    the LRs of host mode (rounded to the LR tensor's float32)."""
    base_breaks, base_recompiles, _, _ = _train_step_breaks(lambda opt: None)
    breaks, recompiles, opt, lrs = _train_step_breaks(
        lambda opt: L.CosineAnnealingLR(opt, T_max=20, device="cpu", dtype=torch.float32)
    )
    assert breaks == base_breaks
    assert not any("skipped" in reason for reason in breaks)
    assert recompiles <= base_recompiles
    base = float(torch.tensor(0.1))  # the float32 LR tensor's value, as device mode reads it
    host_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    host = L.CosineAnnealingLR(host_opt, T_max=20)
    want = []
    for _ in range(30):
        host_opt.step()
        host.step()
        want.append(float(torch.tensor(host.get_last_lr()[0], dtype=torch.float32)))
    assert lrs == want


def test_torchs_scheduler_wrapper_makes_dynamo_skip_the_optimizer():
    """Why lrsched tracks optimizer.step with its own wrapper: torch's is defined in
    lr_scheduler.py, which dynamo skips, so a compiled optimizer step breaks the graph
    at the wrapper (the step itself then compiles as frames of its own, outside the
    caller's graph: test_compiled.py). If this fails, torch traces its own wrapper now
    and lrsched's is no longer needed."""
    breaks, _, _, _ = _train_step_breaks(lambda opt: T.CosineAnnealingLR(opt, T_max=20), 3)
    assert any("skipped" in reason and "lr_scheduler.py" in reason for reason in breaks)


def test_torchs_scheduler_recompiles_where_ours_does_not():
    """The problem device mode solves: a float LR makes the compiled step specialise."""
    fresh_dynamo()
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = T.CosineAnnealingLR(opt, T_max=20)

    @torch.compile(backend="aot_eager")
    def opt_step():
        opt.step()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(6):
            model(torch.randn(8, 4)).sum().backward()
            opt_step()
            sched.step()
    assert recompiles() > 0


def test_torch_drops_writes_to_0d_float64_cpu_tensors_under_compile():
    """Why the compile tests use float32 LR tensors on CPU: in torch 2.13, aot_eager
    and inductor lose in-place writes to 0-d float64 CPU tensors (measured; 0-d
    float32 and 1-d float64 keep them, CUDA tensors do not take this path). If this
    test fails, torch has changed and float64 CPU LR tensors compile too."""
    import torch._dynamo as dynamo

    results = {}
    for dtype in (torch.float64, torch.float32):
        dynamo.reset()
        box = {"lr": torch.tensor(0.1, dtype=dtype)}

        def write(box=box):
            box["lr"].fill_(5.0)

        torch.compile(write, fullgraph=True, backend="aot_eager")()
        results[dtype] = float(box["lr"])
    assert results[torch.float32] == 5.0
    assert results[torch.float64] == 0.1


@pytest.mark.parametrize(
    "name,kwargs,changes",
    [
        ("StepLR", dict(step_size=3, gamma=0.9), {10: ("gamma", 0.5), 20: ("step_size", 2)}),
        ("CosineAnnealingLR", dict(T_max=50, eta_min=0.001), {17: ("T_max", 80)}),
        (
            "CosineAnnealingWarmRestarts",
            dict(T_0=7, T_mult=2),
            {12: ("eta_min", 0.01), 30: ("T_mult", 1)},
        ),
    ],
    ids=["StepLR", "CosineAnnealingLR", "CAWR"],
)
def test_a_changed_hyperparameter_rebuilds_the_device_table(name, kwargs, changes):
    def run(cls, **device):
        opt = optimizer()
        sched = cls(opt, **kwargs, **device)
        seen = []
        for t in range(60):
            if t in changes:
                setattr(sched, *changes[t])
            seen.append([host_value(g["lr"]) for g in opt.param_groups])
            opt.step()
            sched.step()
        return seen, sched

    want, ref = run(getattr(T, name))
    got, dev = run(getattr(L, name), device="cpu", dtype=torch.float64)
    assert got == want
    assert dev.state_dict() == ref.state_dict()


def test_rebuild_takes_a_changed_hyperparameter_into_a_compiled_step():
    """A compiled step runs no host code per step, so it cannot notice
    ``sched.gamma = 0.1``; ``sched.rebuild()`` outside the graph does, from the
    current step, and the LRs go on as torch's class (float32 LR tensor) would."""
    torch._dynamo.reset()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=torch.tensor(0.1))
    sched = L.StepLR(opt, step_size=5, gamma=0.5, device="cpu")
    step = torch.compile(sched.step, fullgraph=True, backend="aot_eager")
    ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=float(torch.tensor(0.1)))
    ref = T.StepLR(ref_opt, step_size=5, gamma=0.5)
    got, want = [], []
    for i in range(20):
        if i == 10:
            sched.gamma = ref.gamma = 0.1
            sched.rebuild()
        opt.step()
        step()
        ref_opt.step()
        ref.step()
        got.append(float(opt.param_groups[0]["lr"]))
        want.append(float(torch.tensor(ref_opt.param_groups[0]["lr"], dtype=torch.float32)))
    assert got == want
    assert sched.state_dict()["last_epoch"] == 20 and sched.state_dict()["gamma"] == 0.1
