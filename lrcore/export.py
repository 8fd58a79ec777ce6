"""A spec in another framework's own terms: ``lrcore convert SOURCE --to TARGET``.

:func:`to_framework` writes the target's own artifact, which needs no lrcore: torch
constructor code (``SequentialLR`` / ``ChainedScheduler`` for compositions), a
DeepSpeed ``"scheduler"`` block, Megatron-LM's or fairseq's flags, or the spec's text.
Where the target has the spec's family the artifact is exact: run in the framework it
gives ``lrcore.table``'s values bit for bit (tested in the frameworks themselves), and
reading it back (``lrcore convert``) gives the spec again. The notes (stderr on the
command line) say which base LR and which counter the artifact assumes.

What each target writes is read from the family declarations: torch's classes from
``Family.reference``, DeepSpeed's and fairseq's names from ``Family.names``, Megatron's
one family from its declaration. A spec with no equal family in the target is written
as its nearest expression in the target's idiom where the target has one (a
``LambdaLR`` lambda for torch and transformers, a jnp function for optax, a
``LearningRateSchedule`` subclass for Keras; :mod:`lrcore.nearest`), with the largest
relative difference over the requested steps in the notes; ``exact=True`` (``--exact``)
refuses it with the reason, and the targets of flags and configs (DeepSpeed,
Megatron-LM, fairseq, timm, the spec's text) always do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .family import FRAMEWORKS, NotExact

#: what ``--to`` writes: the spec's own text, or a framework's terms
TARGETS = ("spec", *FRAMEWORKS)


@dataclass
class Export:
    artifact: str  # the target's own text (code, JSON, flags)
    notes: list[str] = field(default_factory=list)  # the base LR and counter it assumes
    exact: bool = True
    max_rel_diff: float = 0.0  # over the requested steps, where not exact


#: the targets with a plain-function idiom, where a spec with no equal family is written
#: as its nearest expression (lrcore.nearest)
NEAREST = ("torch", "transformers", "optax", "keras")


def to_framework(
    spec,
    target: str,
    *,
    base_lr: float | None = None,
    exact: bool = False,
    steps: int | None = None,
    tolerance: float = 1e-4,
) -> Export:
    """``spec`` in ``target``'s own terms (one of :data:`TARGETS`).

    Where the target has the spec's family the artifact is exact. Where it has none,
    the torch, transformers, optax and Keras targets get the nearest expression in
    their idiom (straight lines through the table over ``steps`` steps, within
    ``tolerance`` relative; ``Export.max_rel_diff`` measured over every step);
    ``exact=True`` refuses it (``NotExact``, with the reason), as the other targets
    always do."""
    from .text import parse

    if isinstance(spec, str):
        spec = parse(spec)
    if target not in TARGETS:
        raise ValueError(f"--to must be one of {', '.join(TARGETS)}, got --to {target!r}")
    try:
        return _WRITERS[target](spec, base_lr)
    except NotExact as why:
        if exact or target not in NEAREST:
            raise
        return _nearest(spec, target, base_lr, steps, tolerance, str(why))


def _nearest(spec, target, base_lr, steps, tolerance, why) -> Export:
    from . import nearest
    from .table import table

    if steps is None:
        last = spec.last_step()
        if last is None:
            raise ValueError(
                f"--to {target}: {spec.name} has no equal family there; its nearest "
                "expression is fitted over the steps it will run: give --steps N"
            )
        steps = last + 1
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"--steps must be an integer >= 1, got --steps {steps!r}")
    base = 1.0 if base_lr is None else float(base_lr)
    if spec.absolute:
        values = table(spec, steps)
    else:
        values = table(spec, steps, base)
    fit = nearest.fit(values, tolerance)
    reason = why.split(": ", 1)[-1]
    notes = [
        f"# no equal family ({reason}): the nearest expression, straight lines through "
        f"{len(fit.steps)} knots of lrcore.table over steps 0..{steps - 1}, within "
        f"{tolerance:g} of it; max relative difference {fit.max_rel_diff:.3g}; past step "
        f"{steps - 1} the last value",
    ]
    if target in ("torch", "transformers"):
        # LambdaLR multiplies each group's initial LR by the lambda: factors of the base
        factors = nearest.Fit(fit.steps, [v / base for v in fit.values], fit.max_rel_diff)
        if spec.absolute:
            notes.append(f"# the optimizer's lr must be {base!r} (the factors are LR / {base!r})")
        else:
            lr = "the base LR" if base_lr is None else repr(base_lr)
            notes.append(f"# the optimizer's LR is the base LR the factors scale (here: {lr})")
        notes.append("# entry t of lrcore.table is the LR after t calls of scheduler.step()")
        code = (
            nearest.lambda_source(factors)
            + "\nimport torch\n\n"
            + "scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)\n"
        )
        return Export(code, notes, exact=False, max_rel_diff=fit.max_rel_diff)
    if not spec.absolute:
        lr = "1.0 (give --base-lr)" if base_lr is None else repr(base_lr)
        notes.append(f"# absolute LRs: the spec's factors times the base LR {lr}")
    if target == "optax":
        notes.append("# entry t of lrcore.table is schedule(t), optax's count")
        code = nearest.jnp_source(fit)
    else:
        notes.append(
            "# entry t of lrcore.table is schedule(t), the optimizer's iteration count; "
            "computed in keras.config.floatx()"
        )
        code = nearest.keras_source(fit) + "schedule = Schedule()\n"
    return Export(code, notes, exact=False, max_rel_diff=fit.max_rel_diff)


def own_name(spec, target: str, what: str) -> str:
    """The target framework's own name for ``spec``'s schedule (``Family.names`` of its
    declarations), or ``NotExact`` saying the spec is not ``what``."""
    from .family import names

    for name, cls in names(target).items():
        if cls is type(spec):
            return name
    raise NotExact(f"--to {target}: {spec.name} is not {what}")


def _family(spec):
    return getattr(type(spec), "family", None)


# -- spec -------------------------------------------------------------------------------
def _spec(spec, base_lr) -> Export:
    fam = _family(spec)
    if fam is not None and fam.user_function:
        raise NotExact(f"--to spec: {spec.name} holds a Python function, which has no text form")
    return Export(str(spec))


# -- torch ------------------------------------------------------------------------------
def torch_arguments(spec) -> tuple[str, str]:
    """(torch's class name, its keyword arguments as code) for a spec of one of torch's
    families: the spec's parameters off their defaults, as the family's reference
    passes them to torch (``NotExact`` where torch has no such parameter value)."""
    import dataclasses

    fam = _family(spec)
    reference = getattr(fam, "reference", None)
    name = getattr(reference, "class_name", None)
    if fam is None or fam.framework != "torch" or name is None or fam.user_function:
        raise NotExact(
            f"--to torch: {spec.name} is not one of torch's schedulers (torch has no equal family)"
        )
    kwargs = {k: v for k, v in spec.to_dict().items() if k != "name"}
    adapt = getattr(reference, "adapt", None)
    if adapt is not None:
        try:
            kwargs = adapt(spec, kwargs)
        except ValueError as exc:
            raise NotExact(f"--to torch: {exc}") from None
    defaults = {
        f.name: f.default for f in dataclasses.fields(spec) if f.default is not dataclasses.MISSING
    }
    args = ", ".join(
        f"{k}={v!r}" for k, v in kwargs.items() if k not in defaults or v != defaults[k]
    )
    return name, args


def _torch_expr(spec, indent: str = "") -> str:
    if spec.name == "sequential":
        inner = indent + "        "
        children = ",\n".join(inner + _torch_expr(c, inner) for c in spec.schedulers)
        milestones = list(spec.milestones)
        return (
            "torch.optim.lr_scheduler.SequentialLR(\n"
            f"{indent}    optimizer,\n{indent}    schedulers=[\n{children},\n{indent}    ],\n"
            f"{indent}    milestones={milestones},\n{indent})"
        )
    if spec.name == "chained":
        children = ",\n".join(
            indent + "    " + _torch_expr(c, indent + "    ") for c in spec.schedulers
        )
        return f"torch.optim.lr_scheduler.ChainedScheduler([\n{children},\n{indent}])"
    name, args = torch_arguments(spec)
    return f"{name}(optimizer{', ' if args else ''}{args})"


def _torch(spec, base_lr) -> Export:
    expr = _torch_expr(spec)
    notes = []
    if not spec.absolute:
        lr = "the base LR" if base_lr is None else repr(base_lr)
        notes.append(f"# the optimizer's LR is the base LR it scales (here: {lr})")
    notes.append("# entry t of lrcore.table is the LR after t calls of scheduler.step()")
    return Export(f"import torch\n\nscheduler = {expr}", notes)


# -- DeepSpeed -----------------------------------------------------------------------------
def _deepspeed(spec, base_lr) -> Export:
    kind = own_name(spec, "deepspeed", "one of DeepSpeed's schedules")
    params = {k: v for k, v in spec.to_dict().items() if k != "name"}
    block = {"scheduler": {"type": kind, "params": params}}
    notes = ["# entry t of lrcore.table is the LR after t calls of DeepSpeed's step()"]
    if not spec.absolute:
        lr = "the optimizer's LR" if base_lr is None else repr(base_lr)
        notes.insert(0, f"# {kind} scales the optimizer's LR (its params.lr: here {lr})")
        if base_lr is not None:
            block["optimizer"] = {"type": "AdamW", "params": {"lr": base_lr}}
    return Export(json.dumps(block, indent=2), notes)


# -- fairseq ---------------------------------------------------------------------------------
def _fairseq(spec, base_lr) -> Export:
    import dataclasses

    name = own_name(spec, "fairseq", "one of fairseq's LR schedulers")
    flags = ["--lr-scheduler", name]
    defaults = {f.name: f.default for f in dataclasses.fields(spec)}
    for key, value in spec.to_dict().items():
        if key == "name" or (key != "lr" and value == defaults.get(key)) or value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            if value:
                flags.append(flag)
        elif isinstance(value, (list, tuple)):
            text = ",".join(repr(float(v)) for v in value)
            flags += [flag, f"({text})" if key == "phase_ratio" else text]
        elif isinstance(value, float) and value.is_integer() and key != "lr":
            flags += [flag, str(int(value))]  # (fairseq's counts are ints: --max-update)
        else:
            flags += [flag, repr(value)]
    notes = ["# entry t of lrcore.table is the LR of fairseq's step_update(t)"]
    if "updates_per_epoch" in spec.to_dict() and spec.to_dict().get("updates_per_epoch"):
        notes.append("# --updates-per-epoch is lrcore's: fairseq's epochs are its Trainer's")
    import shlex

    return Export(shlex.join(flags), notes)


# -- Megatron-LM ------------------------------------------------------------------------------
def _megatron(spec, base_lr) -> Export:
    own_name(spec, "megatron", "Megatron-Core's scheduler")
    d = spec.to_dict()
    if d.get("wd_incr_steps") is None:  # (the weight decay's ramp: the run's length)
        d["wd_incr_steps"] = d["lr_decay_steps"]
    ints = ("lr_decay_steps", "lr_warmup_steps", "wsd_decay_steps", "wd_incr_steps")
    for key in ints:
        value = d.get(key)
        if value is not None and float(value) != int(value):
            raise NotExact(
                f"--to megatron: {key}={value!r} is not a whole number of samples, which "
                "Megatron-LM's flags take"
            )
    flags = [
        "--lr", repr(d["max_lr"]),
        "--min-lr", repr(d["min_lr"]),
        "--lr-warmup-init", repr(d["init_lr"]),
        "--lr-decay-style", d["lr_decay_style"],
        "--train-samples", str(int(d["wd_incr_steps"])),
        "--lr-decay-samples", str(int(d["lr_decay_steps"])),
        "--lr-warmup-samples", str(int(d["lr_warmup_steps"])),
        "--start-weight-decay", repr(d["start_wd"]),
        "--end-weight-decay", repr(d["end_wd"]),
        "--weight-decay-incr-style", d["wd_incr_style"],
    ]  # fmt: skip
    if d["lr_decay_style"] == "WSD":
        flags += ["--lr-wsd-decay-samples", str(int(d["wsd_decay_steps"]))]
        flags += ["--lr-wsd-decay-style", d["lr_wsd_decay_style"]]
    notes = [
        "# sample-based training: Megatron's num_steps counts samples, one table entry "
        "each (with --train-iters, multiply the iterations by the global batch size)"
    ]
    import shlex

    return Export(shlex.join(flags), notes)


# -- optax -------------------------------------------------------------------------------
def _optax_call(spec) -> str:
    name = own_name(spec, "optax", "one of optax's schedules")
    args = []
    for key, value in spec.to_dict().items():
        if key == "name":
            continue
        if key == "boundaries_and_scales" and value is not None:
            text = "{" + ", ".join(f"{b!r}: {s!r}" for b, s in value) + "}"
        elif key == "schedules":
            text = "[" + ", ".join(_optax_call(c) for c in spec.schedules) + "]"
        elif key == "cosine_kwargs":
            items = []
            for child in value:
                child = {k: v for k, v in child.items() if k != "name"}
                items.append("dict(" + ", ".join(f"{k}={v!r}" for k, v in child.items()) + ")")
            text = "[" + ", ".join(items) + "]"
        else:
            text = repr(value)
        args.append(f"{key}={text}")
    return f"optax.{name}({', '.join(args)})"


def _optax(spec, base_lr) -> Export:
    notes = [
        "# lrcore.table's float64 values with jax.config.update('jax_enable_x64', True); "
        "in float32 optax rounds them",
        "# entry t of lrcore.table is schedule(t), optax's count",
    ]
    return Export(f"import optax\n\nschedule = {_optax_call(spec)}", notes)


# -- Keras --------------------------------------------------------------------------------
def _keras(spec, base_lr) -> Export:
    name = own_name(spec, "keras", "one of Keras's schedules")
    d = spec.to_dict()
    dtype = d.pop("dtype", "float32")
    args = ", ".join(
        f"{k}={list(v) if isinstance(v, tuple) else v!r}" for k, v in d.items() if k != "name"
    )
    notes = [
        f"# computed in {dtype}: keras.config.set_floatx({dtype!r}) before building it",
        "# entry t of lrcore.table is schedule(t), the optimizer's iteration count",
    ]
    code = f"import keras\n\nschedule = keras.optimizers.schedules.{name}({args})"
    return Export(code, notes)


# -- timm --------------------------------------------------------------------------------
def timm_factory_arguments(spec) -> dict | None:
    """``create_scheduler_v2``'s arguments (those off timm's defaults) that build
    ``spec``'s class with ``spec``'s parameters, stepped on epochs; ``None`` where its
    arithmetic cannot give them (a noise step that is no fraction of ``t_initial`` times
    ``t_initial``, tanh's ``lb``/``ub``, WSD's powers). Checked through the factory
    itself, so what it returns is exact."""

    from .family import names
    from .schedules.timm import FACTORY_DEFAULTS, timm_factory
    from .spec import build

    d = spec.to_dict()
    args = dict(
        warmup_lr=d.get("warmup_lr_init"),
        warmup_epochs=d.get("warmup_t"),
        noise_pct=d.get("noise_pct"),
        noise_std=d.get("noise_std"),
        noise_seed=d.get("noise_seed"),
    )
    if "warmup_prefix" in d:
        args["warmup_prefix"] = d["warmup_prefix"]
    length = d.get("t_initial")
    noise = d.get("noise_range_t")
    if noise is not None:
        if not length:
            return None
        args["noise"] = (
            [n / length for n in noise] if isinstance(noise, (list, tuple)) else (noise / length)
        )
    kind = spec.name
    if kind in ("timm_cosine", "timm_tanh", "timm_poly"):
        args.update(
            sched=kind[5:],
            num_epochs=length,
            min_lr=d["lr_min"],
            cycle_mul=d["cycle_mul"],
            cycle_decay=d["cycle_decay"],
            cycle_limit=d["cycle_limit"],
        )
        if "k_decay" in d:
            args["k_decay"] = d["k_decay"]
        if kind == "timm_poly":
            args["decay_rate"] = d["power"]
    elif kind == "timm_step":
        args.update(sched="step", decay_epochs=d["decay_t"], decay_rate=d["decay_rate"])
    elif kind == "timm_multistep":
        args.update(
            sched="multistep", decay_milestones=list(d["decay_t"]), decay_rate=d["decay_rate"]
        )
    elif kind == "timm_wsd":
        args.update(
            sched="rsqrt" if d["stable_fn"] == "rsqrt" else "wsd",
            num_epochs=length + d["warmup_t"],
            decay_epochs=d["decay_t"],
            min_lr=d["lr_min"],
            stable_timescale=d["stable_timescale"],
            decay_fn=d["decay_fn"],
        )
    else:
        return None
    try:
        name, kwargs = timm_factory(**args)
        kwargs = {k: v for k, v in kwargs.items() if k != "t_in_epochs"}
        for key in ("decay_t", "noise_range_t"):
            if isinstance(kwargs.get(key), list):
                kwargs[key] = tuple(kwargs[key])
        if build(names("timm")[name], kwargs) != spec:
            return None
    except (TypeError, ValueError, AssertionError, KeyError):
        return None
    order = ["sched", *(k for k in FACTORY_DEFAULTS if k != "sched")]
    return {
        k: args[k] for k in order if k in args and (k == "sched" or args[k] != FACTORY_DEFAULTS[k])
    }


def _timm(spec, base_lr) -> Export:
    import dataclasses

    name = own_name(spec, "timm", "one of timm's schedulers")
    factory = timm_factory_arguments(spec)
    notes = [
        "# entry t of lrcore.table is the LR after scheduler.step(t): timm's t counts epochs "
        "(step_on_epochs=True); to step per update with the same table, add "
        "step_on_epochs=False, updates_per_epoch=1 (timm multiplies the epoch counts by it)",
        "# (timm's constructor writes warmup_lr_init or the base LR before any step)",
    ]
    if factory is not None:
        args = ", ".join(f"{k}={v!r}" for k, v in factory.items())
        code = (
            "from timm.scheduler import create_scheduler_v2\n\n"
            f"scheduler, num_epochs = create_scheduler_v2(optimizer, {args})"
        )
        return Export(code, notes)
    defaults = {f.name: f.default for f in dataclasses.fields(spec)}
    args = ", ".join(
        f"{k}={list(v) if isinstance(v, tuple) else v!r}"
        for k, v in spec.to_dict().items()
        if k != "name" and v != defaults.get(k)
    )
    notes[0] = (
        "# entry t of lrcore.table is the LR after step(t) (t_in_epochs=True) or "
        "step_update(t) (t_in_epochs=False): timm's t, epochs or updates"
    )
    notes.append(
        f"# {name}'s constructor: create_scheduler_v2's arithmetic cannot give these "
        "parameters exactly"
    )
    code = f"import timm.scheduler\n\nscheduler = timm.scheduler.{name}(optimizer, {args})"
    return Export(code, notes)


# -- transformers ------------------------------------------------------------------------
def _transformers(spec, base_lr) -> Export:
    from .schedules.warmup import transformers_call

    function, args, lr_init = transformers_call(spec)
    notes = ["# entry t of lrcore.table is the LR after t calls of scheduler.step()"]
    if lr_init is not None:
        notes.insert(0, f"# the optimizer's lr must be lr_init={lr_init!r} (transformers reads it)")
    call = ", ".join(["optimizer", *args])
    code = f"from transformers import {function}\n\nscheduler = {function}({call})"
    return Export(code, notes)


_WRITERS = {
    "spec": _spec,
    "torch": _torch,
    "deepspeed": _deepspeed,
    "megatron": _megatron,
    "fairseq": _fairseq,
    "optax": _optax,
    "transformers": _transformers,
    "timm": _timm,
    "keras": _keras,
}
