"""SequentialLR and ChainedScheduler: torch's classes, plus device mode.

On the host these are torch's own classes; their children (lrsched drop-ins)
serve their steps from their tables. With ``device=`` the composition becomes
one lrcore spec per group (``sequential`` or ``chained`` of the children's specs),
one device table and one ``step()`` of device ops; the children are not stepped.
``state_dict()`` then writes what torch's bookkeeping would hold at that step, for
the composition and for each child, so a device-mode checkpoint loads into torch's
classes (or host mode) and back.
"""

from __future__ import annotations

import copy

from torch.optim import lr_scheduler as _torch

import lrcore

from ._window import TableStepMixin


class _Composite(TableStepMixin):
    _counts_steps = False

    def _watched(self):
        return ("_schedulers",)  # torch's composites have no base_lrs of their own

    def _ready(self):
        return False  # host mode is torch's step: the children keep their own tables

    def step(self):  # noqa: D102 - torch's docstring applies
        dev = self._lrsched.device
        if dev is not None:
            dev.step()
            return
        self._torch_step()

    def _device_mode_step(self):  # the device class's step (lrsched._compile)
        self._lrsched.device.step()

    def _kid_specs(self):
        """Per child: its specs (one per group); and the groups' base LRs."""
        kids = []
        for i, child in enumerate(self._schedulers):
            if not isinstance(child, TableStepMixin) or isinstance(child, _Composite):
                raise NotImplementedError(
                    f"schedulers[{i}] is a {type(child).__name__}, not an lrsched drop-in"
                )
            kids.append(child._composed_specs())
        bases = kids[0][1]
        if any(list(k[1]) != list(bases) for k in kids):
            raise NotImplementedError("its schedulers have different base LRs")
        return [k[0] for k in kids], bases

    def _specs(self):
        kid_specs, bases = self._kid_specs()
        try:
            specs = [self._compose([s[g] for s in kid_specs]) for g in range(len(bases))]
        except ValueError as exc:  # e.g. cyclic or one_cycle inside a composition
            raise NotImplementedError(str(exc)) from None
        from lrcore.program import lower

        return specs, bases, all(lower(s).stateless for s in specs)

    def _origin_state(self):
        specs, bases, stateless = self._specs()
        lrs = [float(g["lr"]) for g in self.optimizer.param_groups]
        kids = self._schedulers
        return {
            "epoch": self._device_epoch(),
            "states": [copy.deepcopy(c.state_dict()) for c in kids],
            "extras": [c._origin_state() for c in kids],
            "lrs": lrs,
            "table": (specs, bases, stateless),
        }

    def _lrs_at(self, origin, t):
        """The groups' LRs at step ``t`` (after the move), as lrcore computes them."""
        epoch = origin["epoch"]
        specs, bases, stateless = origin["table"]
        horizon = self._lrsched.device.horizon
        t = min(t, epoch + horizon - 1)  # past the table the LR holds
        if t == epoch:
            return list(origin["lrs"])
        out = []
        for g, (spec, base) in enumerate(zip(specs, bases)):
            prev = None if stateless else origin["lrs"][g]
            out.append(
                float(
                    lrcore.table(
                        spec, t - epoch, base, start=epoch + 1, previous_lr=prev, check_finite=False
                    )[-1]
                )
            )
        return out

    def _advance_child(self, child, state, extras, steps):
        state["last_epoch"] += steps
        if child._counts_steps:
            state["_step_count"] += steps
        child._advance_state(state, extras, steps)


class SequentialLR(_Composite, _torch.SequentialLR):
    __doc__ = _torch.SequentialLR.__doc__

    def _torch_step(self):
        self._torch_base.step(self)  # bound at class creation: torch's, even if patched

    def _compose(self, specs):
        return lrcore.Sequential(specs, list(self._milestones))

    def _advance_state(self, state, origin, steps):
        # global step s runs schedulers[bisect_right(milestones, s)]: torch's
        # _update_lr(0) at its milestone (last_epoch = 0, no step counted), step() after
        first, last = origin["epoch"] + 1, origin["epoch"] + steps
        starts = [0, *self._milestones]
        children = []
        for k, child in enumerate(self._schedulers):
            s = copy.deepcopy(origin["states"][k])
            lo = max(first, starts[k])
            hi = last if k + 1 == len(starts) else min(last, starts[k + 1] - 1)
            if hi >= lo:
                if k > 0 and lo == starts[k]:
                    s["last_epoch"] = 0
                    child._advance_state(s, child._restart_origin(), 0)
                    self._advance_child(child, s, child._restart_origin(), hi - lo)
                else:
                    self._advance_child(child, s, origin["extras"][k], hi - lo + 1)
                s["_last_lr"] = self._lrs_at(origin, hi)
            children.append(s)
        state["_schedulers"] = children


class ChainedScheduler(_Composite, _torch.ChainedScheduler):
    __doc__ = _torch.ChainedScheduler.__doc__

    def _torch_step(self):
        self._torch_base.step(self)

    def _compose(self, specs):
        return lrcore.Chained(specs)

    def _device_epoch(self):
        return self._schedulers[0].last_epoch

    def _table_start(self):
        return self._device_epoch() + 1

    def _advance_state(self, state, origin, steps):
        # every child steps each time, in order, each from the LR the one before left
        state.pop("last_epoch", None)
        horizon = self._lrsched.device.horizon
        t = origin["epoch"] + min(steps, horizon - 1)  # past the table the LR holds
        before = self._lrs_at(origin, t - 1) if steps else None
        kid_specs, bases = self._kid_specs()
        children = []
        for k, child in enumerate(self._schedulers):
            s = copy.deepcopy(origin["states"][k])
            if steps:
                self._advance_child(child, s, origin["extras"][k], steps)
                s["_last_lr"] = [
                    float(
                        lrcore.table(
                            lrcore.Chained([spec[g] for spec in kid_specs[: k + 1]]),
                            1,
                            base,
                            start=t,
                            previous_lr=before[g],
                            check_finite=False,
                        )[0]
                    )
                    for g, base in enumerate(bases)
                ]
            children.append(s)
        state["_schedulers"] = children
