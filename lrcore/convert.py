"""Schedules written for other frameworks, as lrcore specs: a DeepSpeed config's
``"scheduler"`` block, a Megatron-LM argument set, or fairseq's scheduler options.

Each function returns the spec (and, where the framework's schedule scales the
optimizer's LR, the base LR to go with it); ``lrcore convert`` prints it, and
``lrcore plot`` overlays the results. The arithmetic of the conversion is the
framework's own: Megatron-LM's ``get_optimizer_param_scheduler`` turns iterations
into samples (times the global batch size) and a warm-up fraction into a fraction of
the decay steps, and so does :func:`from_megatron_args`.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import shlex
from typing import Any

from . import _validate as v
from .schedules.deepspeed import (
    DeepSpeedLRRangeTest,
    DeepSpeedOneCycle,
    DeepSpeedWarmup,
    DeepSpeedWarmupCosine,
    DeepSpeedWarmupDecay,
)
from .schedules.fairseq import from_config as fairseq_config
from .schedules.fairseq import scheduler as fairseq_scheduler
from .schedules.megatron import Megatron
from .spec import Spec, build

#: DeepSpeed's scheduler names and the specs that reproduce them
DEEPSPEED = {
    "WarmupLR": DeepSpeedWarmup,
    "WarmupDecayLR": DeepSpeedWarmupDecay,
    "WarmupCosineLR": DeepSpeedWarmupCosine,
    "OneCycle": DeepSpeedOneCycle,
    "LRRangeTest": DeepSpeedLRRangeTest,
}


def deepspeed_block(config: Any, where: str = "from_deepspeed_config"):
    """(type, params, the optimizer's LR or None) of a DeepSpeed config's
    ``"scheduler"`` block; ``config`` is the whole config or the block, as a dict or a
    JSON file's path. Refuses an unknown type and ``"auto"`` values (transformers'
    DeepSpeed integration fills those in)."""
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as f:
            config = json.load(f)
    if not isinstance(config, dict):
        raise TypeError(
            f"{where}: config must be a DeepSpeed config (a dict or a JSON file's path), "
            f"got config={config!r}"
        )
    block = config.get("scheduler", config)
    if not isinstance(block, dict) or "type" not in block:
        raise ValueError(
            f'{where}: config must hold a "scheduler" block with a "type" (one of '
            f"{', '.join(DEEPSPEED)}), got config={config!r}"
        )
    kind, params = block["type"], block.get("params") or {}
    if kind not in DEEPSPEED:
        raise ValueError(
            f"{where}: scheduler type must be one of {', '.join(DEEPSPEED)}, got type={kind!r}"
        )
    if not isinstance(params, dict):
        raise TypeError(f"{where}: scheduler params must be a dict, got params={params!r}")
    auto = sorted(k for k, value in params.items() if value == "auto")
    if auto:
        raise ValueError(
            f"{where}: scheduler params {', '.join(auto)} are 'auto', which transformers' "
            "DeepSpeed integration fills in from its TrainingArguments; give numbers here"
        )
    optimizer = config.get("optimizer") if isinstance(config.get("optimizer"), dict) else {}
    return kind, dict(params), (optimizer.get("params") or {}).get("lr")


def _per_group(params: dict, where: str) -> int:
    """How many param groups a block's per-group lists name (1 when it has none)."""
    sizes = {k: len(v) for k, v in params.items() if isinstance(v, (list, tuple))}
    if len(set(sizes.values())) > 1:
        raise ValueError(
            f"{where}: per-group lists must all have one entry per param group, got lengths "
            + ", ".join(f"{k}={n}" for k, n in sorted(sizes.items()))
        )
    return next(iter(sizes.values()), 1)


def deepspeed_groups(config: Any) -> int:
    """How many param groups a DeepSpeed config's per-group lists name (1 when its
    scheduler params are all single values, which DeepSpeed gives every group)."""
    _, params, _ = deepspeed_block(config, "deepspeed_groups")
    return _per_group(params, "deepspeed_groups")


