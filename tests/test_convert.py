"""A schedule moves between frameworks: DeepSpeed configs (per-group lists included)
and Megatron-LM arguments become lrcore specs whose tables are the frameworks' own LRs
(DeepSpeed's classes and megatron-core's scheduler run here), and ``lrcore convert``
prints them. fairseq's options: tests/test_fairseq.py, against fairseq's own parser."""

import json
import logging
import subprocess
import sys

import pytest
import torch
from lazy import lazy

import lrcore
from lrcore import convert

D = lazy("deepspeed.runtime.lr_schedules")
M = lazy("megatron.core.optimizer_param_scheduler")

BLOCKS = [
    {"type": "WarmupLR", "params": {"warmup_min_lr": 1e-6, "warmup_num_steps": 300}},
    {"type": "WarmupDecayLR", "params": {"total_num_steps": 3000, "warmup_max_lr": 2e-4}},
    {"type": "WarmupCosineLR", "params": {"total_num_steps": 3000, "warmup_num_steps": 200}},
    {
        "type": "OneCycle",
        "params": {"cycle_min_lr": 1e-5, "cycle_max_lr": 1e-3, "cycle_first_step_size": 700},
    },
    {"type": "LRRangeTest", "params": {"lr_range_test_step_size": 100}},
]
LR = 3e-4


@pytest.fixture(autouse=True)
def _quiet():
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


@pytest.mark.parametrize("block", BLOCKS, ids=[b["type"] for b in BLOCKS])
def test_deepspeed_config_gives_deepspeeds_lrs(block, tmp_path):
    config = {"train_batch_size": 8, "optimizer": {"type": "AdamW", "params": {"lr": LR}}}
    config["scheduler"] = block
    path = tmp_path / "ds_config.json"
    path.write_text(json.dumps(config))
    spec, base = convert.from_deepspeed_config(str(path))
    assert base == LR
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    sched = getattr(D, block["type"])(opt, **block["params"])  # as DeepSpeed's engine builds it
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(3999):
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    ours = lrcore.table(spec, 4000, 1.0 if spec.absolute else base)
    assert ours.tolist() == lrs


PER_GROUP = [
    {"type": "WarmupDecayLR", "params": {"total_num_steps": 3000, "warmup_max_lr": [2e-4, 5e-5]}},
    {
        "type": "OneCycle",
        "params": {
            "cycle_min_lr": [1e-5, 1e-6, 1e-5],
            "cycle_max_lr": [1e-3, 1e-4, 3e-3],
            "cycle_first_step_size": 700,
        },
    },
]


@pytest.mark.parametrize("block", PER_GROUP, ids=[b["type"] for b in PER_GROUP])
def test_deepspeed_per_group_lists_give_each_groups_lrs(block, tmp_path):
    config = {"optimizer": {"params": {"lr": LR}}, "scheduler": block}
    groups = convert.deepspeed_groups(config)
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(groups)]
    opt = torch.optim.AdamW([{"params": [p]} for p in params], lr=LR)
    sched = getattr(D, block["type"])(opt, **block["params"])  # DeepSpeed takes the lists
    lrs = [[g["lr"] for g in opt.param_groups]]
    for _ in range(2999):
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    for k in range(groups):
        spec, _ = convert.from_deepspeed_config(config, group=k)
        assert lrcore.table(spec, 3000).tolist() == [row[k] for row in lrs]
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(config))
    out = _cli("convert", str(path))  # one line a group
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert [lrcore.parse(line) for line in lines] == [
        convert.from_deepspeed_config(config, group=k)[0] for k in range(groups)
    ]
    assert f"groups 0 to {groups - 1}" in out.stderr
    one = _cli("convert", str(path), "--group", "1")
    assert lrcore.parse(one.stdout.strip()) == lrcore.parse(lines[1])
    bad = _cli("convert", str(path), "--group", str(groups))
    assert bad.returncode == 2 and f"group must be < {groups}" in bad.stderr


@pytest.mark.parametrize(
    "config,group,match",
    [
        (PER_GROUP[1], None, "pass group=0 to 2"),
        (PER_GROUP[1], -1, "group must be an integer >= 0"),
        (PER_GROUP[1], True, "group must be an integer"),
        (
            {"type": "WarmupLR", "params": {"warmup_min_lr": [0, 1], "warmup_max_lr": [1, 2, 3]}},
            0,
            "one entry per param group, got lengths warmup_max_lr=3, warmup_min_lr=2",
        ),
    ],
)
def test_deepspeed_per_group_errors(config, group, match):
    with pytest.raises((TypeError, ValueError), match=match):
        convert.from_deepspeed_config({"scheduler": config}, group=group)


@pytest.mark.parametrize(
    "config,match",
    [
        ({"scheduler": {"type": "WarmupLR", "params": {"warmup_max_lr": "auto"}}}, "'auto'"),
        ({"scheduler": {"type": "WarmupLR", "params": {"warmup_min_lr": [0, 1]}}}, "per-group"),
        ({"scheduler": {"type": "Cosine"}}, "type must be one of"),
        ({"scheduler": {"type": "WarmupLR", "params": {}}}, 'no "optimizer"'),
        ({"train_batch_size": 8}, 'a "scheduler" block'),
    ],
)
def test_deepspeed_config_errors(config, match):
    with pytest.raises(ValueError, match=match):
        convert.from_deepspeed_config(config)


