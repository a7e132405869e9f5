"""Sphinx configuration: MyST Markdown, furo, MathJax, autodoc, doctest, intersphinx, and sphinx-gallery
tutorials that are executed on every build (a failing example fails the build)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

import stochmem  # noqa: E402

project = "stochmem"
author = "stochmem developers"
copyright = "2026, stochmem developers"
release = stochmem.__version__
version = stochmem.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from the build itself: pages render math without network
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "tutorials/examples"]
html_theme = "furo"
html_title = f"stochmem {release}"
# Links to the Python and NumPy docs need their inventories from the network; CI and offline builds have none,
# so they are on only when asked for (STOCHMEM_DOCS_INTERSPHINX=1), and references fall back to plain text.
intersphinx_mapping = (
    {"python": ("https://docs.python.org/3", None), "numpy": ("https://numpy.org/doc/stable/", None)}
    if os.environ.get("STOCHMEM_DOCS_INTERSPHINX") else {}
)
autodoc_typehints = "description"
autodoc_member_order = "bysource"
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|NDArray|bitarray|pluggy|pytest|F64|I64|U32|Matrix|DrawFor|Json|Block|"
               r"NetworkKind|NoiseMode|Callable|Sequence|Iterator|Any|ModuleType|_pytest|collections|pathlib|os|"
               r"importlib|Path)\b.*"),
    (r"py:.*", r".*\.(Literal|Protocol)\b.*"),
    (r"py:class", r"(float|int|str|bool|object|tuple|list|dict|type)"),
]

sphinx_gallery_conf = {
    "examples_dirs": [str(DOCS / "tutorials" / "examples")],
    "gallery_dirs": [str(DOCS / "tutorials" / "generated")],
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
}

# The CLI reference is the parser's own help, regenerated on every build so it can never drift.
def _write_cli_help() -> None:
    out = DOCS / "reference" / "cli_help.txt"
    commands = [[], ["train"], ["data", "verify"], ["data", "fetch"], ["backends"], ["conform"]]
    parts = []
    for command in commands:
        result = subprocess.run([sys.executable, "-m", "stochmem.cli", *command, "--help"], capture_output=True,
                                text=True, check=True, env=dict(os.environ, COLUMNS="100"))
        parts.append(f"$ stochmem {' '.join(command)} --help\n{result.stdout}")
    out.write_text("\n".join(parts))


_write_cli_help()


# The specification, rendered with a link target before every clause: {ref}`spec-3-8` links to [SPEC 3.8].
def _write_spec_pages() -> None:
    import re

    out_dir = DOCS / "reference" / "spec"
    out_dir.mkdir(exist_ok=True)
    for source in sorted((ROOT / "specs").glob("0*.md")):
        text = source.read_text()
        text = re.sub(r"^\*\*\[SPEC (\d+)\.(\d+)\]", lambda m: f"(spec-{m[1]}-{m[2]})=\n{m[0]}", text,
                      flags=re.MULTILINE)
        (out_dir / source.name).write_text(text)


_write_spec_pages()
