"""The ``lrcore`` command line."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np

from . import bench, family, table
from .csv_text import write_csv
from .export import TARGETS
from .text import parse

DESCRIPTION = (
    "lrcore: learning-rate schedules of torch, transformers, timm, DeepSpeed, Megatron-LM, "
    "fairseq, optax and Keras, tabulated bit for bit. Schedules are written as text, e.g. "
    "'cosine_annealing(T_max=1000)'; `lrcore families` lists them."
)


class CliError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse's errors on one line (its usage block is what --help is for)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


_TABLE_SUFFIXES = (".npy", ".csv", ".json", ".pt")
_PLOT_SUFFIXES = (".png", ".pdf", ".svg")


#: (module, extra, what needs it) for each command
_NEEDS = {
    "plot": [("matplotlib", "plot", "plotting")],
    "gallery": [("matplotlib", "plot", "the gallery")],
    "demo": [("matplotlib", "plot", "the demo's gallery")],
}


def _require(module: str, extra: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise CliError(f"{what} needs {module}, not installed: pip install 'lrcore[{extra}]'")


def _check_options(args) -> None:
    """The options as the user wrote them, before any work is done."""
    import math
    import os

    for module, extra, what in _NEEDS.get(args.command, []):
        _require(module, extra, what)
    specs = getattr(args, "spec", None)
    for text in specs if isinstance(specs, list) else [specs] if specs else []:
        if text.lower().endswith((".yaml", ".yml")):
            _require("yaml", "yaml", "reading YAML specs")

    for dest, flag, low in (
        ("steps", "--steps", 1),
        ("torch_steps", "--torch-steps", 1),
        ("start", "--start", 0),
    ):
        value = getattr(args, dest, None)
        if value is not None and value < low:
            raise CliError(f"{flag} must be an integer >= {low}, got {flag} {value}")
    bases = getattr(args, "base_lr", None)
    if bases is not None:
        for x in bases if isinstance(bases, list) else [bases]:
            if not (math.isfinite(x) and x >= 0):
                raise CliError(f"--base-lr must be finite numbers >= 0, got --base-lr {x}")
    output = getattr(args, "output", None)
    if args.command == "table" and output is not None and not output.endswith(_TABLE_SUFFIXES):
        raise CliError(f"-o must end in .npy, .csv, .json or .pt, got {output!r}")
    if args.command == "plot" and not output.lower().endswith(_PLOT_SUFFIXES):
        raise CliError(f"-o must end in .png, .pdf or .svg, got {output!r}")
    figure = getattr(args, "plot", None) if args.command == "audit" else None
    if figure is not None and not figure.lower().endswith(_PLOT_SUFFIXES):
        raise CliError(f"--plot must end in .png, .pdf or .svg, got {figure!r}")
    if figure is not None:
        _require("matplotlib", "plot", "--plot")
    steps_per_entry = getattr(args, "steps_per_entry", None)
    if steps_per_entry is not None and steps_per_entry < 1:
        raise CliError(f"--steps-per-entry must be an integer >= 1, got {steps_per_entry}")
    for flag, path in (
        ("-o", output if args.command in ("table", "plot") else None),
        ("--json", getattr(args, "json", None)),
        ("--plot", figure),
    ):
        if path:
            folder = os.path.dirname(path) or "."
            if not os.path.isdir(folder):
                raise CliError(f"{flag}: folder {folder!r} does not exist (got {flag} {path})")


def _progress(label, t, steps):
    width = 30
    done = int(width * t / max(steps, 1))
    sys.stderr.write(f"\r  stepping torch.optim {label:<31} [{'#' * done}{'.' * (width - done)}]")
    sys.stderr.flush()


def cmd_bench(args) -> None:
    first = bench.first_use() if getattr(args, "first_use", True) else {}
    t0 = time.perf_counter()
    rows = bench.run(
        args.steps, args.torch_steps, progress=_progress if sys.stderr.isatty() else None
    )
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 80 + "\r")
    print(
        f"lrcore bench: {args.steps:,} steps per table; torch.optim stepped "
        f"{min(args.torch_steps, args.steps):,} steps per family (per-step cost, ratio per step)"
    )
    print(
        f"machine: {platform.machine()}, {platform.processor() or platform.system()}, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    if first:
        print("first use, from `import lrcore` in a fresh process (cold: empty kernel cache):")
    for name, (cold, warm) in first.items():
        print(f"  {name:52s} cold {cold:5.2f} s  warm {warm:5.2f} s")
    print()
    print(bench.render(rows))
    print(f"\n(total {time.perf_counter() - t0:.1f} s)")
    if args.json:
        extra = {
            "steps": args.steps,
            "torch_steps": args.torch_steps,
            "first_use_s": {name: {"cold": c, "warm": w} for name, (c, w) in first.items()},
            "date": time.strftime("%Y-%m-%d"),
            "machine": platform.platform(),
        }
        with open(args.json, "w") as fh:
            json.dump(bench.as_json(rows, extra), fh, indent=2)


def cmd_table(args) -> None:
    spec = load_spec(args.spec)
    bases = args.base_lr if len(args.base_lr) > 1 else args.base_lr[0]
    out = table(spec, args.steps, bases, start=args.start, numerics=args.numerics)
    if args.output is None:
        write_csv(sys.stdout, out, args.start)
    else:
        write_table(args.output, out, spec, args.start)


def write_table(path: str, out: np.ndarray, spec, start: int) -> None:
    if path.endswith(".npy"):
        np.save(path, out)
    elif path.endswith(".csv"):
        with open(path, "w") as fh:
            write_csv(fh, out, start)
    elif path.endswith(".json"):
        with open(path, "w") as fh:
            json.dump({"spec": str(spec), "start": start, "lr": out.tolist()}, fh)
    elif path.endswith(".pt"):
        try:
            import torch
        except ImportError:
            raise CliError("writing .pt needs torch: pip install 'lrcore[torch]'") from None
        torch.save(torch.from_numpy(np.ascontiguousarray(out)), path)
    else:
        raise CliError(f"-o must end in .npy, .csv, .json or .pt, got {path!r}")


def load_spec(text: str):
    """A spec from its text form, or from a JSON, TOML or YAML file holding either the
    spec's dict (``to_dict()``) or ``{"spec": "<text form>"}``."""
    from .spec import from_dict

    lower = text.lower()
    if not lower.endswith((".json", ".toml", ".yaml", ".yml")):
        return parse(text)
    try:
        with open(text, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise CliError(f"cannot read {text}: {exc.strerror}") from None
    try:
        if lower.endswith(".json"):
            data = json.loads(raw)
        elif lower.endswith(".toml"):
            try:
                import tomllib
            except ImportError:  # Python 3.10
                import tomli as tomllib
            data = tomllib.loads(raw.decode())
        else:
            _require("yaml", "yaml", "reading YAML specs")
            import yaml

            data = yaml.safe_load(raw)
    except CliError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse error is the file's fault
        raise CliError(f"cannot parse {text}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("spec"), str) and len(data) == 1:
        return parse(data["spec"])
    if not isinstance(data, dict):
        raise CliError(f"{text} must hold a spec dict or {{'spec': '<text>'}}")
    return from_dict(data)


def cmd_plot(args) -> None:
    from .plotting import plot

    plot(
        [load_spec(s) for s in args.spec],
        args.steps,
        args.output,
        base_lr=args.base_lr,
        log=args.log,
    )


def cmd_gallery(args) -> None:
    from .plotting import gallery

    paths = gallery(args.output)
    print(f"wrote {len(paths)} figures to {args.output} (overview: {paths[-1]})")


def warmup_specs() -> dict:
    """One schedule per kernel family (the names ``lrcore warmup`` takes): each declared
    family's first sample, and a chain of every family of factors (each one's factor
    kernel, and their products')."""
    from .schedules.compose import Chained

    steps = 40_000  # past two parallel chunks: the parallel kernels compile too
    declared = [f for f in family.declared() if f.samples]
    samples = {f.name: next(iter(f.samples(steps).values())) for f in declared}
    factors = [samples[f.name] for f in declared if f.ratio]
    return {**samples, "chained": Chained(schedulers=factors)}


def cmd_warmup(args) -> None:
    from . import kernels

    specs = warmup_specs()
    names = args.family or list(specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise CliError(f"unknown family {', '.join(unknown)}; known: {', '.join(specs)}")
    numerics = args.numerics.split(",")
    bad = [n for n in numerics if n not in ("torch", "closed")]
    if bad:
        raise CliError(f"--numerics must be torch, closed or both, got {args.numerics!r}")
    where = kernels.CACHE_DIR
    print(f"lrcore warmup: kernels {'cached in ' + str(where) if where else 'not cached'}")
    if args.jobs < 1:
        raise CliError(f"--jobs must be an integer >= 1, got {args.jobs}")
    if args.jobs > 1:
        return _warmup_in_processes(args, names)
    if args.any_only:
        names = []
    pointwise = {f.name for f in family.declared() if f.pointwise}
    for name in names:
        t0 = time.perf_counter()
        with kernels.engine("numba"):  # every kernel tables use: first the serial ones, which
            for n in numerics:  # serve a process's tables until its parallel ones are ready
                table(specs[name], 40_000, numerics=n)
                if name in pointwise:  # every stride-th step (lrsched's per-epoch windows)
                    table(specs[name], 1_000, numerics=n, stride=3)
            with kernels.parallel_now():  # then the parallel ones
                for n in numerics:
                    table(specs[name], 40_000, numerics=n)
        print(f"  {name:32s} {time.perf_counter() - t0:6.2f} s", flush=True)
    if args.cabi:
        from . import cabi
        from .program import lower

        # each family's own entry points (Schedule.fill_address() and siblings) ...
        for name in names:
            if lower(specs[name]).functions:
                continue  # Python functions do not cross the ABI
            t0 = time.perf_counter()
            schedule = cabi.Schedule(specs[name])
            for n in numerics:
                schedule.fill(0, 10, numerics=n)
            schedule.lr_at(3)
            print(f"  {'C ABI: ' + name:32s} {time.perf_counter() - t0:6.2f} s", flush=True)
        if not args.family or args.any_only:  # ... and the ones that serve any handle
            t0 = time.perf_counter()
            addresses = {
                "torch": (cabi.fill_address, cabi.lr_at_address),
                "closed": (cabi.fill_closed_address,),
            }
            for n in numerics:
                for address in addresses[n]:
                    address()
            label = "C ABI: any schedule" + ("" if len(numerics) > 1 else f" ({numerics[0]})")
            print(f"  {label:32s} {time.perf_counter() - t0:6.2f} s")


def _warmup_in_processes(args, names) -> None:
    """``lrcore warmup`` in child processes, ``args.jobs`` at a time (the kernels compile
    independently and are cached apart, so the work divides): the C ABI's any-schedule
    entry points first (the longest jobs, one per numerics), then the families dealt
    into ``args.jobs`` parts."""
    import subprocess

    warmup = [sys.executable, "-m", "lrcore", "warmup"]
    commands = []
    if args.cabi and not args.family:
        for n in args.numerics.split(","):
            commands.append(warmup + ["--numerics", n, "--cabi", "--any-only"])
    cabi = ["--cabi"] if args.cabi else []
    for k in range(args.jobs):
        if names[k :: args.jobs]:
            commands.append(warmup + ["--numerics", args.numerics, *cabi, *names[k :: args.jobs]])
    waiting, running, failed = list(commands), [], []
    while waiting or running:
        while waiting and len(running) < args.jobs:
            command = waiting.pop(0)
            running.append((command, subprocess.Popen(command, stdout=subprocess.PIPE, text=True)))
        done = [r for r in running if r[1].poll() is not None]
        if not done:
            time.sleep(0.05)
            continue
        command, proc = done[0]
        running.remove(done[0])
        out, _ = proc.communicate()
        for line in out.splitlines()[1:]:  # each child's first line names the folder
            print(line, flush=True)
        if proc.returncode != 0:
            failed.append(" ".join(command[2:]))
    if failed:
        raise CliError(f"warmup failed in: {'; '.join(failed)}")


def cmd_convert(args) -> None:
    """Print the spec (text, or JSON with --json); notes on how to use it go to stderr."""
    from . import convert

    kind, source = args.source_kind, args.source
    if kind == "auto":
        kind = _source_kind(source)
    note = base = None
    if args.group is not None and kind != "deepspeed":
        raise ValueError(
            f"--group picks a param group of a DeepSpeed config's per-group lists; "
            f"this source is {kind}, got --group {args.group}"
        )
    if kind == "deepspeed":
        groups = convert.deepspeed_groups(source)
        if args.group is not None and args.group < 0:
            raise ValueError(f"--group must be an integer >= 0, got --group {args.group}")
        if args.group is not None and groups > 1 and args.group >= groups:
            raise ValueError(
                f"--group must be < {groups} (this config's per-group lists), "
                f"got --group {args.group}"
            )
        if args.group is None and groups > 1:  # one line a param group
            specs = [convert.from_deepspeed_config(source, k)[0] for k in range(groups)]
            for spec in specs:
                print(json.dumps(spec.to_dict()) if args.as_json else str(spec))
            print(
                f"# one spec per param group, groups 0 to {groups - 1} (--group K for one)",
                file=sys.stderr,
            )
            return
        spec, base = convert.from_deepspeed_config(source, args.group)
        if not spec.absolute and base is not None:
            note = f"# a ratio of the optimizer's LR: plot or tabulate it with --base-lr {base!r}"
    elif kind == "fairseq":
        spec = convert.from_fairseq_args(source)
    elif kind == "torch":
        spec = convert.from_torch_call(source)
    elif kind == "transformers":
        spec = convert.from_transformers_call(source)
    elif kind in ("timm", "optax", "keras"):
        spec = convert.from_call(source, kind)
    elif kind == "megatron":
        spec, stride = convert.from_megatron_args(source)
        if stride != 1:
            note = (
                f"# steps count samples ({stride} an iteration): one entry per iteration is "
                f"lrcore.table(spec, iterations, stride={stride})"
            )
    elif source.lstrip().startswith("{"):  # the spec's JSON (to_dict)
        from .spec import from_dict

        spec = from_dict(json.loads(source))
    else:  # its text form, or a spec file
        spec = load_spec(source)
    if args.to is None:
        given = [f for f, on in (("--exact", args.exact), ("--steps", args.steps is not None),
                 ("--tolerance", args.tolerance is not None)) if on]  # fmt: skip
        if given:
            raise ValueError(f"{given[0]} applies to --to TARGET's artifact; give --to")
    if args.to is not None:
        out = convert.to_framework(
            spec,
            args.to,
            base_lr=args.base_lr if args.base_lr is not None else base,
            exact=args.exact,
            steps=args.steps,
            tolerance=1e-4 if args.tolerance is None else args.tolerance,
        )
        print(out.artifact)
        for line in out.notes:
            print(line, file=sys.stderr)
        return
    print(json.dumps(spec.to_dict()) if args.as_json else str(spec))
    if note:
        print(note, file=sys.stderr)


def _source_kind(source: str) -> str:
    """What ``lrcore convert`` was given: fairseq's flags (they name ``--lr-scheduler``),
    Megatron's, a DeepSpeed config file, or a spec (text, JSON, or a spec file)."""
    import os

    from . import convert

    head = source.lstrip().split("(")[0].rsplit(".", 1)[-1]
    if "(" in source and head in convert.torch_classes():
        return "torch"
    if "(" in source and head.startswith("get_") and head in convert.TRANSFORMERS_FUNCTIONS:
        return "transformers"
    if "(" in source and head in ("create_scheduler_v2", "create_scheduler"):
        return "timm"
    for framework in ("timm", "optax", "keras"):
        if "(" in source and head in convert.names(framework):
            return framework
    if source.lstrip().startswith("--"):
        fairseq = any(flag.split("=")[0] == "--lr-scheduler" for flag in source.split())
        return "fairseq" if fairseq else "megatron"
    if source.lower().endswith(".json") and os.path.isfile(source):
        with open(source, encoding="utf-8") as fh:
            data = json.load(fh)
        types = convert.DEEPSPEED
        if isinstance(data, dict) and ("scheduler" in data or data.get("type") in types):
            return "deepspeed"
    return "spec"


def cmd_demo(args) -> None:
    cmd_bench(args)
    print()
    cmd_gallery(args)


def cmd_audit(args) -> int:
    from . import audit

    spec = load_spec(args.spec)
    log = audit.read_logs(args.log, tag=args.tag, column=args.column)
    report = audit.audit(log, spec, args.base_lr[0], args.steps_per_entry)
    for line in report.lines():
        print(line)
    if args.plot:
        audit.plot(report, args.plot)
        print(f"wrote {args.plot}")
    return 0 if report.agree else 1


def cmd_serve(args) -> None:
    from .serve import serve

    serve(args.host, args.port, browser=args.browser)


def cmd_families(args) -> None:
    for framework, lines in families(args.framework).items():
        print(framework)
        for line in lines:
            print("  " + line)


def families(framework: str | None = None) -> dict[str, list[str]]:
    """Every registered schedule, grouped by the framework whose family it is (from the
    declarations; compositions under "composition"), as ``name(param, param=default)``."""
    from . import _docs

    groups = {fw: [_docs.signature(c) for c in cs] for fw, cs in _docs.frameworks().items()}
    if framework is not None:
        if framework not in groups:
            raise CliError(f"FRAMEWORK must be one of {', '.join(groups)}, got {framework!r}")
        return {framework: groups[framework]}
    return groups


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (every option with its help)."""
    parser = _Parser(prog="lrcore", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    steps_help = "table entries per schedule (default %(default)s)"
    b = sub.add_parser("bench", help="time every family against torch.optim, numpy, torch ops")
    d = sub.add_parser("demo", help="what `make demo` runs: the bench, then the gallery")
    for timed in (b, d):  # the bench's options, in both
        timed.add_argument("--steps", type=int, default=1_000_000, help=steps_help)
        timed.add_argument(
            "--torch-steps",
            type=int,
            default=20_000,
            help="steps of torch.optim's own scheduler timed per family (default %(default)s)",
        )
        timed.add_argument(
            "--json", default=None, help="write the bench's figures to this JSON file"
        )
    b.add_argument(
        "--no-first-use",
        dest="first_use",
        action="store_false",
        help="skip timing first use in fresh processes (each compiles into an empty cache)",
    )
    b.set_defaults(func=cmd_bench)
    d.add_argument("-o", "--output", default="gallery", help="gallery folder (default gallery)")
    d.set_defaults(func=cmd_demo)
    f = sub.add_parser("families", help="list every schedule and its parameters, by framework")
    f.add_argument(
        "framework", nargs="?", help="only this framework's (torch, transformers, timm, ...)"
    )
    f.set_defaults(func=cmd_families)
    p = sub.add_parser("plot", help="plot schedules to a PNG, PDF or SVG")
    p.add_argument("spec", nargs="+", help="text forms or spec files (.json, .toml, .yaml)")
    p.add_argument("--steps", type=int, required=True, help="steps to plot")
    p.add_argument(
        "--base-lr",
        type=float,
        default=1.0,
        help="the LR a relative schedule multiplies (as in `lrcore table`; a schedule "
        "that sets its own LRs refuses any other than 1.0)",
    )
    p.add_argument("--log", action="store_true", help="logarithmic LR axis")
    p.add_argument("-o", "--output", required=True, help="the figure: .png, .pdf or .svg")
    p.set_defaults(func=cmd_plot)
    a = sub.add_parser(
        "audit",
        help="check a finished run's logged LRs against a spec (exit 0: it followed the "
        "spec, 1: it did not, 2: bad input)",
    )
    a.add_argument(
        "log",
        nargs="+",
        help="the run's logs, in its order (a resumed run may have several): "
        "a TensorBoard event file or folder, a CSV (Lightning's CSVLogger or any step "
        "and LR columns) or transformers' trainer_state.json",
    )
    a.add_argument("--spec", required=True, help="the schedule the run meant to follow")
    a.add_argument(
        "--base-lr",
        type=float,
        nargs=1,
        default=[1.0],
        help="the LR a relative schedule multiplies (as in `lrcore table`)",
    )
    which = a.add_mutually_exclusive_group()
    which.add_argument("--tag", help="the TensorBoard scalar tag of the LR")
    which.add_argument("--column", help="the CSV column of the LR")
    a.add_argument(
        "--steps-per-entry",
        type=int,
        default=1,
        help="table steps per logged step (e.g. Megatron's samples per iteration; default 1)",
    )
    a.add_argument("--plot", help="draw logged against intended to this .png, .pdf or .svg")
    a.set_defaults(func=cmd_audit)
    s = sub.add_parser("serve", help="a local page to explore, overlay and export schedules")
    s.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    s.add_argument("--port", type=int, default=8765, help="the port (default 8765)")
    s.add_argument(
        "--no-browser",
        dest="browser",
        action="store_false",
        help="do not open the page in a browser",
    )
    s.set_defaults(func=cmd_serve)
    g = sub.add_parser("gallery", help="one PNG per family, plus overview.png")
    g.add_argument("-o", "--output", required=True, help="folder")
    g.set_defaults(func=cmd_gallery)
    w = sub.add_parser(
        "warmup", help="compile (or load) the kernels ahead of time, and say where they are"
    )
    w.add_argument("family", nargs="*", help="kernel families (default: all)")
    w.add_argument("--numerics", default="torch,closed", help="torch, closed or torch,closed")
    w.add_argument(
        "--cabi",
        action="store_true",
        help="the C ABI's entry points too (with no family named, also those for any schedule)",
    )
    w.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="compile in this many processes at once (default 1)",
    )
    w.add_argument("--any-only", action="store_true", help=argparse.SUPPRESS)
    w.set_defaults(func=cmd_warmup)
    c = sub.add_parser(
        "convert",
        help="print the lrcore spec of a DeepSpeed config, Megatron-LM's or fairseq's "
        "arguments, a framework's call as written in code, or a spec; or (--to) write it "
        "in another framework's terms",
    )
    c.add_argument(
        "source",
        help="a DeepSpeed config (.json, the whole config or its scheduler block), "
        "Megatron-LM's scheduler flags as one quoted string ('--lr 3e-4 --train-iters ...'), "
        "fairseq's ('--lr-scheduler inverse_sqrt --lr 5e-4 ...'), a call as written in code "
        "(torch's 'CosineAnnealingLR(optimizer, T_max=100)', transformers' get_*_schedule_* "
        "functions, timm's classes and create_scheduler_v2, optax's and Keras's schedules), "
        "or a spec's text, JSON or file",
    )
    c.add_argument(
        "--from",
        dest="source_kind",
        choices=[
            "auto",
            "deepspeed",
            "megatron",
            "fairseq",
            "torch",
            "transformers",
            "timm",
            "optax",
            "keras",
            "spec",
        ],
        default="auto",
        help="what SOURCE is (default: guessed from it)",
    )
    c.add_argument(
        "--json", dest="as_json", action="store_true", help="print the spec's JSON, not its text"
    )
    c.add_argument(
        "--group",
        type=int,
        default=None,
        help="the param group whose schedule to print, where a DeepSpeed config has "
        "per-group lists (default: one line per group)",
    )
    c.add_argument(
        "--to",
        choices=TARGETS,
        help="print it in this framework's own terms instead (torch code, a DeepSpeed "
        "block, Megatron-LM's or fairseq's flags, ...), notes on stderr; exact where the "
        "target has the same family; otherwise the nearest expression in the target's "
        "idiom (torch, transformers, optax, Keras: its largest relative difference on "
        "stderr), refused with the reason elsewhere",
    )
    c.add_argument(
        "--exact",
        action="store_true",
        help="refuse anything not bit-identical (a nearest expression), with the reason",
    )
    c.add_argument(
        "--steps",
        type=int,
        default=None,
        help="the steps a nearest expression is fitted over (default: the schedule's own "
        "length, where it has one)",
    )
    c.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="a nearest expression's largest relative difference from the table (default 1e-4)",
    )
    c.add_argument(
        "--base-lr",
        type=float,
        default=None,
        help="the base LR the artifact assumes (default: the source's, where it has one)",
    )
    c.set_defaults(func=cmd_convert)
    t = sub.add_parser(
        "table", help="a schedule's table: CSV on stdout, or .npy, .csv, .json or .pt"
    )
    t.add_argument(
        "spec", help="text form, e.g. 'cosine_annealing(T_max=1000)', or a .json/.toml/.yaml file"
    )
    t.add_argument("--steps", type=int, required=True, help="table entries")
    t.add_argument("--start", type=int, default=0, help="the first entry's step (default 0)")
    t.add_argument(
        "--base-lr",
        type=float,
        nargs="+",
        default=[1.0],
        help="the LR a relative schedule multiplies; several: one column per param group "
        "(a schedule that sets its own LRs refuses any other than 1.0)",
    )
    t.add_argument(
        "--numerics",
        choices=["torch", "closed"],
        default="torch",
        help="torch: the framework's own step-by-step arithmetic, bit for bit (default); "
        "closed: the closed form",
    )
    t.add_argument(
        "-o", "--output", help=".npy, .csv, .json or .pt (default: CSV on standard output)"
    )
    t.set_defaults(func=cmd_table)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check_options(args)
        code = args.func(args)
        sys.stdout.flush()
        if isinstance(code, int):
            return code
    except BrokenPipeError:  # `lrcore table ... | head`: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CliError, ValueError, TypeError, ImportError, OSError) as exc:
        print(f"lrcore {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
