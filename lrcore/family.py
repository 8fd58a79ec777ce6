"""Families: each kernel family of schedules declared once, and everything derived from it.

A family is what one kind code in a program means: its spec classes, how the
kernels evaluate it in both numerics, its flags, and what the tools around the
kernels need to know about it (sample specs, the framework object it equals,
plot markers). Its module declares it once::

    FAMILY = declare(Family(
        name="timm_step", code=20, framework="timm", specs=(TimmStep,),
        layout=("warmup_t", "warmup_lr_init", ...), value=timm_step_value,
        samples=lambda steps: {"timm_step": TimmStep(decay_t=steps // 10)},
    ))

and everything that used to list families reads :data:`FAMILIES`: the kernel
tables of both numerics (:mod:`lrcore.kernels.torch_numerics`,
:mod:`lrcore.kernels.closed`), the C ABI's set of families, ``lrcore warmup``,
``lrcore bench``, the gallery, the exports of :mod:`lrcore.schedules` and the
flags :mod:`lrcore.program` and :mod:`lrcore.table` consult. Adding a family is
its module (spec classes, kernels, declaration) and its tests; no other file
changes.

This module is the bottom of the house beside :mod:`lrcore.kinds`: it imports
nothing of lrcore's, and the layers above it read it at run time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: the frameworks lrcore reproduces, in the order lists and pages show them
FRAMEWORKS = ("torch", "transformers", "timm", "deepspeed", "megatron", "fairseq", "optax", "keras")


class NotExact(ValueError):
    """A target framework has no family equal to a spec's: no exact artifact
    (``lrcore convert --to``; the family modules' writers raise it)."""


#: kind codes are bits of a 64-bit mask (:func:`lrcore.kernels.torch_numerics.kind_mask`)
MAX_CODE = 62


@dataclass(frozen=True, eq=False)
class Family:
    """One kernel family: a kind code and everything that knows about it.

    Formulas (numba kernels from :func:`lrcore.kernels.njit`, any module):

    * ``value(code, p, base, t) -> LR``: a *pointwise* family's value at step ``t``
      (a function of the step alone; ``p`` is its first parameter). Both numerics'
      drivers are made from it, and a strided table can skip steps.
    * otherwise ``get_lr`` (torch numerics: the new LR from the current one, in one
      of torch's modes, ``(code, off, st, v, base, e, mode, aux, aux_lo, aux_off)``)
      and ``closed`` (the closed form over a run,
      ``(code, off, base, e0, out, i0, n, first, buf, cj, sj, aux, aux_lo, aux_off)``);
      ``steps`` optionally replaces the generic run of steps with the family's own loop.
    """

    name: str  #: the name ``lrcore warmup`` and ``lrcore bench`` know it by
    code: int  #: its kind code in a program (stable: cached kernels are named by it)
    framework: str  #: whose schedules these are: "torch", "timm", "deepspeed", ...
    specs: tuple  #: its spec classes (their ``kind`` is set to ``code``)
    layout: tuple[str, ...] = ()  #: parameter names in kernel order (see :func:`offsets`)
    value: Any = None
    get_lr: Any = None
    closed: Any = None
    steps: Any = None
    #: ``runs(code, p, t, limit) -> int``, for a pointwise family constant over runs of
    #: steps (staircases): the last step <= ``limit`` of step ``t``'s run, checked (``t``
    #: where it cannot tell); the closed numerics then compute ``value`` once a run and
    #: fill the run as a block, the same bits
    runs: Any = None
    #: ``pieces(code, p, base, t, limit) -> (end, shape, lo, hi, a, x, k)``, for a
    #: pointwise family with smooth stretches: from step ``t`` to ``end`` (<= ``limit``)
    #: its value is ``lo + (hi - lo) * f`` at step ``s``, ``f`` the shape (one of
    #: ``lrcore.kinds.PIECE_*``: cos(a x)**2, (1 - a x)**k, 1/sqrt(a x), ...) at ``x + s -
    #: t``; or, for ``PIECE_RUN``, step ``t``'s value throughout (a run, as ``runs``: ``end``
    #: is ``t`` where it cannot tell). Build them with ``lrcore.kernels.formulas``'s
    #: ``run_piece``, ``cos_piece`` and the rest. The closed numerics write a stretch in
    #: vectorised loops (1e-12 of the framework's own per-step formula, or nearer the
    #: exact value where that formula cancels)
    pieces: Any = None
    #: the STEP-mode update is ``v -> v * r(e)`` (chains of them multiply factor tables)
    ratio: bool = False
    #: the value ignores the incoming LR (torch computes it from base_lrs or its own
    #: parameters); False for chainable factors (step, exponential, ...)
    overwriting: bool = True
    #: the spec holds a Python function (lambda): not in the C ABI, not in warmup
    user_function: bool = False
    #: ``samples(steps) -> {label: spec}``: representative specs sized for ``steps``,
    #: read by the tests, ``lrcore bench``, ``lrcore warmup`` and the gallery
    samples: Callable[[int], dict] | None = None
    #: ``reference(spec, optimizer)``: the framework's own torch scheduler for ``spec``
    #: (``lrcore bench`` steps it), None where the framework is not torch's
    reference: Callable | None = None
    #: ``events(spec, steps) -> [step, ...]``: milestones and restarts, for plot markers
    events: Callable | None = None
    #: ``formula(xp, spec, t)``: the schedule with array ops of numpy or torch (bench)
    formula: Callable | None = None
    #: the converters from the framework's own terms: its names for these schedules
    #: (DeepSpeed's scheduler ``type``, fairseq's ``--lr-scheduler``, torch's class) ->
    #: the spec class that takes the framework's arguments by their names
    #: (``lrcore.convert`` reads configs and flags through them; see :func:`names`)
    names: Mapping[str, type] = field(default_factory=dict)
    #: the reader of the framework's own configuration (a DeepSpeed config, Megatron-LM's
    #: or fairseq's flags) into a spec; ``lrcore convert`` reads with it
    read: Callable | None = None
    doc: str = field(default="", repr=False)

    @property
    def pointwise(self) -> bool:
        """The value is a function of the step alone (no recurrence, state or mode)."""
        return self.value is not None


#: kind code -> family, in declaration order
FAMILIES: dict[int, Family] = {}
_LOCK = threading.RLock()
_listeners: list[Callable[[Family], None]] = []


def declare(family: Family) -> Family:
    """Register ``family`` (its module calls this once) and give its specs its code."""
    if not isinstance(family.code, int) or not 1 <= family.code <= MAX_CODE:
        raise ValueError(
            f"family {family.name!r}: code must be an int in [1, {MAX_CODE}], got {family.code!r}"
        )
    if family.value is None and (family.get_lr is None or family.closed is None):
        raise ValueError(
            f"family {family.name!r}: declare value= (pointwise) or both get_lr= and closed="
        )
    for field_name in ("runs", "pieces"):
        if getattr(family, field_name) is not None and (
            family.value is None or family.closed is not None
        ):
            raise ValueError(
                f"family {family.name!r}: {field_name}= goes with value= and no closed="
            )
    if family.runs is not None and family.pieces is not None:
        raise ValueError(f"family {family.name!r}: declare runs= or pieces=, not both")
    with _LOCK:
        held = FAMILIES.get(family.code)
        if held is not None and held.name != family.name:
            raise ValueError(
                f"family {family.name!r}: code {family.code} is taken by {held.name!r} "
                f"(taken: {sorted(FAMILIES)})"
            )
        same = [f for f in FAMILIES.values() if f.name == family.name and f.code != family.code]
        if same:
            raise ValueError(f"family {family.name!r} is declared already (code {same[0].code})")
        FAMILIES[family.code] = family
        for cls in family.specs:
            cls.kind = family.code
            cls.family = family
        for listener in list(_listeners):
            listener(family)
    return family


def declared() -> list[Family]:
    """Every declared family, by kind code."""
    return [FAMILIES[k] for k in sorted(FAMILIES)]


def samples(steps: int) -> dict:
    """``{label: spec}``: every declared family's sample specs, sized for ``steps``."""
    out = {}
    for f in declared():
        if f.samples is not None:
            out.update(f.samples(steps))
    return out


def on_declare(listener: Callable[[Family], None]) -> None:
    """Call ``listener(family)`` for each family declared from now on (derived tables
    drop what they made for a redeclared code)."""
    _listeners.append(listener)


def of(kind: int) -> Family:
    """The family of kind code ``kind``."""
    try:
        return FAMILIES[int(kind)]
    except KeyError:
        raise ValueError(
            f"no family has kind code {kind!r} (declared: "
            + ", ".join(f"{f.code}={f.name}" for f in FAMILIES.values())
            + ")"
        ) from None


def named(name: str) -> Family:
    """The family called ``name``."""
    for f in FAMILIES.values():
        if f.name == name:
            return f
    raise ValueError(
        f"unknown family {name!r}; known: {', '.join(f.name for f in FAMILIES.values())}"
    )


def overwriting(kind: int) -> bool:
    return of(kind).overwriting


def pointwise(kind: int) -> bool:
    return of(kind).pointwise


def ratio(kind: int) -> bool:
    return of(kind).ratio


def names(framework: str) -> dict[str, type]:
    """The framework's own names for its schedules -> their spec classes, from the
    declarations of its families (``Family.names``)."""
    out: dict[str, type] = {}
    for fam in declared():
        if fam.framework == framework:
            out.update(fam.names)
    return out


def offsets(layout: tuple[str, ...]):
    """The named offsets of a parameter layout: ``P.decay_t`` is ``decay_t``'s position
    after a leaf's first parameter, so a kernel reads ``code[p + P.decay_t]`` (a
    namedtuple of ints: a compile-time constant in numba)."""
    from collections import namedtuple

    return namedtuple("Offsets", layout)(*range(len(layout)))


class ByKind(Mapping):
    """``kind -> make(family)`` for every declared family that ``make`` serves (it
    returns None for the others), made on first use: a kernel table derived from
    the declarations, which sees families declared after it was made."""

    def __init__(self, make: Callable[[Family], Any]):
        self._make = make
        self._made: dict[int, tuple[Family, Any]] = {}
        on_declare(self._forget)

    def _forget(self, family: Family) -> None:
        self._made.pop(family.code, None)

    def __getitem__(self, kind):
        made = self._made.get(kind)
        if made is None:
            family = FAMILIES.get(int(kind))
            if family is None:
                raise KeyError(kind)
            with _LOCK:
                made = self._made.get(kind)
                if made is None:
                    made = self._made[kind] = (family, self._make(family))
        if made[1] is None:
            raise KeyError(kind)
        return made[1]

    def __iter__(self) -> Iterator[int]:
        for kind in list(FAMILIES):
            try:
                self[kind]
            except KeyError:
                continue
            yield kind

    def __len__(self) -> int:
        return sum(1 for _ in self)
