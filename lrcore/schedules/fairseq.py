r"""fairseq's LR schedulers (``fairseq.optim.lr_scheduler``), with its parameter names.

Table index ``t`` is fairseq's ``num_updates``: the LR its ``step_update(t)`` sets,
which is the LR of the update after ``t`` updates (fairseq's Trainer calls
``step_update(0)`` when it builds the scheduler, then after every update). ``lr`` is
fairseq's ``--lr`` (``cfg.lr[0]``); these specs carry their own LRs, so a table's
``base_lr`` is not used. With :math:`W` = ``warmup_updates`` and :math:`\eta_0` the
warm-up's first LR (``warmup_init_lr``; fairseq's -1 default picks it per scheduler):

* ``fairseq_inverse_sqrt``: :math:`\eta_0 + t(\eta - \eta_0)/W` for :math:`t < W`,
  then :math:`\eta\sqrt W / \sqrt t`.
* ``fairseq_step``: the same warm-up, then
  :math:`\max(\eta\,\gamma^{\lfloor (t - W)/P \rfloor}, \eta_{min})` (``lr_decay``
  :math:`\gamma`, ``lr_deacy_period`` :math:`P`: fairseq's spelling).
* ``fairseq_cosine``: the same warm-up, then SGDR (Loshchilov & Hutter, 2017):
  cycles of ``lr_period_updates`` (default: ``max_update - warmup_updates``) growing
  by ``t_mult``, each cycle's bounds shrunk by ``lr_shrink`` to the cycle's power.
* ``fairseq_polynomial_decay``: :math:`\eta\,t/W` for :math:`t \le W`, then
  :math:`(\eta - \eta_e)(1 - (t - W)/(T - W))^k + \eta_e`, and :math:`\eta_e` from
  ``total_num_update`` :math:`T` on.
* ``fairseq_tri_stage``: linear from ``init_lr_scale``:math:`\cdot\eta` to :math:`\eta`
  over ``warmup_steps``, :math:`\eta` for ``hold_steps``, an exponential decay to
  ``final_lr_scale``:math:`\cdot\eta` over ``decay_steps`` (the step counts from
  ``phase_ratio`` and ``max_update`` when given), then that final LR.
* ``fairseq_triangular``: Smith's triangular cycle (2017) between ``lr`` and
  ``max_lr`` over ``lr_period_updates``, the peak (and with ``shrink_min`` the floor)
  shrunk by ``lr_shrink`` each cycle.
* ``fairseq_fixed``: ``lr[epoch - 1]`` (the last entry from then on), or after
  ``force_anneal`` epochs ``lr[-1] * lr_shrink ** (epoch + 1 - force_anneal)``, times
  :math:`(t + 1)/W` during the warm-up. fairseq's epochs come from its Trainer; the
  table needs ``updates_per_epoch`` (lrcore's parameter, not fairseq's; None: every
  update is in epoch 1).

Every constant that fairseq's constructor computes is computed here in the same
Python arithmetic, and the kernels do the rest in fairseq's order, so the tables
equal fairseq's values bit for bit (``tests/test_fairseq.py``).

fairseq's epoch-driven parts are the drop-ins' (:mod:`lrsched.fairseq`), not the
specs': a list of LRs indexed by epoch and ``force_anneal`` in
``polynomial_decay``, which then restarts its decay from the LR of the moment. The
values fairseq refuses by raising (a division by zero, a logarithm of a
non-positive number, a failed assertion) are refused here when the spec is made,
naming the parameter; a ``t_mult < 1`` whose shrinking cycles run out gives NaN in
the table's check, which names the step (fairseq raises ``ValueError`` there).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from .. import _validate as v
from .. import kinds as K
from ..family import Family, declare
from ..kernels.formulas import (
    FS_COSINE_P,
    FS_FIXED_P,
    FS_FIXED_TAIL,
    FS_INV_SQRT_P,
    FS_POLY_P,
    FS_STEP_P,
    FS_TRI_STAGE_P,
    FS_TRIANGULAR_P,
    fairseq_pieces,
    fairseq_value,
)
from .leaf import Leaf

_NAN = float("nan")


class _Fairseq(Leaf):
    absolute = True

    def _set(self, field, value):
        object.__setattr__(self, field, value)

    def _reals(self, *fields, low=None):
        for field in fields:
            self._set(field, v.real(self.name, field, getattr(self, field), low=low))

    def _ints(self, *fields, minimum=0):
        for field in fields:
            v.integer(self.name, field, getattr(self, field), minimum=minimum)

    def _above(self, high, low):
        """fairseq's ``assert high > low``, as an error naming both."""
        a, b = getattr(self, high), getattr(self, low)
        if not a > b:
            raise ValueError(f"{self.name}: {high} must be > {low}, got {high}={a!r}, {low}={b!r}")

    def derived(self) -> dict:
        """What fairseq's constructor computes from the options, by fairseq's attribute
        names (the kernel's parameters, in ``layout`` order)."""
        raise NotImplementedError

    def _by_layout(self, shape):
        d = self.derived()
        return [shape, *(d[name] for name in self.layout)]

    def _warmup_start(self, default):
        """fairseq's ``warmup_init_lr``: its -1 (any negative) means ``default``."""
        return self.warmup_init_lr if self.warmup_init_lr >= 0 else default


