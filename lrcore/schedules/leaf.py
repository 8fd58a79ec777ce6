"""The base of every non-composite schedule."""

from __future__ import annotations

from typing import Any, ClassVar

from ..spec import Spec


def shaped(shape, layout, named: dict) -> list:
    """A shaped family's parameters: its ``shape`` code, then the values ``named`` in the
    order of the shape's ``layout`` (:func:`lrcore.family.offsets`)."""
    return [shape, *(named[name] for name in layout._fields)]


class Leaf(Spec):
    """A schedule that lowers to one leaf record of a program."""

    kind: ClassVar[int]

    def params(self, quantity: str = "lr") -> list[float]:
        """The leaf's numeric parameters, in the order the kernels read them."""
        raise NotImplementedError

    def function(self) -> Any:
        """The user function this leaf evaluates (lambda families), or None."""
        return None


class Raw(Leaf):
    """A leaf given by its kind code and kernel parameters, unvalidated.

    For the torch layer, which reads parameters that torch keeps in its own form
    (OneCycleLR's phases in the param groups, CyclicLR's ``total_size`` and
    ``step_ratio``). Not registered, not serialisable.
    """

    name = "raw"

    def __init__(self, kind: int, params, absolute: bool = False, last: int | None = None):
        self.kind = kind
        self._params = tuple(float(x) for x in params)
        self.absolute = absolute
        self._last = last

    def params(self, quantity="lr"):
        return list(self._params)

    def last_step(self):
        return self._last

    def __eq__(self, other):
        return isinstance(other, Raw) and (self.kind, self._params, self.absolute, self._last) == (
            other.kind,
            other._params,
            other.absolute,
            other._last,
        )

    def __hash__(self):
        return hash((self.kind, self._params, self.absolute, self._last))

    def __str__(self):
        return f"raw(kind={self.kind}, params={list(self._params)})"

    def to_dict(self):
        raise TypeError("raw: a raw leaf is internal to lrsched and cannot be serialised")
