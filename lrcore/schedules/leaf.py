"""The base of every non-composite schedule."""

from __future__ import annotations

from typing import Any, ClassVar

from ..spec import Spec


class Leaf(Spec):
    """A schedule that lowers to one leaf record of a program."""

    kind: ClassVar[int]

    def params(self, quantity: str = "lr") -> list[float]:
        """The leaf's numeric parameters, in the order the kernels read them."""
        raise NotImplementedError

    def function(self) -> Any:
        """The user function this leaf evaluates (lambda families), or None."""
        return None