@dataclass(frozen=True)
class FairseqInverseSqrt(_Fairseq):
    """fairseq's ``inverse_sqrt``: linear warm-up, then decay as 1/sqrt(num_updates)."""

    lr: float
    warmup_updates: int = 4000
    warmup_init_lr: float = -1.0
    name = "fairseq_inverse_sqrt"

    def __post_init__(self):
        self._reals("lr", low=0.0)
        self._reals("warmup_init_lr")
        self._ints("warmup_updates", minimum=1)  # fairseq divides by it

    layout = FS_INV_SQRT_P._fields

    def derived(self):
        W, lr = self.warmup_updates, self.lr
        init = self._warmup_start(0)
        return {
            "lr_step": (lr - init) / W,
            "warmup_init_lr": init,
            "warmup_updates": W,
            "decay_factor": lr * W**0.5,
            "exponent": -0.5,
        }

    def params(self, quantity="lr"):
        return self._by_layout(K.FS_INV_SQRT)


@dataclass(frozen=True)
class FairseqStep(_Fairseq):
    """fairseq's ``step``: linear warm-up, then a factor ``lr_decay`` every
    ``lr_deacy_period`` updates (fairseq's spelling), no lower than ``min_lr``."""

    lr: float
    warmup_updates: int = 0
    warmup_init_lr: float = -1.0
    min_lr: float = 0.0
    lr_deacy_period: int = 25000
    lr_decay: float = 0.5
    name = "fairseq_step"

    def __post_init__(self):
        self._reals("lr", "min_lr", low=0.0)
        self._reals("warmup_init_lr")
        self._set("lr_decay", v.real(self.name, "lr_decay", self.lr_decay, high=1.0))
        self._ints("warmup_updates")
        self._ints("lr_deacy_period", minimum=1)
        self._above("lr", "min_lr")

    layout = FS_STEP_P._fields

    def derived(self):
        W = self.warmup_updates
        init = self._warmup_start(self.min_lr)
        return {
            "warmup_lr_step": (self.lr - init) / W if W > 0 else 1,
            "warmup_init_lr": init,
            "warmup_updates": W,
            "max_lr": self.lr,
            "min_lr": self.min_lr,
            "lr_deacy_period": self.lr_deacy_period,
            "lr_decay": self.lr_decay,
        }

    def params(self, quantity="lr"):
        return self._by_layout(K.FS_STEP)


