"""Conformance harness: the upstream projects' own scheduler tests, run against lrsched.

``upstream/`` holds torch's ``test/optim/test_lrscheduler.py`` and transformers'
``tests/optimization/test_optimization.py``, unmodified (see ``upstream/README.md``).
The environment variable ``LRSCHED_CONFORMANCE`` decides what happens to them:

* unset: they are not collected. The normal suite runs them through
  ``tests/test_conformance.py``, one subprocess per file, with the variable set.
* ``lrsched``: before any upstream module is imported, the names that the upstream
  files import are pointed at lrsched's objects: every class in
  ``lrsched.TORCH_CLASSES`` on ``torch.optim.lr_scheduler``, and every
  ``get_*`` function of lrsched on ``transformers.optimization`` and on
  ``transformers``. ``from torch.optim.lr_scheduler import StepLR`` in the test
  module then binds lrsched's ``StepLR``.
* ``upstream``: collected against plain torch / transformers (the baseline: what
  fails here is not lrsched's doing).

The substitution changes process-wide module attributes, so it must not reach the
rest of the suite: with ``LRSCHED_CONFORMANCE=lrsched`` the run is refused unless
every path on the command line lies in ``tests/conformance/upstream``. The hook
that swaps runs at start-up (this conftest is an initial conftest for such paths),
before collection imports the test modules; after collection every collected
upstream module is checked to hold lrsched's objects (or, in ``upstream`` mode,
the originals), so a green run cannot be a run of torch's own classes.

    LRSCHED_CONFORMANCE=lrsched  python -m pytest tests/conformance/upstream -p no:cacheprovider -q
    LRSCHED_CONFORMANCE=upstream python -m pytest tests/conformance/upstream -p no:cacheprovider -q
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE / "upstream"
VARIABLE = "LRSCHED_CONFORMANCE"
MODE = os.environ.get(VARIABLE, "")
MODES = ("", "lrsched", "upstream")

if not MODE:
    # the normal suite: tests/test_conformance.py runs these in a subprocess
    collect_ignore = ["upstream"]

#: (module, name, original, replacement) for every substituted attribute
_SWAPS: list[tuple[object, str, object, object]] = []


def _targets():
    """(module, name, lrsched's object) for every attribute the harness substitutes."""
    import lrsched
    import torch.optim.lr_scheduler as torch_sched

    out = [(torch_sched, name, getattr(lrsched, name)) for name in lrsched.TORCH_CLASSES]
    try:
        import transformers
        import transformers.optimization as hf_opt
    except ImportError:  # the torch file still runs
        return out
    for name in lrsched.__all__:
        if name.startswith("get_") and hasattr(hf_opt, name):
            out.append((hf_opt, name, getattr(lrsched, name)))
            if hasattr(transformers, name):
                out.append((transformers, name, getattr(lrsched, name)))
    return out


def _inside_upstream(arg: str) -> bool:
    path = Path(arg.split("::", 1)[0])
    if not path.is_absolute():
        path = Path.cwd() / path
    path = path.resolve()
    return path == UPSTREAM or UPSTREAM in path.parents


def pytest_configure(config):
    if MODE not in MODES:
        raise pytest.UsageError(f"{VARIABLE}={MODE!r}: expected one of lrsched, upstream or unset")
    if MODE != "lrsched":
        return
    stray = [a for a in config.args if not _inside_upstream(a)]
    if stray:
        raise pytest.UsageError(
            f"{VARIABLE}=lrsched substitutes lrsched for torch's and transformers' "
            f"schedulers process-wide; run it on tests/conformance/upstream only "
            f"(got {stray})"
        )
    for module, name, replacement in _targets():
        _SWAPS.append((module, name, getattr(module, name), replacement))
        setattr(module, name, replacement)
    _check_swapped()


def pytest_unconfigure(config):
    while _SWAPS:
        module, name, original, _ = _SWAPS.pop()
        setattr(module, name, original)


def _check_swapped():
    """The substitution happened: every target attribute is lrsched's object."""
    wrong = [
        f"{module.__name__}.{name}"
        for module, name, _, replacement in _SWAPS
        if getattr(module, name) is not replacement
    ]
    if not _SWAPS or wrong:
        raise pytest.UsageError(f"lrsched substitution failed: {wrong or 'nothing substituted'}")
    import lrsched
    import torch.optim.lr_scheduler as torch_sched

    assert torch_sched.StepLR is lrsched.StepLR


def _summary():
    if MODE == "lrsched":
        names = sorted({f"{m.__name__}.{n}" for m, n, _, _ in _SWAPS})
        return f"lrsched conformance: {len(names)} attributes substituted by lrsched's, checked"
    if MODE == "upstream":
        return "lrsched conformance: baseline (plain torch / transformers, no substitution)"
    return None


def pytest_report_header(config):
    return _summary()


def pytest_terminal_summary(terminalreporter):
    # also under -q, which hides the header: the wrapper test looks for this line
    if MODE:
        terminalreporter.write_line(_summary())


def pytest_collection_modifyitems(session, config, items):
    """Each collected upstream module holds what the mode promises."""
    modules = {}
    for item in items:
        path = Path(str(item.path)).resolve()
        if UPSTREAM not in path.parents:
            continue
        if not MODE:
            raise pytest.UsageError(
                f"{path.name}: set {VARIABLE}=lrsched (or =upstream) to run the upstream "
                "tests; tests/test_conformance.py runs them with lrsched"
            )
        module = getattr(item, "module", None)
        if module is not None:
            modules[module.__name__] = module
    if not MODE:
        return
    # name -> the objects a module may hold under that name in this mode
    names: dict[str, list] = {}
    if MODE == "lrsched":
        for _, name, _, replacement in _SWAPS:
            names.setdefault(name, []).append(replacement)
    else:  # nothing substituted: the modules' own (original) attributes
        for module, name, _ in _targets():
            names.setdefault(name, []).append(getattr(module, name))
    for module in modules.values():
        hits = 0
        for name, objs in names.items():
            if name in vars(module):
                hits += 1
                if not any(vars(module)[name] is obj for obj in objs):
                    raise pytest.UsageError(
                        f"{module.__name__}.{name} is {vars(module)[name]!r}, not the "
                        f"{'lrsched' if MODE == 'lrsched' else 'original'} object: the module "
                        "was imported before the substitution"
                    )
        if hits == 0:
            raise pytest.UsageError(f"{module.__name__} imports none of the substituted names")
