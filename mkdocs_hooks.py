"""mkdocs hook: the generated parts of the site (lrcore._docs), added as files in
memory, never written into docs/: one reference page per framework and the gallery's
figures (img/)."""

import os
import tempfile

from mkdocs.structure.files import File

import lrcore._docs
import lrcore.plotting


def on_files(files, config):
    docs = config["docs_dir"]
    pages = lrcore._docs.reference_pages(os.path.join(docs, "frameworks"))
    for path, text in pages.items():
        files.append(File.generated(config, path, content=text))
    with tempfile.TemporaryDirectory() as folder:
        for path in lrcore.plotting.gallery(folder):
            with open(path, "rb") as fh:
                files.append(
                    File.generated(config, f"img/{os.path.basename(path)}", content=fh.read())
                )
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "moving.md":
        marker = "<!-- generated: lrcore._docs.export_matrix() -->"
        markdown = markdown.replace(marker, lrcore._docs.export_matrix())
    if page.file.src_uri == "speed.md":
        import json

        marker = "<!-- generated from docs/bench.json (lrcore bench --json docs/bench.json) -->"
        with open(os.path.join(config["docs_dir"], "bench.json"), encoding="utf-8") as fh:
            markdown = markdown.replace(marker, lrcore._docs.speed_table(json.load(fh)))
    return markdown
