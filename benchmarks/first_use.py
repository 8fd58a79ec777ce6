"""First use: what a new process pays before its first table, cold and warm.

Each case runs in a fresh subprocess: "cold" with an empty numba cache (a fresh
install, a CI job, a new node), "warm" right after with that cache filled. The
time is taken inside the subprocess, from before ``import lrcore`` to the end of
the case (Python's own start-up excluded). ``--tree DIR`` runs the same cases
against another checkout of lrcore (``git worktree add DIR <commit>``), so a
before/after comparison comes from one run on one machine.

    python benchmarks/first_use.py                       # this checkout
    python benchmarks/first_use.py --tree /tmp/before    # and an older one
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from lrcore.bench import fresh_seconds

ROOT = Path(__file__).resolve().parents[1]

FAMILIES = {
    "step": "step(step_size=1000, gamma=0.99)",
    "multi_step": "multi_step(milestones=[250000, 500000], gamma=0.1)",
    "linear": "linear(start_factor=0.01, total_iters=100000)",
    "exponential": "exponential(gamma=0.999999)",
    "cosine_annealing": "cosine_annealing(T_max=1000000)",
    "cosine_annealing_warm_restarts": "cosine_annealing_warm_restarts(T_0=1000, T_mult=2)",
    "cyclic": "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=2000)",
    "one_cycle": "one_cycle(max_lr=0.1, total_steps=1000000)",
    "warmup+cosine_decay": "warmup(cosine_decay(decay_steps=990000), warmup_steps=10000)",
    "timm_cosine": "timm_cosine(t_initial=100000, warmup_t=1000)",
    "sequential": (
        "sequential([linear(start_factor=0.01, total_iters=1000),"
        " cosine_annealing(T_max=999000)], milestones=[1000])"
    ),
    "deepspeed_warmup_cosine": "deepspeed_warmup_cosine(total_num_steps=1000000)",
    "megatron (WSD)": (
        "megatron(max_lr=0.001, lr_decay_steps=1000000, lr_warmup_steps=1000,"
        " lr_decay_style='WSD', wsd_decay_steps=200000, lr_wsd_decay_style='minus_sqrt')"
    ),
    "optax_warmup_cosine_decay": (
        "optax_warmup_cosine_decay(init_value=0.0, peak_value=0.001, warmup_steps=1000,"
        " decay_steps=1000000)"
    ),
    "fairseq_cosine": (
        "fairseq_cosine(lr=0.001, warmup_updates=1000, t_mult=2.0, lr_period_updates=100000)"
    ),
}

TABLE = """
import time
t0 = time.perf_counter()
import lrcore
lrcore.table({spec!r}, 10**6, numerics={numerics!r})
print(time.perf_counter() - t0)
"""

DROP_IN = """
import time
import torch
opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)  # torch's own first use
opt.step()
t0 = time.perf_counter()
import lrsched
sched = lrsched.CosineAnnealingWarmRestarts(opt, T_0=100, T_mult=2)
for _ in range(1000):
    opt.step()
    sched.step()
print(time.perf_counter() - t0)
"""

CABI = """
import time
t0 = time.perf_counter()
import lrcore
import lrcore.cabi as cabi
cabi.Schedule("cosine_annealing_warm_restarts(T_0=1000, T_mult=2)").fill(0, 1000)
print(time.perf_counter() - t0)
"""


CABI_ANY = """
import time
t0 = time.perf_counter()
import lrcore
import lrcore.cabi as cabi
import numpy as np, ctypes
s = cabi.Schedule("cosine_annealing_warm_restarts(T_0=1000, T_mult=2)")
out = np.empty(1000)
fill = ctypes.CFUNCTYPE(ctypes.c_int32, *[ctypes.c_void_p] * 2, ctypes.c_int64, ctypes.c_int64)
assert fill(cabi.fill_address())(s.address, out.ctypes.data, 0, 1000) == 0
print(time.perf_counter() - t0)
"""


def cases(numerics: tuple[str, ...]) -> dict[str, str]:
    out = {}
    out["table cosine_annealing, 1000 steps (torch)"] = TABLE.replace("10**6", "1000").format(
        spec="cosine_annealing(T_max=1000)", numerics="torch"
    )
    for name, spec in FAMILIES.items():
        for n in numerics:
            out[f"table {name} ({n})"] = TABLE.format(spec=spec, numerics=n)
    out["lrsched CAWR + 1000 steps (after torch's first optimizer)"] = DROP_IN
    out["torch's own CAWR + 1000 steps (the same)"] = DROP_IN.replace(
        "import lrsched", "import torch.optim.lr_scheduler as lrsched"
    )
    out["import lrcore.cabi + first fill"] = CABI
    out["import lrcore.cabi + first fill, entry points for any schedule"] = CABI_ANY
    return out


# the tree's lrcore and lrsched, not an editable install's (its finder comes first)
PRELUDE = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path[:0] = [{tree!r}, {python!r}]
"""


def run_case(code: str, tree: Path, cache: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    prelude = PRELUDE.format(tree=str(tree), python=str(tree / "python"))
    check = f"\nimport lrcore\nassert lrcore.__file__.startswith({str(tree)!r}), lrcore.__file__\n"
    return fresh_seconds(prelude + code + check, env)


def measure(trees: list[Path], numerics: tuple[str, ...], only: str = "") -> dict:
    results: dict[str, dict[str, tuple[float, float]]] = {}
    for name, code in cases(numerics).items():
        if only not in name:
            continue
        for tree in trees:
            with tempfile.TemporaryDirectory() as cache:
                cold = run_case(code, tree, cache)
                warm = run_case(code, tree, cache)
            results.setdefault(name, {})[str(tree)] = (cold, warm)
            print(f"{name:55s} {tree.name:12s} cold {cold:6.2f} s  warm {warm:5.2f} s", flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="another lrcore checkout")
    parser.add_argument("--numerics", default="torch,closed")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--only", default="", help="only the cases whose name holds this")
    args = parser.parse_args(argv)
    trees = [Path(t).resolve() for t in args.tree] + [ROOT]
    results = measure(trees, tuple(args.numerics.split(",")), args.only)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