@dataclass(frozen=True)
class FairseqCosine(_Fairseq):
    """fairseq's ``cosine``: linear warm-up, then cosine cycles (SGDR) that grow by
    ``t_mult`` and shrink by ``lr_shrink``."""

    lr: float
    warmup_updates: int = 0
    warmup_init_lr: float = -1.0
    min_lr: float = 0.0
    t_mult: float = 1.0
    lr_period_updates: float = -1.0
    lr_shrink: float = 0.1
    max_update: int | None = None
    name = "fairseq_cosine"

    def __post_init__(self):
        self._reals("lr", "min_lr", "lr_shrink", low=0.0)
        self._reals("warmup_init_lr", "lr_period_updates")
        self._set("t_mult", v.real(self.name, "t_mult", self.t_mult, low=0.0, low_open=True))
        self._ints("warmup_updates")
        if self.max_update is not None:  # fairseq's default 0: no limit
            self._ints("max_update")
        if self.lr_period_updates <= 0 and not (self.max_update or 0) > 0:
            # fairseq: "Either --max_update or --lr-period-updates must be set"
            allowed = "an integer >= 1 when lr_period_updates <= 0 (the period)"
            v.fail(self.name, "max_update", self.max_update, allowed)
        if self._period() == 0:  # fairseq divides by it
            v.fail(
                self.name, "max_update", self.max_update, f"!= warmup_updates={self.warmup_updates}"
            )

    def _period(self):
        if self.lr_period_updates > 0:
            return self.lr_period_updates
        return self.max_update - self.warmup_updates

    layout = FS_COSINE_P._fields

    def derived(self):
        min_lr = min(self.min_lr, self.lr)  # fairseq lowers min_lr to lr
        W = self.warmup_updates
        init = self._warmup_start(min_lr)
        return {
            "lr_step": (self.lr - init) / W if W > 0 else 1,
            "warmup_init_lr": init,
            "warmup_updates": W,
            "max_lr": self.lr,
            "min_lr": min_lr,
            "period": self._period(),
            "t_mult": self.t_mult,
            "lr_shrink": self.lr_shrink,
            "pi": math.pi,
        }

    def params(self, quantity="lr"):
        return self._by_layout(K.FS_COSINE)


@dataclass(frozen=True)
class FairseqPolynomialDecay(_Fairseq):
    """fairseq's ``polynomial_decay``: linear warm-up from 0, then a polynomial decay to
    ``end_learning_rate`` at ``total_num_update``."""

    lr: float
    total_num_update: float
    warmup_updates: int = 0
    end_learning_rate: float = 0.0
    power: float = 1.0
    name = "fairseq_polynomial_decay"

    def __post_init__(self):
        self._reals("lr", "end_learning_rate", low=0.0)
        self._reals("power")
        self._set(
            "total_num_update",
            v.real(self.name, "total_num_update", self.total_num_update, low=0.0, low_open=True),
        )
        self._ints("warmup_updates")

    layout = FS_POLY_P._fields

    def derived(self):
        return {name: getattr(self, name) for name in self.layout}

    def params(self, quantity="lr"):
        return self._by_layout(K.FS_POLY)


