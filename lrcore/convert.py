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


# -- calls of timm's, optax's and Keras's own schedules -----------------------------------------
def _literal(node, where):
    import ast

    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e, where) for e in node.elts]
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict" and not node.args:
        return {kw.arg: _literal(kw.value, where) for kw in node.keywords}  # dict(a=1)
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise ValueError(
            f"{where}: arguments must be literals (numbers, strings, lists, dicts), "
            f"got {ast.unparse(node)}"
        ) from None
    if isinstance(value, dict):  # optax's boundaries_and_scales: (step, scale) pairs
        value = tuple(value.items())
    return value


def _parse_call(text: str, where: str):
    """(the called name, its positional argument nodes, its keyword argument nodes)."""
    import ast

    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{where}: not a call, got {text!r}") from None
    if not isinstance(node, ast.Call):
        raise ValueError(f"{where}: expected a schedule's call, got {text!r}")
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    for kw in node.keywords:
        if kw.arg is None:
            raise ValueError(f"{where}: **kwargs cannot be read, got {text!r}")
    return name, list(node.args), {kw.arg: kw.value for kw in node.keywords}


def _required(cls) -> list[str]:
    """A spec's parameters without defaults, in order: the framework's own positional
    parameters (the tests check this against each framework's signatures)."""
    import dataclasses

    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


def from_call(text: str, framework: str):
    """The spec of a call of ``framework``'s own schedule (``"optax"``, ``"keras"`` or
    ``"timm"``), as written in code: ``"optax.cosine_decay_schedule(0.1, 1000)"``,
    ``"keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.1,
    decay_steps=1000)"``, ``"CosineLRScheduler(optimizer, t_initial=100)"`` or timm's
    ``"create_scheduler_v2(optimizer, sched='cosine', num_epochs=100, ...)"`` (read
    with timm's arithmetic: epochs, updates, noise fractions). Arguments are literals;
    optax's ``join_schedules`` takes calls in its ``schedules``. The table's index is
    the framework's own count: optax's and Keras's step, timm's ``t`` (epochs, or
    updates with ``t_in_epochs=False`` / ``step_on_epochs=False``)."""
    import ast

    from .spec import build

    where = f"from_call({framework!r})"
    own = names(framework)
    if not own or framework not in ("optax", "keras", "timm"):
        raise ValueError(f"{where}: framework must be one of optax, keras, timm")
    name, args, kwargs = _parse_call(text, where)
    if framework == "timm" and args and isinstance(args[0], ast.Name):
        args = args[1:]  # the optimizer
    if framework == "timm" and name in ("create_scheduler_v2", "create_scheduler"):
        from .schedules.timm import FACTORY_DEFAULTS, timm_factory

        if name == "create_scheduler":
            raise ValueError(
                f"{where}: create_scheduler reads an argparse namespace; give "
                "create_scheduler_v2's arguments (timm's scheduler_kwargs(args) gives them)"
            )
        order = [k for k in FACTORY_DEFAULTS if k != "updates_per_epoch"]
        if len(args) > len(order):
            raise ValueError(
                f"{where}: create_scheduler_v2 takes at most {len(order)} "
                f"positional arguments after the optimizer, got {len(args)}"
            )
        given = {k: _literal(a, where) for k, a in zip(order, args)}
        given.update({k: _literal(v, where) for k, v in kwargs.items() if k != "optimizer"})
        name, built = timm_factory(**given)
        if name is None:
            raise ValueError(f"{where}: sched='none' makes no scheduler")
        if name == "PlateauLRScheduler":
            raise ValueError(
                f"{where}: sched='plateau' follows a metric; it has no table (lrsched.timm's "
                "PlateauLRScheduler runs it)"
            )
        cls = own[name]
    else:
        if name not in own:
            raise ValueError(
                f"{where}: {name!r} is not one of {framework}'s schedules lrcore reproduces "
                f"({', '.join(sorted(own))})"
            )
        cls = own[name]

        def value_of(key, node):
            if framework == "optax" and key == "schedules":  # join_schedules: calls
                elements = getattr(node, "elts", None)
                if elements is None:
                    raise ValueError(f"{where}: join_schedules' schedules must be a list of calls")
                return tuple(from_call(ast.unparse(e), "optax") for e in elements)
            return _literal(node, where)

        order = _required(cls)
        if len(args) > len(order):
            raise ValueError(
                f"{where}: give {name}'s arguments after {', '.join(order)} by name, got {text!r}"
            )
        built = {k: value_of(k, a) for k, a in zip(order, args)}
        for key, node in kwargs.items():
            if framework == "keras" and key == "name":
                continue  # Keras's name for the schedule object
            if key in built:
                raise ValueError(f"{where}: {name} got {key} twice, got {text!r}")
            built[key] = value_of(key, node)
    if framework == "timm":
        built = {k: v for k, v in built.items() if k not in ("t_in_epochs", "initialize")}
        if isinstance(built.get("decay_t"), list):
            built["decay_t"] = tuple(built["decay_t"])
        if isinstance(built.get("noise_range_t"), list):
            built["noise_range_t"] = tuple(built["noise_range_t"])
    for key in ("boundaries", "values", "cosine_kwargs"):
        if isinstance(built.get(key), list):
            built[key] = tuple(built[key])
    return build(cls, built)


def spec_of(scheduler, group: int = 0):
    """``(spec, base_lr)`` of a live lrsched scheduler's param group ``group``: the
    schedule it follows, in lrcore's terms, and the base LR a relative spec scales
    (``None`` for a spec of absolute LRs). What it follows now: hyperparameters
    changed since construction are in it."""
    read = getattr(scheduler, "_lrcore_spec", None)
    if read is None:
        raise TypeError(
            f"spec_of: expected an lrsched scheduler (lrsched's drop-ins for torch, "
            f"transformers, timm, DeepSpeed, Megatron-Core and fairseq), "
            f"got {type(scheduler).__name__}"
        )
    return read(group)


__all__ = [
    "DEEPSPEED",
    "from_call",
    "spec_of",
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
