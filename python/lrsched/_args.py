"""What the drop-ins accept beyond torch's own checks.

torch checks some hyperparameters in its constructors and lets others through
that it then cannot run on: ``StepLR(step_size=0)`` divides by zero at the first
decay, ``CosineAnnealingLR(T_max=0)`` at the first step, a negative ``gamma`` or
``eta_min`` gives negative learning rates, NaN gives NaN, a string fails deep in
``get_lr``. The drop-ins keep torch's checks and messages, and refuse those values
too, when the scheduler is built, with an error naming the class, the parameter,
the value and what is allowed. Everything the rules accept runs with torch's
numbers.

A rule is a function ``(class name, parameter, value) -> None`` that raises.
"""

from __future__ import annotations

from lrcore import _validate as v


def integer(minimum):
    """An int >= minimum; an integral float too (torch runs on 30.0 as on 30)."""

    def rule(where, name, value):
        value = scalar(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        v.integer(where, name, value, minimum=minimum)

    return rule


def scalar(value):
    """A one-element real tensor as its Python number (torch runs on 0-d tensor
    hyperparameters, and on one-element ones); anything else unchanged."""
    numel = getattr(value, "numel", None)
    if numel is None or getattr(value, "is_complex", lambda: True)():
        return value
    if numel() == 1 and str(getattr(value, "dtype", "torch.bool")) != "torch.bool":
        return value.item()
    return value


def real(low=0.0, low_open=False, high=None):
    def rule(where, name, value):
        v.real(where, name, scalar(value), low=low, low_open=low_open, high=high)

    return rule


def per_group(inner):
    """One value, or a list / tuple of one value per param group."""

    def rule(where, name, value):
        if isinstance(value, (list, tuple)):
            for i, x in enumerate(value):
                inner(where, f"{name}[{i}]", x)
        else:
            inner(where, name, value)

    return rule


def optional(inner):
    def rule(where, name, value):
        if value is not None:
            inner(where, name, value)

    return rule


def flag(where, name, value):
    v.flag(where, name, value)


def milestones(where, name, value):
    """Steps >= 0; integral floats too (torch finds step 30 among milestones [30.0]).
    Tensors are refused: torch keeps them as Counter keys that no step ever equals
    (hashed by identity), so its LR silently never decays."""
    if isinstance(value, (list, tuple)):
        value = [int(x) if isinstance(x, float) and x.is_integer() else x for x in value]
    v.integers(where, name, value, minimum=0)


NON_NEGATIVE = real()
POSITIVE = real(low_open=True)
FRACTION = real(high=1.0)

RULES = {
    "StepLR": {"step_size": integer(1), "gamma": NON_NEGATIVE},
    "MultiStepLR": {"milestones": milestones, "gamma": NON_NEGATIVE},
    "ConstantLR": {"factor": real(low_open=True, high=1.0), "total_iters": integer(0)},
    "LinearLR": {
        "start_factor": real(low_open=True, high=1.0),
        "end_factor": FRACTION,
        "total_iters": integer(0),
    },
    "ExponentialLR": {"gamma": NON_NEGATIVE},
    "PolynomialLR": {"total_iters": integer(0), "power": NON_NEGATIVE},
    "CosineAnnealingLR": {"T_max": integer(1), "eta_min": NON_NEGATIVE},
    "CosineAnnealingWarmRestarts": {
        "T_0": integer(1),
        "T_mult": integer(1),
        "eta_min": NON_NEGATIVE,
    },
    "CyclicLR": {
        "base_lr": per_group(NON_NEGATIVE),
        "max_lr": per_group(NON_NEGATIVE),
        "step_size_up": POSITIVE,
        "step_size_down": optional(POSITIVE),
        "gamma": NON_NEGATIVE,
        "cycle_momentum": flag,
        "base_momentum": per_group(NON_NEGATIVE),
        "max_momentum": per_group(NON_NEGATIVE),
    },
    "OneCycleLR": {
        "max_lr": per_group(NON_NEGATIVE),
        "total_steps": optional(integer(1)),
        "epochs": optional(integer(1)),
        "steps_per_epoch": optional(integer(1)),
        "pct_start": FRACTION,
        "cycle_momentum": flag,
        "base_momentum": per_group(NON_NEGATIVE),
        "max_momentum": per_group(NON_NEGATIVE),
        "div_factor": POSITIVE,
        "final_div_factor": POSITIVE,
        "three_phase": flag,
    },
    "ReduceLROnPlateau": {
        "factor": NON_NEGATIVE,
        "patience": integer(0),
        "threshold": NON_NEGATIVE,
        "cooldown": integer(0),
        "min_lr": per_group(NON_NEGATIVE),
        "eps": NON_NEGATIVE,
    },
}


def check(where: str, arguments: dict) -> None:
    """Raise for the first argument of ``where`` outside its rule."""
    for name, rule in RULES.get(where, {}).items():
        if name in arguments:
            rule(where, name, arguments[name])


def bind(torch_init, args, kwargs) -> dict:
    """The constructor's arguments by name, defaults included (self left out)."""
    import inspect

    bound = inspect.signature(torch_init).bind(None, *args, **kwargs)
    bound.apply_defaults()
    return dict(list(bound.arguments.items())[1:])


_SAVED = (
    "lr",
    "initial_lr",
    "momentum",
    "betas",
    "max_lr",
    "min_lr",
    "max_momentum",
    "base_momentum",
)


def _values(entry):
    """The tensors inside a param-group entry (a tensor LR, tensor betas), with
    copies of their values: a constructor may write into them in place."""
    items = entry if isinstance(entry, tuple) else (entry,)
    return [(x, x.detach().clone()) for x in items if hasattr(x, "detach")]


def snapshot(optimizer):
    """The param-group entries a scheduler's constructor may write (tensors'
    values included)."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list):
        return None
    return [{k: (g[k], _values(g[k])) for k in _SAVED if k in g} for g in groups]


def restore(optimizer, saved):
    """Undo a failed constructor's writes to the param groups: the same objects,
    tensors holding their old values."""
    if saved is None:
        return
    for group, before in zip(optimizer.param_groups, saved):
        for key in _SAVED:
            if key in before:
                value, tensors = before[key]
                group[key] = value
                with _no_grad():
                    for tensor, old in tensors:
                        tensor.copy_(old)
            else:
                group.pop(key, None)


def _no_grad():
    import torch

    return torch.no_grad()
