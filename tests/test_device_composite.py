"""SequentialLR and ChainedScheduler in device mode (CPU tensors): torch's LRs at
every step, torch's state_dict (the children's included) at any step, and
checkpoints that cross modes."""

import copy
import warnings

import lrsched as L
import pytest
import torch
from test_lrsched import optimizer
from torch.optim import lr_scheduler as T

# (name, build(lib, optimizer, **device keywords for the composite only))
COMPOSITES = [
    (
        "sequential-restarts",
        lambda m, o, **kw: m.SequentialLR(
            o,
            [
                m.LinearLR(o, start_factor=0.1, total_iters=5),
                m.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2),
                m.StepLR(o, step_size=4, gamma=0.5),
            ],
            milestones=[5, 300],
            **kw,
        ),
    ),
    (
        "sequential-decays",
        lambda m, o, **kw: m.SequentialLR(
            o,
            [
                m.LinearLR(o, start_factor=0.1, total_iters=100),
                m.ExponentialLR(o, 0.999),
                m.CosineAnnealingLR(o, T_max=500),
            ],
            milestones=[100, 1500],
            **kw,
        ),
    ),
    (
        "chained-ratios",
        lambda m, o, **kw: m.ChainedScheduler(
            [m.ConstantLR(o, factor=0.5, total_iters=50), m.ExponentialLR(o, gamma=0.9997)], **kw
        ),
    ),
    (
        "chained-cosine",
        lambda m, o, **kw: m.ChainedScheduler(
            [m.ExponentialLR(o, 0.999), m.StepLR(o, 30, 0.5), m.CosineAnnealingLR(o, T_max=40)],
            **kw,
        ),
    ),
    (
        "chained-restarts",
        lambda m, o, **kw: m.ChainedScheduler(
            [m.StepLR(o, 20, 0.9), m.CosineAnnealingWarmRestarts(o, T_0=25)], **kw
        ),
    ),
]
IDS = [c[0] for c in COMPOSITES]
# a table of 4,096 steps (the runs take 2,000) instead of the default 2**20: each move
# to device mode and each load builds one
DEVICE = dict(device="cpu", dtype=torch.float64, horizon=4096)
STEPS = 2000
CHECKPOINTS = {0, 1, 4, 5, 6, 99, 100, 101, 299, 300, 301, 777, 1500, 1999}


def lrs(opt):
    return [float(g["lr"]) for g in opt.param_groups]


@pytest.mark.parametrize("name,build", COMPOSITES, ids=IDS)
def test_lrs_and_state_dicts_are_torchs(name, build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o_t, o_d = optimizer(), optimizer()
        ref, dev = build(T, o_t), build(L, o_d, **DEVICE)
        assert isinstance(o_d.param_groups[0]["lr"], torch.Tensor)
        for t in range(STEPS):
            assert lrs(o_d) == lrs(o_t), t
            if t in CHECKPOINTS:
                assert dev.state_dict() == ref.state_dict(), t
            o_t.step()
            ref.step()
            o_d.step()
            dev.step()


@pytest.mark.parametrize("name,build", COMPOSITES, ids=IDS)
@pytest.mark.parametrize("direction", ["device->torch", "torch->device", "device->device"])
@pytest.mark.parametrize("at", [40, 777])  # 40: inside the restarts' third cycle
def test_checkpoints_cross_modes(name, build, direction, at):
    src_dev, dst_dev = {
        "device->torch": (True, False),
        "torch->device": (False, True),
        "device->device": (True, True),
    }[direction]

    def make(on_device):
        opt = optimizer()
        sched = build(L, opt, **DEVICE) if on_device else build(T, opt)
        return opt, sched

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o_ref, ref = make(False)
        opt, sched = make(src_dev)
        for t in range(STEPS):
            if t == at:
                saved = copy.deepcopy((lrs(opt), sched.state_dict()))
                opt, sched = make(dst_dev)
                for g, lr in zip(opt.param_groups, saved[0]):
                    g["lr"] = g["lr"].fill_(lr) if isinstance(g["lr"], torch.Tensor) else lr
                sched.load_state_dict(saved[1])
            assert lrs(opt) == lrs(o_ref), t
            o_ref.step()
            ref.step()
            opt.step()
            sched.step()


def test_what_device_mode_cannot_express_is_named():
    opt = optimizer()
    kids = [L.LinearLR(opt, 0.1, total_iters=5), L.OneCycleLR(opt, max_lr=0.1, total_steps=100)]
    with pytest.raises(ValueError, match="SequentialLR: device mode cannot express"):
        L.SequentialLR(opt, kids, milestones=[5], device="cpu")
    opt = optimizer()
    kids = [T.StepLR(opt, 3), L.ExponentialLR(opt, 0.9)]
    with pytest.raises(ValueError, match=r"schedulers\[0\] is a StepLR, not an lrsched"):
        L.ChainedScheduler(kids, device="cpu")


def test_host_mode_is_torchs_class_stepping_the_children():
    opt = optimizer()
    kids = [L.LinearLR(opt, 0.1, total_iters=5), L.ExponentialLR(opt, 0.9)]
    sched = L.SequentialLR(opt, kids, milestones=[5])
    assert isinstance(sched, T.SequentialLR)
    for _ in range(10):
        opt.step()
        sched.step()
    assert kids[1].last_epoch == 5 and kids[0].last_epoch == 4
