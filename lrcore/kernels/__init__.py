"""Numba kernels. Kernels never validate: the wrappers in lrcore.table do.

Every kernel is a :class:`Kernel`: numba itself is imported, and the kernel
compiled (or loaded from the cache), on its first compiled call, so ``import
lrcore`` and small tables never touch numba. Each kernel is compiled for one
signature (float64 programs and tables, int64 steps) and cached on disk.
fastmath is never enabled for the ``torch`` numerics, so operation order and
libm calls match CPython's.

Every kernel also runs as plain Python (:attr:`Kernel.py`: the same code, with
the kernels it calls replaced by their plain versions and ``prange`` by
``range``): the same operations on the same float64 values, so the same bits.
lrcore serves small tables that way until a family's kernels are compiled in
the process (:func:`use_python`), so a first small table, or a drop-in
scheduler's first windows, costs no compile at all.

Where the cache goes (:func:`cache_dir`, also ``CACHE_DIR``), first that works:

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
import sys
import tempfile
import threading
import types
import warnings
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_LRCORE = _HERE.parent
#: the files whose kernels (or constants) a cached kernel may inline: the kernels, the
#: family modules that declare theirs (lrcore/schedules), the program layout, the C ABI
_SOURCES = (
    *sorted(_HERE.glob("*.py")),
    *sorted((_LRCORE / "schedules").glob("*.py")),
    _LRCORE / "kinds.py",
    _LRCORE / "cabi.py",
)

#: ``range`` in plain Python; compiled specialisations bind numba's ``prange``
prange = range


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
        stacklevel=4,
    )
    return None


_UNSET = object()
_cache = _UNSET
_LOCK = threading.RLock()  # kernels are made once, whichever thread asks first


def cache_dir() -> Path | None:
    """Where lrcore's kernels are cached (None: not cached). Chosen on first use."""
    global _cache
    if _cache is _UNSET:
        with _LOCK:
            if _cache is _UNSET:
                _cache = _choose()
    return _cache


def __getattr__(name):
    if name == "CACHE_DIR":  # chosen when first asked for, not at import
        return cache_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_numba = None


def _load_numba():
    """numba, imported once; a :class:`Kernel` named in a kernel types as its dispatcher."""
    global _numba
    if _numba is None:
        with _LOCK:
            if _numba is None:
                import numba
                from numba.core.typing.typeof import typeof_impl

                @typeof_impl.register(Kernel)
                def _typeof_kernel(value, context):
                    return typeof_impl(value.compiled(), context)

                _numba = numba
    return _numba


@contextlib.contextmanager
def _cache_location(numba):
    """numba reads its cache folder when a kernel is decorated: point it at
    :func:`cache_dir` for lrcore's kernels only."""
    config = numba.core.config
    before = config.CACHE_DIR
    config.CACHE_DIR = str(cache_dir())
    try:
        yield
    finally:
        config.CACHE_DIR = before


class Kernel:
    """A numba kernel made on its first compiled call; :attr:`py` runs it as plain Python.

    ``fn``'s code runs with its module's globals, plus ``names`` (a specialisation:
    a template's code bound to one family's functions, under a name of its own so
    that numba caches it apart). Any other attribute is the dispatcher's
    (``address`` of a cfunc, ``signatures``, ...)."""

    def __init__(self, fn, decorator, options, name=None, names=None):
        self.__wrapped__ = fn
        self.__name__ = self.__qualname__ = name or fn.__name__
        self.__doc__ = fn.__doc__
        self.__module__ = fn.__module__
        options = dict(options)
        self._plain_override = options.pop("plain", None)
        self._decorator, self._options, self._names = decorator, options, names
        self._jit = self._py = None

    def __repr__(self):
        return f"<lrcore kernel {self.__module__}.{self.__name__}>"

    def __call__(self, *args):
        jit = self._jit
        if jit is None:
            jit = self.compiled()
        return jit(*args)

    def _function(self, module_globals, extra):
        fn = self.__wrapped__
        if self._names is None and not extra:
            return fn
        return self._bound({**module_globals, **(self._names or {}), **extra})

    def _bound(self, g):
        """The template's code with globals ``g``, under this kernel's name."""
        fn = self.__wrapped__
        out = types.FunctionType(fn.__code__, g, self.__name__, fn.__defaults__, fn.__closure__)
        out.__qualname__ = self.__name__
        out.__doc__ = fn.__doc__
        return out

    def compiled(self):
        """The numba dispatcher (or cfunc), made on first call (numba imported then)."""
        if self._jit is None:
            with _LOCK:
                if self._jit is None:
                    numba = _load_numba()
                    module = vars(sys.modules[self.__module__])
                    fn = self._function(module, {"prange": numba.prange})
                    options = dict(self._options)
                    if options.get("cache") and cache_dir() is None:
                        options["cache"] = False
                    decorate = getattr(numba, self._decorator)
                    if options.get("cache"):
                        with _cache_location(numba):
                            self._jit = decorate(*options.pop("args", ()), **options)(fn)
                    else:
                        self._jit = decorate(*options.pop("args", ()), **options)(fn)
        return self._jit

    @property
    def ready(self) -> bool:
        """Whether the kernel was compiled (or loaded from the cache) in this process."""
        return self._jit is not None and bool(getattr(self._jit, "signatures", True))

    @property
    def py(self):
        """The kernel as plain Python: no numba, the same bits."""
        if self._plain_override is not None:  # the same C function, called from Python
            return self._plain_override
        if self._py is None:
            g = _plain_globals(self.__module__)  # shared: kernels defined later are found
            if self._names is not None:  # a specialisation: its own names on top
                g = {**g, **{k: _plain(v) for k, v in self._names.items()}}
            self._py = self._bound(g)
        return self._py

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.compiled(), name)


