"""Schedules written for other frameworks, as lrcore specs: a DeepSpeed config's
``"scheduler"`` block, a Megatron-LM argument set, or fairseq's scheduler options.

Each function returns the spec (and, where the framework's schedule scales the
optimizer's LR, the base LR to go with it); ``lrcore convert`` prints it, and
``lrcore plot`` overlays the results. The arithmetic of the conversion is the
framework's own: Megatron-LM's ``get_optimizer_param_scheduler`` turns iterations
into samples (times the global batch size) and a warm-up fraction into a fraction of
the decay steps, and so does :func:`from_megatron_args`.

The converters live with their families (each family module declares its framework's
names for its schedules and its reader, ``Family.names`` and ``Family.read``); this
module gathers them under the names it always had.
"""

from __future__ import annotations

from .export import TARGETS, Export, NotExact, to_framework
from .family import names
from .schedules.deepspeed import deepspeed_block, deepspeed_groups, from_deepspeed_config
from .schedules.fairseq import from_fairseq_args
from .schedules.megatron import from_megatron_args

#: DeepSpeed's scheduler types and the specs that reproduce them (from the declarations)
DEEPSPEED = names("deepspeed")


#: transformers' functions, their parameters after the optimizer (positional order) and
#: defaults, as transformers.optimization has them
_TRANSFORMERS = {
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

    from .schedules.warmup import (
        CosineDecay,
        CosineHardRestarts,
        InverseSqrt,
        LinearDecay,
        Stable,
        Warmup,
    )

    where = "from_transformers_call"
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{where}: not a call, got {text!r}") from None
    func = getattr(node, "func", None)
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if not isinstance(node, ast.Call) or name not in _TRANSFORMERS:
        raise ValueError(
            f"{where}: expected a call of one of {', '.join(_TRANSFORMERS)}, got {text!r}"
        )
    order, defaults = _TRANSFORMERS[name]
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


def torch_classes() -> dict:
    """torch's scheduler class names -> the specs that reproduce them (from the
    declarations' references, and torch's two compositions)."""
    from .family import declared
    from .schedules.compose import Chained, Sequential

    out = {"SequentialLR": Sequential, "ChainedScheduler": Chained}
    for fam in declared():
        name = getattr(fam.reference, "class_name", None)
        if fam.framework == "torch" and name and len(fam.specs) == 1 and not fam.user_function:
            out[name.rsplit(".", 1)[-1]] = fam.specs[0]
    return out


def from_torch_call(text: str):
    """The spec of a torch scheduler's constructor call, as written in code:
    ``"CosineAnnealingLR(optimizer, T_max=100)"`` or
    ``"torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5)"`` (keyword
    arguments after the optimizer; SequentialLR and ChainedScheduler of such calls)."""
    import ast

    from .spec import build

    where = "from_torch_call"
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{where}: not a call, got {text!r}") from None
    return _torch_call(tree, text, where, build)


def _torch_call(node, text, where, build):
    import ast

    classes = torch_classes()
    if not isinstance(node, ast.Call):
        raise ValueError(f"{where}: expected a scheduler's constructor call, got {text!r}")
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in classes:
        raise ValueError(
            f"{where}: {name!r} is not one of torch's schedulers lrcore reproduces "
            f"({', '.join(sorted(classes))})"
        )
    args = list(node.args)
    if args and isinstance(args[0], ast.Name):
        args = args[1:]  # the optimizer
    kwargs = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise ValueError(f"{where}: **kwargs cannot be read, got {text!r}")
        if kw.arg in ("optimizer", "last_epoch", "verbose"):
            continue
        if kw.arg == "schedulers":
            kwargs["schedulers"] = [
                _torch_call(e, text, where, build) for e in getattr(kw.value, "elts", [])
            ]
            continue
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise ValueError(
                f"{where}: {kw.arg} must be a literal (a number, a string, a list), "
                f"got {ast.unparse(kw.value)}"
            ) from None
    if name == "ChainedScheduler" and args:
        kwargs["schedulers"] = [_torch_call(e, text, where, build) for e in args[0].elts]
        args = []
    if args:
        raise ValueError(
            f"{where}: give {name}'s arguments by name after the optimizer "
            f"({name}(optimizer, ...=...)), got {text!r}"
        )
    return build(classes[name], kwargs)


__all__ = [
    "DEEPSPEED",
    "from_torch_call",
    "from_transformers_call",
    "torch_classes",
    "TARGETS",
    "Export",
    "NotExact",
    "to_framework",
    "deepspeed_block",
    "deepspeed_groups",
    "from_deepspeed_config",
    "from_fairseq_args",
    "from_megatron_args",
]
