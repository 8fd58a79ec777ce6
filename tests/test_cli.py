"""The lrcore command line: through ``lrcore.cli.main``, what ``python -m lrcore`` runs,
and, where the process is part of what is tested (the entry point, the kernel cache, a
closed pipe, the demo's gallery), as ``python -m lrcore`` in a fresh Python."""

import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import lrcore
import lrcore.bench
import lrcore.plotting

SPEC = (
    "sequential([linear(start_factor=0.1, total_iters=50), cosine_annealing(T_max=450)], "
    "milestones=[50])"
)


def cli(*args, cwd=None, fresh=False):
    """``python -m lrcore *args``: in a fresh Python where ``fresh``, else its ``main`` in
    this one (argparse's exits included), with the same return code and outputs."""
    if fresh:
        return subprocess.run(
            [sys.executable, "-m", "lrcore", *args], capture_output=True, text=True, cwd=cwd
        )
    from lrcore.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("suffix", ["npy", "csv", "json", "pt"])
def test_table_files_read_back_equal(tmp_path, suffix):
    path = tmp_path / f"lr.{suffix}"
    args = ("table", SPEC, "--steps", "500", "--start", "7", "--base-lr", "0.1", "0.02")
    out = cli(*args, "-o", str(path), fresh=suffix == "npy")
    assert out.returncode == 0, out.stderr
    want = lrcore.table(lrcore.parse(SPEC), 500, [0.1, 0.02], start=7)
    if suffix == "npy":
        got = np.load(path)
    elif suffix == "csv":
        data = np.loadtxt(path, delimiter=",", skiprows=1)
        assert np.array_equal(data[:, 0], np.arange(7, 507))
        got = data[:, 1:].T
    elif suffix == "json":
        doc = json.loads(path.read_text())
        assert doc["spec"] == str(lrcore.parse(SPEC)) and doc["start"] == 7
        got = np.array(doc["lr"])
    else:
        import torch

        got = torch.load(path).numpy()
    assert np.array_equal(got, want)


@pytest.mark.parametrize("fmt", ["json", "toml", "yaml"])
def test_spec_files(tmp_path, fmt):
    spec = lrcore.parse("cosine_annealing_warm_restarts(T_0=10, T_mult=2, eta_min=0.001)")
    path = tmp_path / f"spec.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(spec.to_dict()))
    elif fmt == "toml":
        path.write_text(
            'name = "cosine_annealing_warm_restarts"\nT_0 = 10\nT_mult = 2\neta_min = 0.001\n'
        )
    else:
        path.write_text(f'spec: "{spec}"\n')
    out_path = tmp_path / "lr.npy"
    out = cli("table", str(path), "--steps", "300", "--numerics", "closed", "-o", str(out_path))
    assert out.returncode == 0, out.stderr
    assert np.array_equal(np.load(out_path), lrcore.table(spec, 300, numerics="closed"))


def _decoded(path):
    import matplotlib.image as mpimg

    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image[..., :3].std() > 0.05  # not blank
    return image


def test_plot(tmp_path):
    path = tmp_path / "p.png"
    out = cli("plot", SPEC, "exponential(gamma=0.99)", "--steps", "500", "--log", "-o", str(path))
    assert out.returncode == 0, out.stderr
    _decoded(path)


LONG_SPECS = [
    "cosine_annealing_warm_restarts(T_0=100, T_mult=2)",
    "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, mode='triangular2')",
    "sequential([linear(start_factor=0.1, total_iters=100), cosine_annealing(T_max=900,"
    " eta_min=1e-4)], milestones=[100])",
    "warmup(cosine_decay(decay_steps=990, num_cycles=1.5, min_lr_rate=0.1), warmup_steps=10,"
    " warmup_type='cosine')",
    "timm_cosine(t_initial=300, lr_min=1e-05, cycle_mul=1.5, cycle_decay=0.8, cycle_limit=6,"
    " warmup_t=20, warmup_lr_init=1e-04, k_decay=1.2, noise_range_t=[100, 900])",
    "chained([exponential(gamma=0.999), step(step_size=30, gamma=0.5),"
    " multi_step(milestones=[100, 200, 300, 400, 500, 600, 700], gamma=0.9)])",
]


