"""``lrcore.table``: the validated entry point to the kernels."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from . import _validate as v
from . import family, kinds
from .functions import evaluate
from .kernels.closed import closed_run
from .kernels.torch_numerics import run, segment_origin, strided_run
from .program import Program, lower
from .spec import Spec

NUMERICS = ("torch", "closed")
MAX_STEP = 2**53  # steps are exact in float64 below this
_WHERE = "table"


def _spec(spec, where: str = _WHERE) -> Spec:
    """A spec, or its text form parsed; anything else is an error of ``where``."""
    if isinstance(spec, str):
        from .text import parse

        return parse(spec)
    if not isinstance(spec, Spec):
        v.fail(where, "spec", spec, "a schedule spec or its text form", TypeError)
    return spec


def _bases(base_lr) -> tuple[list[float], bool]:
    if isinstance(base_lr, (Sequence, np.ndarray)) and not isinstance(base_lr, str):
        values = (
            list(np.asarray(base_lr, dtype=object).ravel())
            if isinstance(base_lr, np.ndarray)
            else list(base_lr)
        )
        if not values:
            v.fail(_WHERE, "base_lr", base_lr, "a number or a non-empty list of numbers")
        return [v.real(_WHERE, f"base_lr[{i}]", x, low=0.0) for i, x in enumerate(values)], True
    return [v.real(_WHERE, "base_lr", base_lr, low=0.0)], False


#: what a table can hold, and which specs have it
QUANTITIES = {
    "lr": lambda spec: True,
    "momentum": lambda spec: spec.has_momentum,
    "weight_decay": lambda spec: spec.has_weight_decay,
}
_NEEDS = {
    "momentum": "'momentum' needs cyclic, one_cycle, or deepspeed_one_cycle with "
    "cycle_momentum=True",
    "weight_decay": "'weight_decay' needs megatron",
}


def table(
    spec: Spec | str,
    steps: int,
    base_lr: float | Sequence[float] = 1.0,
    *,
    start: int = 0,
    numerics: str = "torch",
    dtype=np.float64,
    previous_lr: float | Sequence[float] | None = None,
    quantity: str = "lr",
    check_finite: bool = True,
    stride: int = 1,
) -> np.ndarray:
    """The learning rate for steps ``start .. start + steps - 1``.

    Entry ``t`` is the LR in effect after ``start + t`` calls of torch's
    ``scheduler.step()`` (entry 0 with ``start=0`` is the LR right after the
    scheduler is constructed). With a list of ``base_lr`` (one per param group)
    the table has shape ``(groups, steps)``.

    numerics:
        ``"torch"`` reproduces torch.optim.lr_scheduler bit for bit (recurrences
        stream forward from the start of the current segment, in O(1) memory);
        ``"closed"`` evaluates closed forms in parallel.
    previous_lr:
        continue the torch recurrence from this LR at step ``start - 1`` (a
        resumed run, or an LR edited by hand) instead of recomputing it.
        Schedules that torch computes from the step alone (lambda, warm restarts,
        cyclic, one-cycle, the warm-up family) have no recurrence and do not
        read it, exactly as torch's classes overwrite an edited LR.
    quantity:
        ``"momentum"`` gives the momentum / beta1 cycle of cyclic, one_cycle and
        deepspeed_one_cycle; ``"weight_decay"`` megatron's weight decay.
    stride:
        entry ``t`` is step ``start + t * stride``: Megatron's ``num_steps`` moves by a
        global batch of samples a step. Only for schedules whose value is a function of
        the step alone (the pointwise families: ``deepspeed_*``, ``megatron``,
        ``optax_*``, ``keras_*``, ``fairseq_*``, ``timm_step``, ...), where both numerics
        agree.
    check_finite:
        raise a ValueError naming the first step whose value overflowed float64
        (``exponential(gamma=2)`` past step 1023); False returns the inf or NaN
        entries as torch's recurrence would produce them (lrsched's drop-ins
        look ahead in windows and only serve such a step if the run gets there).
    """
    spec = _spec(spec)
    steps = v.integer(_WHERE, "steps", steps, minimum=0)
    start = v.integer(_WHERE, "start", start, minimum=0)
    stride = v.integer(_WHERE, "stride", stride, minimum=1)
    end = start + (steps - 1) * stride + 1 if steps else start  # one past the last step
    if end > MAX_STEP:
        name = "start + steps" if stride == 1 else "start + (steps - 1) * stride + 1"
        v.fail(_WHERE, name, end, f"at most 2**53 = {MAX_STEP}")
    v.choice(_WHERE, "numerics", numerics, NUMERICS)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        v.fail(_WHERE, "dtype", dtype, "numpy.float32 or numpy.float64")
    v.choice(_WHERE, "quantity", quantity, QUANTITIES)
    if not QUANTITIES[quantity](spec):
        v.fail(_WHERE, "quantity", quantity, f"'lr' for {spec.name} ({_NEEDS[quantity]})")
    bases, grouped = _bases(base_lr)
    if spec.absolute and (grouped or bases[0] != 1.0):
        v.fail(
            _WHERE,
            "base_lr",
            base_lr,
            f"left at 1.0 for {spec.name}, whose learning rates are given in the spec",
        )
    program = lower(spec, quantity)
    if program.last_step is not None and end - 1 > program.last_step:
        v.fail(
            _WHERE,
            "start + steps" if stride == 1 else "start + (steps - 1) * stride + 1",
            end,
            f"at most {program.last_step + 1}: {spec.name} defines steps 0..{program.last_step}",
        )
    if stride != 1 and not _pointwise(program):
        v.fail(
            _WHERE,
            "stride",
            stride,
            f"1 for {spec.name} (a stride needs a schedule whose value is a function of "
            f"the step alone: {_pointwise_names()})",
        )
    previous = _previous(previous_lr, start, len(bases))

    out = np.empty((len(bases), steps), dtype=np.float64)
    for g, base in enumerate(bases):
        if steps and stride != 1:
            aux, lo, off = _aux(program, start, start + 1)
            strided_run(program.code, base, start, stride, out[g], aux, lo, off)
        elif steps:
            bad = _fill(program, base, start, steps, numerics, previous[g], out[g])
            if check_finite and bad != 0:  # (None: not counted by the kernels)
                _finite(spec, start, out[g])
    out = out if grouped else out[0]
    return out if dtype == np.float64 else out.astype(dtype)


def _pointwise_names() -> str:
    """The schedules a stride accepts, from the declarations: ``deepspeed_*`` where all
    of a framework's schedules are one pointwise family, the names otherwise."""
    from .spec import REGISTRY

    out = []
    for f in family.declared():
        if not f.pointwise:
            continue
        names = sorted(n for n, c in REGISTRY.items() if issubclass(c, f.specs))
        prefix = f.name + "_"
        if len(names) > 1 and all(n.startswith(prefix) for n in names):
            out.append(prefix + "*")
        else:
            out += names
    return ", ".join(out)


