"""Where lrcore's compiled kernels are cached: outside the package (read-only installs
work, uninstalling leaves nothing), in a folder per version of the kernel sources
(numba checks a cached kernel against its own file only)."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import lrcore

# long enough to be compiled (a small table runs as plain Python and caches nothing)
TABLE = "import lrcore; print(lrcore.table('cosine_annealing(T_max=10)', 10**4)[2])"
WANT = "0.9045084971874737"


def _package_copy():
    """A copy of lrcore in a fresh folder anyone can read (pytest's tmp_path is
    private to its user)."""
    root = Path(tempfile.mkdtemp(prefix="lrcore-copy-"))
    shutil.copytree(
        Path(lrcore.__file__).parent, root / "lrcore", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def _run(root, env_extra, user=None, prelude=""):
    env = {k: v for k, v in os.environ.items() if k not in ("LRCORE_CACHE_DIR", "NUMBA_CACHE_DIR")}
    env.update(env_extra)
    env["PYTHONPATH"] = str(root)
    # the copy, not an editable install's lrcore
    code = (
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path "
        "if 'editable' not in repr(f).lower()]\n"
        + prelude
        + TABLE
        + "\nimport lrcore.kernels as k\n"
        f"assert k.__file__.startswith({str(root)!r}), k.__file__\nprint(k.CACHE_DIR)"
    )
    cmd = [sys.executable, "-c", code]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def _kernels(folder):
    return sorted(p.name for p in Path(folder).rglob("*.nbi"))


def test_kernels_are_cached_outside_the_package():
    root = _package_copy()
    cache = root / "cache"
    try:
        out = _run(root, {"LRCORE_CACHE_DIR": str(cache)})
        assert out.returncode == 0, out.stderr
        value, where = out.stdout.split()
        assert value == WANT
        assert Path(where).parent == cache
        assert any(n.startswith("torch_numerics.cosine_steps") for n in _kernels(where))
        assert _kernels(root / "lrcore") == []  # nothing written into the package
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_changed_kernel_source_starts_a_new_folder():
    root = _package_copy()
    cache = root / "cache"
    try:
        first = _run(root, {"LRCORE_CACHE_DIR": str(cache)}).stdout.split()[-1]
        again = _run(root, {"LRCORE_CACHE_DIR": str(cache)}).stdout.split()[-1]
        assert again == first and _kernels(first)  # unchanged sources: the same kernels
        # a constant the kernels inline changes in another file: a new folder, the old gone
        with open(root / "lrcore" / "kinds.py", "a") as fh:
            fh.write("\n# changed\n")
        second = _run(root, {"LRCORE_CACHE_DIR": str(cache)}).stdout.split()[-1]
        assert second != first
        assert not Path(first).exists() and _kernels(second)
    finally:
        shutil.rmtree(root, ignore_errors=True)


needs_root = pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0 or shutil.which("setpriv") is None,
    reason="runs lrcore as another user (needs root and setpriv)",
)


def _as_nobody_works():
    """Whether this Python runs as user nobody at all (its folders may be private)."""
    cmd = ["setpriv", "--reuid=nobody", "--regid=65534", "--clear-groups"]
    out = subprocess.run([*cmd, sys.executable, "-c", "import numba"], capture_output=True)
    return out.returncode == 0


def _read_only(root):
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        path.chmod(mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        if path.is_dir():
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@needs_root
def test_a_read_only_install_without_a_home_caches_in_the_temp_folder():
    if not _as_nobody_works():
        pytest.skip("this Python cannot run as user nobody (a private folder on its path)")
    root = _package_copy()
    try:
        _read_only(root)
        out = _run(root, {"HOME": "/nonexistent", "XDG_CACHE_HOME": ""}, user="nobody")
        assert out.returncode == 0, out.stderr
        value, where = out.stdout.split()
        assert value == WANT
        assert Path(where).parent.name.startswith("lrcore-cache-")
        assert "Warning" not in out.stderr
        shutil.rmtree(Path(where), ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_nowhere_to_write_compiles_without_a_cache_and_warns_once():
    """Every candidate unusable (here: paths under a file, and a temp folder that is
    one too): the kernels compile in the process, with one warning naming the way out."""
    root = _package_copy()
    blocked = "/etc/hostname"  # a file: no folder can be made under it, even by root
    try:
        env = {
            "HOME": blocked,
            "XDG_CACHE_HOME": f"{blocked}/xdg",
            "LRCORE_CACHE_DIR": f"{blocked}/lrcore",
        }
        prelude = f"import tempfile; tempfile.gettempdir = lambda: {blocked + '/tmp'!r}\n"
        out = _run(root, env, prelude=prelude)
        assert out.returncode == 0, out.stderr
        value, where = out.stdout.split()
        assert (value, where) == (WANT, "None")
        assert out.stderr.count("RuntimeWarning") == 1
        assert "LRCORE_CACHE_DIR" in out.stderr
        assert _kernels(root) == []
    finally:
        shutil.rmtree(root, ignore_errors=True)
