"""Running a script in a fresh Python: with an empty kernel cache (first-use tests), or
with this checkout on its path and a framework chosen at start-up (jax's x64 flag,
Keras's backend), or away from the tests that fork (jax starts threads)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_python(code: str, cache_dir, timeout: int = 300) -> list[str]:
    """Run ``code`` in a new process whose kernel cache is ``cache_dir`` (empty: a
    first use); fail with its stderr if it fails; its stdout's words."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"LRCORE_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.split()


def python_json(code: str, *args: str, timeout: int = 600, **env: str):
    """Run ``code`` (with ``args``) in a new Python that imports this checkout, with
    ``env`` added to the environment; fail with its stderr if it fails; the JSON on the
    last line of its stdout."""
    run_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "python")])}
    run_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=run_env,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def free_port() -> str:
    """A loopback port free now (the OS picks it), for a process group's store: two
    pytest-xdist workers never pick the same one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


#: runs several scripts in one process, each with its own sys.argv and a fresh namespace,
#: their stdouts captured: what they import (a framework) is imported once
_MANY = """
import contextlib, io, json, sys
out = []
for code, args in json.load(open(sys.argv[1])):
    buf = io.StringIO()
    sys.argv = ["-c", *args]
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "<script>", "exec"), {"__name__": "__main__"})
    out.append(json.loads(buf.getvalue().strip().splitlines()[-1]))
print(json.dumps(out))
"""


def python_jsons(jobs, folder, timeout: int = 600, **env: str) -> list:
    """:func:`python_json` for several ``(code, args)`` jobs in one new Python, one after
    another (the framework they compare against imported once, not once a job); the JSON
    on the last line each job prints, in order."""
    path = Path(folder) / "jobs.json"
    path.write_text(json.dumps([[code, list(args)] for code, args in jobs]))
    return python_json(_MANY, str(path), timeout=timeout, **env)
