"""[SPEC 6.5] The certification report: per clause group, what this run certified and what it did not.

Every conformance test carries one ``groups`` marker. The plugin records which groups the backend claims,
which tests of each group were selected, and how each ended; at the end of the run the report prints one line
per group:

* ``CERTIFIED exact`` / ``CERTIFIED statistical``: claimed, and every test of the group that applies to the
  claims ran and passed: none failed, none was listed as a known deviation (an xfails entry), none was left
  out by ``-m`` or ``-k``, skipped inside the test (an optional method not offered) or not reached (``-x``, an
  interrupt). Tests that do not apply (the exact tier for a statistical backend, a kind it does not
  implement) are not counted;
* ``NOT CERTIFIED``: claimed, and a test failed or errored, or a known deviation was listed (named);
* ``INCOMPLETE``: claimed and nothing failed, but some tests of the group did not run, so the run proved less
  than the whole group;
* ``NOT TESTED``: claimed, but no test of it passed in this run;
* ``NOT CLAIMED``: the backend does not implement the group; none of its tests ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from stochmem.backend_api import CLAUSE_GROUPS, Capabilities


def groups_of(item: pytest.Item) -> tuple[str, ...]:
    marker = item.get_closest_marker("groups")
    return tuple(marker.args) if marker else ()


def not_applicable(item: pytest.Item, capabilities: Capabilities, name: str) -> str | None:
    """Why a test does not apply to a backend's claims (its skip reason), or None when it applies: a group the
    backend does not claim, the exact tier for a statistical backend, a network kind it does not implement."""
    missing = [g for g in groups_of(item) if g not in capabilities.claimed]
    if missing:
        return f"{name} does not claim the {', '.join(missing)} clause group"
    if item.get_closest_marker("exact") and not capabilities.exact:
        return f"{name} does not claim exact conformance"
    kinds = item.get_closest_marker("kinds")
    if kinds and not set(kinds.args) <= capabilities.kinds:
        return f"{name} does not implement {kinds.args}"
    return None


@dataclass
class GroupRecord:
    """The tests of one clause group in this run: those selected that apply, and how each ended."""

    selected: set[str] = field(default_factory=set)
    outcomes: dict[str, str] = field(default_factory=dict)  #: node id -> passed, failed, xfailed, skipped
    deselected: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


class Certification:
    """A pytest plugin object: collects outcomes per clause group and prints the report."""

    def __init__(self, name: str, version: str, capabilities: Capabilities) -> None:
        self.name, self.version, self.capabilities = name, version, capabilities
        self.records = {group: GroupRecord() for group in CLAUSE_GROUPS}
        self.group_of: dict[str, tuple[str, ...]] = {}
        self.stopped_early = False

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            for group in groups_of(item):
                self.records[group].deselected += 1

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The selected tests, once -k and -m have deselected theirs; those that do not apply are not counted."""
        for item in session.items:
            self.group_of[item.nodeid] = groups_of(item)
            if not_applicable(item, self.capabilities, self.name) is None:
                for group in groups_of(item):
                    self.records[group].selected.add(item.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome(report)
        if outcome is None:
            return
        for group in self.group_of.get(report.nodeid, ()):
            record = self.records[group]
            if outcome == "skipped" and f"{self.name} does not implement" in str(report.longrepr):
                record.selected.discard(report.nodeid)  # a parametrized kind the backend does not implement
                continue
            if report.nodeid in record.selected and record.outcomes.get(report.nodeid) != "failed":
                record.outcomes[report.nodeid] = outcome  # a teardown failure after a pass stays a failure

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.stopped_early = bool(session.shouldstop or session.shouldfail) or \
            exitstatus == pytest.ExitCode.INTERRUPTED

    def verdicts(self) -> dict[str, str]:
        """group -> its verdict line (without the group's name)."""
        lines = {}
        level = "exact" if self.capabilities.exact else "statistical"
        for group, record in self.records.items():
            not_run = len(record.selected) - len(record.outcomes)
            parts = [f"{record.count(o)} {o}" for o in ("passed", "failed", "xfailed", "skipped") if record.count(o)]
            parts += [f"{not_run} not run"] if not_run else []
            parts += [f"{record.deselected} deselected"] if record.deselected else []
            counts = ", ".join(parts)
            failed = sorted(n for n, o in record.outcomes.items() if o in ("failed", "xfailed"))
            if group not in self.capabilities.claimed:
                lines[group] = "NOT CLAIMED: not tested"
            elif failed:
                shown = ", ".join(failed[:3]) + (" ..." if len(failed) > 3 else "")
                lines[group] = f"NOT CERTIFIED ({counts}): {shown}"
            elif not record.count("passed"):
                lines[group] = f"NOT TESTED in this run ({counts or 'no tests selected'})"
            elif not_run or record.deselected or record.count("skipped") or self.stopped_early:
                lines[group] = f"INCOMPLETE, nothing failed ({counts}{', run stopped early' * self.stopped_early})"
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
