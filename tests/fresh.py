"""Running a script in a fresh Python with an empty kernel cache (first-use tests)."""

import subprocess
import sys


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
