"""Schedule families: one module per framework, each declaring its families
(:mod:`lrcore.family`) and their specs, frozen dataclasses.

Every module here is imported, and every spec class it registers (a named
:class:`lrcore.spec.Spec`, :data:`lrcore.spec.REGISTRY`) is exported: a new family
module is found without a list to extend.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from ..spec import REGISTRY as _REGISTRY

for _module in sorted(m.name for m in _pkgutil.iter_modules(__path__)):
    if not _module.startswith("_"):
        _importlib.import_module(f"{__name__}.{_module}")

#: the spec classes of every family module, by class name
SPECS = {
    cls.__name__: cls for cls in _REGISTRY.values() if cls.__module__.startswith(__name__ + ".")
}
globals().update(SPECS)
__all__ = sorted(SPECS)
