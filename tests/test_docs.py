"""Every example of the README and the documentation runs, and prints what it shows.

* ```python blocks: run in order, one namespace per page, in a temporary folder
  holding ``docs/examples/`` (a block may use what an earlier one on its page made);
* ```console blocks: each ``$ command`` runs (``lrcore ...`` in this process, other
  commands in bash with this Python's ``lrcore`` first on the PATH); the lines after
  it, up to the next ``$``, are its output (stdout, then stderr), compared exactly;
* ```sh blocks hold only the README's two set-up commands (``make demo``,
  ``make test``), which CI itself runs;
* other fences (text, c) are not examples of Python or the shell.

The reference pages generated from the declarations are checked here too (every
registered schedule on its framework's page, with its parameters); ``make test``
builds the whole site with ``mkdocs build --strict``.
"""

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(page, lang):
    return [body for kind, body in FENCE.findall(page.read_text()) if kind == lang]


def ids(page):
    return str(page.relative_to(ROOT))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "docs" / "examples", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")], ids=ids)
def test_python_examples_run(page, workdir, capsys):
    import matplotlib

    matplotlib.use("Agg")
    namespace = {"__name__": "__docs__"}
    for k, body in enumerate(blocks(page, "python")):
        try:
            exec(compile(body, f"{ids(page)}, python block {k + 1}", "exec"), namespace)
        except Exception as exc:  # the block and the error, not just the error
            raise AssertionError(f"{ids(page)}, python block {k + 1} failed:\n{body}") from exc


def _commands(body):
    """[(command, expected output lines)] of a console block."""
    out = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def _run(command, workdir):
    words = shlex.split(command)
    if words[0] == "lrcore" and not set("$|><;&`") & set(command):
        from lrcore.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(words[1:])
        return code, out.getvalue() + err.getvalue()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=env, cwd=workdir, timeout=120
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "console")], ids=ids)
def test_console_examples_print_what_they_show(page, workdir):
    import matplotlib

    matplotlib.use("Agg")
    for body in blocks(page, "console"):
        for command, expected in _commands(body):
            code, output = _run(command, workdir)
            assert code == 0, f"{ids(page)}: $ {command}\n{output}"
            got = [line.rstrip() for line in output.splitlines()]
            assert got == [line.rstrip() for line in expected], f"{ids(page)}: $ {command}"


def test_sh_blocks_are_the_two_set_up_commands():
    for page in PAGES:
        for body in blocks(page, "sh"):
            for line in body.splitlines():
                command = line.split("#")[0].strip()
                assert command in ("", "make demo", "make test"), (ids(page), line)


def test_every_schedule_is_on_its_frameworks_reference_page():
    import dataclasses

    import lrcore._docs
    from lrcore.spec import REGISTRY

    pages = lrcore._docs.reference_pages(str(ROOT / "docs" / "frameworks"))
    listed = {}
    for fw, classes in lrcore._docs.frameworks().items():
        text = pages[f"reference/{fw}.md"]
        for cls in classes:
            listed[cls.name] = fw
            section = text.split(f"## `{cls.name}` {{#{cls.name}}}")[1].split("\n## ")[0]
            for f in dataclasses.fields(cls):
                if f.init:
                    assert f"| `{f.name}` |" in section, (cls.name, f.name)
    assert sorted(listed) == sorted(REGISTRY)  # wsd_decay too
    # the allowed values are the checks' own words
    assert "| `step_size` | required | an integer >= 1 |" in pages["reference/torch.md"]
    assert "`WarmupLR`" in pages["reference/deepspeed.md"]
    assert "torch.optim.lr_scheduler.StepLR" in pages["reference/torch.md"]
    # each framework's notes are on its page
    assert "What fairseq does that a user may not expect" in pages["reference/fairseq.md"]


def test_the_speed_page_is_made_from_the_bench_json():
    import json

    import lrcore._docs

    doc = json.loads((ROOT / "docs" / "bench.json").read_text())
    text = lrcore._docs.speed_table(doc)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0][2:] for r in rows[1:]] == [r["family"] for r in doc["rows"]]
    marker = "<!-- generated from docs/bench.json (lrcore bench --json docs/bench.json) -->"
    assert marker in (ROOT / "docs" / "speed.md").read_text()
    assert marker in (ROOT / "mkdocs_hooks.py").read_text()