@pytest.mark.parametrize("count", [2, 6])
def test_plot_legend_stays_inside_the_figure_and_off_the_curves(count):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    specs = [lrcore.parse(s) for s in LONG_SPECS[:count]]
    fig = lrcore.plotting.figure(specs, 1000)  # (cyclic sets its own LRs: base_lr 1.0)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        (legend,) = fig.legends
        box = legend.get_window_extent(renderer)
        page = fig.bbox
        assert page.x0 <= box.x0 and box.x1 <= page.x1, (box, page)  # not off either edge
        assert page.y0 <= box.y0 and box.y1 <= page.y1, (box, page)
        axes = fig.axes[0].get_window_extent(renderer)
        assert box.y1 <= axes.y0  # below the axes: no label covers a curve
        texts = [t.get_text() for t in legend.get_texts()]
        assert len(texts) == count
        assert texts[0] == "cosine_annealing_warm_restarts(T_0=100, T_mult=2)"  # no defaults
        assert "eta_min" not in texts[0] and "scale_fn" not in texts[1]
        for text, spec in zip(texts, specs):  # wrapped, not cut: the whole brief form
            assert lrcore.parse(" ".join(text.split())) == spec
    finally:
        plt.close(fig)


def test_gallery(tmp_path):
    out = cli("gallery", "-o", str(tmp_path / "g"), fresh=True)  # (the demo's main job)
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in (tmp_path / "g").iterdir())
    declared = [figure[0] for figure in lrcore.plotting.figures()]
    assert names == sorted(declared + ["overview.png"]) and "timm.png" in names
    for name in names:
        _decoded(tmp_path / "g" / name)


def test_first_use_is_timed_cold_then_warm_in_fresh_processes(monkeypatch, tmp_path):
    """(One case of bench's three: each compiles into an empty cache in a new process.)"""
    case = "lrcore.table('cosine_annealing(T_max=1000)', 1000)"
    seen = []

    def fresh(code, env):
        seen.append((code, env["LRCORE_CACHE_DIR"]))
        return real(code, env)

    real = lrcore.bench.fresh_seconds
    monkeypatch.setattr(lrcore.bench, "FIRST_USES", {"a 1000-step table": case})
    monkeypatch.setattr(lrcore.bench, "fresh_seconds", fresh)
    out = lrcore.bench.first_use()
    cold, warm = out["a 1000-step table"]
    assert 0 < cold and 0 < warm
    (c1, cache1), (c2, cache2) = seen
    assert case in c1 and c1 == c2 and cache1 == cache2  # the warm run reads the cold's cache
    assert not os.path.exists(cache1)  # a temporary cache, removed


