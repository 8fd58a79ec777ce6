"""Composition: schedules one after another, or applied together.

* ``sequential`` follows torch's SequentialLR: schedule ``k`` runs from
  milestone ``k-1`` with its own step count restarting at 0; on its first step it
  starts from its closed form at 0 (torch's ``_update_lr(0)``), so e.g. a cosine
  after a linear warm-up starts at the base LR.
* ``chained`` follows torch's ChainedScheduler: every schedule updates the same
  learning rate in turn each step, so factors multiply (a constant factor times an
  exponential decay), and a schedule computed from the base LR (a lambda, warm
  restarts) overrides what came before it in the chain.

Only single schedules may be composed, and a chain may sit inside nothing:
torch itself fails on a ChainedScheduler inside a SequentialLR. Cyclic and
one-cycle schedules carry absolute learning rates and cannot be composed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _validate as v
from ..spec import Spec
from .leaf import Leaf


def _children(name: str, schedulers) -> tuple[Leaf, ...]:
    if isinstance(schedulers, Spec) or not isinstance(schedulers, (list, tuple)):
        v.fail(name, "schedulers", schedulers, "a list of schedule specs", TypeError)
    if len(schedulers) < 1:
        v.fail(name, "schedulers", schedulers, "a list of at least one schedule spec")
    for i, child in enumerate(schedulers):
        if not isinstance(child, Spec):
            v.fail(name, f"schedulers[{i}]", child, "a schedule spec", TypeError)
        if not isinstance(child, Leaf):
            v.fail(
                name, f"schedulers[{i}]", str(child), "a single schedule (no nested composition)"
            )
        if child.absolute:
            v.fail(
                name,
                f"schedulers[{i}]",
                str(child),
                "a schedule relative to the base LR (cyclic, one_cycle, deepspeed_warmup, "
                "megatron, ... set their own LRs)",
            )
    return tuple(schedulers)


@dataclass(frozen=True)
class Sequential(Spec):
    """torch's SequentialLR: ``schedulers[k]`` takes over at ``milestones[k-1]``."""

    schedulers: tuple[Leaf, ...]
    milestones: tuple[int, ...]
    name = "sequential"

    def __post_init__(self):
        n = self.name
        object.__setattr__(self, "schedulers", _children(n, self.schedulers))
        ms = v.integers(n, "milestones", self.milestones, minimum=1)
        if len(ms) != len(self.schedulers) - 1:
            v.fail(
                n,
                "milestones",
                list(ms),
                f"a list of {len(self.schedulers) - 1} steps "
                f"(one fewer than the {len(self.schedulers)} schedulers)",
            )
        if any(b <= a for a, b in zip(ms, ms[1:])):
            v.fail(n, "milestones", list(ms), "strictly increasing")
        object.__setattr__(self, "milestones", ms)


@dataclass(frozen=True)
class Chained(Spec):
    """torch's ChainedScheduler: all ``schedulers`` update the LR in turn each step."""

    schedulers: tuple[Leaf, ...]
    name = "chained"

    def __post_init__(self):
        object.__setattr__(self, "schedulers", _children(self.name, self.schedulers))
