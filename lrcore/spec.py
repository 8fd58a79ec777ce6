"""Schedule specs: small, frozen, validated, serialisable descriptions.

A spec says *what* a schedule is, with the parameter names users already know
(torch's where torch has the schedule). Lowering to a flat program lives in
:mod:`lrcore.program`; the kernels never see a spec.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, ClassVar

REGISTRY: dict[str, type[Spec]] = {}


class Spec:
    """Base of every schedule spec (each subclass is a frozen dataclass)."""

    name: ClassVar[str]
    #: The spec carries absolute learning rates (cyclic, one-cycle): the table's
    #: ``base_lr`` has no meaning for it.
    absolute: ClassVar[bool] = False
    #: The spec also cycles the momentum (``table(..., quantity="momentum")``).
    has_momentum: ClassVar[bool] = False
    #: The spec also schedules the weight decay (``quantity="weight_decay"``).
    has_weight_decay: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and not cls.__dict__["name"].startswith(("raw", "_")):
            REGISTRY[cls.name] = cls

    def last_step(self) -> int | None:
        """The last table index the schedule defines (None: unbounded)."""
        return None

    # -- serialisation -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :func:`from_dict` turns it back into an equal spec."""
        out: dict[str, Any] = {"name": self.name}
        for field in dataclasses.fields(self):
            out[field.name] = _plain(getattr(self, field.name), self, field.name)
        return out

    def __str__(self) -> str:
        args = ", ".join(
            f"{f.name}={_text(getattr(self, f.name))}" for f in dataclasses.fields(self)
        )
        return f"{self.name}({args})"

    def brief(self) -> str:
        """The text form with only the parameters that differ from their defaults (a
        label: ``parse(spec.brief())`` gives the same schedule)."""
        args = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and _same(value, f.default):
                continue
            args.append(f"{f.name}={_text(value, brief=True)}")
        return f"{self.name}({', '.join(args)})"


def _same(value: Any, default: Any) -> bool:
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # noqa: BLE001 - an uncomparable value is not the default
        return False


def _plain(value: Any, spec: Spec, field: str) -> Any:
    if isinstance(value, Spec):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(v, spec, field) for v in value]
    if callable(value):
        raise TypeError(
            f"{spec.name}: {field} is a Python function and cannot be serialised; "
            "only specs made of numbers can go through to_dict/from_dict"
        )
    return value


def _text(value: Any, brief: bool = False) -> str:
    if isinstance(value, Spec):
        return value.brief() if brief else str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_text(v, brief) for v in value) + "]"
    if callable(value):
        return getattr(value, "__name__", "<function>")
    return repr(value)


def lookup(name: Any) -> type[Spec]:
    """The spec class registered under ``name``, or an error naming the nearest ones."""
    if isinstance(name, str) and name in REGISTRY:
        return REGISTRY[name]
    near = nearest(str(name))
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise ValueError(f"unknown schedule {name!r}{hint} (`lrcore families` lists them all)")


def nearest(name: str, n: int = 4) -> list[str]:
    """The registered names nearest ``name``: those it begins, then those holding it
    (torch's first, then the shorter), then difflib's close matches."""
    key = name.lower()
    bare = {k: k.replace("_", "") for k in REGISTRY}  # "onecycle" begins one_cycle
    plain = key.replace("_", "")

    def rank(known):
        framework = getattr(getattr(REGISTRY[known], "family", None), "framework", "")
        return (framework != "torch", len(known), known)

    starts = sorted((k for k in REGISTRY if bare[k].startswith(plain)), key=rank)
    inside = sorted((k for k in REGISTRY if plain in bare[k] and k not in starts), key=rank)
    close = difflib.get_close_matches(key, REGISTRY, n=n, cutoff=0.6)
    out = []
    for k in [*starts, *inside, *close] if key else close:
        if k not in out:
            out.append(k)
    return out[:n]


def from_dict(d: dict[str, Any]) -> Spec:
    """Build a spec from :meth:`Spec.to_dict` output (nested specs included)."""
    if not isinstance(d, dict) or "name" not in d:
        raise ValueError(f"a spec dict needs a 'name' key, got {d!r}")
    cls = lookup(d["name"])
    kwargs = {k: _from_plain(v) for k, v in d.items() if k != "name"}
    return build(cls, kwargs)


def _from_plain(value: Any) -> Any:
    if isinstance(value, dict) and "name" in value:
        return from_dict(value)
    if isinstance(value, list):
        return [_from_plain(v) for v in value]
    return value


def build(cls: type[Spec], kwargs: dict[str, Any]) -> Spec:
    """Call ``cls(**kwargs)``, turning unknown keywords into a clear error."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise TypeError(
            f"{cls.name}: unknown parameter(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(f.name for f in dataclasses.fields(cls))}"
        )
    return cls(**kwargs)