def from_deepspeed_config(config: Any, group: int | None = None) -> tuple[Spec, float | None]:
    """(spec, base LR) for a DeepSpeed config (see :func:`deepspeed_block`).

    The base LR is the config's ``optimizer.params.lr`` (None when it has none): the
    LR ``WarmupCosineLR`` scales, and ``WarmupLR``'s ``warmup_max_lr`` when that is
    left out (DeepSpeed then reads the optimizer's LR). A spec is one param group's
    schedule: where the block has per-group lists (DeepSpeed's ``warmup_max_lr: [a,
    b]``), ``group`` picks the entry of each (single values apply to every group, as
    in DeepSpeed); :func:`deepspeed_groups` says how many there are."""
    where = "from_deepspeed_config"
    kind, params, base = deepspeed_block(config, where)
    groups = _per_group(params, where)
    lists = [k for k, value in params.items() if isinstance(value, (list, tuple))]
    if lists and group is None:
        raise ValueError(
            f"{where}: scheduler params {', '.join(lists)} are per-group lists ({groups} "
            f"groups); a spec is one group's schedule: pass group=0 to {groups - 1}"
        )
    if group is not None:
        group = v.integer(where, "group", group, minimum=0)
        if lists and group >= groups:
            v.fail(where, "group", group, f"< {groups}, the length of the per-group lists")
        params = {k: (params[k][group] if k in lists else value) for k, value in params.items()}
    params.pop("last_batch_iteration", None)
    if kind == "WarmupLR" and params.get("warmup_max_lr") is None:
        if base is None:
            raise ValueError(
                f"{where}: WarmupLR without warmup_max_lr warms up to the optimizer's LR, and "
                'this config has no "optimizer": {"params": {"lr": ...}}; give either'
            )
        params["warmup_max_lr"] = base
    return build(DEEPSPEED[kind], params), base


def _megatron_parser() -> argparse.ArgumentParser:
    """The scheduler's part of Megatron-LM's arguments (names and defaults as there)."""
    p = argparse.ArgumentParser(prog="megatron", add_help=False, allow_abbrev=False)
    add = p.add_argument
    add("--lr", type=float, required=True)
    add("--min-lr", type=float, default=0.0)
    add("--lr-warmup-init", type=float, default=0.0)
    add("--lr-decay-style", default="linear")
    add("--lr-wsd-decay-style", default="exponential")
    add("--lr-decay-iters", type=int)
    add("--lr-decay-samples", type=int)
    add("--lr-wsd-decay-iters", type=int)
    add("--lr-wsd-decay-samples", type=int)
    add("--lr-warmup-iters", type=int, default=0)
    add("--lr-warmup-samples", type=int, default=0)
    add("--lr-warmup-fraction", type=float)
    add("--train-iters", type=int)
    add("--train-samples", type=int)
    add("--global-batch-size", type=int)
    add("--weight-decay", type=float, default=0.01)
    add("--start-weight-decay", type=float)
    add("--end-weight-decay", type=float)
    add("--weight-decay-incr-style", default="constant")
    return p


def from_megatron_args(args: str | list[str]) -> tuple[Megatron, int]:
    """(spec, stride) for a Megatron-LM argument set (a command line's scheduler flags,
    as a string or a list; other flags are ignored).

    The spec counts samples, as Megatron's ``num_steps`` does; ``stride`` is the global
    batch size for iteration-based training (``--train-iters``), so
    ``table(spec, iterations, stride=stride)`` gives one LR per iteration, and 1 for
    sample-based training (``--train-samples``)."""
    argv = shlex.split(args) if isinstance(args, str) else list(args)
    parser = _megatron_parser()
    try:
        a, _ = parser.parse_known_args(argv)
    except SystemExit:
        raise ValueError(
            f"from_megatron_args: Megatron's arguments need --lr (and --train-iters with "
            f"--global-batch-size, or --train-samples), got {shlex.join(argv)!r}"
        ) from None
    start_wd = a.weight_decay if a.start_weight_decay is None else a.start_weight_decay
    end_wd = a.weight_decay if a.end_weight_decay is None else a.end_weight_decay
    if a.train_iters:
        if not a.global_batch_size:
            raise ValueError("from_megatron_args: --train-iters needs --global-batch-size")
        gbs = a.global_batch_size
        decay_iters = a.train_iters if a.lr_decay_iters is None else a.lr_decay_iters
        decay = decay_iters * gbs
        wd_steps = a.train_iters * gbs
        wsd = None if a.lr_wsd_decay_iters is None else a.lr_wsd_decay_iters * gbs
        warmup = a.lr_warmup_iters * gbs
        stride = gbs
    elif a.train_samples:
        decay = a.train_samples if a.lr_decay_samples is None else a.lr_decay_samples
        wd_steps = a.train_samples
        wsd = a.lr_wsd_decay_samples
        warmup = a.lr_warmup_samples
        stride = 1
    else:
        raise ValueError(
            "from_megatron_args: either --train-iters or --train-samples should be provided"
        )
    if a.lr_warmup_fraction is not None:
        warmup = a.lr_warmup_fraction * decay
    wsd_style = a.lr_wsd_decay_style if a.lr_decay_style == "WSD" else None
    spec = Megatron(
        max_lr=a.lr,
        lr_decay_steps=decay,
        init_lr=a.lr_warmup_init,
        min_lr=a.min_lr,
        lr_warmup_steps=warmup,
        lr_decay_style=a.lr_decay_style,
        wsd_decay_steps=wsd if a.lr_decay_style == "WSD" else None,
        lr_wsd_decay_style=wsd_style,
        start_wd=start_wd,
        end_wd=end_wd,
        wd_incr_steps=wd_steps,
        wd_incr_style=a.weight_decay_incr_style,
    )
    return spec, stride


