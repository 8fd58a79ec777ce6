"""lrsched: drop-in torch.optim.lr_scheduler classes backed by lrcore tables.

Change ``from torch.optim.lr_scheduler import X`` to ``from lrsched import X``;
the LRs are the same bits, ``step()`` costs a table lookup. Also: transformers'
schedule functions (same names), ``TableLR`` for any lrcore spec, and device
mode (``device=``) for in-graph schedules. timm's classes are in ``lrsched.timm``,
DeepSpeed's in ``lrsched.deepspeed`` (and ``from_deepspeed_config`` reads a
DeepSpeed config's ``"scheduler"`` block), Megatron-Core's OptimizerParamScheduler
in ``lrsched.megatron``, fairseq's schedulers in ``lrsched.fairseq``.
"""

try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover - tested in a venv without torch
    raise ImportError(
        "lrsched is lrcore's torch layer and needs torch: pip install 'lrcore[torch]' "
        "(or any torch >= 2.4). lrcore itself works without it."
    ) from None

from .composite import ChainedScheduler, SequentialLR
from .deepspeed import from_deepspeed_config
from .plateau import ReduceLROnPlateau
from .schedulers import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ScheduleLambda,
    StepLR,
    TableLR,
)
from .warmup import (
    SchedulerType,
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    get_inverse_sqrt_schedule,
    get_linear_schedule_with_warmup,
    get_polynomial_decay_schedule_with_warmup,
    get_reduce_on_plateau_schedule,
    get_scheduler,
    get_wsd_schedule,
)

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "TableLR",
    "ScheduleLambda",
    "SchedulerType",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule",
    "get_scheduler",
    "get_wsd_schedule",
    "from_deepspeed_config",
]

#: the drop-ins for torch's 15 classes (everything but TableLR and the functions)
TORCH_CLASSES = [n for n in __all__[:15]]