def test_bench_json(tmp_path):
    path = tmp_path / "bench.json"
    out = cli(
        "bench", "--steps", "5000", "--torch-steps", "300", "--no-first-use", "--json", str(path)
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(path.read_text())
    assert doc["steps"] == 5000 and doc["torch_steps"] == 300 and doc["first_use_s"] == {}
    assert "first use" not in out.stdout
    specs = lrcore.bench.families(5000)
    assert {r["family"] for r in doc["rows"]} == set(specs)
    stepped = 0
    for row in doc["rows"]:
        assert row["lrcore_torch_ms"] > 0 and row["lrcore_closed_ms"] > 0
        if lrcore.bench._has_torch_class(specs[row["family"]]):  # stepped against torch's class
            stepped += 1
            assert row["torch_parity_max_ulp"] == 0
            assert row["torch_step_us"] > 0 and row["speedup_vs_torch"] > 1
        else:  # timm's, DeepSpeed's, ...: no torch class to step
            assert row["torch_parity_max_ulp"] is None and row["torch_step_us"] is None
        assert row["floor_ms"] > 0
        assert row["closed_x_floor"] == row["lrcore_closed_ms"] / row["floor_ms"]
    assert stepped == 14  # torch's 12 families and its two compositions
    assert "× vs torch.optim" in out.stdout
    assert "closed × floor" in out.stdout and "memory floor (allocate and fill 5,000" in out.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["table", "cosine_anealing(T_max=10)", "--steps", "10", "-o", "x.npy"],
            "did you mean cosine_annealing",
        ),
        (
            ["table", "step(step_size=0)", "--steps", "10", "-o", "x.npy"],
            "step: step_size must be an integer >= 1, got step_size=0",
        ),
        (["table", "missing.json", "--steps", "10", "-o", "x.npy"], "cannot read missing.json"),
        (
            ["table", "step(step_size=3)", "--steps", "10", "-o", "x.txt"],
            "-o must end in .npy, .csv, .json or .pt",
        ),
        (["table", "step(step_size=3)", "--steps", "-4", "-o", "x.npy"], "steps must be"),
        (["plot", "nonsense(", "--steps", "10", "-o", "x.png"], "not a schedule expression"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    out = cli(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_warmup_fills_the_cache_it_names_with_what_a_process_then_uses(tmp_path):
    """After ``lrcore warmup FAMILY``, a new process's tables of that family compile
    nothing: the serial kernels of its first tables, the parallel ones of long tables,
    the strided ones of lrsched's per-epoch windows, in both numerics, are in the cache;
    and no other family's kernels are."""
    import os
    from pathlib import Path

    env = dict(os.environ, LRCORE_CACHE_DIR=str(tmp_path))
    run = [sys.executable, "-m", "lrcore", "warmup", "timm_step"]
    out = subprocess.run(run, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith(f"lrcore warmup: kernels cached in {tmp_path}")
    folder = Path(first.split("cached in ", 1)[1])
    names = sorted(p.name for p in folder.rglob("*.nbi"))
    assert any(
        n.startswith("torch_numerics._leaf_steps__pointwise_get_lr_timm_step") for n in names
    )
    assert not any("cosine" in n or "timm_multistep" in n for n in names), names
    use = (
        "import lrcore\n"
        "spec = lrcore.parse('timm_step(decay_t=700, decay_rate=0.5, warmup_t=3)')\n"
        "for numerics in ('torch', 'closed'):\n"
        "    lrcore.table(spec, 10**6, numerics=numerics)\n"
        "    lrcore.table(spec, 300, 0.1, start=9, numerics=numerics)\n"
        "lrcore.table(spec, 1000, stride=3)\n"
    )
    used = subprocess.run(
        [sys.executable, "-c", use], capture_output=True, text=True, env=env, timeout=600
    )
    assert used.returncode == 0, used.stderr
    assert sorted(p.name for p in folder.rglob("*.nbi")) == names  # nothing compiled


def test_warmup_in_two_processes_fills_one_cache(tmp_path):
    import os

    env = dict(os.environ, LRCORE_CACHE_DIR=str(tmp_path))
    run = [sys.executable, "-m", "lrcore", "warmup", "exponential", "step", "linear"]
    run += ["--numerics", "torch", "--jobs", "2"]
    out = subprocess.run(run, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"lrcore warmup: kernels cached in {tmp_path}")
    assert sorted(line.split()[0] for line in lines[1:]) == ["exponential", "linear", "step"]
    names = [p.name for p in tmp_path.rglob("*.nbi")]
    for family in ("exponential", "step", "linear"):  # each from one of the two processes
        assert any(n.startswith(f"torch_numerics._leaf_steps_{family}") for n in names), names


def test_warmup_names_a_schedule_of_every_kernel_family():
    from lrcore.cli import warmup_specs
    from lrcore.kernels.torch_numerics import GET_LR, program_kinds
    from lrcore.program import lower

    covered = set()
    for spec in warmup_specs().values():
        covered |= program_kinds(lower(spec).code)
    assert covered == set(GET_LR)


def test_warmup_cabi_compiles_the_named_familys_entry_points(tmp_path):
    import os

    env = dict(os.environ, LRCORE_CACHE_DIR=str(tmp_path))
    run = [sys.executable, "-m", "lrcore", "warmup", "step", "--numerics", "torch", "--cabi"]
    out = subprocess.run(run, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "C ABI: step" in out.stdout and "any schedule" not in out.stdout
    names = sorted(p.name for p in tmp_path.rglob("*.nbi"))
    step_bits = f"{1 << lrcore.Step.kind:x}"
    assert any(n.startswith(f"cabi._fill_fill_{step_bits}-") for n in names), names
    assert any(n.startswith(f"cabi._lr_at_lr_at_{step_bits}-") for n in names), names
    assert not any("cosine" in n for n in names), names


@pytest.mark.parametrize(
    "args,message",
    [
        (["warmup", "nope"], "unknown family nope; known: step"),
        (["warmup", "--numerics", "fast", "step"], "--numerics must be torch, closed or both"),
        (["warmup", "--jobs", "0", "step"], "--jobs must be an integer >= 1, got 0"),
    ],
)
def test_warmup_refuses_what_it_does_not_know(args, message):
    out = cli(*args)
    assert out.returncode == 2
    assert message in out.stderr


# -- the command line, ready for users (in-process where no process boundary is tested) --
def run(*args):
    """``cli`` in this process, as ``(code, stdout, stderr)``."""
    out = cli(*args)
    return out.returncode, out.stdout, out.stderr


def test_table_without_output_prints_csv():
    code, out, err = run(
        "table", SPEC, "--steps", "300", "--start", "3", "--base-lr", "0.1", "0.02"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "step,lr0,lr1" and len(lines) == 301
    want = lrcore.table(lrcore.parse(SPEC), 300, [0.1, 0.02], start=3)
    steps = [int(line.split(",")[0]) for line in lines[1:]]
    got = np.array([[float(x) for x in line.split(",")[1:]] for line in lines[1:]]).T
    assert steps == list(range(3, 303)) and np.array_equal(got, want)
    # one group: the same text as the plain join (each value's shortest round trip)
    code, out, _ = run("table", "step(step_size=7)", "--steps", "100", "--base-lr", "0.3")
    values = lrcore.table(lrcore.parse("step(step_size=7)"), 100, 0.3).tolist()
    assert out == "step,lr0\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(values))


def test_table_piped_into_head_exits_quietly():
    cmd = f"{sys.executable} -m lrcore table 'step(step_size=5)' --steps 3000000 | head -2"
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120)
    assert out.stdout == "step,lr0\n0,1.0\n" and out.stderr == ""


def test_families_lists_every_schedule_by_framework():
    from lrcore import family
    from lrcore.spec import REGISTRY

    code, out, _ = run("families")
    assert code == 0
    names = [line.strip().split("(")[0] for line in out.splitlines() if line.startswith("  ")]
    assert sorted(names) == sorted(REGISTRY)  # wsd_decay included
    for fam in family.declared():
        code, out, _ = run("families", fam.framework)
        for spec in fam.specs:
            if "name" in vars(spec):  # (a family's internal specs have no name)
                assert f"\n  {spec.name}(" in out
    code, out, _ = run("families", "torch")
    assert "  step(step_size, gamma=0.1)\n" in out and "timm_step" not in out
    code, _, err = run("families", "chainer")
    assert code == 2 and "FRAMEWORK must be one of torch, transformers" in err


def test_unknown_name_suggests_the_nearest_and_points_to_families():
    code, _, err = run("table", "cosine(T_max=10)", "--steps", "10")
    assert code == 2
    assert "did you mean cosine_annealing, " in err  # torch's first
    assert "`lrcore families` lists them all" in err and "timm_wsd" not in err
    _, _, err = run("table", "onecycle(max_lr=1, total_steps=10)", "--steps", "10")
    assert "did you mean one_cycle, " in err


def test_base_lr_means_the_same_in_table_and_plot(tmp_path):
    spec = "deepspeed_warmup_decay(total_num_steps=100)"
    _, _, table_err = run("table", spec, "--steps", "10", "--base-lr", "0.5")
    code, _, plot_err = run(
        "plot", spec, "--steps", "10", "--base-lr", "0.5", "-o", str(tmp_path / "p.png")
    )
    message = "base_lr must be left at 1.0 for deepspeed_warmup_decay"
    assert code == 2 and message in table_err and message in plot_err
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("suffix,magic", [("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_plot_writes_pdf_and_svg(tmp_path, suffix, magic):
    path = tmp_path / f"lr.{suffix}"
    code, _, err = run("plot", SPEC, "--steps", "500", "-o", str(path))
    assert code == 0, err
    assert path.read_bytes().startswith(magic)


def test_every_option_has_help():
    import argparse

    from lrcore.cli import DESCRIPTION, build_parser

    parser = build_parser()
    assert "``" not in DESCRIPTION and parser.description == DESCRIPTION
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"lrcore {name} {action.option_strings or action.dest}: no help"
