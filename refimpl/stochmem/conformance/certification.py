"""[SPEC 6.5] The certification report: per clause group, what this run certified and what it did not.

Every conformance test carries one ``groups`` marker. The plugin records which groups the backend claims,
which tests of each group were selected, and how each ended; at the end of the run the report prints one line
per group:

* ``CERTIFIED exact`` / ``CERTIFIED statistical``: claimed, at least one test ran, none failed, no known
  deviation (an xfails entry) and no test left out by ``-m`` or ``-k``;
* ``NOT CERTIFIED``: claimed, and a test failed or errored, or a known deviation was listed (named);
* ``INCOMPLETE``: claimed and nothing failed, but tests were deselected or skipped for the claim's own reasons
  (say, an optional data method not offered) so the run proved less than the whole group;
* ``NOT CLAIMED``: the backend does not implement the group; none of its tests ran.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from stochmem.backend_api import CLAUSE_GROUPS, Capabilities


def groups_of(item: pytest.Item) -> tuple[str, ...]:
    marker = item.get_closest_marker("groups")
    return tuple(marker.args) if marker else ()


@dataclass
class GroupRecord:
    """How the tests of one clause group ended in this run."""

    outcomes: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    deselected: int = 0


class Certification:
    """A pytest plugin object: collects outcomes per clause group and prints the report."""

    def __init__(self, name: str, version: str, capabilities: Capabilities) -> None:
        self.name, self.version, self.capabilities = name, version, capabilities
        self.records = {group: GroupRecord() for group in CLAUSE_GROUPS}
        self.group_of: dict[str, tuple[str, ...]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.group_of[item.nodeid] = groups_of(item)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            for group in groups_of(item):
                self.records[group].deselected += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome(report)
        if outcome is None:
            return
        for group in self.group_of.get(report.nodeid, ()):
            record = self.records[group]
            record.outcomes[outcome] += 1
            if outcome in ("failed", "xfailed"):
                record.failed.append(report.nodeid)

    def verdicts(self) -> dict[str, str]:
        """group -> its verdict line (without the group's name)."""
        lines = {}
        level = "exact" if self.capabilities.exact else "statistical"
        for group, record in self.records.items():
            ran = record.outcomes["passed"] + record.outcomes["failed"] + record.outcomes["xfailed"]
            counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(record.outcomes.items()))
            if record.deselected:
                counts += f"{', ' if counts else ''}{record.deselected} deselected"
            if group not in self.capabilities.claimed:
                lines[group] = "NOT CLAIMED: not tested"
            elif record.outcomes["failed"] or record.outcomes["xfailed"]:
                shown = ", ".join(record.failed[:3]) + (" ..." if len(record.failed) > 3 else "")
                lines[group] = f"NOT CERTIFIED ({counts}): {shown}"
            elif ran == 0:
                lines[group] = f"NOT TESTED in this run ({counts or 'no tests selected'})"
            elif record.deselected or record.outcomes["skipped"]:
                lines[group] = f"INCOMPLETE, nothing failed ({counts})"
            else:
                lines[group] = f"CERTIFIED {level} ({counts})"
        return lines

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.section("stochmem certification")
        terminalreporter.write_line(f"backend {self.name} {self.version} ({self.capabilities.describe()})")
        for group, verdict in self.verdicts().items():
            terminalreporter.write_line(f"  {group:<11} {verdict}")
            terminalreporter.write_line(f"  {'':<11} {CLAUSE_GROUPS[group]}")


def _outcome(report: pytest.TestReport) -> str | None:
    """The test's final outcome from one phase's report, or None while it is still running."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "failed"  # an xpass under strict xfail fails
    if report.when == "call":
        return report.outcome
    if report.when == "setup" and not report.passed:
        return "skipped" if report.skipped else "failed"
    if report.when == "teardown" and report.failed:
        return "failed"
    return None
