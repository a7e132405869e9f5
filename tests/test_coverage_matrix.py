"""Every normative clause has a conformance test, and the coverage page shows the current matrix."""

from __future__ import annotations

from stochmem.conformance.coverage import (
    HOST_CLAUSES,
    cited,
    clause_matrix,
    conformance_modules,
    normative_clauses,
    table,
)

from .conftest import REPO_ROOT


def test_every_normative_clause_has_a_conformance_test():
    clauses = normative_clauses(REPO_ROOT / "specs")
    assert len(clauses) >= 25, "the clause headers of specs/ were not found"
    matrix = clause_matrix(conformance_modules())
    missing = [c for c in clauses if c not in matrix and c not in HOST_CLAUSES]
    assert not missing, f"normative clauses without a conformance test: {missing}"


def test_citations_expand_lists_and_ranges():
    assert cited("[SPEC 3.8, 4.3] x [SPEC 4.3-4.5] y [SPEC 1.2]") == {"3.8", "4.3", "4.4", "4.5", "1.2"}
    assert cited("no citation") == set()


def test_the_coverage_page_is_current():
    page = (REPO_ROOT / "docs" / "reference" / "coverage.md").read_text()
    assert table(REPO_ROOT / "specs") in page, "regenerate: python -m stochmem.conformance.coverage"
