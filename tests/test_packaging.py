"""lrcore as a pip user gets it: the wheel and the sdist built from this checkout, the
wheel installed into a fresh virtual environment without extras."""

import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 600

pytestmark = pytest.mark.integration


def _run(cmd, **kwargs):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)
    return out


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    pytest.importorskip("build")
    folder = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "lrcore"
    # a clean copy: what git tracks (no caches, no fetched upstream tests)
    listing = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    files = _run(listing, cwd=ROOT).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    for name in files:
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    out = _run([sys.executable, "-m", "build", "--outdir", str(folder), str(src)])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "is absent from the `packages` configuration" not in out.stdout + out.stderr
    (wheel,) = folder.glob("*.whl")
    (sdist,) = folder.glob("*.tar.gz")
    return wheel, sdist


def test_the_wheel_holds_the_license_types_and_header_and_no_dev_extra(dist):
    wheel, _ = dist
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "lrcore/py.typed" in names and "lrsched/py.typed" in names
    assert "lrcore/include/lrcore.h" in names
    assert not any(n.startswith("tests/") for n in names)
    assert "License-Expression: Apache-2.0" in meta
    assert "Classifier: Typing :: Typed" in meta
    lines = meta.splitlines()
    extras = {line.split(": ", 1)[1] for line in lines if line.startswith("Provides-Extra")}
    assert extras == {"torch", "cffi", "plot", "yaml", "jax", "keras", "all"}
    requires = " ".join(line for line in lines if line.startswith("Requires-Dist"))
    assert "numba" in requires and "matplotlib" in requires  # (the plot extra)
    dev_only = ("pytest", "hypothesis", "transformers", "lightning", "ruff", "deepspeed")
    for name in (*dev_only, "megatron", "optax"):
        assert name not in requires


def test_the_sdist_ships_what_its_tests_import(dist):
    _, sdist = dist
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for helper in ("conftest.py", "naive.py", "catalogue.py", "torch_ref.py", "timm_ref.py"):
        assert f"tests/{helper}" in names
    assert "LICENSE" in names and "requirements-dev.txt" in names
    assert not any(n.startswith("tests/conformance/upstream/test_") for n in names)


def test_the_sdists_tests_run(dist, tmp_path):
    _, sdist = dist
    with tarfile.open(sdist) as t:
        t.extractall(tmp_path, filter="data")
    (src,) = tmp_path.iterdir()
    env = dict(os.environ, PYTHONPATH=f"{src}{os.pathsep}{src / 'python'}")
    code = (
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path "
        "if 'editable' not in repr(f).lower()]; import pytest; "
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'tests/test_specs.py']))"
    )
    out = _run([sys.executable, "-c", code], cwd=src, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout


@pytest.fixture(scope="module")
def fresh(dist, tmp_path_factory):
    """A new virtual environment with the wheel and nothing but its requirements.
    This pip installs into it (``--python``, pip 22.3 and later): ensurepip's own copy
    of pip would take 4 s to set up, and compiling every installed module (numba's,
    numpy's) 4 s more, where a first import compiles what it reads."""
    from importlib.metadata import version

    wheel, _ = dist
    folder = tmp_path_factory.mktemp("venv")
    outer = tuple(int(x) for x in version("pip").split(".")[:2]) >= (22, 3)
    venv.EnvBuilder(with_pip=not outer).create(folder)
    python = folder / "bin" / "python"
    if outer:
        pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-compile"]
    else:  # an older pip: the environment's own
        pip = [str(python), "-m", "pip", "install"]
    out = _run([*pip, "-q", str(wheel)])
    if out.returncode != 0:
        pytest.skip(f"cannot install the wheel's requirements here: {out.stderr[-500:]}")
    return folder


def test_a_fresh_install_tabulates_from_python_and_the_command_line(fresh, tmp_path):
    python = fresh / "bin" / "python"
    out = _run([str(python), "-c", "import lrcore; print(lrcore.table('step(step_size=2)', 4))"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[1.", "1.", "0.1", "0.1]"]
    target = tmp_path / "lr.csv"
    out = _run([str(fresh / "bin" / "lrcore"), "table", "step(step_size=2)", "--steps", "3",
                "-o", str(target)])  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert target.read_text().splitlines()[-1] == "2,0.1"
    # the explorer's page and its vendored plotting library are in the wheel
    code = (
        "import lrcore.serve as s; "
        "print(all((s.STATIC / n).is_file() for n, _ in s.FILES.values()))"
    )
    out = _run([str(python), "-c", code])
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr


def test_a_fresh_install_names_the_extra_it_lacks(fresh, tmp_path):
    lrcore_cli = str(fresh / "bin" / "lrcore")
    out = _run(
        [lrcore_cli, "plot", "step(step_size=2)", "--steps", "5", "-o", "x.png"], cwd=tmp_path
    )
    assert out.returncode == 2
    assert "pip install 'lrcore[plot]'" in out.stderr
    assert not (tmp_path / "x.png").exists()
    out = _run([lrcore_cli, "demo", "-o", str(tmp_path / "g")])
    assert out.returncode == 2 and "lrcore[plot]" in out.stderr  # before the benchmark runs
    out = _run([str(fresh / "bin" / "python"), "-c", "import lrsched"])
    assert out.returncode == 1
    assert "ImportError: lrsched is lrcore's torch layer and needs torch" in out.stderr
    assert "pip install 'lrcore[torch]'" in out.stderr
