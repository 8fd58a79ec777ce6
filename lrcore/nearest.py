"""The nearest expression of a schedule in a framework that has no equal family.

A schedule's table over the requested steps, written as straight lines between knots
(steps where the line is exact): a knot wherever a straight line from the last one
would leave the table by more than ``tolerance`` (relative), so staircases and linear
ramps are exact at every step and curves get knots as densely as their bend needs.
It is written in each framework's idiom, needing no lrcore: a ``LambdaLR`` lambda
(torch, transformers), a jnp function (optax), a ``LearningRateSchedule`` subclass
(Keras). Past the last requested step it holds the last value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Fit:
    steps: list[int]  # the knots' steps, from 0 to the last requested step
    values: list[float]  # the table at those steps
    max_rel_diff: float  # over every requested step, of the lines against the table


def relative_difference(got, want) -> float:
    """The largest ``|got - want| / |want|`` (an absolute difference where want is 0)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    diff = np.abs(got - want)
    scale = np.abs(want)
    out = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), diff)
    return float(out.max()) if out.size else 0.0


def _fits(values, a, b, tolerance) -> bool:
    """Whether the line from step ``a`` to step ``b`` is within ``tolerance`` of every
    value between them."""
    if b - a < 2:
        return True
    t = np.arange(a + 1, b, dtype=np.float64)
    line = values[a] + (values[b] - values[a]) * (t - a) / (b - a)
    want = values[a + 1 : b]
    return bool(np.all(np.abs(line - want) <= tolerance * np.abs(want)))


def fit(values, tolerance: float = 1e-6) -> Fit:
    """Knots for ``values`` (a table from step 0): each line as long as it stays within
    ``tolerance`` of the table (found by doubling, then halving)."""
    if not (isinstance(tolerance, float | int) and 0 <= tolerance < 1):
        raise ValueError(f"tolerance must be a number in [0, 1), got tolerance={tolerance!r}")
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        raise ValueError("steps must be >= 1, got steps=0")
    knots = [0]
    a = 0
    while a < n - 1:
        step = 1
        while a + 2 * step < n and _fits(values, a, a + 2 * step, tolerance):
            step *= 2
        lo, hi = a + step, min(a + 2 * step, n - 1)  # lo fits; find the last that does
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _fits(values, a, mid, tolerance):
                lo = mid
            else:
                hi = mid - 1
        knots.append(lo)
        a = lo
    steps = np.array(knots)
    got = np.interp(np.arange(n, dtype=np.float64), steps, values[steps])
    return Fit(knots, values[steps].tolist(), relative_difference(got, values))


def _numbers(xs, per_line: int = 6) -> str:
    items = [repr(x) for x in xs]
    lines = [", ".join(items[k : k + per_line]) for k in range(0, len(items), per_line)]
    return "[\n    " + ",\n    ".join(lines) + ",\n]"


def lambda_source(f: Fit) -> str:
    """Python: ``lr_lambda(step)``, the lines (plain floats: torch's LambdaLR multiplies
    each group's initial LR by it)."""
    return f"""import bisect

_STEPS = {_numbers(f.steps, 12)}
_FACTORS = {_numbers(f.values)}


def lr_lambda(step):
    if step >= _STEPS[-1]:
        return _FACTORS[-1]
    k = bisect.bisect_right(_STEPS, step) - 1
    s0, s1 = _STEPS[k], _STEPS[k + 1]
    return _FACTORS[k] + (_FACTORS[k + 1] - _FACTORS[k]) * (step - s0) / (s1 - s0)
"""


def jnp_source(f: Fit) -> str:
    return f"""import jax.numpy as jnp

_STEPS = jnp.array({_numbers(f.steps, 12)})
_VALUES = jnp.array({_numbers(f.values)})


def schedule(count):
    return jnp.interp(count, _STEPS, _VALUES)
"""


def keras_source(f: Fit) -> str:
    return f"""import keras
from keras import ops


class Schedule(keras.optimizers.schedules.LearningRateSchedule):
    \"\"\"Straight lines between knots; the last value past the last knot.\"\"\"

    STEPS = {_numbers(f.steps, 12)}
    VALUES = {_numbers(f.values)}

    def __call__(self, step):
        dtype = keras.config.floatx()
        knots = ops.convert_to_tensor(self.STEPS, dtype=dtype)
        values = ops.convert_to_tensor(self.VALUES, dtype=dtype)
        x = ops.reshape(ops.cast(step, dtype), (1,))
        last = len(self.STEPS) - 2
        k = ops.clip(ops.searchsorted(knots, x, side="right") - 1, 0, max(last, 0))
        if last < 0:
            return values[0]
        s0, s1 = ops.take(knots, k), ops.take(knots, k + 1)
        v0, v1 = ops.take(values, k), ops.take(values, k + 1)
        w = ops.clip((x - s0) / (s1 - s0), 0.0, 1.0)
        return ops.reshape(v0 + (v1 - v0) * w, ())

    def get_config(self):
        return {{}}


"""
