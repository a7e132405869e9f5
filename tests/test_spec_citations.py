"""Every public function of the reference cites a clause, and every cited clause exists in specs/."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from .conftest import REPO_ROOT

REFERENCE_MODULES = ["stochmem.philox", "stochmem.rng", "stochmem.streams", "stochmem.device",
                     "stochmem.network", "stochmem.training", "stochmem.data"]
CLAUSE = re.compile(r"\[SPEC (\d+\.\d+)(?:-(\d+\.\d+))?((?:, \d+\.\d+)*)")
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
    assert chapters == {"1", "2", "3", "4", "5", "6"}
