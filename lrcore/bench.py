"""``lrcore bench``: every family's 10^6-step table against the alternatives.

Measured in one run on one machine: lrcore (both numerics), stepping torch's
scheduler class, numpy's closed form and torch tensor ops. torch's class is
stepped ``torch_steps`` times (default 20,000, not 10^6, to keep the run short):
its figure is reported as a per-step cost, and the ratio is per step too.
The parity check compares lrcore's torch numerics with the stepped range.
torch is imported only here, only when this runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from . import kernels, table
from .family import samples
from .spec import Spec
from .table import NUMERICS
from .text import parse


def families(steps: int) -> dict[str, Spec]:
    """Every declared family's sample specs (:mod:`lrcore.family`), sized for ``steps``,
    and two compositions of torch's."""
    out = samples(steps)
    out["sequential"] = parse(
        f"sequential([linear(start_factor=0.01, total_iters=1000), "
        f"cosine_annealing(T_max={max(steps - 1000, 1)})], milestones=[1000])"
    )
    out["chained"] = parse(
        "chained([constant(factor=0.1, total_iters=5000), exponential(gamma=0.999999)])"
    )
    return out


def _has_torch_class(spec: Spec) -> bool:
    """Whether torch has a scheduler class for ``spec`` (its family's ``reference``)."""
    if spec.name in ("sequential", "chained"):
        return all(_has_torch_class(child) for child in spec.schedulers)
    family = getattr(spec, "family", None)
    return family is not None and family.reference is not None


def closed_form(xp, spec: Spec, t):
    """The schedule's formula with array ops of ``xp`` (numpy or torch), base LR 1:
    its family's ``formula``. None where the family has none (user functions,
    compositions) or not for these parameters."""
    family = getattr(spec, "family", None)
    if family is None or family.formula is None:
        return None
    return family.formula(xp, spec, t)


@dataclass
class Row:
    family: str
    spec: str
    steps: int
    lrcore_torch_ms: float
    lrcore_closed_ms: float
    torch_steps: int
    torch_step_us: float | None  # None: torch has no class for the family
    numpy_ms: float | None
    torch_ops_ms: float | None
    speedup_vs_torch: float | None
    speedup_closed_vs_numpy: float | None
    torch_parity_max_ulp: int | None
    floor_ms: float  # allocating and filling ``steps`` float64, in the same run
    closed_x_floor: float  # lrcore_closed_ms / floor_ms


def floor_ms(steps: int) -> float:
    """The memory floor of a table: allocating and filling ``steps`` float64 (best of
    5, in ms). No table can be made faster than its own output is written."""
    return best_ms(lambda: np.empty(steps, dtype=np.float64).fill(1.0))


def best_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def max_ulp(a, b) -> int:
    """The largest distance between ``a`` and ``b`` in units in the last place.

    The float64 bits are mapped to a line on which adjacent floats differ by one
    (negative values mirrored, so -0.0 and 0.0 coincide); 0 means identical values.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"max_ulp: shapes differ, {a.shape} and {b.shape}")
    if not a.size:
        return 0
    line_a, line_b = _ulp_line(a), _ulp_line(b)
    mixed = (line_a < 0) != (line_b < 0)  # an int64 difference could overflow there
    same = np.abs(line_a[~mixed] - line_b[~mixed])
    worst = int(same.max()) if same.size else 0
    for x, y in zip(line_a[mixed].tolist(), line_b[mixed].tolist()):
        worst = max(worst, abs(x - y))
    return worst


def _ulp_line(x):
    bits = x.view(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFFFFFFFFFF), bits)


#: first uses timed by :func:`first_use` (each from before ``import lrcore``)
FIRST_USES = {
    "cosine_annealing 10^6-step table (torch numerics)": (
        "lrcore.table('cosine_annealing(T_max=1000000)', 10**6)"
    ),
    "cosine_annealing 10^6-step table (closed)": (
        "lrcore.table('cosine_annealing(T_max=1000000)', 10**6, numerics='closed')"
    ),
    "cosine_annealing 1000-step table": "lrcore.table('cosine_annealing(T_max=1000)', 1000)",
}


def fresh_seconds(code: str, env: dict) -> float:
    """Run ``code`` in a new Python with environment ``env``; the number it printed last."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.strip().splitlines()[-1])


