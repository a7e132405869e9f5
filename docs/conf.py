"""Sphinx configuration: MyST Markdown, furo, MathJax, autodoc, doctest, intersphinx, and sphinx-gallery
tutorials that are executed on every build (a failing example fails the build)."""

from __future__ import annotations

import os
import re
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


#: The specification's formulas written in plain text (specs/ is read as plain text too), and their rendering.
_SPEC_FORMULAS = {
    "softmax p_j = e^{z_j − max z} / Σ_k e^{z_k − max z}":
        r"softmax $p_j = e^{z_j - \max z} / \sum_k e^{z_k - \max z}$",
    "s_{l+1}": "$s_{l+1}$",
    "Σ_{k<n} (1 + σ·ε_k)": r"$\sum_{k<n} (1 + \sigma \varepsilon_k)$",
}


# The specification, rendered with a link target before every clause: {ref}`spec-3-8` links to [SPEC 3.8].
def _write_spec_pages() -> None:
    import re

    out_dir = DOCS / "reference" / "spec"
    out_dir.mkdir(exist_ok=True)
    for source in sorted((ROOT / "specs").glob("0*.md")):
        text = source.read_text()
        text = re.sub(r"^\*\*\[SPEC (\d+)\.(\d+)\]", lambda m: f"(spec-{m[1]}-{m[2]})=\n{m[0]}", text,
                      flags=re.MULTILINE)
        text = re.sub(r"\[3\]", "[{ref}`3 <gokmen-vlasov-2016>`]", text)  # the paper's ref. [3], in the bibliography
        for plain, math in _SPEC_FORMULAS.items():
            text = text.replace(plain, math)
        raw = [m for m in re.finditer(r"[A-Za-z)Σ][_^]\{", text) if text[:m.start()].count("$") % 2 == 0]
        if raw:  # a formula the table below does not know would render as raw text with braces
            line = text[:raw[0].start()].count("\n") + 1
            raise RuntimeError(f"specs/{source.name}:{line}: a formula outside $...$: add it to _SPEC_FORMULAS")
        (out_dir / source.name).write_text(text)
    readme = (ROOT / "specs" / "README.md").read_text()  # conventions, versioning, the vectors: rendered too
    readme = re.sub(r"\]\((0[1-7]-[a-z]+)\.md\)", r"](\1)", readme)  # chapter links point at the rendered pages
    (out_dir / "about.md").write_text(readme.replace("# The stochmem specification", "# About the specification", 1))


_write_spec_pages()


# Every [SPEC x.y] citation in the docs becomes a link to its clause (lists and ranges link each number). Lines
# in code fences and text in backticks are left alone; the spec pages themselves only carry the targets.
_CITATION = re.compile(r"\[SPEC ([0-9][0-9.,\-– ]*[0-9])\]")


def _link_numbers(body: str, role: str) -> str:
    def link(number: str) -> str:
        chapter, clause = number.split(".")
        return role.format(text=number, target=f"spec-{chapter}-{clause}")

    parts = re.split(r"(\s*,\s*|[-–])", body)
    return "".join(part if re.fullmatch(r"\s*,\s*|[-–]", part) or "." not in part else link(part) for part in parts)


def _link_citations(text: str, markdown: bool) -> str:
    role = "{{ref}}`{text} <{target}>`" if markdown else ":ref:`{text} <{target}>`"
    out, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced or (line.startswith(("    ", ".. ")) and not markdown):
            out.append(line)
            continue
        pieces = line.split("`")
        for k in range(0, len(pieces), 2):  # outside inline code only
            pieces[k] = _CITATION.sub(lambda m: f"[SPEC {_link_numbers(m[1], role)}]", pieces[k])
        out.append("`".join(pieces))
    return "\n".join(out)


def _on_source_read(app, docname, source):
    if docname.startswith("reference/spec/") or docname.startswith("reference/coverage"):
        return
    markdown = app.env.doc2path(docname).suffix == ".md"
    source[0] = _link_citations(source[0], markdown)


def setup(app):
    app.connect("source-read", _on_source_read)
