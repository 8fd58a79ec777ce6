"""How far optax's own schedules are from their formulas, and from themselves.

Before lrcore reproduces optax's schedules bit for bit (issue 15), the reference has
to be pinned down: an optax schedule is jax code, and its numbers depend on how it
runs. This script measures, over 20,000 steps, the distance in ULPs between

* the schedule jitted (how optax's optimizers run it), in float32 and in float64
  (``jax_enable_x64``),
* the same function called eagerly on an array of counts, and on one int at a time,
* the formula in float64 with CPython's libm (lrcore's arithmetic), rounded to the
  dtype.

Run: ``python benchmarks/optax_numerics.py`` (needs jax and optax; ``make test``'s
set-up installs them). Figures go to the closing note of the session that measured
them; nothing here is asserted.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np

N = 20_000

CASES = {
    "linear_schedule(0.1, 0.001, 10000)": (
        "optax.linear_schedule(0.1, 0.001, 10000)",
        lambda c: (0.1 - 0.001) * (1 - min(c, 10000) / 10000) + 0.001,
    ),
    "cosine_decay_schedule(0.1, 10000, alpha=0.01)": (
        "optax.cosine_decay_schedule(0.1, 10000, alpha=0.01)",
        lambda c: (
            0.1 * ((1 - 0.01) * (0.5 * (1 + math.cos(math.pi * min(c, 10000) / 10000))) + 0.01)
        ),
    ),
    "exponential_decay(0.1, 1000, 0.5)": (
        "optax.exponential_decay(0.1, 1000, 0.5)",
        lambda c: 0.1 * math.pow(0.5, c / 1000) if c > 0 else 0.1,
    ),
}


def _ulps(a, b, dtype):
    ints = np.int32 if dtype == np.float32 else np.int64
    a = np.asarray(a, dtype).view(ints).astype(np.int64)
    b = np.asarray(b, dtype).view(ints).astype(np.int64)
    return np.abs(a - b)


def measure(x64: bool) -> None:
    import jax
    import jax.numpy as jnp
    import optax  # noqa: F401 - the CASES expressions name it

    jax.config.update("jax_enable_x64", x64)
    dtype = np.float64 if x64 else np.float32
    counts = jnp.arange(N)
    for name, (expression, formula) in CASES.items():
        schedule = eval(expression)  # noqa: S307 - this script's own constant expressions
        jitted = np.asarray(jax.jit(schedule)(counts))
        eager = np.asarray(schedule(counts))
        one_by_one = np.array([schedule(int(c)) for c in range(0, N, 97)], dtype=dtype)
        exact = np.array([formula(c) for c in range(N)], dtype=np.float64).astype(dtype)
        worst = _ulps(jitted, exact, dtype).max()
        print(
            f"{dtype.__name__:8s} {name:48s} jit vs formula: max {worst}"
            f" ULP, {int((jitted != exact).sum())} steps differ; jit vs eager: "
            f"{int((jitted != eager).sum())}; eager vs formula: {int((eager != exact).sum())};"
            f" one int at a time vs formula: {int((one_by_one != exact[::97]).sum())}"
            f" of {len(one_by_one)}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        measure(sys.argv[1] == "x64")
    else:  # jax's x64 flag is best set before any computation: one process each
        for mode in ("x32", "x64"):
            subprocess.run([sys.executable, __file__, mode], check=True)
