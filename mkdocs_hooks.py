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
