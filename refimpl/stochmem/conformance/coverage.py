"""Which conformance tests exercise which normative clause: the clause coverage matrix.

    python -m stochmem.conformance.coverage [--specs specs]

prints the matrix that ``docs/reference/coverage.md`` shows. A test covers a clause when its name starts with
``test_spec_X_Y`` or its source cites ``[SPEC X.Y]`` (lists ``[SPEC 3.8, 4.3]`` and ranges ``[SPEC 4.3-4.5]``
count for every clause they name). The project's tests fail when a normative clause has no test, or when the
page is stale. Chapters 6 and 7 describe conformance itself (levels, groups, the process protocol) and are
not counted; tests/test_exec_protocol.py and tests/test_c_example.py test them.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

CHECKOUT_SPECS = Path(__file__).resolve().parents[3] / "specs"
CLAUSE_HEADER = re.compile(r"^\*\*\[SPEC (\d+)\.(\d+)\]", re.MULTILINE)
CITATION = re.compile(r"\[SPEC ([0-9.,\- ]+)\]")
NOT_NORMATIVE_CHAPTERS = {6, 7}  # conformance itself, and the protocol that carries it
#: Clauses the host implements for every backend (no backend method computes them), with the project tests that
#: cover them instead.
HOST_CLAUSES = {
    "2.6": "the host's training loop draws the data order (stochmem.training); tests/test_philox_rng.py, "
           "tests/test_vectors.py (PermutationTest)",
    "5.1": "the host reads IDX files (stochmem.data); tests/test_data.py, tests/test_own_data.py",
    "5.2": "the host verifies the MNIST files (stochmem.data); tests/test_data.py",
}


def normative_clauses(specs: Path = CHECKOUT_SPECS) -> list[str]:
    """Every clause header ``**[SPEC X.Y]`` of the specification's chapters, in order (chapter 6 left out)."""
    found = []
    for path in sorted(specs.glob("[0-9][0-9]-*.md")):
        for chapter, number in CLAUSE_HEADER.findall(path.read_text(encoding="utf-8")):
            if int(chapter) not in NOT_NORMATIVE_CHAPTERS:
                found.append(f"{int(chapter)}.{int(number)}")
    return found


def cited(text: str) -> set[str]:
    """The clauses a text cites: ``[SPEC 3.8]``, ``[SPEC 3.8, 4.3]``, ``[SPEC 4.3-4.5]``, ``[SPEC 3.5-3.8]``."""
    clauses: set[str] = set()
    for group in CITATION.findall(text):
        for item in group.split(","):
            item = item.strip()
            if "-" in item:
                first, last = (part.strip() for part in item.split("-", 1))
                chapter, start = (int(v) for v in first.split("."))
                end = int(last.split(".")[-1])
                clauses.update(f"{chapter}.{n}" for n in range(start, end + 1))
            elif re.fullmatch(r"\d+\.\d+", item):
                clauses.add(item)
    return clauses


def conformance_modules() -> list[ModuleType]:
    import importlib

    folder = Path(__file__).resolve().parent
    return [importlib.import_module(f"stochmem.conformance.{path.stem}") for path in sorted(folder.glob("test_*.py"))]


def clause_matrix(modules: Iterable[ModuleType]) -> dict[str, list[str]]:
    """clause -> the conformance tests (``module::function``) that cover it."""
    matrix: dict[str, list[str]] = {}
    for module in modules:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_") or function.__module__ != module.__name__:
                continue
            clauses = cited(inspect.getsource(function))
            named = re.match(r"test_spec_(\d+)_(\d+)", name)
            if named:
                clauses.add(f"{named.group(1)}.{named.group(2)}")
            for clause in clauses:
                matrix.setdefault(clause, []).append(f"{module.__name__.rsplit('.', 1)[-1]}.py::{name}")
    return matrix


def table(specs: Path = CHECKOUT_SPECS) -> str:
    matrix = clause_matrix(conformance_modules())
    lines = ["| clause | conformance tests |", "| --- | --- |"]
    for clause in normative_clauses(specs):
        tests = sorted(matrix.get(clause, []))
        cell = "<br>".join(f"`{t}`" for t in tests) if tests else "**none**"
        if clause in HOST_CLAUSES:
            cell = f"host, not a backend: {HOST_CLAUSES[clause]}" + (f"<br>{cell}" if tests else "")
        lines.append(f"| [SPEC {clause}] | {cell} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stochmem.conformance.coverage",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=Path, default=CHECKOUT_SPECS, help="the specification's folder")
    print(table(parser.parse_args(argv).specs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
