"""A training loop with torch's intra-op threads busy, with and without lrcore's
parallel window refills (the drop-ins' windows reach 32,768+ steps after ~64k steps,
where a stateless schedule's refill runs numba's parallel kernel): does lrcore
oversubscribe the cores torch is using? Ratios from one run.

    python benchmarks/refill_threads.py [--steps 200000]
"""

import argparse
import time

import lrsched
import torch

from lrcore import kernels


def loop(steps: int, parallel: bool) -> float:
    kernels._forked = not parallel  # the serial kernels, as in a forked child
    torch.manual_seed(0)
    model = torch.nn.Linear(256, 256)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lrsched.OneCycleLR(opt, max_lr=0.1, total_steps=steps + 1)
    x = torch.randn(64, 256)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
    kernels._forked = False
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200_000)
    steps = parser.parse_args().steps
    print(
        f"torch threads {torch.get_num_threads()}, numba threads {kernels.numba.get_num_threads()}"
    )
    serial = min(loop(steps, False) for _ in range(2))
    parallel = min(loop(steps, True) for _ in range(2))
    print(
        f"{steps} steps: serial refills {serial:.2f} s, parallel refills {parallel:.2f} s, "
        f"ratio {parallel / serial:.3f}"
    )


if __name__ == "__main__":
    main()
