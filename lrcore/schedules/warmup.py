r"""Warm-up in front of any schedule, and the decays of transformers and WSD.

The factors are transformers' (``optimization.py``), so a table times the base LR
equals its ``LambdaLR`` bit for bit. With :math:`W` warm-up steps and
:math:`s = t - W` the steps after it:

* ``warmup``: :math:`t/W` (``linear``), :math:`(1 - \cos(\pi t/W))/2` (``cosine``),
  :math:`1 - \sqrt{1 - t/W}` (``1-sqrt``), each mapped to ``[min_lr_ratio, 1]``;
  ``linear_plus_one``: :math:`(t+1)/W`; ``linear_from``: :math:`r + (1-r)\,t/(W-1)`.
  Then ``schedule`` runs with its own step count starting at 0.
* ``linear_decay``: :math:`\max(0, (D - s)/\max(1, D))`
* ``cosine_decay``: :math:`r + (1-r)(1 + \cos(2\pi c\,p))/2`, :math:`p = (s + o)/D`
* ``cosine_hard_restarts``: :math:`(1 + \cos(\pi\,((c\,p) \bmod 1)))/2`, 0 once :math:`p \ge 1`
* ``polynomial_decay``: :math:`((\eta_i - \eta_e)(1 - s/D)^k + \eta_e)/\eta_i`,
  then :math:`\eta_e/\eta_i` (BERT's, with absolute ``lr_init`` and ``lr_end``)
* ``inverse_sqrt``: :math:`1/\sqrt{(s + \tau)/\tau}`
* ``wsd``: warm-up, ``stable_steps`` at 1, then a ``linear``, ``cosine`` or
  ``1-sqrt`` decay to ``min_lr_ratio`` over ``decay_steps`` (Hu et al., MiniCPM, 2024).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _validate as v
from .. import kinds as K
from ..family import Family, declare
from ..kernels import closed as cl
from ..kernels import torch_numerics as tn
from ..kernels.formulas import (
    F_COSINE_P,
    F_HARD_RESTARTS_P,
    F_INV_SQRT_P,
    F_LINEAR_P,
    F_POLYNOMIAL_P,
    F_STABLE_P,
    F_WARMUP_P,
    F_WSD_P,
    FACTOR,
)
from ..spec import Spec
from .leaf import Leaf

_WARMUPS = {
    "linear": K.W_LINEAR,
    "cosine": K.W_COSINE,
    "1-sqrt": K.W_SQRT,
    "linear_plus_one": K.W_PLUS_ONE,
    "linear_from": K.W_FROM,
}
_DECAYS = {"linear": K.W_LINEAR, "cosine": K.W_COSINE, "1-sqrt": K.W_SQRT}


class _Factor(Leaf):
    shape: int
    layout: tuple[str, ...]  # its shape's F_*_P: FACTOR's a, b, c, d in order

    def params(self, quantity="lr"):
        values = self._values()
        abcd = [values[name] for name in self.layout]
        return [self.shape, *abcd, *[0.0] * (len(FACTOR) - 1 - len(abcd))]

    def _values(self):
        return {name: getattr(self, name) for name in self.layout}


@dataclass(frozen=True)
class Stable(_Factor):
    """A factor of 1: the base LR (transformers' constant schedule, WSD's stable phase)."""

    name = "stable"
    shape = K.F_STABLE
    layout = F_STABLE_P._fields


@dataclass(frozen=True)
class _WarmupLeaf(_Factor):
    warmup_steps: int
    warmup_type: str
    min_lr_ratio: float
    warmup_lr_rate: float
    name = "_warmup"
    shape = K.F_WARMUP
    layout = F_WARMUP_P._fields

    def _values(self):
        return {**super()._values(), "warmup_type": _WARMUPS[self.warmup_type]}


@dataclass(frozen=True)
class LinearDecay(_Factor):
    decay_steps: int
    name = "linear_decay"
    shape = K.F_LINEAR
    layout = F_LINEAR_P._fields

    def __post_init__(self):
        v.integer(self.name, "decay_steps", self.decay_steps, minimum=0)


@dataclass(frozen=True)
class CosineDecay(_Factor):
    decay_steps: int
    num_cycles: float = 0.5
    min_lr_rate: float = 0.0
    progress_offset: float = 0.0
    name = "cosine_decay"
    shape = K.F_COSINE
    layout = F_COSINE_P._fields

    def __post_init__(self):
        n = self.name
        v.integer(n, "decay_steps", self.decay_steps, minimum=0)
        object.__setattr__(
            self, "num_cycles", v.real(n, "num_cycles", self.num_cycles, low=0.0, low_open=True)
        )
        object.__setattr__(
            self, "min_lr_rate", v.real(n, "min_lr_rate", self.min_lr_rate, low=0.0, high=1.0)
        )
        object.__setattr__(
            self,
            "progress_offset",
            v.real(n, "progress_offset", self.progress_offset, low=0.0, high=1.0),
        )


@dataclass(frozen=True)
class CosineHardRestarts(_Factor):
    decay_steps: int
    num_cycles: float = 1.0
    name = "cosine_hard_restarts"
    shape = K.F_HARD_RESTARTS
    layout = F_HARD_RESTARTS_P._fields

    def __post_init__(self):
        v.integer(self.name, "decay_steps", self.decay_steps, minimum=0)
        object.__setattr__(
            self,
            "num_cycles",
            v.real(self.name, "num_cycles", self.num_cycles, low=0.0, low_open=True),
        )


@dataclass(frozen=True)
class PolynomialDecay(_Factor):
    decay_steps: int
    lr_init: float
    lr_end: float = 1e-7
    power: float = 1.0
    name = "polynomial_decay"
    shape = K.F_POLYNOMIAL
    layout = F_POLYNOMIAL_P._fields

    def __post_init__(self):
        n = self.name
        v.integer(n, "decay_steps", self.decay_steps, minimum=1)
        lr_init = v.real(n, "lr_init", self.lr_init, low=0.0, low_open=True)
        lr_end = v.real(n, "lr_end", self.lr_end, low=0.0)
        if not lr_init > lr_end:
            v.fail(n, "lr_end", self.lr_end, f"smaller than lr_init={lr_init!r}")
        object.__setattr__(self, "power", v.real(n, "power", self.power, low=0.0))


@dataclass(frozen=True)
class InverseSqrt(_Factor):
    timescale: int = 10_000
    name = "inverse_sqrt"
    shape = K.F_INV_SQRT
    layout = F_INV_SQRT_P._fields

    def __post_init__(self):
        v.integer(self.name, "timescale", self.timescale, minimum=1)


@dataclass(frozen=True)
class WSDDecay(_Factor):
    decay_steps: int
    decay_type: str = "cosine"
    min_lr_ratio: float = 0.0
    num_cycles: float = 0.5
    name = "wsd_decay"
    shape = K.F_WSD
    layout = F_WSD_P._fields

    def __post_init__(self):
        n = self.name
        v.integer(n, "decay_steps", self.decay_steps, minimum=0)
        v.choice(n, "decay_type", self.decay_type, _DECAYS)
        object.__setattr__(
            self, "min_lr_ratio", v.real(n, "min_lr_ratio", self.min_lr_ratio, low=0.0, high=1.0)
        )
        object.__setattr__(
            self, "num_cycles", v.real(n, "num_cycles", self.num_cycles, low=0.0, low_open=True)
        )

    def _values(self):
        return {**super()._values(), "decay_type": _DECAYS[self.decay_type]}


def _check_warmup(name, steps, warmup_type, min_lr_ratio, warmup_lr_rate):
    v.integer(name, "warmup_steps", steps, minimum=0)
    v.choice(name, "warmup_type", warmup_type, _WARMUPS)
    ratio = v.real(name, "min_lr_ratio", min_lr_ratio, low=0.0, high=1.0)
    rate = v.real(name, "warmup_lr_rate", warmup_lr_rate, low=0.0, high=1.0)
    return ratio, rate


@dataclass(frozen=True)
class Warmup(Spec):
    """``warmup_steps`` of warm-up, then ``schedule`` with its step count from 0."""

    schedule: Spec
    warmup_steps: int
    warmup_type: str = "linear"
    min_lr_ratio: float = 0.0
    warmup_lr_rate: float = 0.0
    name = "warmup"

    def __post_init__(self):
        n = self.name
        if not isinstance(self.schedule, Spec):
            v.fail(n, "schedule", self.schedule, "a schedule spec", TypeError)
        if self.schedule.absolute:
            v.fail(
                n,
                "schedule",
                str(self.schedule),
                "a schedule relative to the base LR (not one that sets its own LRs: cyclic, "
                "one_cycle, deepspeed_warmup, megatron, ...)",
            )
        ratio, rate = _check_warmup(
            n, self.warmup_steps, self.warmup_type, self.min_lr_ratio, self.warmup_lr_rate
        )
        object.__setattr__(self, "min_lr_ratio", ratio)
        object.__setattr__(self, "warmup_lr_rate", rate)

    def segments(self):
        """The warm-up leaf, then ``schedule`` from ``warmup_steps`` (lowered by
        lrcore.program)."""
        rest = [(self.warmup_steps, self.schedule)]
        if self.warmup_steps == 0:
            return rest
        leaf = _WarmupLeaf(
            self.warmup_steps, self.warmup_type, self.min_lr_ratio, self.warmup_lr_rate
        )
        return [(0, (leaf,))] + rest


@dataclass(frozen=True)
class WSD(Spec):
    """Warmup-stable-decay: warm-up, ``stable_steps`` at the base LR, then a decay."""

    warmup_steps: int
    stable_steps: int
    decay_steps: int
    warmup_type: str = "linear"
    decay_type: str = "cosine"
    min_lr_ratio: float = 0.0
    num_cycles: float = 0.5
    name = "wsd"

    def __post_init__(self):
        n = self.name
        ratio, _ = _check_warmup(n, self.warmup_steps, self.warmup_type, self.min_lr_ratio, 0.0)
        if self.warmup_type not in _DECAYS:
            v.fail(n, "warmup_type", self.warmup_type, "one of 'linear', 'cosine', '1-sqrt'")
        object.__setattr__(self, "min_lr_ratio", ratio)
        v.integer(n, "stable_steps", self.stable_steps, minimum=0)
        v.integer(n, "decay_steps", self.decay_steps, minimum=0)
        v.choice(n, "decay_type", self.decay_type, _DECAYS)
        object.__setattr__(
            self, "num_cycles", v.real(n, "num_cycles", self.num_cycles, low=0.0, low_open=True)
        )

    def segments(self):
        decay = WSDDecay(self.decay_steps, self.decay_type, self.min_lr_ratio, self.num_cycles)
        out = []
        if self.warmup_steps:
            out.append(
                (0, (_WarmupLeaf(self.warmup_steps, self.warmup_type, self.min_lr_ratio, 0.0),))
            )
        start = self.warmup_steps
        if self.stable_steps:
            out.append((start, (Stable(),)))
            start += self.stable_steps
        if not out or start > out[-1][0]:
            out.append((start, (decay,)))
        return out


def transformers_call(spec):
    """(transformers' ``get_*`` function, its arguments after the optimizer as code, the
    optimizer LR it assumes or None) whose schedule ``spec`` is: a decay of this family,
    bare or behind a linear warm-up (``warmup(..., warmup_steps=w)``, its other options
    at their defaults), as lrsched's functions build them; ``NotExact`` otherwise
    (``lrcore convert --to transformers`` writes it; :func:`from_transformers_call`
    reads it back)."""
    from ..family import NotExact

    warmup, decay = 0, spec
    if spec.name == "warmup":
        if (spec.warmup_type, spec.min_lr_ratio, spec.warmup_lr_rate) != ("linear", 0.0, 0.0):
            raise NotExact(
                "--to transformers: only a linear warm-up with min_lr_ratio=0 and "
                "warmup_lr_rate=0 is one of transformers' functions"
            )
        warmup, decay = spec.warmup_steps, spec.schedule
    name = decay.name
    total = f"num_training_steps={warmup + getattr(decay, 'decay_steps', 0)}"
    if name == "stable":
        function = "get_constant_schedule_with_warmup" if warmup else "get_constant_schedule"
        args = [f"num_warmup_steps={warmup}"] if warmup else []
    elif name == "linear_decay":
        function, args = "get_linear_schedule_with_warmup", [f"num_warmup_steps={warmup}", total]
    elif name == "cosine_decay" and decay.progress_offset == 0.0:
        args = [f"num_warmup_steps={warmup}", total, f"num_cycles={decay.num_cycles!r}"]
        function = "get_cosine_schedule_with_warmup"
        if decay.min_lr_rate != 0.0:
            function = "get_cosine_with_min_lr_schedule_with_warmup"
            args.append(f"min_lr_rate={decay.min_lr_rate!r}")
    elif name == "cosine_hard_restarts":
        function = "get_cosine_with_hard_restarts_schedule_with_warmup"
        args = [f"num_warmup_steps={warmup}", total, f"num_cycles={decay.num_cycles!r}"]
    elif name == "polynomial_decay":
        function = "get_polynomial_decay_schedule_with_warmup"
        args = [f"num_warmup_steps={warmup}", total, f"lr_end={decay.lr_end!r}"]
        args.append(f"power={decay.power!r}")
    elif name == "inverse_sqrt":
        function = "get_inverse_sqrt_schedule"
        args = [f"num_warmup_steps={warmup}", f"timescale={decay.timescale!r}"]
    else:
        raise NotExact(f"--to transformers: {spec.name} is not one of transformers' schedules")
    lr_init = decay.lr_init if name == "polynomial_decay" else None
    return function, args, lr_init


# -- the converter: transformers' calls ---------------------------------------------------
#: transformers' functions, their parameters after the optimizer (positional order) and
#: defaults, as transformers.optimization has them
TRANSFORMERS_FUNCTIONS = {
    "get_constant_schedule": ((), {}),
    "get_constant_schedule_with_warmup": (("num_warmup_steps",), {}),
    "get_linear_schedule_with_warmup": (("num_warmup_steps", "num_training_steps"), {}),
    "get_cosine_schedule_with_warmup": (
        ("num_warmup_steps", "num_training_steps", "num_cycles"),
        {"num_cycles": 0.5},
    ),
    "get_cosine_with_hard_restarts_schedule_with_warmup": (
        ("num_warmup_steps", "num_training_steps", "num_cycles"),
        {"num_cycles": 1},
    ),
    "get_inverse_sqrt_schedule": (("num_warmup_steps", "timescale"), {"timescale": None}),
    "get_cosine_with_min_lr_schedule_with_warmup": (
        (
            "num_warmup_steps",
            "num_training_steps",
            "num_cycles",
            "last_epoch",
            "min_lr",
            "min_lr_rate",
        ),
        {"num_cycles": 0.5, "last_epoch": -1, "min_lr": None, "min_lr_rate": None},
    ),
}


def from_transformers_call(text: str):
    """The spec of a call of transformers' schedule functions as written in code,
    ``"get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=500,
    num_training_steps=10000)"`` (positional arguments as transformers orders them),
    built as lrsched's functions build it."""
    import ast

    where = "from_transformers_call"
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{where}: not a call, got {text!r}") from None
    func = getattr(node, "func", None)
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if not isinstance(node, ast.Call) or name not in TRANSFORMERS_FUNCTIONS:
        raise ValueError(
            f"{where}: expected a call of one of {', '.join(TRANSFORMERS_FUNCTIONS)}, got {text!r}"
        )
    order, defaults = TRANSFORMERS_FUNCTIONS[name]
    args = list(node.args)
    if args and isinstance(args[0], ast.Name):
        args = args[1:]  # the optimizer
    try:
        given = {k: ast.literal_eval(a) for k, a in zip(order, args)}
        given.update({kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg})
    except ValueError:
        raise ValueError(f"{where}: the arguments must be literals, got {text!r}") from None
    given.pop("optimizer", None)
    given.pop("last_epoch", None)
    known = set(order)
    stray = sorted(set(given) - known)
    if len(args) > len(order) or stray:
        raise ValueError(
            f"{where}: {name} takes {', '.join(order) or 'no arguments'}, got {text!r}"
        )
    a = {**defaults, **given}
    missing = [k for k in order if k not in a]
    if missing:
        raise ValueError(f"{where}: {name} needs {', '.join(missing)}")
    w = a.get("num_warmup_steps", 0)

    def warm(schedule):
        return Warmup(schedule, w) if w else schedule

    def decay_steps():
        total = a["num_training_steps"]
        if total < w:
            raise ValueError(
                f"{where}: num_training_steps ({total}) must be at least num_warmup_steps ({w})"
            )
        return total - w

    if name in ("get_constant_schedule", "get_constant_schedule_with_warmup"):
        return warm(Stable())
    if name == "get_linear_schedule_with_warmup":
        return warm(LinearDecay(decay_steps()))
    if name == "get_cosine_schedule_with_warmup":
        return warm(CosineDecay(decay_steps(), a["num_cycles"]))
    if name == "get_cosine_with_hard_restarts_schedule_with_warmup":
        return warm(CosineHardRestarts(decay_steps(), a["num_cycles"]))
    if name == "get_inverse_sqrt_schedule":
        return warm(InverseSqrt(a["timescale"] if a["timescale"] is not None else (w or 10_000)))
    if a["min_lr"] is not None or a["min_lr_rate"] is None:
        raise ValueError(
            f"{where}: min_lr is relative to the optimizer's LR, which a call's text does not "
            "hold: give min_lr_rate"
        )
    return warm(CosineDecay(decay_steps(), a["num_cycles"], a["min_lr_rate"]))


# -- the declaration ----------------------------------------------------------------------
declare(
    Family(
        name="warmup",
        code=13,
        framework="transformers",
        specs=(_Factor,),
        layout=FACTOR._fields,
        read=from_transformers_call,
        get_lr=tn.factor_get_lr,
        closed=cl.factor_closed,
        samples=lambda steps: {
            "warmup": Warmup(CosineDecay(decay_steps=max(steps // 40, 1)), warmup_steps=100)
        },
    )
)
