"""In-graph schedules: the table on the device, ``step()`` as device operations only.

In device mode a scheduler holds
  * ``lr_table``: a (groups, horizon) tensor of the schedule's LRs (torch numerics,
    rounded once to the LR tensors' dtype),
  * ``step_tensor``: a 0-d int64 tensor counting ``step()`` calls,
and each param group's ``lr`` becomes a 0-d tensor on the device. ``step()`` is
``add_``, ``clamp_max``, ``index_select`` and ``copy_``: no host value, no
synchronisation, so it can sit inside a CUDA graph or a ``torch.compile``
(``fullgraph=True``) graph with the optimizer step. (Indexing a CUDA tensor with
a 0-d tensor, ``table[t]``, synchronises and breaks capture; ``index_select`` does
not.)

The LR tensors' dtype is ``dtype`` (default: the group's LR tensor dtype, else
float32). On CPU, torch 2.13's ``torch.compile`` (aot_eager, inductor) loses
in-place writes to 0-d float64 CPU tensors, so compiled CPU runs want float32;
eager CPU runs and CUDA take float64 as well.

Past the end of the table the LR holds its last value. ``horizon`` (the number of
steps tabulated) defaults to the schedule's own end (one-cycle) or 2**20 steps.
In device mode the LR follows the table: an edit of a group's LR tensor lasts
until the next ``step()``. ``last_epoch`` reads the device counter (one sync);
``state_dict()`` holds torch's host keys, so checkpoints move between modes.
"""

from __future__ import annotations

import torch

DEFAULT_HORIZON = 2**20


def _fused_step():
    """The fused CUDA step, or None where Triton is not installed."""
    try:
        from ._cuda_step import fused_step
    except ImportError:
        return None
    return fused_step


def tensor_lr_error(optimizer, device) -> str | None:
    """Why ``optimizer`` cannot take a tensor LR on ``device``, or None."""
    for i, group in enumerate(optimizer.param_groups):
        if "capturable" not in group:
            continue
        foreach = group.get("foreach")
        if foreach is None:
            foreach = torch.device(device).type == "cuda"
        if foreach and not group.get("capturable") and not group.get("fused"):
            return (
                f"{type(optimizer).__name__}: param_groups[{i}] uses foreach=True without "
                "capturable=True, which cannot take a tensor learning rate; build the optimizer "
                "with capturable=True (or fused=True) to use device mode"
            )
    return None


class DeviceTable:
    """The device-side state of one scheduler."""

    def __init__(self, optimizer, lr_rows, momentum_rows, start, device, dtype, use_beta1):
        reason = tensor_lr_error(optimizer, device)
        if reason:
            raise ValueError(reason)
        self.device = torch.device(device)
        self.dtype = dtype
        self.lr_table = (
            torch.as_tensor(lr_rows, dtype=torch.float64)
            .to(device=self.device, dtype=dtype)
            .contiguous()
        )
        self.horizon = self.lr_table.shape[1]
        self.momentum_table = None
        if momentum_rows is not None:
            self.momentum_table = (
                torch.as_tensor(momentum_rows, dtype=torch.float64)
                .to(device=self.device, dtype=dtype)
                .contiguous()
            )
        self.use_beta1 = use_beta1
        self.step_tensor = torch.tensor(start, dtype=torch.int64, device=self.device)
        self.fused = _fused_step() if self.device.type == "cuda" else None
        self.groups = optimizer.param_groups
        # each group's LR (and momentum / beta1) becomes a 0-d device tensor
        index = min(max(start, 0), self.horizon - 1)
        # Each group's LR (and momentum / beta1) is a 0-d view of one buffer, so a
        # single index_select writes them all: three kernels a step in all (add,
        # clamp, gather), whatever the number of groups. The buffer is reached
        # directly, not through optimizer.param_groups (torch.compile dropped a
        # copy_ reached that way, measured).
        self.lr_buffer = self.lr_table[:, index].clone().view(-1, 1)
        self.momentum_buffer = None
        if self.momentum_table is not None:
            self.momentum_buffer = self.momentum_table[:, index].clone().view(-1, 1)
        for g, group in enumerate(self.groups):
            group["lr"] = self.lr_buffer[g, 0]
            if self.momentum_buffer is not None:
                value = self.momentum_buffer[g, 0]
                if use_beta1:
                    group["betas"] = (value, *group["betas"][1:])
                else:
                    group["momentum"] = value

    def step(self):
        """Device ops only: counter + 1, clamp to the table, one gather into the LRs.

        On CUDA with Triton this is one fused kernel (lrsched._cuda_step)."""
        if self.fused is not None:
            self.fused(
                self.step_tensor,
                self.lr_table,
                self.lr_buffer,
                self.momentum_table,
                self.momentum_buffer,
            )
            return
        self.step_tensor.add_(1)
        index = torch.clamp_max(self.step_tensor, self.horizon - 1).view(1)
        torch.index_select(self.lr_table, 1, index, out=self.lr_buffer)
        if self.momentum_table is not None:
            torch.index_select(self.momentum_table, 1, index, out=self.momentum_buffer)

    def last_lrs(self):
        return [group["lr"].clone() for group in self.groups]


