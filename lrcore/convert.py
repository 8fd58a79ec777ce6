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
from .schedules.warmup import TRANSFORMERS_FUNCTIONS, from_transformers_call

#: DeepSpeed's scheduler types and the specs that reproduce them (from the declarations)
DEEPSPEED = names("deepspeed")


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
    "TRANSFORMERS_FUNCTIONS",
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