def first_use() -> dict[str, tuple[float, float]]:
    """Seconds from ``import lrcore`` to the end of each first use, in fresh processes:
    (cold: an empty kernel cache, warm: the cache the cold run left)."""
    import os
    import tempfile

    out = {}
    for name, case in FIRST_USES.items():
        code = (
            f"import time; t = time.perf_counter(); import lrcore; {case}; "
            "print(time.perf_counter() - t)"
        )
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, LRCORE_CACHE_DIR=cache)
            out[name] = (fresh_seconds(code, env), fresh_seconds(code, env))
    return out


def run(steps: int = 1_000_000, torch_steps: int = 20_000, progress=None) -> list[Row]:
    try:
        import torch
    except ImportError:  # the comparison needs torch; lrcore itself does not
        torch = None
    rows = []
    t_np = np.arange(steps, dtype=np.float64)
    t_torch = torch.arange(steps, dtype=torch.float64) if torch is not None else None
    for name, spec in families(steps).items():
        # the steady state: kernels compiled (or loaded) by an untimed first table, and
        # the parallel ones serving long tables from the start (first use is timed apart)
        with kernels.parallel_now():
            for numerics in NUMERICS:
                table(spec, steps, numerics=numerics)
            lr_torch = best_ms(lambda spec=spec: table(spec, steps))
            lr_closed = best_ms(lambda spec=spec: table(spec, steps, numerics="closed"))
        floor = floor_ms(steps)  # beside each row: the machine's state of the moment
        np_ms = ops_ms = None
        if closed_form(np, spec, t_np[:2]) is not None:
            np_ms = best_ms(lambda spec=spec: closed_form(np, spec, t_np), 3)
            if torch is not None:
                ops_ms = best_ms(lambda spec=spec: closed_form(torch, spec, t_torch), 3)
        step_us, ulp, k = None, None, min(torch_steps, steps)
        if torch is not None and _has_torch_class(spec):
            from ._torch_reference import step_scheduler

            ref, seconds = step_scheduler(spec, k, progress=progress, label=name)
            step_us = seconds / k * 1e6
            ulp = max_ulp(table(spec, k), ref)
        rows.append(
            Row(
                family=name,
                spec=str(spec),
                steps=steps,
                lrcore_torch_ms=lr_torch,
                lrcore_closed_ms=lr_closed,
                torch_steps=k,
                torch_step_us=step_us,
                numpy_ms=np_ms,
                torch_ops_ms=ops_ms,
                speedup_vs_torch=None if step_us is None else step_us * 1e-3 * steps / lr_torch,
                speedup_closed_vs_numpy=(np_ms / lr_closed) if np_ms else None,
                torch_parity_max_ulp=ulp,
                floor_ms=floor,
                closed_x_floor=lr_closed / floor,
            )
        )
    return rows


def render(rows: list[Row]) -> str:
    head = (
        f"{'family':<31}{'torch-num ms':>13}{'closed ms':>10}{'numpy ms':>10}"
        f"{'torch-ops ms':>13}{'torch.optim µs/step':>20}{'× vs torch.optim':>17}"
        f"{'ULP':>5}{'closed × floor':>16}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:

        def f(x, w, p=2):
            return f"{'-':>{w}}" if x is None or x != x else f"{x:>{w}.{p}f}"

        ulp = "-" if r.torch_parity_max_ulp is None else r.torch_parity_max_ulp
        lines.append(
            f"{r.family:<31}{f(r.lrcore_torch_ms, 13)}{f(r.lrcore_closed_ms, 10)}"
            f"{f(r.numpy_ms, 10)}{f(r.torch_ops_ms, 13)}{f(r.torch_step_us, 20)}"
            f"{f(r.speedup_vs_torch, 17, 0)}{ulp:>5}{f(r.closed_x_floor, 16, 1)}"
        )
    if rows:
        floors = [r.floor_ms for r in rows]
        lines.append(
            f"memory floor (allocate and fill {rows[0].steps:,} float64): "
            f"{min(floors):.2f}-{max(floors):.2f} ms; closed × floor is the closed table's "
            "time over the floor measured beside it"
        )
    return "\n".join(lines)


def as_json(rows: list[Row], extra: dict) -> dict:
    return {**extra, "rows": [asdict(r) for r in rows]}
