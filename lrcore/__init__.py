"""lrcore: learning-rate schedules as whole tables, computed in compiled kernels.

>>> import lrcore
>>> lrcore.table(lrcore.Step(step_size=2, gamma=0.5), 5, base_lr=0.1)
array([0.1  , 0.1  , 0.05 , 0.05 , 0.025])

Importing lrcore compiles nothing and does not import numba: each kernel is
compiled (or loaded from its disk cache) on first use, and small tables run
the same code as plain Python, with the same bits, until their family's
kernels are compiled. lrcore never imports torch.
"""

from . import schedules as _schedules
from .interop import to_keras, to_optax
from .schedules import *  # noqa: F403 - every family module's spec classes (schedules.SPECS)
from .spec import REGISTRY, Spec, from_dict
from .table import stream, table
from .text import parse

__version__ = "0.1.0"

__all__ = [
    *_schedules.__all__,
    "REGISTRY",
    "Spec",
    "from_dict",
    "parse",
    "stream",
    "table",
    "to_keras",
    "to_optax",
]
