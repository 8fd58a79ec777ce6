"""Numba kernels. Kernels never validate: the wrappers in lrcore.table do.

Every kernel is compiled on first use, for one signature (float64 programs and
tables, int64 steps), and cached on disk. fastmath is never enabled for the
``torch`` numerics, so operation order and libm calls match CPython's.

Where the cache goes (:data:`CACHE_DIR`), first that works:

1. ``$LRCORE_CACHE_DIR``, else ``$NUMBA_CACHE_DIR/lrcore``;
2. the user's cache folder: ``$XDG_CACHE_HOME/lrcore``, else ``~/.cache/lrcore``;
3. ``<temp dir>/lrcore-cache-<uid>``;
4. nowhere: the kernels compile in every process, with one warning.

Never inside the installed package, so a read-only install works and
``pip uninstall`` leaves nothing lrcore wrote. Inside that folder the kernels
live in ``<package hash>-<source stamp>``: numba checks a cached kernel against
its own file only, and a kernel inlines functions (and :mod:`lrcore.kinds`
constants) from other files, so any change to a kernel source starts a new folder
(and removes this package's old ones). ``lrcore warmup`` fills it ahead of time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

import numba
from numba.core import config

_HERE = Path(__file__).resolve().parent
_SOURCES = (*sorted(_HERE.glob("*.py")), _HERE.parent / "kinds.py", _HERE.parent / "cabi.py")


def _stamp() -> str:
    digest = hashlib.sha256()
    for path in _SOURCES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _candidates() -> list[Path]:
    out = []
    for variable, sub in (("LRCORE_CACHE_DIR", None), ("NUMBA_CACHE_DIR", "lrcore")):
        if os.environ.get(variable):
            folder = Path(os.environ[variable]).expanduser()
            out.append(folder / sub if sub else folder)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        out.append(Path(xdg) / "lrcore")
    with contextlib.suppress(RuntimeError, KeyError):
        out.append(Path.home() / ".cache" / "lrcore")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    out.append(Path(tempfile.gettempdir()) / f"lrcore-cache-{uid}")
    return out


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
        return True
    except OSError:
        return False


def _choose() -> Path | None:
    package = hashlib.sha256(str(_HERE).encode()).hexdigest()[:8]
    stamp = _stamp()
    for base in _candidates():
        folder = base / f"{package}-{stamp}"
        if _writable(folder):
            for old in base.glob(f"{package}-*"):  # this package's stale kernels
                if old != folder:
                    shutil.rmtree(old, ignore_errors=True)
            return folder
    warnings.warn(
        "lrcore: no writable folder for its compiled kernels (tried "
        + ", ".join(str(c) for c in _candidates())
        + "); they compile in every process. Set LRCORE_CACHE_DIR to a writable folder.",
        RuntimeWarning,
        stacklevel=2,
    )
    return None


#: where lrcore's kernels are cached (None: not cached)
CACHE_DIR: Path | None = _choose()


@contextlib.contextmanager
def _cache_location():
    """numba reads its cache folder when a kernel is decorated: point it at
    :data:`CACHE_DIR` for lrcore's kernels only."""
    before = config.CACHE_DIR
    config.CACHE_DIR = str(CACHE_DIR)
    try:
        yield
    finally:
        config.CACHE_DIR = before


def _cached(decorator, args, kwargs):
    if not kwargs.get("cache"):
        return decorator(*args, **kwargs)
    if CACHE_DIR is None:
        return decorator(*args, **{**kwargs, "cache": False})

    def apply(fn):
        with _cache_location():
            return decorator(*args, **kwargs)(fn)

    return apply


def njit(*args, **kwargs):
    """``numba.njit`` with ``cache=True`` meaning lrcore's :data:`CACHE_DIR`."""
    if args and callable(args[0]):  # @njit without arguments: nothing cached
        return numba.njit(*args, **kwargs)
    return _cached(numba.njit, args, kwargs)


def cfunc(*args, **kwargs):
    """``numba.cfunc`` with ``cache=True`` meaning lrcore's :data:`CACHE_DIR`."""
    return _cached(numba.cfunc, args, kwargs)


# -- processes and threads ------------------------------------------------------------------
# numba's OpenMP threading layer kills a forked child that runs a parallel kernel after the
# parent did ("fork() called from a process already using GNU OpenMP"), and its workqueue
# layer aborts when two threads run parallel kernels at once. So a forked child runs the
# serial kernels (the same chunks one after another: the same bits), and parallel kernels
# run one at a time (each already uses every core numba is given: NUMBA_NUM_THREADS).
_forked = False


def _after_fork_in_child() -> None:
    global _forked, PARALLEL_LOCK
    _forked = True
    PARALLEL_LOCK = threading.Lock()  # a lock held by another thread at fork is never freed


def parallel_allowed() -> bool:
    """False in a process forked from one that may have started numba's threads."""
    return not _forked


PARALLEL_LOCK = threading.Lock()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def kernels_parallel_lock():
    """The lock parallel kernels run under (a new one in a forked child)."""
    return PARALLEL_LOCK