def _pointwise(program: Program) -> bool:
    """One segment of one leaf whose value is a function of the step alone."""
    code = program.code
    return (
        len(program.segment_starts) == 1
        and int(code[kinds.PROGRAM_HEADER.n_leaves]) == 1
        and family.pointwise(int(code[kinds.HEADER + kinds.SEGMENT + kinds.LEAF_HEADER.kind]))
    )


def _finite(spec: Spec, start: int, row: np.ndarray) -> None:
    """Refuse a table that overflowed (e.g. exponential(gamma=1e6) after 52 steps)."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = row.sum()
    if np.isfinite(total):  # one pass (benchmarks: test_overflow_check_cost); locate if off
        return
    where = np.flatnonzero(~np.isfinite(row))
    if where.size == 0:  # only the sum overflowed (values near 1e308): all finite
        return
    bad = int(where[0])
    value = float(row[bad])
    why = (
        "its parameters overflow float64 there"
        if math.isinf(value)
        else "its formula has no value there (an overflow, or the logarithm of a number "
        "<= 0: cycles that shrink, t_mult or t_mul < 1, run out)"
    )
    raise ValueError(
        f"table: {spec.name} is not finite from step {start + bad} on (value {value!r}): {why}"
    )


def _previous(previous_lr, start, groups) -> list[float | None]:
    if previous_lr is None:
        return [None] * groups
    if start < 1:
        v.fail(_WHERE, "previous_lr", previous_lr, "None when start=0 (there is no step before)")
    if isinstance(previous_lr, numbers.Real):
        values = [previous_lr] * groups
    else:
        values = list(previous_lr)
        if len(values) != groups:
            v.fail(_WHERE, "previous_lr", previous_lr, f"one value per group ({groups})")
    return [v.real(_WHERE, "previous_lr", x) for x in values]


def _fill(
    program: Program, base: float, start: int, steps: int, numerics: str, previous, out: np.ndarray
) -> int | None:
    """Fill ``out``; the number of entries that are not finite where the kernels counted
    them as they wrote (the closed numerics), else None."""
    code = program.code
    end = start + steps
    if numerics == "closed":
        aux, lo, off = _aux(program, start, end, cumulative=True)
        return closed_run(code, base, start, steps, out, aux, lo, off)
    if program.stateless:
        aux, lo, off = _aux(program, start, end)
        run(code, base, start, end, np.nan, out, start, aux, lo, off, stateless=True)
        return None
    if previous is not None:
        t0, value = start, previous
    else:
        t0, value = _stream_origin(program, start), base
    aux, lo, off = _aux(program, t0, end)
    run(code, base, t0, end, value, out, start, aux, lo, off)
    return None


def _multiplies(function) -> bool:
    """A user function that multiplies the previous LR (multiplicative, not lambda)."""
    return not family.overwriting(function.kind)


def _stream_origin(program: Program, start: int) -> int:
    """The step a recurrence must start from to reach ``start`` exactly: the start of
    its segment, or 0 when a multiplicative schedule continues across segments."""
    if any(_multiplies(f) for f in program.functions):
        return 0
    return int(segment_origin(program.code, start))


def _aux(program: Program, t0: int, t1: int, cumulative: bool = False):
    parts, lows, offsets, total = [], [], [], 0
    for f in program.functions:
        seg_end = f.segment_end if f.segment_end is not None else t1
        lo = max(t0, f.segment_start) - f.segment_start
        hi = min(t1, seg_end) - f.segment_start
        if hi <= lo:
            lo = hi = 0
        if cumulative and _multiplies(f):
            # eta_e = eta_0 * prod_{k=1..e} f(k): running products from step 0
            factors = evaluate(f.fn, 1, hi, f.evaluation) if hi > 1 else np.empty(0)
            values = np.concatenate(([1.0], np.cumprod(factors))) if hi > 0 else factors
            lo = 0
        else:
            values = evaluate(f.fn, lo, hi, f.evaluation)
        parts.append(values)
        lows.append(lo)
        offsets.append(total)
        total += len(values)
    aux = np.concatenate(parts) if parts else np.empty(0)
    return (
        np.ascontiguousarray(aux, dtype=np.float64),
        np.asarray(lows, dtype=np.int64),
        np.asarray(offsets, dtype=np.int64),
    )


def stream(
    spec: Spec | str,
    steps: int,
    base_lr: float = 1.0,
    *,
    start: int = 0,
    chunk: int = 65_536,
    numerics: str = "torch",
    dtype=np.float64,
    check_finite: bool = True,
):
    """Yield the table of ``steps`` steps from ``start`` in arrays of ``chunk`` entries.

    Memory is O(chunk) however long the run: each chunk continues the previous one
    (for the torch numerics, torch's recurrence from the last LR, exactly as one
    long table would). ``base_lr`` is one number here.
    """
    spec = _spec(spec)
    chunk = v.integer("stream", "chunk", chunk, minimum=1)
    steps = v.integer("stream", "steps", steps, minimum=0)
    start = v.integer("stream", "start", start, minimum=0)
    previous = None
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        block = table(
            spec,
            n,
            base_lr,
            start=start + done,
            numerics=numerics,
            previous_lr=previous if numerics == "torch" else None,
            check_finite=check_finite,
        )
        previous = float(block[-1])
        done += n
        yield block if np.dtype(dtype) == np.float64 else block.astype(dtype)


def tabulate(spec, base_lr: float, steps: int | None, where: str):
    """(the spec, its float64 table of ``steps`` entries; all of it where ``steps`` is
    None and the spec has a last step) for the interop wrappers (lrcore.interop,
    lrcore.keras_schedule)."""
    spec = _spec(spec, where)
    last = spec.last_step()
    if steps is None:
        if last is None:
            v.fail(
                where,
                "steps",
                steps,
                f"the number of steps to tabulate ({spec.name} has no last step)",
            )
        steps = last + 1
    steps = v.integer(where, "steps", steps, minimum=1)
    return spec, table(spec, steps, base_lr)
