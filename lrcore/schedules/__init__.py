"""Schedule families: one module per family, each spec a frozen dataclass."""

from .compose import Chained, Sequential
from .cosine import CosineAnnealing, CosineAnnealingWarmRestarts
from .cyclic import Cyclic, OneCycle
from .decay import Exponential, Linear, Polynomial
from .function import Lambda, Multiplicative
from .piecewise import Constant, MultiStep, Step

__all__ = [
    "Chained",
    "Constant",
    "CosineAnnealing",
    "CosineAnnealingWarmRestarts",
    "Cyclic",
    "Exponential",
    "Lambda",
    "Linear",
    "MultiStep",
    "Multiplicative",
    "OneCycle",
    "Polynomial",
    "Sequential",
    "Step",
]