def _plain(value):
    return value.py if isinstance(value, Kernel) else value


_PLAIN: dict[str, dict] = {}  # complete: what other threads may read
_BUILDING: dict[str, dict] = {}  # being filled, by the thread holding _LOCK


def _plain_globals(module: str) -> dict:
    """A module's globals with each kernel replaced by its plain Python version."""
    g = _PLAIN.get(module)
    if g is None:
        with _LOCK:
            g = _PLAIN.get(module) or _BUILDING.get(module)
            if g is None:
                # the dict the module's plain kernels share, visible to this thread while
                # it is filled (they refer to it), and to others once complete
                g = _BUILDING[module] = {}
                try:
                    for k, v in list(vars(sys.modules[module]).items()):
                        g[k] = v.py if isinstance(v, Kernel) else v
                    g["prange"] = range
                finally:
                    del _BUILDING[module]
                _PLAIN[module] = g
    return g


def njit(*args, **kwargs):
    """``numba.njit`` made lazily (a :class:`Kernel`); ``cache=True`` means :func:`cache_dir`.
    ``plain=f``: the plain-Python engine calls ``f`` instead of the kernel's own code (for
    a kernel whose compiled code calls a C function Python's ``math`` does not have)."""
    if args and callable(args[0]):
        return Kernel(args[0], "njit", {})
    return lambda fn: Kernel(fn, "njit", kwargs)


def cfunc(*args, **kwargs):
    """``numba.cfunc`` made lazily (a :class:`Kernel`; compiled when first used)."""
    return lambda fn: Kernel(fn, "cfunc", {**kwargs, "args": args})


def kernel_tag(kernel) -> str:
    """The name a specialisation made from ``kernel`` is cached under: its own name, and
    for a kernel from outside lrcore (a family declared elsewhere) a hash of its file,
    since the cache folder's stamp covers lrcore's sources only."""
    name = kernel.__name__
    path = getattr(sys.modules.get(kernel.__module__), "__file__", None)
    if path is None:
        return name
    path = Path(path).resolve()
    if path.is_relative_to(_LRCORE):
        return name
    return f"{name}_{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}"


def specialise(template, suffix, names, decorator="njit", **options):
    """``template`` bound to ``names`` (one family's functions): a kernel of its own,
    cached as ``<template>_<suffix>``; its code, file and lines are the template's.
    ``decorator="cfunc"`` with ``args=(signature,)`` makes a cfunc."""
    name = f"{template.__name__}_{suffix}"
    return Kernel(template, decorator, {"cache": True, **options}, name, names)


# -- which engine serves a table -------------------------------------------------------------
#: tables of at most this many steps (of work) run as plain Python until compiled
PYTHON_STEPS = 4096
_forced: str | None = None


@contextlib.contextmanager
def engine(name: str):
    """Force ``"python"`` or ``"numba"`` for the tables computed inside (tests)."""
    global _forced
    if name not in ("python", "numba"):
        raise ValueError(f"engine must be 'python' or 'numba', got {name!r}")
    before, _forced = _forced, name
    try:
        yield
    finally:
        _forced = before


#: a family's parallel kernel runs its tables once the process has asked it for this many
#: steps (or it is compiled already): until then the serial kernel, with the same chunks and
#: bits, since compiling a parallel kernel (0.7-0.9 s on 2 cores) costs more than it saves
#: on a first table (a 10^6-step table takes 2-15 ms serially)
PARALLEL_AFTER = 1 << 22
_asked: dict = {}


@contextlib.contextmanager
def parallel_now():
    """Parallel kernels for the long tables computed inside (``lrcore warmup``)."""
    global PARALLEL_AFTER
    before, PARALLEL_AFTER = PARALLEL_AFTER, 0
    try:
        yield
    finally:
        PARALLEL_AFTER = before


def use_parallel(kernel, work: int) -> bool:
    """Whether ``work`` steps go to the parallel ``kernel`` (see :data:`PARALLEL_AFTER`)."""
    if not parallel_allowed():
        return False
    total = _asked.get(kernel, 0) + work
    _asked[kernel] = total
    return total >= PARALLEL_AFTER or kernel.ready


#: numpy scalars in plain Python behave as in the kernels: overflow to inf and NaN quietly
#: (no warning); a division by zero stops the plain run (the kernels raise ZeroDivisionError)
_PLAIN_ERRSTATE = dict(over="ignore", invalid="ignore", under="ignore", divide="raise")


def plain_first(plain, compiled):
    """``plain()`` (a run as plain Python), else ``compiled()`` where CPython's math raises
    and the kernels carry inf or NaN on (``math.pow`` overflowing, ``math.log(0)``)."""
    import numpy as np

    try:
        with np.errstate(**_PLAIN_ERRSTATE):
            return plain()
    except (ArithmeticError, ValueError):
        return compiled()


def use_python(work: int, kernels) -> bool:
    """Whether to run ``work`` steps through ``kernels`` as plain Python: a small job
    whose kernels are not compiled yet in this process."""
    if _forced is not None:
        return _forced == "python"
    return work <= PYTHON_STEPS and not all(k.ready for k in kernels)


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
