"""Schedule families: one module per family, each spec a frozen dataclass."""

from .compose import Chained, Sequential
from .cosine import CosineAnnealing, CosineAnnealingWarmRestarts
from .cyclic import Cyclic, OneCycle
from .decay import Exponential, Linear, Polynomial
from .deepspeed import (
    DeepSpeedLRRangeTest,
    DeepSpeedOneCycle,
    DeepSpeedWarmup,
    DeepSpeedWarmupCosine,
    DeepSpeedWarmupDecay,
)
from .function import Lambda, Multiplicative
from .keras import (
    KerasCosineDecay,
    KerasCosineDecayRestarts,
    KerasExponentialDecay,
    KerasInverseTimeDecay,
    KerasPiecewiseConstantDecay,
    KerasPolynomialDecay,
)
from .megatron import Megatron
from .optax import (
    OptaxConstant,
    OptaxCosineDecay,
    OptaxCosineOnecycle,
    OptaxExponentialDecay,
    OptaxJoin,
    OptaxLinear,
    OptaxLinearOnecycle,
    OptaxPiecewiseConstant,
    OptaxPiecewiseInterpolate,
    OptaxPolynomial,
    OptaxSGDR,
    OptaxWarmupConstant,
    OptaxWarmupCosineDecay,
    OptaxWarmupExponentialDecay,
)
from .piecewise import Constant, MultiStep, Step
from .timm import TimmCosine, TimmPoly, TimmTanh
from .warmup import (
    WSD,
    CosineDecay,
    CosineHardRestarts,
    InverseSqrt,
    LinearDecay,
    PolynomialDecay,
    Stable,
    Warmup,
    WSDDecay,
)

__all__ = [
    "KerasCosineDecay",
    "KerasCosineDecayRestarts",
    "KerasExponentialDecay",
    "KerasInverseTimeDecay",
    "KerasPiecewiseConstantDecay",
    "KerasPolynomialDecay",
    "OptaxConstant",
    "OptaxCosineDecay",
    "OptaxCosineOnecycle",
    "OptaxExponentialDecay",
    "OptaxJoin",
    "OptaxLinear",
    "OptaxLinearOnecycle",
    "OptaxPiecewiseConstant",
    "OptaxPiecewiseInterpolate",
    "OptaxPolynomial",
    "OptaxSGDR",
    "OptaxWarmupConstant",
    "OptaxWarmupCosineDecay",
    "OptaxWarmupExponentialDecay",
    "DeepSpeedLRRangeTest",
    "DeepSpeedOneCycle",
    "DeepSpeedWarmup",
    "DeepSpeedWarmupCosine",
    "DeepSpeedWarmupDecay",
    "WSD",
    "TimmCosine",
    "TimmPoly",
    "TimmTanh",
    "CosineDecay",
    "CosineHardRestarts",
    "InverseSqrt",
    "LinearDecay",
    "PolynomialDecay",
    "Stable",
    "Warmup",
    "WSDDecay",
    "Chained",
    "Constant",
    "CosineAnnealing",
    "CosineAnnealingWarmRestarts",
    "Cyclic",
    "Exponential",
    "Lambda",
    "Linear",
    "Megatron",
    "MultiStep",
    "Multiplicative",
    "OneCycle",
    "Polynomial",
    "Sequential",
    "Step",
]
