"""A table as CSV text (``lrcore table`` and the explorer's downloads)."""

from __future__ import annotations

import numpy as np

#: rows of CSV made and written at a time (bounded memory for any table)
CSV_CHUNK = 1 << 16


def write_csv(fh, out: np.ndarray, start: int) -> None:
    """``step,lr0,lr1,...`` with each LR's shortest round-trip text (Python's repr), as
    fast as joining the same text by hand."""
    rows = np.atleast_2d(out)
    fh.write("step," + ",".join(f"lr{g}" for g in range(rows.shape[0])) + "\n")
    n = rows.shape[1]
    for a in range(0, n, CSV_CHUNK):
        b = min(a + CSV_CHUNK, n)
        steps = range(start + a, start + b)
        if rows.shape[0] == 1:
            lines = [f"{i},{v!r}" for i, v in zip(steps, rows[0, a:b].tolist())]
        else:
            columns = [map(float.__repr__, row.tolist()) for row in rows[:, a:b]]
            lines = map(",".join, zip(map(str, steps), *columns))
        fh.write("\n".join(lines) + "\n")
