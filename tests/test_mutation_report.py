"""The published mutation-testing results are complete: every surviving mutant has a verdict, and the docs page
is the one mutation/report.py renders from them."""

from __future__ import annotations

from .conftest import load_script


def report_module():
    return load_script("mutation/report.py", "mutation_report")


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
