"""The ``lrcore`` command line."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np

from . import bench, table


class CliError(Exception):
    pass


def _progress(label, t, steps):
    width = 30
    done = int(width * t / max(steps, 1))
    sys.stderr.write(f"\r  stepping torch.optim {label:<31} [{'#' * done}{'.' * (width - done)}]")
    sys.stderr.flush()


def cmd_bench(args) -> None:
    cold = bench.compile_time()
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
    print(f"first tables in a fresh process (compile, or load from numba's cache): {cold:.2f} s\n")
    print(bench.render(rows))
    print(f"\n(total {time.perf_counter() - t0:.1f} s)")
    if args.json:
        extra = {
            "steps": args.steps,
            "torch_steps": args.torch_steps,
            "first_table_s": cold,
            "date": time.strftime("%Y-%m-%d"),
            "machine": platform.platform(),
        }
        with open(args.json, "w") as fh:
            json.dump(bench.as_json(rows, extra), fh, indent=2)


def cmd_table(args) -> None:
    from .spec import from_dict
    from .text import parse

    spec = _load_spec(args.spec, parse, from_dict)
    bases = args.base_lr if len(args.base_lr) > 1 else args.base_lr[0]
    out = table(spec, args.steps, bases, start=args.start, numerics=args.numerics)
    path = args.output
    if path.endswith(".npy"):
        np.save(path, out)
    elif path.endswith(".csv"):
        rows = np.atleast_2d(out)
        steps = np.arange(args.start, args.start + args.steps)
        with open(path, "w") as fh:
            fh.write("step," + ",".join(f"lr{g}" for g in range(rows.shape[0])) + "\n")
            for i, s in enumerate(steps):
                fh.write(f"{s}," + ",".join(repr(float(v)) for v in rows[:, i]) + "\n")
    elif path.endswith(".json"):
        with open(path, "w") as fh:
            json.dump({"spec": str(spec), "start": args.start, "lr": out.tolist()}, fh)
    else:
        raise CliError(f"output must end in .npy, .csv or .json, got {path!r}")


def _load_spec(text, parse, from_dict):
    if text.endswith(".json"):
        try:
            with open(text) as fh:
                return from_dict(json.load(fh))
        except OSError as exc:
            raise CliError(f"cannot read {text}: {exc.strerror}") from None
    return parse(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="lrcore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="time every family against torch.optim, numpy, torch ops")
    b.add_argument("--steps", type=int, default=1_000_000)
    b.add_argument("--torch-steps", type=int, default=20_000)
    b.add_argument("--json", help="write the figures to this JSON file")
    b.set_defaults(func=cmd_bench)
    d = sub.add_parser("demo", help="what `make demo` runs: the bench with its defaults")
    d.add_argument("--steps", type=int, default=1_000_000)
    d.add_argument("--torch-steps", type=int, default=20_000)
    d.add_argument("--json", default=None)
    d.set_defaults(func=cmd_bench)
    t = sub.add_parser("table", help="write a schedule's table to .npy, .csv or .json")
    t.add_argument("spec", help="text form, e.g. 'cosine_annealing(T_max=1000)', or a .json file")
    t.add_argument("--steps", type=int, required=True)
    t.add_argument("--start", type=int, default=0)
    t.add_argument("--base-lr", type=float, nargs="+", default=[1.0])
    t.add_argument("--numerics", choices=["torch", "closed"], default="torch")
    t.add_argument("-o", "--output", required=True)
    t.set_defaults(func=cmd_table)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (CliError, ValueError, TypeError) as exc:
        print(f"lrcore {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
