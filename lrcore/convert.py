"""Schedules written for other frameworks, as lrcore specs: a DeepSpeed config's
``"scheduler"`` block, or a Megatron-LM argument set.

Each function returns the spec (and, where the framework's schedule scales the
optimizer's LR, the base LR to go with it); ``lrcore convert`` prints it, and
``lrcore plot`` overlays the results. The arithmetic of the conversion is the
framework's own: Megatron-LM's ``get_optimizer_param_scheduler`` turns iterations
into samples (times the global batch size) and a warm-up fraction into a fraction of
the decay steps, and so does :func:`from_megatron_args`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from typing import Any

from .schedules.deepspeed import (
    DeepSpeedLRRangeTest,
    DeepSpeedOneCycle,
    DeepSpeedWarmup,
    DeepSpeedWarmupCosine,
    DeepSpeedWarmupDecay,
)
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


def from_deepspeed_config(config: Any) -> tuple[Spec, float | None]:
    """(spec, base LR) for a DeepSpeed config (see :func:`deepspeed_block`).

    The base LR is the config's ``optimizer.params.lr`` (None when it has none): the
    LR ``WarmupCosineLR`` scales, and ``WarmupLR``'s ``warmup_max_lr`` when that is
    left out (DeepSpeed then reads the optimizer's LR). Per-group lists are refused:
    a spec is one group's schedule."""
    where = "from_deepspeed_config"
    kind, params, base = deepspeed_block(config, where)
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            raise ValueError(
                f"{where}: scheduler params {key} is a per-group list ({value!r}); a spec is "
                "one group's schedule: convert each group's value on its own"
            )
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
