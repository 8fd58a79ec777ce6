"""Parameter checks shared by every schedule spec.

Each check names the schedule, the parameter, the value it got and what is
allowed, and returns the value in the type the kernels use. Nothing is clamped.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any


def fail(schedule: str, name: str, value: Any, allowed: str, exc: type = ValueError):
    raise exc(f"{schedule}: {name} must be {allowed}, got {name}={value!r}")


def integer(schedule: str, name: str, value: Any, *, minimum: int | None = None) -> int:
    """An int (bool refused); ``minimum`` is inclusive."""
    allowed = "an integer" if minimum is None else f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(schedule, name, value, allowed, TypeError)
    value = int(value)
    if minimum is not None and value < minimum:
        fail(schedule, name, value, allowed)
    return value


def real(
    schedule: str,
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number (bool refused) in the stated interval."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    allowed = "a finite number" + (" " + " and ".join(parts) if parts else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(schedule, name, value, allowed, TypeError)
    value = float(value)
    if not math.isfinite(value):
        fail(schedule, name, value, allowed)
    if low is not None and (value < low or (low_open and value == low)):
        fail(schedule, name, value, allowed)
    if high is not None and (value > high or (high_open and value == high)):
        fail(schedule, name, value, allowed)
    return value


def flag(schedule: str, name: str, value: Any) -> bool:
    """A bool (0 and 1 refused: a flag is True or False)."""
    if not isinstance(value, bool):
        fail(schedule, name, value, "True or False", TypeError)
    return value


def choice(schedule: str, name: str, value: Any, options: Iterable[str]) -> str:
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        fail(schedule, name, value, "one of " + ", ".join(repr(o) for o in options))
    return value


def integers(schedule: str, name: str, value: Any, *, minimum: int = 0) -> tuple[int, ...]:
    """A sequence of ints, each >= minimum."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        fail(schedule, name, value, "a list of integers", TypeError)
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            fail(schedule, name, value, f"a list of integers >= {minimum}", TypeError)
        if item < minimum:
            fail(schedule, name, value, f"a list of integers >= {minimum}")
        out.append(int(item))
    return tuple(out)
