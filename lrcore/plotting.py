"""Plots of schedules: ``lrcore plot`` and ``lrcore gallery`` (matplotlib, imported here)."""

from __future__ import annotations

import math
import os

import numpy as np

from .schedules import Lambda
from .spec import Spec
from .table import table
from .text import parse


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def events(spec: Spec, steps: int) -> list[int]:
    """Steps where a schedule changes regime: milestones and restarts, for markers."""
    n = spec.name
    out: list[int] = []
    if n == "sequential":
        out += list(spec.milestones)
        for start, child in zip((0,) + spec.milestones, spec.schedulers):
            out += [start + e for e in events(child, steps)]
    elif n == "chained":
        for child in spec.schedulers:
            out += events(child, steps)
    elif getattr(spec, "family", None) is not None and spec.family.events is not None:
        out += spec.family.events(spec, steps)
    return sorted({e for e in out if 0 < e < steps})


def draw(ax, curves, *, log=False, title=None, marks=(), title_size=10, legend=True):
    for label, values in curves:
        ax.plot(np.arange(len(values)), values, label=label, linewidth=1.4)
    for m in marks:
        ax.axvline(m, color="0.6", linestyle=":", linewidth=0.8)
    ax.set_xlabel("step (scheduler.step() calls)")
    ax.set_ylabel("learning rate")
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title, fontsize=title_size)
    ax.grid(alpha=0.3)
    if legend and (len(curves) > 1 or curves[0][0]):
        ax.legend(fontsize=7, loc="best")


#: legend labels wrap at this many characters (fits the figure's width at fontsize 7)
LABEL_WIDTH = 120


def figure(specs: list[Spec], steps: int, *, base_lr: float = 1.0, log: bool = False):
    """The figure of ``lrcore plot``: one curve per spec, labelled with the parameters
    that differ from the defaults, the legend below the axes (inside the figure and off
    the curves, however many and however long the labels)."""
    import textwrap

    plt = _pyplot()
    curves, marks = [], set()
    for spec in specs:
        label = textwrap.fill(spec.brief(), LABEL_WIDTH, subsequent_indent="    ")
        curves.append((label, table(spec, steps, base_lr)))  # an absolute spec refuses base_lr
        marks |= set(events(spec, steps))
    lines = sum(label.count("\n") + 1 for label, _ in curves)
    fig, ax = plt.subplots(figsize=(8, 4.5 + 0.16 * lines), layout="constrained")
    draw(ax, curves, log=log, marks=sorted(marks), legend=False)
    fig.legend(loc="outside lower center", fontsize=7, ncols=1, frameon=False)
    return fig


def plot(specs: list[Spec], steps: int, path: str, *, base_lr: float = 1.0, log: bool = False):
    plt = _pyplot()
    fig = figure(specs, steps, base_lr=base_lr, log=log)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pow95(e):
    return 0.95**e


def _piecewise(e):
    return 0.5 ** ((e >= 40) + (e >= 70) + (e >= 90))


def _cosine_warmup(e):
    return 0.5 * (1 - math.cos(math.pi * min(e, 100) / 100))


def plateau_curve(losses, lr, factor=0.5, patience=5, threshold=1e-4, cooldown=0, min_lr=0.0):
    """ReduceLROnPlateau's rule (mode 'min', relative threshold) over a loss curve."""
    best, bad, cool, out = math.inf, 0, 0, []
    for loss in losses:
        if loss < best * (1 - threshold):
            best, bad = loss, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            lr = max(lr * factor, min_lr)
            cool, bad = cooldown, 0
        out.append(lr)
    return np.array(out)