def _fairseq_parser() -> argparse.ArgumentParser:
    """fairseq's optimization and LR-scheduler options (no defaults: the specs hold
    fairseq's), and lrcore's ``--updates-per-epoch``."""
    p = argparse.ArgumentParser(prog="fairseq", add_help=False, allow_abbrev=False)
    add = p.add_argument
    add("--lr-scheduler", default="fixed")
    add("--lr", default="0.25")
    for flag in ("--max-update", "--warmup-updates", "--lr-deacy-period", "--force-anneal"):
        add(flag, type=int)
    for flag in ("--warmup-steps", "--hold-steps", "--decay-steps", "--updates-per-epoch"):
        add(flag, type=int)
    for flag in (
        "--warmup-init-lr",
        "--min-lr",
        "--lr-decay",
        "--t-mult",
        "--lr-period-updates",
        "--lr-shrink",
        "--end-learning-rate",
        "--power",
        "--total-num-update",
        "--init-lr-scale",
        "--final-lr-scale",
        "--max-lr",
    ):
        add(flag, type=float)
    add("--phase-ratio")
    add("--shrink-min", action="store_true", default=None)
    return p


def from_fairseq_args(args: str | list[str]) -> Spec:
    """The ``fairseq_*`` spec of fairseq's scheduler options (``--lr-scheduler`` and its
    flags, as a string or a list; other flags are ignored). Entry ``t`` is the LR of
    ``step_update(t)``.

    ``--lr`` is fairseq's comma-separated list. Epoch-driven options have no table
    without an epoch length: ``fixed`` with several LRs or ``--force-anneal`` needs
    ``--updates-per-epoch`` (lrcore's flag), and ``polynomial_decay``'s per-epoch LRs
    and ``--force-anneal`` are refused (lrsched.fairseq follows them)."""
    where = "from_fairseq_args"
    argv = shlex.split(args) if isinstance(args, str) else list(args)
    try:
        a, _ = _fairseq_parser().parse_known_args(argv)
        lrs = [float(x) for x in a.lr.split(",")]
    except (SystemExit, ValueError):
        raise ValueError(
            f"{where}: fairseq's options need numbers where fairseq has them "
            f"(--lr 0.0005 or --lr 0.001,0.0005), got {shlex.join(argv)!r}"
        ) from None
    name, fields = a.lr_scheduler, vars(a)
    own = {f.name for f in dataclasses.fields(fairseq_scheduler(name, where))}
    if name == "polynomial_decay":
        own.add("force_anneal")  # fairseq's, epoch-driven: refused below with the reason
    stray = sorted(
        "--" + k.replace("_", "-")
        for k, value in fields.items()
        if value is not None and k not in own | {"lr_scheduler", "lr", "max_update"}
    )
    if stray:  # fairseq's parser has only the chosen scheduler's options
        options = ", ".join("--" + f.replace("_", "-") for f in sorted(own))
        raise ValueError(
            f"{where}: fairseq's {name} scheduler has no {', '.join(stray)} "
            f"(its options: {options})"
        )
    fields["lr"] = lrs[0]
    if len(lrs) > 1 and name not in ("fixed", "step"):  # step reads lr[0], as fairseq's
        raise ValueError(
            f"{where}: --lr {a.lr} gives one LR per epoch, which only fairseq's fixed "
            f"scheduler (and polynomial_decay, per epoch) reads; {name} takes one"
        )
    if name == "fixed":
        fields["lr"] = tuple(lrs) if len(lrs) > 1 else lrs[0]
        if (len(lrs) > 1 or a.force_anneal is not None) and a.updates_per_epoch is None:
            raise ValueError(
                f"{where}: fixed with several LRs or --force-anneal changes its LR per "
                "epoch: give the epoch length as --updates-per-epoch (lrcore's flag)"
            )
    elif name == "polynomial_decay":
        if a.force_anneal is not None:
            raise ValueError(
                f"{where}: polynomial_decay's --force-anneal restarts its decay from the LR "
                "of the moment at an epoch: no table; lrsched.fairseq's "
                "PolynomialDecayLRSchedule follows it"
            )
        if a.total_num_update is None:  # fairseq's config: ${optimization.max_update}
            fields["total_num_update"] = a.max_update
    elif name == "tri_stage" and a.phase_ratio is not None:
        try:
            fields["phase_ratio"] = ast.literal_eval(a.phase_ratio)
        except (ValueError, SyntaxError):
            raise ValueError(
                f"{where}: --phase-ratio must be three numbers, e.g. '(0.1, 0.4, 0.5)', "
                f"got {a.phase_ratio!r}"
            ) from None
    return fairseq_config(name, fields, where)
