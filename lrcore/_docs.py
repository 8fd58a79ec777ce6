"""The documentation's reference pages, generated from the family declarations.

One page per framework: every schedule the framework's families register, with its
signature, its parameters (default, and what is allowed, as the spec's own checks
word it), its docstring (the formula and what it reproduces), the framework's own
names for it (``Family.names``), the gallery's figures that draw it, then the
framework's notes (``docs/frameworks/<framework>.md``: what it does that users may not
expect). The mkdocs hook (``docs_hooks.py``) adds these pages and the gallery's figures
to the site without writing them into the tree; the tests read them too.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import re

from .family import FRAMEWORKS

#: the frameworks in the order the site lists them; compositions last
ORDER = (*FRAMEWORKS, "composition")

TITLES = {
    "torch": "torch.optim.lr_scheduler",
    "transformers": "transformers",
    "timm": "timm",
    "deepspeed": "DeepSpeed",
    "megatron": "Megatron-Core",
    "fairseq": "fairseq",
    "optax": "optax",
    "keras": "Keras 3",
    "composition": "Compositions",
}

#: values tried for a required parameter, to build an instance whose checks can be probed
_TRIALS = (100, 0.1, (10, 20), ((10, 0.5),), "linear")
#: values that every check refuses, each with its own words for what is allowed
_PROBES = (float("nan"), -(10**9), "?", (-1,))


def frameworks() -> dict[str, list[type]]:
    """framework -> its registered spec classes (by name), from the declarations."""
    from . import family
    from .spec import REGISTRY

    known = {f.framework for f in family.declared()}
    out: dict[str, list[type]] = {}
    for _, cls in sorted(REGISTRY.items()):
        fam = getattr(cls, "family", None)
        module = cls.__module__.rsplit(".", 1)[-1]
        where = fam.framework if fam else module if module in known else "composition"
        out.setdefault(where, []).append(cls)
    return {k: out[k] for k in [*ORDER, *sorted(set(out) - set(ORDER))] if k in out}


def _sampled(cls):
    """An instance of ``cls`` among the declarations' sample specs (nested ones too)."""
    from . import family
    from .spec import Spec

    def walk(value):
        if isinstance(value, Spec):
            yield value
            for f in dataclasses.fields(value):
                yield from walk(getattr(value, f.name))
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from walk(item)

    for spec in family.samples(1000).values():
        for found in walk(spec):
            if type(found) is cls:
                return found
    return None


