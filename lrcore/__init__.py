"""lrcore: learning-rate schedules as whole tables, computed in compiled kernels.

>>> import lrcore
>>> lrcore.table(lrcore.Step(step_size=2, gamma=0.5), 5, base_lr=0.1)
array([0.1  , 0.1  , 0.05 , 0.05 , 0.025])

Importing lrcore compiles nothing and does not import numba: each kernel is
compiled (or loaded from its disk cache) on first use, and small tables run
the same code as plain Python, with the same bits, until their family's
kernels are compiled. lrcore never imports torch.
"""

from .interop import to_keras, to_optax
from .schedules import (
    WSD,
    Chained,
    Constant,
    CosineAnnealing,
    CosineAnnealingWarmRestarts,
    CosineDecay,
    CosineHardRestarts,
    Cyclic,
    DeepSpeedLRRangeTest,
    DeepSpeedOneCycle,
    DeepSpeedWarmup,
    DeepSpeedWarmupCosine,
    DeepSpeedWarmupDecay,
    Exponential,
    InverseSqrt,
    Lambda,
    Linear,
    LinearDecay,
    Megatron,
    Multiplicative,
    MultiStep,
    OneCycle,
    Polynomial,
    PolynomialDecay,
    Sequential,
    Stable,
    Step,
    TimmCosine,
    TimmPoly,
    TimmTanh,
    Warmup,
    WSDDecay,
)
from .spec import REGISTRY, Spec, from_dict
from .table import stream, table
from .text import parse

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "Chained",
    "Constant",
    "CosineAnnealing",
    "CosineAnnealingWarmRestarts",
    "Cyclic",
    "DeepSpeedLRRangeTest",
    "DeepSpeedOneCycle",
    "DeepSpeedWarmup",
    "DeepSpeedWarmupCosine",
    "DeepSpeedWarmupDecay",
    "Exponential",
    "Lambda",
    "Linear",
    "Megatron",
    "MultiStep",
    "Multiplicative",
    "OneCycle",
    "Polynomial",
    "Sequential",
    "Spec",
    "Step",
    "Warmup",
    "WSD",
    "CosineDecay",
    "CosineHardRestarts",
    "InverseSqrt",
    "LinearDecay",
    "PolynomialDecay",
    "Stable",
    "TimmCosine",
    "TimmPoly",
    "TimmTanh",
    "WSDDecay",
    "from_dict",
    "parse",
    "stream",
    "table",
    "to_keras",
    "to_optax",
]
