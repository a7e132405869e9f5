"""Every public function of the reference cites a clause, and every cited clause exists in specs/."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from .conftest import REPO_ROOT

REFERENCE_MODULES = ["stochmem.philox", "stochmem.rng", "stochmem.streams", "stochmem.device",
                     "stochmem.network", "stochmem.training", "stochmem.data"]
CLAUSE = re.compile(r"\[SPEC (\d+\.\d+)(?:[-–](\d+\.\d+))?((?:, \d+\.\d+)*)")
EXEMPT = {"sha256_of", "find_file", "default_cache_dir", "verify_dir", "dot"}


def defined_clauses() -> set[str]:
    text = "\n".join(p.read_text() for p in (REPO_ROOT / "specs").glob("*.md"))
    return set(re.findall(r"\*\*\[SPEC (\d+\.\d+)\]", text))


def cited(doc: str) -> set[str]:
    out = set()
    for first, last, more in CLAUSE.findall(doc):
        out.add(first)
        if last:
            chapter, lo, hi = first.split(".")[0], int(first.split(".")[1]), int(last.split(".")[1])
            out.update(f"{chapter}.{k}" for k in range(lo, hi + 1))
        out.update(part.strip() for part in more.split(",") if part.strip())
    return out


@pytest.mark.parametrize("module_name", REFERENCE_MODULES)
def test_public_functions_cite_existing_clauses(module_name):
    module = importlib.import_module(module_name)
    clauses = defined_clauses()
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("_") or function.__module__ != module_name:
            continue
        doc = inspect.getdoc(function) or ""
        references = cited(doc)
        if name not in EXEMPT and not name.startswith("train") and name not in {"evaluate", "epoch_order"}:
            assert references, f"{module_name}.{name} cites no [SPEC c.n] clause"
        assert references <= clauses, f"{module_name}.{name} cites undefined clauses {references - clauses}"


def test_every_chapter_has_clauses():
    chapters = {clause.split(".")[0] for clause in defined_clauses()}
    assert chapters == {"1", "2", "3", "4", "5", "6", "7"}


def test_every_citation_in_the_docs_names_a_clause():
    """The docs link each [SPEC x.y] to its clause (docs/conf.py); a citation of a clause that does not exist
    would be a broken link, and a wrong pointer for the reader."""
    clauses = defined_clauses()
    docs = REPO_ROOT / "docs"
    pages = [p for p in docs.rglob("*.md") if "_build" not in p.parts and "spec" not in p.relative_to(docs).parts]
    pages += [*sorted((docs / "tutorials" / "examples").glob("*.py")), REPO_ROOT / "README.md"]
    unknown = {f"{page.relative_to(REPO_ROOT)}: [SPEC {clause}]" for page in pages
               for clause in cited(page.read_text()) if clause not in clauses}
    assert not unknown, f"citations of clauses that do not exist: {sorted(unknown)}"
    assert len(pages) > 20


def test_citations_become_links():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_conf_links", REPO_ROOT / "docs" / "conf.py")
    assert spec is not None
    source = (REPO_ROOT / "docs" / "conf.py").read_text()
    namespace: dict = {}
    start = source.index("_CITATION = ")
    end = source.index("def _on_source_read")
    exec("import re\n" + source[start:end], namespace)  # the link rewriting alone, without Sphinx's build steps
    link = namespace["_link_citations"]
    assert link("see [SPEC 3.8, 4.3-4.5]", True) == (
        "see [SPEC {ref}`3.8 <spec-3-8>`, {ref}`4.3 <spec-4-3>`-{ref}`4.5 <spec-4-5>`]")
    assert link("`[SPEC 3.8]` stays code", True) == "`[SPEC 3.8]` stays code"
    assert link("```\n[SPEC 1.2]\n```", True) == "```\n[SPEC 1.2]\n```"
    assert link("in rst [SPEC 1.2]", False) == "in rst [SPEC :ref:`1.2 <spec-1-2>`]"