def _megatron_lrs(increment, steps, **arguments):
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    sched = M.OptimizerParamScheduler(opt, **arguments)
    lrs, wds = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["weight_decay"]]
    for _ in range(steps - 1):
        sched.step(increment)
        lrs.append(opt.param_groups[0]["lr"])
        wds.append(opt.param_groups[0]["weight_decay"])
    return lrs, wds


def test_megatron_iterations_become_samples():
    # Megatron-LM's get_optimizer_param_scheduler: iterations times the global batch,
    # the warm-up fraction of the decay steps (a float: 0.013 * 256000 = 3328.0)
    flags = (
        "--lr 3e-4 --min-lr 3e-5 --train-iters 1000 --global-batch-size 256 "
        "--lr-decay-style WSD --lr-wsd-decay-iters 200 --lr-wsd-decay-style cosine "
        "--lr-warmup-fraction 0.013 --start-weight-decay 0.0 --end-weight-decay 0.1 "
        "--weight-decay-incr-style linear --micro-batch-size 4"
    )
    spec, stride = convert.from_megatron_args(flags)
    assert stride == 256
    assert spec.lr_decay_steps == spec.wd_incr_steps == 256_000
    assert spec.lr_warmup_steps == 0.013 * 256_000 and spec.wsd_decay_steps == 51_200
    lrs, wds = _megatron_lrs(
        256,
        1100,
        init_lr=0.0,
        max_lr=3e-4,
        min_lr=3e-5,
        lr_warmup_steps=0.013 * 256_000,
        lr_decay_steps=256_000,
        lr_decay_style="WSD",
        start_wd=0.0,
        end_wd=0.1,
        wd_incr_steps=256_000,
        wd_incr_style="linear",
        wsd_decay_steps=51_200,
        lr_wsd_decay_style="cosine",
    )
    assert lrcore.table(spec, 1100, stride=stride).tolist() == lrs
    assert lrcore.table(spec, 1100, stride=stride, quantity="weight_decay").tolist() == wds


def test_megatron_samples_stay_samples():
    spec, stride = convert.from_megatron_args(
        ["--lr", "1e-3", "--train-samples", "50000", "--lr-warmup-samples", "500",
         "--lr-decay-style", "cosine", "--lr-decay-samples", "40000"]
    )  # fmt: skip
    assert stride == 1
    lrs, _ = _megatron_lrs(
        1,
        50_001,
        init_lr=0.0,
        max_lr=1e-3,
        min_lr=0.0,
        lr_warmup_steps=500,
        lr_decay_steps=40_000,
        lr_decay_style="cosine",
        start_wd=0.01,
        end_wd=0.01,
        wd_incr_steps=50_000,
        wd_incr_style="constant",
    )
    assert lrcore.table(spec, 50_001).tolist() == lrs


@pytest.mark.parametrize(
    "flags,match",
    [
        ("--train-iters 10 --global-batch-size 8", "need --lr"),
        ("--lr 1e-3", "either --train-iters or --train-samples"),
        ("--lr 1e-3 --train-iters 10", "needs --global-batch-size"),
        ("--lr 1e-3 --train-iters 10 --global-batch-size 8 --lr-warmup-iters 10", "lr_warmup"),
    ],
)
def test_megatron_argument_errors(flags, match):
    with pytest.raises(ValueError, match=match):
        convert.from_megatron_args(flags)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "lrcore", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_convert_prints_specs_that_plot_together(tmp_path):
    config = tmp_path / "ds_config.json"
    config.write_text(json.dumps({"optimizer": {"params": {"lr": LR}}, "scheduler": BLOCKS[2]}))
    ds = _cli("convert", str(config))
    assert ds.returncode == 0, ds.stderr
    assert lrcore.parse(ds.stdout.strip()) == convert.from_deepspeed_config(str(config))[0]
    assert "--base-lr 0.0003" in ds.stderr
    mg = _cli(
        "convert", "--lr 3e-4 --train-iters 100 --global-batch-size 32 --lr-decay-style cosine"
    )
    assert mg.returncode == 0, mg.stderr
    assert "stride=32" in mg.stderr
    spec = lrcore.parse(mg.stdout.strip())
    as_json = _cli("convert", "--json", mg.stdout.strip())
    assert lrcore.from_dict(json.loads(as_json.stdout)) == spec
    from_json = _cli("convert", as_json.stdout.strip())  # the JSON back to the text form
    assert lrcore.parse(from_json.stdout.strip()) == spec
    png = tmp_path / "both.png"
    plot = _cli("plot", ds.stdout.strip(), mg.stdout.strip(), "--steps", "3200", "-o", str(png))
    assert plot.returncode == 0, plot.stderr
    assert png.stat().st_size > 10_000
    bad = _cli("convert", "--lr 3e-4")
    assert bad.returncode == 2 and "--train-iters or --train-samples" in bad.stderr
