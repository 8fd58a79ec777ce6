"""Lowering: a spec becomes one flat float64 program (layout in :mod:`lrcore.kinds`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import family, kinds
from .schedules.compose import Chained, Sequential
from .schedules.leaf import Leaf
from .spec import Spec


@dataclass(frozen=True)
class FunctionSlot:
    """A user function a leaf reads from the auxiliary array (lambda families)."""

    slot: int
    kind: int
    fn: Callable
    segment_start: int
    segment_end: int | None
    evaluation: str = "auto"


@dataclass(frozen=True)
class Program:
    code: np.ndarray
    segment_starts: tuple[int, ...]
    functions: tuple[FunctionSlot, ...]
    #: No step depends on the LR of the step before it (steps can run in parallel).
    stateless: bool
    spec: Spec

    @property
    def last_step(self) -> int | None:
        """The last table index the schedule defines (one_cycle), else None."""
        return self.spec.last_step()


def segments(spec: Spec) -> list[tuple[int, tuple[Leaf, ...]]]:
    if isinstance(spec, Sequential):
        starts = (0,) + spec.milestones
        return [(s, (child,)) for s, child in zip(starts, spec.schedulers)]
    if isinstance(spec, Chained):
        return [(0, spec.schedulers)]
    if isinstance(spec, Leaf):
        return [(0, (spec,))]
    if hasattr(spec, "segments"):
        # a composition: each of its parts is leaves (run together from ``start``) or
        # a spec whose own segments start at ``start``
        out = []
        for start, part in spec.segments():
            if isinstance(part, tuple):
                out.append((start, part))
            else:
                out += [(start + s, leaves) for s, leaves in segments(part)]
        return out
    raise TypeError(f"expected a schedule spec, got {spec!r} of type {type(spec).__name__}")


@functools.lru_cache(maxsize=256)
def lower(spec: Spec, quantity: str = "lr") -> Program:
    """The program for ``spec`` (cached: specs are immutable)."""
    segs = segments(spec)
    n_leaves = sum(len(leaves) for _, leaves in segs)
    named = {"n_segments": len(segs), "n_leaves": n_leaves}
    header = [float(named[name]) for name in kinds.PROGRAM_HEADER._fields]
    body: list[float] = []
    seg_rows: list[float] = []
    functions: list[FunctionSlot] = []
    base = kinds.HEADER + kinds.SEGMENT * len(segs)
    leaf_index = 0
    stateless = True
    for si, (start, leaves) in enumerate(segs):
        row = {"start": start, "n_leaves": len(leaves), "first_leaf": base + len(body)}
        seg_rows += [float(row[name]) for name in kinds.SEGMENT_ROW._fields]
        end = segs[si + 1][0] if si + 1 < len(segs) else None
        for leaf in leaves:
            params = [float(x) for x in leaf.params(quantity)]
            slot = -1
            if leaf.function() is not None:
                slot = len(functions)
                functions.append(
                    FunctionSlot(slot, leaf.kind, leaf.function(), start, end, leaf.evaluation)
                )
            head = {
                "kind": leaf.kind,
                "n_params": len(params),
                "state_slot": leaf_index,
                "function_slot": slot,
            }
            body += [float(head[name]) for name in kinds.LEAF_HEADER._fields]
            body += params
            leaf_index += 1
        stateless &= any(family.overwriting(leaf.kind) for leaf in leaves)
    code = np.ascontiguousarray(header + seg_rows + body, dtype=np.float64)
    return Program(
        code=code,
        segment_starts=tuple(s for s, _ in segs),
        functions=tuple(functions),
        stateless=stateless,
        spec=spec,
    )