def horizon_for(remaining, horizon):
    """Table length: ``horizon`` if given, else the steps the schedule has left
    (``remaining``, None: unbounded, then 2**20)."""
    if horizon is not None:
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise ValueError(
                f"device mode: horizon must be an integer >= 1, got horizon={horizon!r}"
            )
        return horizon
    if remaining is not None:
        return max(remaining + 1, 1)
    return DEFAULT_HORIZON


class PlateauState:
    """ReduceLROnPlateau's state as device tensors; the decision as tensor ops.

    It holds no reference to the scheduler (which holds it): each call is passed
    the scheduler, so nothing keeps the scheduler alive but its users."""

    def __init__(self, sched, device, dtype):
        reason = tensor_lr_error(sched.optimizer, device)
        if reason:
            raise ValueError(reason)
        self.device = torch.device(device)
        groups = sched.optimizer.param_groups
        self.dtype = dtype or (
            groups[0]["lr"].dtype if isinstance(groups[0]["lr"], torch.Tensor) else torch.float32
        )
        f64 = dict(dtype=torch.float64, device=self.device)
        i64 = dict(dtype=torch.int64, device=self.device)
        self.best = torch.tensor(float(sched.best), **f64)
        self.num_bad_epochs = torch.tensor(sched.num_bad_epochs, **i64)
        self.cooldown_counter = torch.tensor(sched.cooldown_counter, **i64)
        self.last_epoch = torch.tensor(sched.last_epoch, **i64)
        self.min_lrs = torch.tensor([float(m) for m in sched.min_lrs], **f64)
        for group in groups:
            group["lr"] = torch.tensor(float(group["lr"]), dtype=self.dtype, device=self.device)

    def _is_better(self, s, a):
        if s.mode == "min" and s.threshold_mode == "rel":
            return a < self.best * (1.0 - s.threshold)
        if s.mode == "min":
            return a < self.best - s.threshold
        if s.threshold_mode == "rel":
            return a > self.best * (s.threshold + 1.0)
        return a > self.best + s.threshold

    def step(self, s, metrics):
        current = torch.as_tensor(metrics, device=self.device).to(torch.float64)
        self.last_epoch.add_(1)
        better = self._is_better(s, current)
        self.best.copy_(torch.where(better, current, self.best))
        bad = torch.where(better, torch.zeros_like(self.num_bad_epochs), self.num_bad_epochs + 1)
        cooling = self.cooldown_counter > 0
        self.cooldown_counter.copy_(
            torch.where(cooling, self.cooldown_counter - 1, self.cooldown_counter)
        )
        bad = torch.where(cooling, torch.zeros_like(bad), bad)
        reduce = bad > s.patience
        for g, group in enumerate(s.optimizer.param_groups):
            old = group["lr"].to(torch.float64)
            new = torch.maximum(old * s.factor, self.min_lrs[g])
            group["lr"].copy_(torch.where(reduce & (old - new > s.eps), new, old))
        self.cooldown_counter.copy_(
            torch.where(reduce, torch.full_like(bad, s.cooldown), self.cooldown_counter)
        )
        self.num_bad_epochs.copy_(torch.where(reduce, torch.zeros_like(bad), bad))

    def host_state(self, s):
        return {
            "best": float(self.best),
            "num_bad_epochs": int(self.num_bad_epochs),
            "cooldown_counter": int(self.cooldown_counter),
            "last_epoch": int(self.last_epoch),
            "_last_lr": [float(g["lr"]) for g in s.optimizer.param_groups],
        }

    def load(self, sched):
        self.best.fill_(float(sched.best))
        self.num_bad_epochs.fill_(int(sched.num_bad_epochs))
        self.cooldown_counter.fill_(int(sched.cooldown_counter))
        self.last_epoch.fill_(int(sched.last_epoch))