@dataclass(frozen=True)
class FairseqTriStage(_Fairseq):
    """fairseq's ``tri_stage`` (Park et al. 2019): warm-up, hold, exponential decay."""

    lr: float
    warmup_steps: int = 0
    hold_steps: int = 0
    decay_steps: int = 0
    phase_ratio: tuple | None = None
    init_lr_scale: float = 0.01
    final_lr_scale: float = 0.01
    max_update: float | None = None
    name = "fairseq_tri_stage"

    def __post_init__(self):
        n = self.name
        self._reals("lr", "init_lr_scale", low=0.0)
        self._set(  # fairseq takes its logarithm
            "final_lr_scale",
            v.real(n, "final_lr_scale", self.final_lr_scale, low=0.0, low_open=True),
        )
        self._ints("warmup_steps", "hold_steps", "decay_steps")
        if self.phase_ratio is not None:
            ratio = self.phase_ratio
            if isinstance(ratio, (str, bytes)) or not isinstance(ratio, Sequence):
                v.fail(n, "phase_ratio", ratio, "three numbers that add up to 1", TypeError)
            ratio = tuple(v.real(n, "phase_ratio", r, low=0.0) for r in ratio)
            if len(ratio) != 3:
                v.fail(n, "phase_ratio", self.phase_ratio, "three numbers that add up to 1")
            # fairseq's check is exact: (0.6, 0.3, 0.1) fails it, (0.1, 0.3, 0.6) passes
            if sum(ratio) != 1:
                got = sum(ratio)
                allowed = (
                    f"three numbers whose float sum is exactly 1 (fairseq's check; got {got!r})"
                )
                v.fail(n, "phase_ratio", self.phase_ratio, allowed)
            self._set("phase_ratio", ratio)
        if self.max_update is not None:  # fairseq's default 0: no limit
            self._set("max_update", v.real(n, "max_update", self.max_update, low=0.0))
        if self.phase_ratio is not None and not (self.max_update or 0) > 0:
            v.fail(n, "max_update", self.max_update, "a number > 0 when phase_ratio is given")
        if self._steps()[2] == 0:  # fairseq divides by it
            field = "phase_ratio" if self.phase_ratio is not None else "decay_steps"
            v.fail(n, field, getattr(self, field), "such that there are decay steps (> 0)")

    def _steps(self):
        if self.phase_ratio is None:
            return self.warmup_steps, self.hold_steps, self.decay_steps
        return tuple(int(self.max_update * r) for r in self.phase_ratio)

    layout = FS_TRI_STAGE_P._fields

    def derived(self):
        W, H, D = self._steps()
        peak = self.lr
        init = self.init_lr_scale * peak
        return {
            "init_lr": init,
            "warmup_rate": (peak - init) / W if W != 0 else 0,
            "warmup_steps": W,
            "hold_steps": H,
            "decay_steps": D,
            "peak_lr": peak,
            "decay_factor": -math.log(self.final_lr_scale) / D,
            "final_lr": self.final_lr_scale * peak,
        }

    def params(self, quantity="lr"):
        return self._by_layout(K.FS_TRI_STAGE)


@dataclass(frozen=True)
class FairseqTriangular(_Fairseq):
    """fairseq's ``triangular``: cycles between ``lr`` and ``max_lr``, shrinking."""

    lr: float
    max_lr: float
    lr_period_updates: float = 5000.0
    lr_shrink: float = 0.1
    shrink_min: bool = False
    name = "fairseq_triangular"

    def __post_init__(self):
        self._reals("lr", "max_lr", "lr_shrink", low=0.0)
        # fairseq divides by lr_period_updates // 2
        self._set(
            "lr_period_updates",
            v.real(self.name, "lr_period_updates", self.lr_period_updates, low=2.0),
        )
        v.flag(self.name, "shrink_min", self.shrink_min)
        self._above("max_lr", "lr")

    layout = FS_TRIANGULAR_P._fields

    def derived(self):
        return {
            "lr": self.lr,
            "max_lr": self.max_lr,
            "half_period": self.lr_period_updates // 2,
            "lr_shrink": self.lr_shrink,
            "shrink_min": 1.0 if self.shrink_min else 0.0,
        }

    def params(self, quantity="lr"):
        return self._by_layout(K.FS_TRIANGULAR)


