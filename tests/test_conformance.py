"""torch's and transformers' own scheduler tests, run against lrsched.

Each upstream file in tests/conformance/upstream/ runs in a subprocess with
``LRSCHED_CONFORMANCE=lrsched``: tests/conformance/conftest.py then points the
names those files import (``torch.optim.lr_scheduler.StepLR``,
``transformers.get_linear_schedule_with_warmup``, ...) at lrsched's before the
files are imported, and checks that it did. The subprocess keeps that
process-wide substitution out of this session (where test_parity_torch.py and
others compare lrsched with the real torch classes).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = Path("tests") / "conformance" / "upstream"
TIMEOUT = 900  # seconds, per file

#: upstream file -> the modules it needs (torch's imports torch.testing._internal,
#: which needs expecttest)
FILES = {
    "test_lrscheduler.py": ("torch", "expecttest"),
    "test_optimization.py": ("torch", "transformers"),
}


def run_upstream(name: str, mode: str = "lrsched", *extra: str) -> subprocess.CompletedProcess:
    """``python -m pytest tests/conformance/upstream/<name>`` with LRSCHED_CONFORMANCE=mode."""
    env = dict(os.environ, LRSCHED_CONFORMANCE=mode)
    cmd = [sys.executable, "-m", "pytest", str(UPSTREAM / name), "-p", "no:cacheprovider", "-q"]
    return subprocess.run(
        [*cmd, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.mark.parametrize("name", sorted(FILES))
def test_upstream_tests_pass_with_lrsched(name):
    if not (ROOT / UPSTREAM / name).exists():
        pytest.skip(f"{UPSTREAM / name} is not here (see {UPSTREAM / 'README.md'})")
    for module in FILES[name]:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{name} needs {module}, not installed")
    try:
        proc = run_upstream(name)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name} ran past {TIMEOUT} s")
    output = proc.stdout + proc.stderr
    assert "lrsched conformance:" in output, f"no substitution report:\n{output[-4000:]}"
    assert proc.returncode == 0, f"{name} with lrsched (exit {proc.returncode}):\n{output[-12000:]}"
