"""CUDA: the whole training step, schedule included, in one CUDA graph.

Marked ``cuda``: skipped without a GPU (CI has none); run on a lent GPU machine.
"""

import warnings

import lrsched as L
import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as T

import lrcore

pytestmark = pytest.mark.cuda
DEV = "cuda"


def model_and_data():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1)
    ).to(DEV)
    x = torch.randn(256, 64, device=DEV)
    y = torch.randn(256, 1, device=DEV)
    return model, x, y


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_graph_replayed_ten_thousand_times(dtype):
    steps = 10_000
    model, x, y = model_and_data()
    # the LR tensor in the table's dtype: torch takes its base LR from it
    opt = torch.optim.Adam(
        model.parameters(), lr=torch.tensor(1e-3, dtype=dtype, device=DEV), capturable=True
    )
    sched = L.CosineAnnealingWarmRestarts(
        opt, T_0=500, T_mult=2, eta_min=1e-5, device=DEV, dtype=dtype
    )
    used = torch.zeros(steps + 1, dtype=dtype, device=DEV)

    def train_step():
        opt.zero_grad(set_to_none=False)
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        # the LR this optimizer step uses, logged from inside the graph
        used.index_copy_(0, sched.step_tensor.view(1), opt.param_groups[0]["lr"].view(1))
        opt.step()
        sched.step()

    # warm up on a side stream (allocations, lazy state), then put the schedule back
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            train_step()
    torch.cuda.current_stream().wait_stream(side)
    sched.load_state_dict(
        {
            **sched.state_dict(),
            "last_epoch": 0,
            "T_cur": 0,
            "T_i": 500,
            "_last_lr": [float(torch.tensor(1e-3, dtype=dtype))],
        }
    )
    used.zero_()

    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        train_step()
    for _ in range(steps):
        graph.replay()
    torch.cuda.synchronize()

    spec = lrcore.CosineAnnealingWarmRestarts(T_0=500, T_mult=2, eta_min=1e-5)
    base = float(torch.tensor(1e-3, dtype=dtype))
    want = torch.tensor(lrcore.table(spec, steps, base), dtype=dtype).numpy()
    got = used[:steps].cpu().numpy()
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (bad[:10], got[bad[:5]], want[bad[:5]])
    # and torch's own host scheduler, to the LR tensor's dtype
    host_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    host = T.CosineAnnealingWarmRestarts(host_opt, T_0=500, T_mult=2, eta_min=1e-5)
    ref = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            ref.append(host_opt.param_groups[0]["lr"])
            host.step()
    assert np.array_equal(got, torch.tensor(ref, dtype=dtype).numpy())
    assert sched.state_dict()["last_epoch"] == steps


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("StepLR", dict(step_size=30, gamma=0.5)),
        ("CosineAnnealingLR", dict(T_max=1000)),
        ("OneCycleLR", dict(max_lr=0.1, total_steps=500)),
        ("CyclicLR", dict(base_lr=0.001, max_lr=0.1, step_size_up=40)),
        ("LambdaLR", dict(lr_lambda=lambda e: 0.99**e)),
    ],
)
def test_step_never_synchronises(name, kwargs):
    model, x, y = model_and_data()
    opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01, device=DEV), capturable=True)
    sched = getattr(L, name)(opt, **kwargs, device=DEV)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(600):
            sched.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_device_plateau_never_synchronises_and_decides_as_torch():
    opt = torch.optim.Adam(
        [torch.nn.Parameter(torch.zeros(4, device=DEV))],
        lr=torch.tensor(0.1, dtype=torch.float64, device=DEV),
        capturable=True,
    )
    sched = L.ReduceLROnPlateau(opt, patience=2, factor=0.5, device=DEV, dtype=torch.float64)
    host_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    host = T.ReduceLROnPlateau(host_opt, patience=2, factor=0.5)
    values = [1.0 / (1 + t) if t < 20 else 0.05 for t in range(60)]
    metrics = torch.tensor(values, device=DEV)
    lrs = torch.zeros(60, dtype=torch.float64, device=DEV)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for t in range(60):
            sched.step(metrics[t])
            lrs[t] = opt.param_groups[0]["lr"]
    finally:
        torch.cuda.set_sync_debug_mode("default")
    want = []
    for v in values:
        host.step(v)
        want.append(host_opt.param_groups[0]["lr"])
    assert lrs.cpu().tolist() == want


def test_fused_kernel_matches_the_portable_ops():
    from lrsched import _cuda_step

    table = torch.rand(3, 50, dtype=torch.float64, device=DEV)
    mom = torch.rand(3, 50, dtype=torch.float64, device=DEV)
    counter = torch.tensor(0, dtype=torch.int64, device=DEV)
    out = torch.zeros(3, 1, dtype=torch.float64, device=DEV)
    mom_out = torch.zeros(3, 1, dtype=torch.float64, device=DEV)
    for t in range(1, 80):
        _cuda_step.fused_step(counter, table, out, mom, mom_out)
        i = min(t, 49)
        assert counter.item() == t
        assert torch.equal(out[:, 0], table[:, i]) and torch.equal(mom_out[:, 0], mom[:, i])


def test_reduce_overhead_compile_follows_the_schedule():
    model, x, y = model_and_data()
    opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01, device=DEV), capturable=True)
    sched = L.OneCycleLR(opt, max_lr=0.01, total_steps=400, device=DEV)

    @torch.compile(mode="reduce-overhead")
    def sched_step():
        sched.step()

    table = torch.tensor(
        lrcore.table(lrcore.OneCycle(max_lr=0.01, total_steps=400), 401), dtype=torch.float32
    )
    for t in range(1, 300):
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        sched_step()
        assert opt.param_groups[0]["lr"].item() == table[t].item()