@dataclass(frozen=True)
class FairseqFixed(_Fairseq):
    """fairseq's ``fixed``: an LR per epoch (``lr`` a list), annealed after
    ``force_anneal`` epochs, with a linear warm-up over the first updates."""

    lr: float | tuple
    force_anneal: int | None = None
    lr_shrink: float = 0.1
    warmup_updates: int = 0
    updates_per_epoch: int | None = None
    name = "fairseq_fixed"

    def __post_init__(self):
        n = self.name
        lrs = self.lr
        if isinstance(lrs, Sequence) and not isinstance(lrs, (str, bytes)):
            if not lrs:
                v.fail(n, "lr", lrs, "a number or a non-empty list of numbers")
            self._set("lr", tuple(v.real(n, "lr", x, low=0.0) for x in lrs))
        else:
            self._reals("lr", low=0.0)
        self._reals("lr_shrink", low=0.0)
        self._ints("warmup_updates")
        if self.force_anneal is not None:
            self._ints("force_anneal", minimum=0)
        if self.updates_per_epoch is not None:
            self._ints("updates_per_epoch", minimum=1)

    def params(self, quantity="lr"):
        lrs = self.lr if isinstance(self.lr, tuple) else (self.lr,)
        named = {
            "n_lr": len(lrs),
            "force_anneal": _NAN if self.force_anneal is None else self.force_anneal,
            "lr_shrink": self.lr_shrink,
            "warmup_updates": self.warmup_updates,
            "updates_per_epoch": 0 if self.updates_per_epoch is None else self.updates_per_epoch,
        }
        head = [named[name] for name in FS_FIXED_P._fields]
        tail = [named[name] for name in FS_FIXED_TAIL._fields]
        return [K.FS_FIXED, *head, *lrs, *tail]


#: fairseq's ``--lr-scheduler`` names -> the specs
SCHEDULERS = {
    "inverse_sqrt": FairseqInverseSqrt,
    "step": FairseqStep,
    "cosine": FairseqCosine,
    "polynomial_decay": FairseqPolynomialDecay,
    "tri_stage": FairseqTriStage,
    "triangular": FairseqTriangular,
    "fixed": FairseqFixed,
}


def scheduler(name: str, where: str = "fairseq") -> type[_Fairseq]:
    """The spec class of fairseq's ``--lr-scheduler`` ``name``, or an error naming them."""
    if name not in SCHEDULERS:
        v.fail(where, "lr_scheduler", name, "one of " + ", ".join(sorted(SCHEDULERS)))
    return SCHEDULERS[name]


def from_config(name: str, fields, where: str = "fairseq") -> _Fairseq:
    """The spec of fairseq's scheduler ``name`` from fairseq's config fields (a mapping
    of its field names: a config's, or its options' with ``-`` as ``_``). A field that
    is absent or None takes the spec's default, which is fairseq's; one without a
    default is asked for by its option's name."""
    cls = scheduler(name, where)
    kwargs = {}
    for f in dataclasses.fields(cls):
        value = fields.get(f.name)
        if value is not None:
            kwargs[f.name] = value
        elif f.default is dataclasses.MISSING:
            option = "--" + f.name.replace("_", "-")
            raise ValueError(f"{where}: fairseq's {name} scheduler needs {f.name} ({option})")
    return cls(**kwargs)


# -- the converter: fairseq's scheduler options --------------------------------------------
def _fairseq_parser() -> argparse.ArgumentParser:
    """fairseq's optimization and LR-scheduler options (no defaults: the specs hold
    fairseq's), and lrcore's ``--updates-per-epoch``."""
    p = argparse.ArgumentParser(prog="fairseq", add_help=False, allow_abbrev=False)
    add = p.add_argument
    add("--lr-scheduler", default="fixed")
    add("--lr", default="0.25")
    for flag in ("--max-update", "--warmup-updates", "--lr-deacy-period", "--force-anneal"):
        add(flag, type=int)
    for flag in ("--warmup-steps", "--hold-steps", "--decay-steps", "--updates-per-epoch"):
        add(flag, type=int)
    for flag in (
        "--warmup-init-lr",
        "--min-lr",
        "--lr-decay",
        "--t-mult",
        "--lr-period-updates",
        "--lr-shrink",
        "--end-learning-rate",
        "--power",
        "--total-num-update",
        "--init-lr-scale",
        "--final-lr-scale",
        "--max-lr",
    ):
        add(flag, type=float)
    add("--phase-ratio")
    add("--shrink-min", action="store_true", default=None)
    return p