def _instance(cls):
    """A valid spec of ``cls``: a declaration's sample, else one with its required
    parameters from :data:`_TRIALS`; None when neither."""
    sampled = _sampled(cls)
    if sampled is not None:
        return sampled
    required = [
        f
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    values = {}
    for f in required:
        for trial in _TRIALS:
            try:
                cls(**{**{g.name: _TRIALS[0] for g in required}, **values, f.name: trial})
            except Exception as exc:  # noqa: BLE001 - a refusal says the trial is wrong
                if f"{f.name}=" in str(exc) or f.name in str(exc).split(":")[-1]:
                    continue
            values[f.name] = trial
            break
        else:
            return None
    try:
        return cls(**values)
    except Exception:  # noqa: BLE001
        return None


def allowed(cls) -> dict[str, str]:
    """parameter -> what the spec's checks allow, in their words ("an integer >= 1"),
    found by giving a valid instance values every check refuses."""
    spec = _instance(cls)
    if spec is None:
        return {}
    out = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        for probe in _PROBES:
            try:
                dataclasses.replace(spec, **{f.name: probe})
            except Exception as exc:  # noqa: BLE001
                m = re.search(
                    rf"\b{re.escape(f.name)} must be (.+?), got {re.escape(f.name)}=", str(exc)
                )
                if m:
                    out[f.name] = m.group(1)
                    break
    return out


def _default(f) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if isinstance(value, float) and math.isfinite(value) and value != int(value):
        return f"`{value!r}`"
    return f"`{value!r}`"


def signature(cls) -> str:
    parts = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        d = _default(f)
        parts.append(f.name if d == "required" else f"{f.name}={d.strip('`')}")
    return f"{cls.name}({', '.join(parts)})"


def _doc(cls) -> str:
    doc = inspect.getdoc(cls) or ""
    if doc.startswith(f"{cls.__name__}(") or not doc:  # dataclass's generated one
        return ""
    return doc.replace("``", "`")


def _figures() -> tuple[dict, dict]:
    """The gallery's figures: ({family code: [(file, title)]} of those drawing a
    family, {framework: [(file, title)]} of those drawing none: ReduceLROnPlateau's)."""
    from . import family
    from .plotting import _families_of, figures

    by_family: dict[int, list] = {}
    other: dict[str, list] = {}
    for name, title, curves, _, _ in figures():
        codes = set()
        for _, spec, _ in curves:
            if spec is None:
                other.setdefault("torch", []).append((name, title))
            else:
                codes |= _families_of(spec)
        for code in codes:
            by_family.setdefault(code, []).append((name, title))
    del family
    return by_family, other


def _own_names(cls, fam) -> list[str]:
    """The framework's own names for ``cls``: ``Family.names``, or torch's class."""
    names = [n for n, c in fam.names.items() if c is cls]
    torch_name = getattr(fam.reference, "class_name", None)
    if not names and torch_name and len(fam.specs) == 1:
        names = [torch_name]
    return names


def reference_pages(notes_dir: str | None = None) -> dict[str, str]:
    """``reference/<framework>.md`` -> its Markdown; ``notes_dir`` holds
    ``<framework>.md`` notes appended to each page (absent ones are skipped)."""
    by_family, other = _figures()
    pages = {}
    for fw, classes in frameworks().items():
        lines = [f"# {TITLES.get(fw, fw)}", ""]
        lines += [
            "Generated from the family declarations (`lrcore/schedules/`): every schedule "
            "below is a spec name for `lrcore.table`, `lrcore.parse` and the command line "
            "(`lrcore families " + fw + "` lists them too).",
            "",
        ]
        for name, title in other.get(fw, []):
            lines += [f"![{title}](../img/{name})", ""]
        lines += ["| schedule | signature |", "|---|---|"]
        for cls in classes:
            lines.append(f"| [`{cls.name}`](#{cls.name}) | `{signature(cls)}` |")
        lines.append("")
        for cls in classes:
            lines += [f"## `{cls.name}` {{#{cls.name}}}", "", f"```text\n{signature(cls)}\n```", ""]
            fam = getattr(cls, "family", None)
            own = _own_names(cls, fam) if fam else []
            if own:
                lines += [
                    f"{TITLES.get(fw, fw)}'s own name: " + ", ".join(f"`{n}`" for n in own),
                    "",
                ]
            doc = _doc(cls)
            if doc:
                lines += [doc, ""]
            rules = allowed(cls)
            fields = [f for f in dataclasses.fields(cls) if f.init]
            if fields:
                lines += ["| parameter | default | allowed |", "|---|---|---|"]
                for f in fields:
                    rule = rules.get(f.name, "see above").replace("|", "\\|")
                    default = _default(f).replace("|", "\\|")
                    lines.append(f"| `{f.name}` | {default} | {rule} |")
                lines.append("")
            for name, title in by_family.get(fam.code, []) if fam else []:
                lines += [f"![{title}](../img/{name})", ""]
        if notes_dir is not None:
            path = os.path.join(notes_dir, f"{fw}.md")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    lines += ["## What the framework does that you may not expect", "", fh.read()]
        pages[f"reference/{fw}.md"] = "\n".join(lines) + "\n"
    return pages


def speed_table(doc: dict) -> str:
    """The Markdown table of a ``lrcore bench --json`` file: every family's 10^6-step
    tables, torch.optim's step, the ratio, the ULP distance and the memory floor."""

    def f(value, digits):
        return "–" if value is None else f"{value:,.{digits}f}"

    lines = [
        f"`lrcore bench` on {doc['machine']}, {doc['date']}: ms for a {doc['steps']:,}-step "
        f"table; torch.optim stepped {doc['torch_steps']:,} times per family, per step; "
        "the memory floor is allocating and filling the same float64 table, measured "
        "beside each row.",
        "",
        "| family | torch numerics ms | closed ms | torch.optim µs/step | × vs torch.optim "
        "| ULP | closed × floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        lines.append(
            f"| {r['family']} | {f(r['lrcore_torch_ms'], 2)} | {f(r['lrcore_closed_ms'], 2)} "
            f"| {f(r['torch_step_us'], 2)} | {f(r['speedup_vs_torch'], 0)} "
            f"| {'–' if r['torch_parity_max_ulp'] is None else r['torch_parity_max_ulp']} "
            f"| {f(r['closed_x_floor'], 1)} |"
        )
    return "\n".join(lines) + "\n"


def export_matrix() -> str:
    """Which schedules ``lrcore convert --to`` writes exactly in which target, from
    trying each schedule's instance (a declaration's sample, or one built from its
    defaults) in every target; where a target writes the nearest expression instead,
    its largest relative difference measured over the schedule's length (1,000 steps
    where it has none)."""
    from .export import NEAREST, TARGETS, NotExact, to_framework

    lines = [
        "| schedule | " + " | ".join(TARGETS) + " |",
        "|---|" + "---|" * len(TARGETS),
    ]
    for _, classes in frameworks().items():
        for cls in classes:
            spec = _instance(cls)
            if spec is None:
                continue
            cells = []
            for target in TARGETS:
                try:
                    to_framework(spec, target, exact=True)
                    cells.append("exact")
                except NotExact:
                    if target not in NEAREST:
                        cells.append("–")
                        continue
                    steps = 1000 if spec.last_step() is None else None
                    try:
                        near = to_framework(spec, target, steps=steps)
                    except ValueError:  # (a user function's table: not in the docs)
                        cells.append("–")
                        continue
                    d = near.max_rel_diff
                    cells.append(f"≈ {d:.0e}" if d else "≈ 0")
            lines.append(f"| `{cls.name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