def synthetic_validation_loss(steps, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    return 0.3 + 2.0 * np.exp(-t / 25.0) + 0.03 * rng.standard_normal(steps)


def gallery_figures():
    """(file name, title, [(label, spec or None, base_lr)], steps, log) per figure."""
    return [
        (
            "step.png",
            "StepLR (step_size=100, gamma=0.5)",
            [("", parse("step(step_size=100, gamma=0.5)"), 0.1)],
            500,
            False,
        ),
        (
            "exponential.png",
            "ExponentialLR",
            [(f"gamma={g}", parse(f"exponential(gamma={g})"), 0.1) for g in (0.99, 0.9, 0.8, 0.5)],
            100,
            True,
        ),
        (
            "cosine_annealing.png",
            "CosineAnnealingLR (T_max=100, eta_min=0.001)",
            [("", parse("cosine_annealing(T_max=100, eta_min=0.001)"), 0.1)],
            300,
            False,
        ),
        (
            "cosine_warm_restarts.png",
            "CosineAnnealingWarmRestarts (T_0=50, T_mult=2, eta_min=0.001)",
            [("", parse("cosine_annealing_warm_restarts(T_0=50, T_mult=2, eta_min=0.001)"), 0.1)],
            750,
            False,
        ),
        (
            "cyclic_triangular.png",
            "CyclicLR triangular (0.001..0.1, up 50, down 100)",
            [
                (
                    "",
                    parse("cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, step_size_down=100)"),
                    1.0,
                )
            ],
            600,
            False,
        ),
        (
            "cyclic_modes.png",
            "CyclicLR triangular2 and exp_range (gamma=0.995), down=None",
            [
                (
                    "triangular2",
                    parse("cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, mode='triangular2')"),
                    1.0,
                ),
                (
                    "exp_range",
                    parse(
                        "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50,"
                        " mode='exp_range', gamma=0.995)"
                    ),
                    1.0,
                ),
            ],
            600,
            False,
        ),
        (
            "lambda.png",
            "LambdaLR",
            [
                ("0.95**epoch", Lambda(_pow95), 0.1),
                ("0.5**k, breaks at 40, 70, 90", Lambda(_piecewise), 0.1),
            ],
            120,
            False,
        ),
        (
            "multi_step.png",
            "MultiStepLR (milestones=[200, 350], gamma=0.5)",
            [("", parse("multi_step(milestones=[200, 350], gamma=0.5)"), 0.1)],
            500,
            False,
        ),
        (
            "warmup.png",
            "Linear and cosine warm-up (100 steps)",
            [
                (
                    "linear warm-up",
                    parse("linear(start_factor=0.01, end_factor=1.0, total_iters=100)"),
                    0.1,
                ),
                ("cosine warm-up", Lambda(_cosine_warmup), 0.1),
            ],
            200,
            False,
        ),
        (
            "timm.png",
            "timm: cosine (cycle_mul=2, cycle_decay=0.7, noise), tanh, poly",
            [
                (
                    "cosine",
                    parse(
                        "timm_cosine(t_initial=60, lr_min=0.002, cycle_mul=2.0, cycle_decay=0.7,"
                        " cycle_limit=4, warmup_t=15, warmup_lr_init=0.01,"
                        " noise_range_t=[200, 450], noise_pct=0.1)"
                    ),
                    0.1,
                ),
                ("tanh", parse("timm_tanh(t_initial=300, warmup_t=15, warmup_lr_init=0.01)"), 0.1),
                ("poly (power=2)", parse("timm_poly(t_initial=450, power=2.0)"), 0.1),
            ],
            450,
            False,
        ),
        (
            "deepspeed.png",
            "DeepSpeed: WarmupLR (log), WarmupDecayLR, WarmupCosineLR, OneCycle (stairs)",
            [
                (
                    "WarmupLR (log)",
                    parse("deepspeed_warmup(warmup_max_lr=0.1, warmup_num_steps=100)"),
                    1.0,
                ),
                (
                    "WarmupDecayLR (linear)",
                    parse(
                        "deepspeed_warmup_decay(total_num_steps=600, warmup_max_lr=0.08,"
                        " warmup_num_steps=100, warmup_type='linear')"
                    ),
                    1.0,
                ),
                (
                    "WarmupCosineLR",
                    parse("deepspeed_warmup_cosine(total_num_steps=500, warmup_num_steps=50)"),
                    0.06,
                ),
                (
                    "OneCycle (5 stairs, decay)",
                    parse(
                        "deepspeed_one_cycle(cycle_min_lr=0.005, cycle_max_lr=0.04,"
                        " cycle_first_step_size=150, cycle_first_stair_count=5,"
                        " decay_step_size=20, decay_lr_rate=0.2)"
                    ),
                    1.0,
                ),
            ],
            600,
            False,
        ),
        (
            "megatron.png",
            "Megatron-Core: warm-up, then cosine / WSD (minus_sqrt) / inverse-square-root",
            [
                (
                    "cosine",
                    parse(
                        "megatron(max_lr=0.0003, lr_decay_steps=600, min_lr=3e-05,"
                        " lr_warmup_steps=60, lr_decay_style='cosine')"
                    ),
                    1.0,
                ),
                (
                    "WSD, minus_sqrt",
                    parse(
                        "megatron(max_lr=0.0003, lr_decay_steps=600, min_lr=3e-05,"
                        " lr_warmup_steps=60, lr_decay_style='WSD', wsd_decay_steps=150,"
                        " lr_wsd_decay_style='minus_sqrt')"
                    ),
                    1.0,
                ),
                (
                    "inverse-square-root",
                    parse(
                        "megatron(max_lr=0.0003, lr_decay_steps=500, min_lr=3e-05,"
                        " lr_warmup_steps=60, lr_decay_style='inverse-square-root')"
                    ),
                    1.0,
                ),
            ],
            650,
            False,
        ),
        (
            "optax.png",
            "optax: warmup_cosine_decay, sgdr, cosine_onecycle, exponential_decay (staircase)",
            [
                (
                    "warmup_cosine_decay",
                    parse(
                        "optax_warmup_cosine_decay(init_value=0.0, peak_value=0.1,"
                        " warmup_steps=50, decay_steps=600, end_value=0.001)"
                    ),
                    1.0,
                ),
                (
                    "sgdr (3 cycles)",
                    parse(
                        "optax_sgdr(cosine_kwargs=["
                        "optax_warmup_cosine_decay(init_value=0.0, peak_value=0.08,"
                        " warmup_steps=20, decay_steps=150),"
                        " optax_warmup_cosine_decay(init_value=0.0, peak_value=0.06,"
                        " warmup_steps=20, decay_steps=200),"
                        " optax_warmup_cosine_decay(init_value=0.0, peak_value=0.04,"
                        " warmup_steps=20, decay_steps=250)])"
                    ),
                    1.0,
                ),
                (
                    "cosine_onecycle",
                    parse("optax_cosine_onecycle(transition_steps=600, peak_value=0.05)"),
                    1.0,
                ),
                (
                    "exponential_decay (staircase)",
                    parse(
                        "optax_exponential_decay(init_value=0.1, transition_steps=100,"
                        " decay_rate=0.6, staircase=True)"
                    ),
                    1.0,
                ),
            ],
            650,
            False,
        ),
        (
            "keras.png",
            "Keras: cosine (warm-up), cosine restarts, polynomial (cycle), piecewise",
            [
                (
                    "CosineDecay, warm-up",
                    parse(
                        "keras_cosine_decay(initial_learning_rate=0.0, decay_steps=500,"
                        " warmup_target=0.1, warmup_steps=100, alpha=0.05)"
                    ),
                    1.0,
                ),
                (
                    "CosineDecayRestarts (t_mul=2, m_mul=0.7)",
                    parse(
                        "keras_cosine_decay_restarts(initial_learning_rate=0.08,"
                        " first_decay_steps=80, m_mul=0.7)"
                    ),
                    1.0,
                ),
                (
                    "PolynomialDecay (power=0.5, cycle)",
                    parse(
                        "keras_polynomial_decay(initial_learning_rate=0.06, decay_steps=200,"
                        " end_learning_rate=0.005, power=0.5, cycle=True)"
                    ),
                    1.0,
                ),
                (
                    "PiecewiseConstantDecay",
                    parse(
                        "keras_piecewise_constant_decay(boundaries=[150, 350, 500],"
                        " values=[0.05, 0.03, 0.015, 0.005])"
                    ),
                    1.0,
                ),
            ],
            650,
            False,
        ),
        (
            "fairseq.png",
            "fairseq: inverse_sqrt, tri_stage, cosine (t_mult=1.5, lr_shrink=0.7), triangular",
            [
                (
                    "inverse_sqrt (warmup_updates=60)",
                    parse("fairseq_inverse_sqrt(lr=0.05, warmup_updates=60)"),
                    1.0,
                ),
                (
                    "tri_stage (10% / 40% / 50%)",
                    parse(
                        "fairseq_tri_stage(lr=0.04, phase_ratio=[0.1, 0.4, 0.5], max_update=600,"
                        " final_lr_scale=0.05)"
                    ),
                    1.0,
                ),
                (
                    "cosine (t_mult=1.5, lr_shrink=0.7)",
                    parse(
                        "fairseq_cosine(lr=0.03, warmup_updates=20, min_lr=0.002, t_mult=1.5,"
                        " lr_period_updates=80, lr_shrink=0.7)"
                    ),
                    1.0,
                ),
                (
                    "triangular (shrink_min)",
                    parse(
                        "fairseq_triangular(lr=0.005, max_lr=0.02, lr_period_updates=200,"
                        " lr_shrink=0.6, shrink_min=True)"
                    ),
                    1.0,
                ),
            ],
            650,
            False,
        ),
        (
            "plateau.png",
            "ReduceLROnPlateau on a synthetic validation loss (patience=5, factor=0.5)",
            [("", None, 0.1)],
            200,
            False,
        ),
    ]


def _families_of(spec) -> set:
    """The kind codes a spec's program holds."""
    from .kernels.torch_numerics import program_kinds
    from .program import lower

    return set() if spec is None else program_kinds(lower(spec).code)


def figures(steps: int = 600):
    """The gallery's figures: :func:`gallery_figures`, then one for each declared family
    none of them draws, from its declaration's sample specs."""
    from . import family

    out = gallery_figures()
    drawn = set()
    for _, _, curves, _, _ in out:
        for _, spec, _ in curves:
            drawn |= _families_of(spec)
    for f in family.declared():
        if f.code in drawn or f.samples is None:
            continue
        curves = [(label, spec, 1.0) for label, spec in f.samples(steps).items()]
        out.append(
            (f"{f.framework}-{f.name}.png", f"{f.framework}: {f.name}", curves, steps, False)
        )
    return out


def gallery(out_dir: str) -> list[str]:
    """Write one PNG per family and ``overview.png``; returns the paths."""
    plt = _pyplot()
    os.makedirs(out_dir, exist_ok=True)
    drawn_figures = figures()
    paths = []
    cols = 4
    rows = math.ceil(len(drawn_figures) / cols)
    sheet, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows))
    for k, (name, title, curves, steps, log) in enumerate(drawn_figures):
        drawn, marks = [], set()
        for label, spec, base in curves:
            if spec is None:
                drawn.append(
                    ("learning rate", plateau_curve(synthetic_validation_loss(steps), base))
                )
            else:
                drawn.append((label, table(spec, steps, base)))
                marks |= set(events(spec, steps))
        fig, ax = plt.subplots(figsize=(7, 4))
        draw(ax, drawn, log=log, title=title, marks=sorted(marks))
        fig.tight_layout()
        path = os.path.join(out_dir, name)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
        draw(axes.flat[k], drawn, log=log, title=title, marks=sorted(marks), title_size=7)
    for ax in list(axes.flat)[len(drawn_figures) :]:
        ax.axis("off")
    sheet.tight_layout()
    overview = os.path.join(out_dir, "overview.png")
    sheet.savefig(overview, dpi=80)
    plt.close(sheet)
    return paths + [overview]