def from_fairseq_args(args: str | list[str]) -> _Fairseq:
    """The ``fairseq_*`` spec of fairseq's scheduler options (``--lr-scheduler`` and its
    flags, as a string or a list; other flags are ignored). Entry ``t`` is the LR of
    ``step_update(t)``.

    ``--lr`` is fairseq's comma-separated list. Epoch-driven options have no table
    without an epoch length: ``fixed`` with several LRs or ``--force-anneal`` needs
    ``--updates-per-epoch`` (lrcore's flag), and ``polynomial_decay``'s per-epoch LRs
    and ``--force-anneal`` are refused (lrsched.fairseq follows them)."""
    where = "from_fairseq_args"
    argv = shlex.split(args) if isinstance(args, str) else list(args)
    try:
        a, _ = _fairseq_parser().parse_known_args(argv)
        lrs = [float(x) for x in a.lr.split(",")]
    except (SystemExit, ValueError):
        raise ValueError(
            f"{where}: fairseq's options need numbers where fairseq has them "
            f"(--lr 0.0005 or --lr 0.001,0.0005), got {shlex.join(argv)!r}"
        ) from None
    name, fields = a.lr_scheduler, vars(a)
    own = {f.name for f in dataclasses.fields(scheduler(name, where))}
    if name == "polynomial_decay":
        own.add("force_anneal")  # fairseq's, epoch-driven: refused below with the reason
    stray = sorted(
        "--" + k.replace("_", "-")
        for k, value in fields.items()
        if value is not None and k not in own | {"lr_scheduler", "lr", "max_update"}
    )
    if stray:  # fairseq's parser has only the chosen scheduler's options
        options = ", ".join("--" + f.replace("_", "-") for f in sorted(own))
        raise ValueError(
            f"{where}: fairseq's {name} scheduler has no {', '.join(stray)} "
            f"(its options: {options})"
        )
    fields["lr"] = lrs[0]
    if len(lrs) > 1 and name not in ("fixed", "step"):  # step reads lr[0], as fairseq's
        raise ValueError(
            f"{where}: --lr {a.lr} gives one LR per epoch, which only fairseq's fixed "
            f"scheduler (and polynomial_decay, per epoch) reads; {name} takes one"
        )
    if name == "fixed":
        fields["lr"] = tuple(lrs) if len(lrs) > 1 else lrs[0]
        if (len(lrs) > 1 or a.force_anneal is not None) and a.updates_per_epoch is None:
            raise ValueError(
                f"{where}: fixed with several LRs or --force-anneal changes its LR per "
                "epoch: give the epoch length as --updates-per-epoch (lrcore's flag)"
            )
    elif name == "polynomial_decay":
        if a.force_anneal is not None:
            raise ValueError(
                f"{where}: polynomial_decay's --force-anneal restarts its decay from the LR "
                "of the moment at an epoch: no table; lrsched.fairseq's "
                "PolynomialDecayLRSchedule follows it"
            )
        if a.total_num_update is None:  # fairseq's config: ${optimization.max_update}
            fields["total_num_update"] = a.max_update
    elif name == "tri_stage" and a.phase_ratio is not None:
        try:
            fields["phase_ratio"] = ast.literal_eval(a.phase_ratio)
        except (ValueError, SyntaxError):
            raise ValueError(
                f"{where}: --phase-ratio must be three numbers, e.g. '(0.1, 0.4, 0.5)', "
                f"got {a.phase_ratio!r}"
            ) from None
    return from_config(name, fields, where)


# -- the declaration ----------------------------------------------------------------------
declare(
    Family(
        name="fairseq",
        code=19,
        framework="fairseq",
        specs=(_Fairseq,),
        value=fairseq_value,
        pieces=fairseq_pieces,
        names=SCHEDULERS,
        read=from_fairseq_args,
        samples=lambda steps: {
            "fairseq_inverse_sqrt": FairseqInverseSqrt(lr=0.0005, warmup_updates=4000)
        },
    )
)
