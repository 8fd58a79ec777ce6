"""GPU: a small MLP train step, four ways (on a CUDA machine: python benchmarks/gpu_train_step.py).

(a) eager, torch's CosineAnnealingLR (float LR written from the host)
(a') eager, capturable Adam with a constant tensor LR (what (b) pays for the optimizer)
(b) eager, lrsched's CosineAnnealingLR in device mode
(c) one CUDA graph: forward, backward, optimizer.step() and lrsched's step()
(d) one CUDA graph with a constant LR (the floor for (c))

Target: (c) within 2% of (d). Prints µs per step (median of 5 runs of 2,000 steps)
and writes JSON to the path in argv[1], if given.
"""

import json
import statistics
import sys
import time
import warnings

import lrsched as L
import torch
from torch.optim import lr_scheduler as T

DEV = "cuda"
STEPS, RUNS = 2000, 5


def setup(lr_tensor, capturable):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(512, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 10),
    ).to(DEV)
    x = torch.randn(256, 512, device=DEV)
    y = torch.randint(0, 10, (256,), device=DEV)
    lr = torch.tensor(1e-3, device=DEV) if lr_tensor else 1e-3
    opt = torch.optim.Adam(model.parameters(), lr=lr, capturable=capturable)
    return model, x, y, opt


def timed(fn):
    for _ in range(50):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        for _ in range(STEPS):
            fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) / STEPS * 1e6)
    return statistics.median(times)


def eager(kind):
    tensor_lr = kind in ("lrsched", "constant")
    model, x, y, opt = setup(tensor_lr, capturable=tensor_lr)
    if kind == "torch":
        sched = T.CosineAnnealingLR(opt, T_max=10**6)
    elif kind == "lrsched":
        sched = L.CosineAnnealingLR(opt, T_max=10**6, device=DEV)
    else:
        sched = None

    def step():
        opt.zero_grad(set_to_none=False)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if sched is not None:
            sched.step()

    return timed(step)


def graphed(with_schedule):
    model, x, y, opt = setup(True, capturable=True)
    sched = L.CosineAnnealingLR(opt, T_max=10**6, device=DEV) if with_schedule else None

    def body():
        opt.zero_grad(set_to_none=False)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if sched is not None:
            sched.step()

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            body()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        body()
    return timed(graph.replay)


def main():
    warnings.simplefilter("ignore")
    rows = {
        "(a) eager, torch.optim CosineAnnealingLR": eager("torch"),
        "(a') eager, capturable Adam, constant tensor LR": eager("constant"),
        "(b) eager, lrsched device mode": eager("lrsched"),
        "(c) CUDA graph, lrsched device mode": graphed(True),
        "(d) CUDA graph, constant LR": graphed(False),
    }
    for name, us in rows.items():
        print(f"{name:<44} {us:8.1f} µs/step")
    c, d = rows["(c) CUDA graph, lrsched device mode"], rows["(d) CUDA graph, constant LR"]
    print(
        f"(c)/(d) = {c / d:.4f}  (target <= 1.02);  (a)/(c) = "
        f"{rows['(a) eager, torch.optim CosineAnnealingLR'] / c:.1f}x"
    )
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as fh:
            json.dump(
                {
                    "device": torch.cuda.get_device_name(),
                    "torch": torch.__version__,
                    "us_per_step": rows,
                    "c_over_d": c / d,
                },
                fh,
                indent=2,
            )


if __name__ == "__main__":
    main()
