"""The published mutation-testing results are complete: every surviving mutant has a verdict, and the docs page
is the one mutation/report.py renders from them."""

from __future__ import annotations

import importlib.util

from .conftest import REPO_ROOT


def report_module():
    spec = importlib.util.spec_from_file_location("mutation_report", REPO_ROOT / "mutation" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_survivor_has_a_verdict_and_the_page_is_current():
    report = report_module()
    results, verdicts = report.load()
    assert report.problems(results, verdicts) == []
    assert report.main(["--check"]) == 0, "regenerate: python mutation/report.py"


def test_a_survivor_without_a_verdict_is_reported():
    report = report_module()
    results, verdicts = report.load()
    name = next(iter(verdicts))
    assert report.problems(results, {k: v for k, v in verdicts.items() if k != name}) == [
        f"{name}: survived ({results[name]}) without a verdict"]
