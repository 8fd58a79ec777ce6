"""The closed numerics' contract with a framework's own values (docs/table.md).

``numerics="torch"`` gives the framework's bits. ``numerics="closed"`` gives them too,
but where a cosine stretch is written by angle addition: there it is within 1e-12
relative, or, near the bottom of a decay, within the rounding of the framework's own
``(1 + cos x) / 2``, which cancels (``cos`` rounds to 2**-53 near -1, so that formula is
off by up to 2**-53 of the peak; the closed form's ``cos(x / 2)**2`` is nearer the exact
value there: tests/test_closed.py measures both against 40-digit references).
"""

import numpy as np


def outside(closed, reference) -> np.ndarray:
    """The indices where ``closed`` leaves the contract with ``reference`` (any shape:
    the peak is each row's, or the table's)."""
    closed, reference = np.asarray(closed), np.asarray(reference)
    if not reference.size:
        return np.argwhere(np.zeros(closed.shape, bool))
    with np.errstate(invalid="ignore"):
        peak = np.nanmax(np.abs(reference), axis=-1, keepdims=True)
        slack = 1e-12 * np.abs(reference) + 2.0**-50 * peak
        same = (closed == reference) | (np.isnan(closed) & np.isnan(reference))
        return np.argwhere(~(same | (np.abs(closed - reference) <= slack)))
