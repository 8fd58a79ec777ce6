"""``lrcore audit``: did a finished run follow its schedule?

A run's logged learning rates are read with the logging library's own reader
(TensorBoard event files through tensorboard's ``EventAccumulator``; CSV, as
Lightning's ``CSVLogger`` or any step and LR columns; transformers'
``trainer_state.json``) and compared with the spec's table at the logged steps:

* they agree when every logged LR equals the table's, exactly for a float64 log and
  after rounding the table to float32 for a float32 one (TensorBoard stores float32);
* otherwise the first step that differs is named, and every jump is named: a resume
  that restarted the schedule (after step ``r`` the run follows the table from 0
  again), a resume at the wrong step (it follows the table shifted by ``d`` steps),
  a schedule that ran past its end, or a change the table does not explain;
* steps logged twice and steps missing (from the log's own cadence) are listed.

Exit status of the command: 0 when the run followed the spec, 1 when it did not,
2 on bad input (nothing is written then).
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field

import numpy as np


class AuditError(ValueError):
    """Bad input: a log that cannot be read as asked (exit status 2)."""


@dataclass
class Log:
    steps: np.ndarray  # int64, as logged
    lrs: np.ndarray  # float64
    float32: bool  # the log holds float32 values
    source: str  # what was read: "tensorboard tag train/learning_rate", ...
    resumes: tuple[int, ...] = ()  # first steps of the logs after the first (resumes)
    #: table entry of logged step s: s * steps_per_entry + offset. transformers' Trainer
    #: logs at step s the LR that step s used (entry s - 1); Lightning's
    #: LearningRateMonitor the LR that step s will use (entry s)
    offset: int = 0


@dataclass
class Jump:
    step: int  # the first logged step of the new regime
    kind: str  # "restarted", "shifted", "past the end", "unexplained"
    shift: int  # the run's step minus the table step it follows from here (0: none)
    before: float  # the logged LR just before
    after: float  # the logged LR at ``step``
    intended: float  # the table's LR at ``step``
    count: int = 1  # logged steps in this regime that follow no part of the table

    def describe(self) -> str:
        off = abs(self.after - self.intended) / abs(self.intended) if self.intended else math.inf
        came = "" if math.isnan(self.before) else f"{self.before:.6g} -> "
        size = f"LR {came}{self.after:.6g} (intended {self.intended:.6g}, {off:.1%} off)"
        if self.kind == "restarted":
            return (
                f"step {self.step}: the schedule restarted from its step 0 (a resume "
                f"without the scheduler's state?): {size}"
            )
        if self.kind == "shifted":
            where = "behind" if self.shift > 0 else "ahead of"
            return (
                f"step {self.step}: the schedule continues {abs(self.shift)} steps {where} "
                f"the run (a resume at the wrong step?): {size}"
            )
        if self.kind == "past the end":
            return f"step {self.step}: the run is past the schedule's end: {size}"
        rest = f" and follows no part of it for {self.count} logged steps" if self.count > 1 else ""
        return f"step {self.step}: the LR leaves the schedule{rest}: {size}"


@dataclass
class Report:
    log: Log
    intended: np.ndarray  # the table at the logged steps (rounded as the log is)
    agree: bool
    first_difference: int | None  # the first logged step that differs
    jumps: list[Jump] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        n = len(self.log.steps)
        kind = "float32" if self.log.float32 else "float64"
        out = [
            f"read {n} logged LRs ({self.log.source}, {kind}), steps "
            f"{int(self.log.steps[0])}..{int(self.log.steps[-1])}"
        ]
        if self.log.offset:
            out.append("(transformers logs at step s the LR that step s used: table entry s - 1)")
        if self.agree:
            out.append("the run followed the schedule: every logged LR equals the table's")
        else:
            differ = int((~self._equal()).sum())
            out.append(
                f"the run did not follow the schedule: {differ} of {n} logged LRs differ; "
                f"the first at step {self.first_difference}"
            )
            for j in self.jumps:
                resumed = [r for r in self.log.resumes if r <= j.step <= r + 2]
                where = f"after the resume at step {resumed[-1]}, " if resumed else ""
                out.append("  " + where + j.describe())
        if self.log.resumes:
            out.append(
                "resumed at step "
                + ", ".join(str(r) for r in self.log.resumes)
                + " (a new log begins, or the steps go back to a checkpoint)"
            )
        if self.duplicates:
            out.append(f"logged more than once: steps {_few(self.duplicates)}")
        if self.missing:
            out.append(f"missing (from the log's cadence): steps {_few(self.missing)}")
        return out

    def _equal(self) -> np.ndarray:
        return _same(self.log.lrs, self.intended, self.log.float32)


def _few(steps: list[int], n: int = 10) -> str:
    shown = ", ".join(str(s) for s in steps[:n])
    return shown + (f", ... ({len(steps)} in all)" if len(steps) > n else "")


def _same(a: np.ndarray, b: np.ndarray, float32: bool) -> np.ndarray:
    if float32:
        return a.astype(np.float32) == b.astype(np.float32)
    return a == b


# -- reading logs ----------------------------------------------------------------------
def read_logs(paths, *, tag: str | None = None, column: str | None = None) -> Log:
    """The logs of one run, in the order given (a resumed Lightning run writes its
    CSV in ``version_0``, then ``version_1``), as one."""
    logs = [read_log(p, tag=tag, column=column) for p in paths]
    if len(logs) == 1:
        return logs[0]
    if len({g.offset for g in logs}) > 1:
        raise AuditError("the logs must come from one logger (their step conventions differ)")
    return Log(
        np.concatenate([g.steps for g in logs]),
        np.concatenate([g.lrs for g in logs]),
        any(g.float32 for g in logs),
        " + ".join(g.source for g in logs),
        tuple(sorted({r for g in logs for r in g.resumes} | {int(g.steps[0]) for g in logs[1:]})),
        logs[0].offset,
    )


def read_log(path: str, *, tag: str | None = None, column: str | None = None) -> Log:
    """The (step, LR) pairs a run logged, in the order logged."""
    if not os.path.exists(path):
        raise AuditError(f"LOG: {path} does not exist")
    if os.path.isdir(path) or os.path.basename(path).startswith("events.out.tfevents"):
        if column is not None:
            raise AuditError("--column is for CSV logs; a TensorBoard log takes --tag")
        return _tensorboard(path, tag)
    if path.endswith(".json"):
        if tag is not None or column is not None:
            raise AuditError("trainer_state.json has one LR (learning_rate): no --tag or --column")
        return _trainer_state(path)
    if path.endswith(".csv"):
        if tag is not None:
            raise AuditError("--tag is for TensorBoard logs; a CSV log takes --column")
        return _csv(path, column)
    raise AuditError(
        f"LOG must be a TensorBoard event file or folder, a .csv or a trainer_state.json, "
        f"got {path}"
    )


def _checked(steps, lrs, source, float32=False, offset=0) -> Log:
    if not steps:
        raise AuditError(f"{source}: no logged LRs")
    s = np.asarray(steps, dtype=np.float64)
    if not np.all(np.isfinite(s)) or np.any(s != np.round(s)) or np.any(s < 0):
        raise AuditError(f"{source}: steps must be whole numbers >= 0")
    # a step that goes back is a resume from an earlier checkpoint: the steps after it
    # are logged again (both loggings are checked)
    back = tuple(int(s[k + 1]) for k in np.flatnonzero(np.diff(s) < 0))
    return Log(
        s.astype(np.int64),
        np.asarray(lrs, dtype=np.float64),
        float32,
        source,
        resumes=back,
        offset=offset,
    )


def _number(text, what, row):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise AuditError(f"{what} on row {row} must be a number, got {text!r}") from None
    return value


def _csv(path: str, column: str | None) -> Log:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        names = reader.fieldnames or []
        if "step" not in names:
            raise AuditError(f"{path}: no 'step' column (columns: {', '.join(names)})")
        candidates = [
            n for n in names if n != "step" and ("lr" in n.lower() or "learning_rate" in n)
        ]
        if column is None:
            if len(candidates) != 1:
                raise AuditError(
                    f"{path}: name the LR column with --column (columns: {', '.join(names)})"
                )
            column = candidates[0]
        elif column not in names:
            raise AuditError(f"{path}: no column {column!r} (columns: {', '.join(names)})")
        steps, lrs = [], []
        for row, record in enumerate(reader, start=2):
            if record.get(column) in (None, ""):
                continue  # a row another metric logged (Lightning writes one row per step)
            steps.append(_number(record["step"], "step", row))
            lrs.append(_number(record[column], column, row))
    return _checked(steps, lrs, f"{os.path.basename(path)} column {column}")


def _trainer_state(path: str) -> Log:
    try:
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise AuditError(f"{path}: not a trainer_state.json ({exc})") from None
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise AuditError(f"{path}: no log_history (transformers' trainer_state.json has one)")
    entries = [e for e in history if isinstance(e, dict) and "learning_rate" in e]
    steps = [e.get("step") for e in entries]
    lrs = [e["learning_rate"] for e in entries]
    if any(not isinstance(v, (int, float)) for v in steps + lrs):
        raise AuditError(f"{path}: log_history holds a step or learning_rate that is not a number")
    return _checked(steps, lrs, "trainer_state.json log_history", offset=-1)


#: the LR tags frameworks write: transformers' Trainer, then Lightning's LearningRateMonitor
_TAGS = ("train/learning_rate", "learning_rate")


def _check_records(path: str) -> None:
    """Each event file's records whole: a length (8 bytes), its check (4), the data and
    its check (4), to the last byte (tensorboard's reader drops a cut record silently)."""
    files = (
        [os.path.join(path, n) for n in sorted(os.listdir(path)) if "tfevents" in n]
        if os.path.isdir(path)
        else [path]
    )
    if not files:
        raise AuditError(f"{path}: no TensorBoard event file (events.out.tfevents.*) there")
    for name in files:
        size, at = os.path.getsize(name), 0
        with open(name, "rb") as fh:
            while at < size:
                head = fh.read(12)
                if len(head) < 12:
                    raise AuditError(f"{name}: truncated at byte {at} of {size} (cut mid-write?)")
                length = int.from_bytes(head[:8], "little")
                if length > size:
                    raise AuditError(
                        f"{name}: not a TensorBoard event file (a record at byte {at} claims "
                        f"{length:,} bytes of {size:,})"
                    )
                if at + 12 + length + 4 > size:
                    raise AuditError(f"{name}: truncated at byte {at} of {size} (cut mid-write?)")
                fh.seek(length + 4, os.SEEK_CUR)
                at += 12 + length + 4


def _tensorboard(path: str, tag: str | None) -> Log:
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        raise AuditError(
            "reading TensorBoard logs needs tensorboard: pip install tensorboard"
        ) from None
    _check_records(path)
    acc = EventAccumulator(path, size_guidance={"scalars": 0})
    try:
        acc.Reload()
    except Exception as exc:  # noqa: BLE001 - tensorboard's reader raises several kinds
        raise AuditError(f"{path}: not a readable TensorBoard log ({exc})") from None
    tags = sorted(acc.Tags().get("scalars", []))
    listed = ", ".join(tags) or "none"
    if tag is None:
        found = [t for t in tags if t in _TAGS or t.startswith("lr-") or t.endswith("/lr")]
        if len(found) != 1:
            raise AuditError(f"{path}: name the LR with --tag (scalar tags: {listed})")
        tag = found[0]
    elif tag not in tags:
        raise AuditError(f"{path}: no scalar tag {tag!r} (scalar tags: {listed})")
    events = acc.Scalars(tag)
    offset = -1 if tag in _TAGS else 0  # (transformers' tags: the LR the step used)
    return _checked(
        [e.step for e in events],
        [e.value for e in events],
        f"tensorboard tag {tag}",
        float32=True,
        offset=offset,
    )


# -- comparing ---------------------------------------------------------------------------
def audit(log: Log, spec, base_lr: float = 1.0, steps_per_entry: int = 1) -> Report:
    """Compare ``log`` with ``spec``'s table: logged step ``s`` is table entry
    ``s * steps_per_entry``."""
    from . import table

    if not isinstance(steps_per_entry, int) or steps_per_entry < 1:
        raise AuditError(f"--steps-per-entry must be a whole number >= 1, got {steps_per_entry!r}")
    index = log.steps * steps_per_entry + log.offset
    if index.min() < 0:
        raise AuditError(f"{log.source}: step {int(log.steps[0])} is before the schedule's start")
    last = spec.last_step()
    limit = int(index.max()) + 1 if last is None else min(int(index.max()), last) + 1
    values = table(spec, limit, base_lr)
    inside = index < limit
    intended = np.full(len(index), np.nan)
    intended[inside] = values[index[inside]]
    equal = _same(log.lrs, intended, log.float32)
    seen, again = set(), set()
    for s in log.steps.tolist():
        (again if s in seen else seen).add(s)
    duplicates = sorted(again)
    missing = _missing(log.steps)
    agree = bool(equal.all())  # (a step logged twice with its LR both times followed it)
    first = None if equal.all() else int(log.steps[int(np.flatnonzero(~equal)[0])])
    jumps = _jumps(log, index, values, last)
    return Report(log, intended, agree, first, jumps, duplicates, missing)


def _missing(steps: np.ndarray) -> list[int]:
    """Steps the log's own cadence (its most common step difference) expects but lacks."""
    diffs = np.diff(np.unique(steps))
    if len(diffs) == 0:
        return []
    values, counts = np.unique(diffs, return_counts=True)
    cadence = int(values[np.argmax(counts)])
    expected = np.arange(int(steps[0]), int(steps[-1]) + 1, cadence)
    return [int(s) for s in np.setdiff1d(expected, steps)]


def _follows(lr, values, at, shift, float32) -> bool:
    k = at - shift
    return 0 <= k < len(values) and bool(_same(np.array([lr]), values[k : k + 1], float32)[0])


#: jumps named at most (a run that never follows the spec would list every step)
MAX_JUMPS = 20


def _jumps(log, index, values, last) -> list[Jump]:
    """Where the run leaves the table it was following: each change of regime, named."""
    out = []
    shift = 0  # the regime so far: run index - table index
    lost = -2  # the last entry that followed no part of the table
    for i in range(len(index)):
        at = int(index[i])
        if _follows(log.lrs[i], values, at, shift, log.float32):
            continue
        if len(out) >= MAX_JUMPS:
            break
        if last is not None and at > last:
            if not out or out[-1].kind != "past the end":
                out.append(_jump(log, i, values, "past the end", shift, at))
            continue
        # the shift that explains this entry and the next few
        window = range(i, min(i + 4, len(index)))
        found = next(
            (
                s
                for s in _shifts(log.lrs[i], values, at, log.float32)
                if all(_follows(log.lrs[j], values, int(index[j]), s, log.float32) for j in window)
            ),
            None,
        )
        if found is None:
            if out and out[-1].kind == "unexplained" and lost == i - 1:
                out[-1].count += 1  # the same lost stretch
            else:
                out.append(_jump(log, i, values, "unexplained", shift, at))
            lost = i
            continue
        since = at - int(index[i - 1]) if i else at  # run steps since the previous entry
        kind = "restarted" if at - found <= since else "shifted"
        out.append(_jump(log, i, values, kind, found, at))
        shift = found
    return out


def _shifts(lr, values, at, float32):
    """Shifts ``s`` (run index - table index) with ``values[at - s] == lr``, from the
    table's start on (a restart is the likeliest)."""
    same = np.flatnonzero(_same(values[: at + 1], np.full(at + 1, lr), float32))
    return [at - int(t) for t in same]


def _jump(log, i, values, kind, shift, at) -> Jump:
    before = float(log.lrs[i - 1]) if i else math.nan
    intended = float(values[at]) if at < len(values) else math.nan
    return Jump(int(log.steps[i]), kind, shift, before, float(log.lrs[i]), intended)


def plot(report: Report, path: str) -> None:
    """Logged against intended, differences marked."""
    from .plotting import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    steps = report.log.steps
    ax.plot(steps, report.intended, label="intended (the spec's table)", color="#1f77b4")
    ax.plot(steps, report.log.lrs, label="logged", color="#d62728", linestyle="--")
    differ = ~report._equal()
    if differ.any():
        ax.scatter(steps[differ], report.log.lrs[differ], s=8, color="#d62728", label="differs")
    top = ax.get_ylim()[1]
    names = {"unexplained": "leaves the schedule", "shifted": "shifted"}
    for j in report.jumps:
        ax.axvline(j.step, color="#d62728", linestyle=":")
        ax.annotate(names.get(j.kind, j.kind), (j.step, top), fontsize=7, rotation=90, va="top")
    for r in report.log.resumes:
        ax.axvline(r, color="#888", linestyle="--")
        ax.annotate("resumed", (r, top), fontsize=7, rotation=90, va="top", ha="right")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
