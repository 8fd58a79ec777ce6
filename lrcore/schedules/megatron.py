r"""Megatron-Core's ``OptimizerParamScheduler``: the LR and, beside it, the weight decay.

Table index ``t`` is Megatron's ``num_steps`` (the sum of the increments passed to
``step(increment)``; Megatron's training loop counts samples, a global batch per
iteration). With :math:`W` = ``lr_warmup_steps``, :math:`D` = ``lr_decay_steps``,
:math:`r = (t - W)/(D - W)`:

* :math:`t \le W` (when :math:`W > 0`): ``init_lr`` :math:`+ (\eta_{max} - \eta_{init})\,t/W`;
* ``constant``: ``max_lr`` from then on; every other style gives ``min_lr`` once
  :math:`t > D`;
* ``inverse-square-root``: :math:`\max(\eta_{min}, \eta_{max}\sqrt{\max(W,1)}/\sqrt{\max(t,1)})`;
* otherwise :math:`\eta_{min} + c\,(\eta_{max} - \eta_{min})` with :math:`c = 1 - r`
  (``linear``), :math:`(1 + \cos \pi r)/2` (``cosine``), or for ``WSD`` 1 until
  :math:`D - S` (:math:`S` = ``wsd_decay_steps``) and then, with
  :math:`s = (t - D + S)/S`, :math:`1 - s`, :math:`(1 + \cos \pi s)/2`,
  :math:`2 \cdot 0.5^s - 1` or :math:`1 - \sqrt s` (``lr_wsd_decay_style`` ``linear``,
  ``cosine``, ``exponential``, ``minus_sqrt``).

``quantity="weight_decay"`` gives Megatron's ``get_wd``: ``start_wd`` rising to
``end_wd`` over ``wd_incr_steps`` (``linear``, or ``cosine``:
:math:`(1 + \cos \pi (1 - r))/2`), ``end_wd`` after; ``constant`` needs the two
equal. ``wd_incr_steps`` defaults to ``lr_decay_steps`` (Megatron's training loop
passes ``train_iters`` samples for both unless ``lr_decay_iters`` is set).

``lr_warmup_steps`` may be a float, as Megatron-LM's ``--lr-warmup-fraction`` makes
it (a fraction of ``lr_decay_steps``). The checks are Megatron's assertions, as
errors naming the parameter (``min_lr`` and ``init_lr`` at most ``max_lr``,
``start_wd`` at most ``end_wd``, warm-up shorter than the decay).
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass

from .. import _validate as v
from .. import kinds as K
from ..family import Family, declare
from ..kernels.formulas import MG_LR_P, MG_WD_P, megatron_pieces, megatron_value
from .leaf import Leaf, shaped

_DECAYS = {
    "constant": K.MG_CONSTANT,
    "linear": K.MG_LINEAR,
    "cosine": K.MG_COSINE,
    "inverse-square-root": K.MG_INV_SQRT,
    "WSD": K.MG_WSD,
}
_WSD = {
    "linear": K.MG_LINEAR,
    "cosine": K.MG_COSINE,
    "exponential": K.MG_EXPONENTIAL,
    "minus_sqrt": K.MG_MINUS_SQRT,
}
_WD = {"constant": K.MG_CONSTANT, "linear": K.MG_LINEAR, "cosine": K.MG_COSINE}


@dataclass(frozen=True)
class Megatron(Leaf):
    """Megatron-Core's OptimizerParamScheduler (every ``lr_decay_style``)."""

    max_lr: float
    lr_decay_steps: int
    init_lr: float = 0.0
    min_lr: float = 0.0
    lr_warmup_steps: int | float = 0
    lr_decay_style: str = "linear"
    wsd_decay_steps: int | None = None
    lr_wsd_decay_style: str | None = None
    start_wd: float = 0.01
    end_wd: float = 0.01
    wd_incr_steps: int | None = None
    wd_incr_style: str = "constant"
    name = "megatron"
    absolute = True
    has_weight_decay = True

    def __post_init__(self):
        n = self.name
        for field in ("max_lr", "min_lr", "init_lr", "start_wd", "end_wd"):
            self._set(field, v.real(n, field, getattr(self, field), low=0.0))
        self._order("min_lr", "max_lr")
        self._order("init_lr", "max_lr")
        v.integer(n, "lr_decay_steps", self.lr_decay_steps, minimum=1)
        warmup = self.lr_warmup_steps
        if isinstance(warmup, float):  # Megatron-LM's --lr-warmup-fraction * decay steps
            warmup = v.real(n, "lr_warmup_steps", warmup, low=0.0)
        else:
            warmup = v.integer(n, "lr_warmup_steps", warmup, minimum=0)
        if warmup >= self.lr_decay_steps:
            v.fail(n, "lr_warmup_steps", warmup, f"< lr_decay_steps={self.lr_decay_steps}")
        v.choice(n, "lr_decay_style", self.lr_decay_style, _DECAYS)
        if self.lr_decay_style == "WSD" or self.wsd_decay_steps is not None:
            v.integer(n, "wsd_decay_steps", self.wsd_decay_steps, minimum=0)
        if self.lr_decay_style == "WSD" or self.lr_wsd_decay_style is not None:
            v.choice(n, "lr_wsd_decay_style", self.lr_wsd_decay_style, _WSD)
        self._order("start_wd", "end_wd")
        v.choice(n, "wd_incr_style", self.wd_incr_style, _WD)
        if self.wd_incr_style == "constant" and self.start_wd != self.end_wd:
            allowed = f"start_wd={self.start_wd!r} when wd_incr_style='constant'"
            v.fail(n, "end_wd", self.end_wd, allowed)
        if self.wd_incr_steps is not None:  # Megatron divides by it unless 'constant'
            least = 0 if self.wd_incr_style == "constant" else 1
            v.integer(n, "wd_incr_steps", self.wd_incr_steps, minimum=least)

    def _order(self, low, high):
        """Megatron's ``assert high >= low``, as an error naming both."""
        a, b = getattr(self, low), getattr(self, high)
        if not a <= b:
            raise ValueError(f"{self.name}: {low} must be <= {high}, got {low}={a!r}, {high}={b!r}")

    def _set(self, field, value):
        object.__setattr__(self, field, value)

    def params(self, quantity="lr"):
        if quantity == "weight_decay":
            steps = self.lr_decay_steps if self.wd_incr_steps is None else self.wd_incr_steps
            named = {
                "wd_incr_style": _WD[self.wd_incr_style],
                "start_wd": self.start_wd,
                "end_wd": self.end_wd,
                "wd_incr_steps": steps,
            }
            return shaped(K.MG_WD, MG_WD_P, named)
        named = {
            "lr_decay_style": _DECAYS[self.lr_decay_style],
            "init_lr": self.init_lr,
            "max_lr": self.max_lr,
            "min_lr": self.min_lr,
            "lr_warmup_steps": self.lr_warmup_steps,
            "lr_decay_steps": self.lr_decay_steps,
            "wsd_decay_steps": 0 if self.wsd_decay_steps is None else self.wsd_decay_steps,
            "lr_wsd_decay_style": _WSD.get(self.lr_wsd_decay_style, -1.0),
            "sqrt_exponent": 0.5,  # as data (see megatron_value)
        }
        return shaped(K.MG_LR, MG_LR_P, named)


