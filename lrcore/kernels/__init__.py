"""Numba kernels. Kernels never validate: the wrappers in lrcore.table do.

Every kernel is compiled on first use (``cache=True``) with one signature:
float64 programs and tables, int64 steps. fastmath is never enabled for the
``torch`` numerics, so operation order and libm calls match CPython's.

numba checks a cached function against its own file only: a kernel that inlines
a function from another module (or a constant of :mod:`lrcore.kinds`) keeps the
old code when only that module changes. So the kernel sources are stamped
together, and a changed stamp drops lrcore's cached kernels before any is
loaded (in-tree caches: editable installs and writable site-packages; a fresh
install rewrites every file, which numba notices by itself).
"""

import hashlib
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_SOURCES = (*sorted(_HERE.glob("*.py")), _HERE.parent / "kinds.py", _HERE.parent / "cabi.py")
_STAMP_FILE = "lrcore-kernels.stamp"


def _stamp() -> str:
    digest = hashlib.sha256()
    for path in _SOURCES:
        st = path.stat()
        digest.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


def refresh_stale_caches() -> list[str]:
    """Drop lrcore's cached kernels if any kernel source changed; the dropped files."""
    stems = tuple(p.stem + "." for p in _SOURCES)
    dropped = []
    try:
        stamp = _stamp()
        for folder in (_HERE / "__pycache__", _HERE.parent / "__pycache__"):
            folder.mkdir(exist_ok=True)
            mark = folder / _STAMP_FILE
            if mark.exists() and mark.read_text() == stamp:
                continue
            for f in folder.iterdir():
                if f.suffix in (".nbi", ".nbc") and f.name.startswith(stems):
                    f.unlink(missing_ok=True)
                    dropped.append(f.name)
            mark.write_text(stamp)
    except OSError:  # a read-only install: numba keeps its caches elsewhere
        pass
    return dropped


refresh_stale_caches()
