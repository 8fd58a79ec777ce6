"""numba checks a cached kernel against its own file only, so lrcore stamps its kernel
sources together and drops its cached kernels when any of them changes."""

import shutil
import subprocess
import sys
from pathlib import Path

import lrcore


def _run(root, code):
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return out.stdout


def _cached(root):
    return sorted(p.name for p in (root / "lrcore" / "kernels" / "__pycache__").glob("*.nbi"))


def test_a_changed_kernel_source_drops_the_cached_kernels(tmp_path):
    src = Path(lrcore.__file__).parent
    shutil.copytree(src, tmp_path / "lrcore", ignore=shutil.ignore_patterns("__pycache__"))
    _run(tmp_path, "from lrcore.kernels.restarts import restart_int; restart_int(10, 3, 2)")
    first = _cached(tmp_path)
    assert any(name.startswith("restarts.restart_int") for name in first)
    _run(tmp_path, "import lrcore.kernels")  # nothing changed: the cache stays
    assert _cached(tmp_path) == first
    # a constant the kernels inline changes in another file: the cache goes
    with open(tmp_path / "lrcore" / "kinds.py", "a") as fh:
        fh.write("\n# changed\n")
    _run(tmp_path, "import lrcore.kernels")
    assert _cached(tmp_path) == []