# -- the converter: Megatron-LM's scheduler flags ----------------------------------------
def _megatron_parser() -> argparse.ArgumentParser:
    """The scheduler's part of Megatron-LM's arguments (names and defaults as there)."""
    p = argparse.ArgumentParser(prog="megatron", add_help=False, allow_abbrev=False)
    add = p.add_argument
    add("--lr", type=float, required=True)
    add("--min-lr", type=float, default=0.0)
    add("--lr-warmup-init", type=float, default=0.0)
    add("--lr-decay-style", default="linear")
    add("--lr-wsd-decay-style", default="exponential")
    add("--lr-decay-iters", type=int)
    add("--lr-decay-samples", type=int)
    add("--lr-wsd-decay-iters", type=int)
    add("--lr-wsd-decay-samples", type=int)
    add("--lr-warmup-iters", type=int, default=0)
    add("--lr-warmup-samples", type=int, default=0)
    add("--lr-warmup-fraction", type=float)
    add("--train-iters", type=int)
    add("--train-samples", type=int)
    add("--global-batch-size", type=int)
    add("--weight-decay", type=float, default=0.01)
    add("--start-weight-decay", type=float)
    add("--end-weight-decay", type=float)
    add("--weight-decay-incr-style", default="constant")
    return p


def from_megatron_args(args: str | list[str]) -> tuple[Megatron, int]:
    """(spec, stride) for a Megatron-LM argument set (a command line's scheduler flags,
    as a string or a list; other flags are ignored).

    The spec counts samples, as Megatron's ``num_steps`` does; ``stride`` is the global
    batch size for iteration-based training (``--train-iters``), so
    ``table(spec, iterations, stride=stride)`` gives one LR per iteration, and 1 for
    sample-based training (``--train-samples``)."""
    argv = shlex.split(args) if isinstance(args, str) else list(args)
    parser = _megatron_parser()
    try:
        a, _ = parser.parse_known_args(argv)
    except SystemExit:
        raise ValueError(
            f"from_megatron_args: Megatron's arguments need --lr (and --train-iters with "
            f"--global-batch-size, or --train-samples), got {shlex.join(argv)!r}"
        ) from None
    start_wd = a.weight_decay if a.start_weight_decay is None else a.start_weight_decay
    end_wd = a.weight_decay if a.end_weight_decay is None else a.end_weight_decay
    if a.train_iters:
        if not a.global_batch_size:
            raise ValueError("from_megatron_args: --train-iters needs --global-batch-size")
        gbs = a.global_batch_size
        decay_iters = a.train_iters if a.lr_decay_iters is None else a.lr_decay_iters
        decay = decay_iters * gbs
        wd_steps = a.train_iters * gbs
        wsd = None if a.lr_wsd_decay_iters is None else a.lr_wsd_decay_iters * gbs
        warmup = a.lr_warmup_iters * gbs
        stride = gbs
    elif a.train_samples:
        decay = a.train_samples if a.lr_decay_samples is None else a.lr_decay_samples
        wd_steps = a.train_samples
        wsd = a.lr_wsd_decay_samples
        warmup = a.lr_warmup_samples
        stride = 1
    else:
        raise ValueError(
            "from_megatron_args: either --train-iters or --train-samples should be provided"
        )
    if a.lr_warmup_fraction is not None:
        warmup = a.lr_warmup_fraction * decay
    wsd_style = a.lr_wsd_decay_style if a.lr_decay_style == "WSD" else None
    spec = Megatron(
        max_lr=a.lr,
        lr_decay_steps=decay,
        init_lr=a.lr_warmup_init,
        min_lr=a.min_lr,
        lr_warmup_steps=warmup,
        lr_decay_style=a.lr_decay_style,
        wsd_decay_steps=wsd if a.lr_decay_style == "WSD" else None,
        lr_wsd_decay_style=wsd_style,
        start_wd=start_wd,
        end_wd=end_wd,
        wd_incr_steps=wd_steps,
        wd_incr_style=a.weight_decay_incr_style,
    )
    return spec, stride


# -- the declaration ----------------------------------------------------------------------
declare(
    Family(
        name="megatron",
        code=16,
        framework="megatron",
        specs=(Megatron,),
        value=megatron_value,
        pieces=megatron_pieces,
        names={"OptimizerParamScheduler": Megatron},
        read=from_megatron_args,
        samples=lambda steps: {
            "megatron": Megatron(max_lr=0.001, lr_decay_steps=steps, lr_warmup_steps=100)
        },
    )
)
