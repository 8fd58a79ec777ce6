"""Print, per benchmark group, each variant's time per step as a ratio to the group's
baseline (the benchmark whose extra_info has ``baseline=True``).

tests/ is on the path for its reference helpers (timm_ref)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    groups, baselines = {}, {}
    for bench in session.benchmarks:
        if bench.stats is None:
            continue
        info = bench.extra_info
        per_step = bench.stats.min / info.get("steps", 1)
        name = info.get("variant", bench.name)
        groups.setdefault(bench.group, {})[name] = per_step
        if info.get("baseline"):
            baselines[bench.group] = name
    terminalreporter.write_sep("-", "time per step, as a multiple of each group's baseline")
    for group, variants in sorted(groups.items()):
        ref = variants.get(baselines.get(group))
        if not ref:
            continue
        cells = ", ".join(
            f"{k} {v * 1e9:.0f} ns/step ({v / ref:.2f}x)" for k, v in sorted(variants.items())
        )
        terminalreporter.write_line(f"{group} [baseline {baselines[group]}]: {cells}")
