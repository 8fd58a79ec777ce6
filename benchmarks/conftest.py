"""Print, per benchmark group, each variant's time as a ratio to lrcore's."""


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    groups = {}
    for bench in session.benchmarks:
        if bench.stats is None:
            continue
        per_step = bench.stats.min / bench.extra_info.get("steps", 1)
        groups.setdefault(bench.group, {})[bench.extra_info.get("variant", bench.name)] = per_step
    terminalreporter.write_sep("-", "ratios per step (variant time / lrcore torch numerics)")
    for group, variants in sorted(groups.items()):
        ref = variants.get("lrcore-torch")
        if not ref:
            continue
        cells = ", ".join(f"{k} {v / ref:.1f}x" for k, v in sorted(variants.items()))
        terminalreporter.write_line(f"{group}: {cells}")
