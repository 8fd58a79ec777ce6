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

#: DeepSpeed's scheduler types and the specs that reproduce them (from the declarations)
DEEPSPEED = names("deepspeed")

__all__ = [
    "DEEPSPEED",
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
