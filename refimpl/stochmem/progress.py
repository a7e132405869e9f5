"""One live view of a reproduction's runs: queued, running (epoch and last test accuracy), done or failed.

On a terminal the view is a ``rich`` table redrawn in place (rich: a well-kept library for exactly this, already
what ``pip`` itself uses); anywhere else (a log file, CI, a test) each event is a line of text, the run's name
first, so that the log of a cluster run reads like a local one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any


@dataclass
class RunState:
    """What the view knows of one run."""

    state: str = "queued"
    epoch: int = 0
    epochs: int = 0
    accuracy: float | None = None
    note: str = ""


class RunBoard:
    """The view of ``runs`` (their names): call :meth:`event` with each progress event and :meth:`finished` when a
    run ends; use as a context manager (the live table is drawn while inside)."""

    def __init__(self, runs: Sequence[str], say: Callable[[str], None], live: bool) -> None:
        self.runs = {name: RunState() for name in runs}
        self.say = say
        self.lock = threading.Condition()
        self.last_seen: set[str] = set()
        self.live: Any = None
        if live:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self.table(), console=Console(), refresh_per_second=4, transient=False)

    def __enter__(self) -> RunBoard:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.live is not None:
            self.live.update(self.table())
            self.live.__exit__(kind, error, trace)

    def event(self, payload: dict[str, Any]) -> None:
        """A run's progress event: ``{"run": name, "text": line}``, or ``epoch``, ``epochs`` and ``accuracy``
        after each epoch, or ``last`` when the run has nothing more to say."""
        name = payload.get("run", "?")
        with self.lock:
            if name not in self.runs:  # not one of this board's runs
                return
            if payload.get("last"):
                self.last_seen.add(name)
                self.lock.notify_all()
                return
            run = self.runs[name]
            if run.state == "queued":
                run.state = "running"
            if "epoch" in payload:
                run.epoch, run.epochs, run.accuracy = payload["epoch"], payload["epochs"], payload["accuracy"]
            if "text" in payload:
                run.note = payload["text"]
            self.redraw(f"{name}: {payload['text']}" if "text" in payload else None)

    def wait_for_last_events(self, names: Sequence[str], timeout: float = 30.0) -> None:
        """Wait until every run of ``names`` has sent its last event (events travel apart from results)."""
        with self.lock:
            self.lock.wait_for(lambda: self.last_seen.issuperset(names), timeout)

    def finished(self, name: str, failure: str | None = None) -> None:
        with self.lock:
            run = self.runs.setdefault(name, RunState())
            run.state = "failed" if failure else "done"
            if failure:
                run.note = failure
            self.redraw(f"{name}: FAILED: {failure}" if failure else None)

    def redraw(self, line: str | None) -> None:
        if self.live is not None:
            self.live.update(self.table())
        elif line is not None:
            self.say(line)

    def counts(self) -> dict[str, int]:
        states = [run.state for run in self.runs.values()]
        return {state: states.count(state) for state in ("done", "running", "queued", "failed")}

    def table(self) -> Any:
        from rich.table import Table

        counts = self.counts()
        table = Table(title=", ".join(f"{n} {state}" for state, n in counts.items() if n), title_justify="left")
        for column in ("run", "state", "epoch", "test acc. (%)", "last message"):
            table.add_column(column, overflow="fold")
        for name, run in self.runs.items():
            epoch = f"{run.epoch}/{run.epochs}" if run.epochs else ""
            accuracy = f"{100 * run.accuracy:.2f}" if run.accuracy is not None else ""
            table.add_row(name, run.state, epoch, accuracy, run.note[-70:])
        return table
