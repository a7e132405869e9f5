"""The live view of a reproduction: states, epochs and accuracies per run; plain lines where there is no terminal."""

from __future__ import annotations

from rich.console import Console

from stochmem.progress import RunBoard


def test_events_move_runs_from_queued_to_running_to_done_and_print_lines_without_a_terminal():
    lines: list[str] = []
    board = RunBoard(["fig4/a", "fig4/b", "fig4/c"], lines.append, live=False)
    with board:
        board.event({"run": "fig4/a", "text": "epoch 1/3: ..."})
        board.event({"run": "fig4/a", "epoch": 1, "epochs": 3, "accuracy": 0.9123})
        board.event({"run": "fig4/b", "text": "started"})
        board.finished("fig4/b")
        board.finished("fig4/c", "disk full")
        board.event({"run": "fig4/a", "last": True})
        board.wait_for_last_events(["fig4/a"], timeout=1)
    assert lines == ["fig4/a: epoch 1/3: ...", "fig4/b: started", "fig4/c: FAILED: disk full"]
    assert board.counts() == {"done": 1, "running": 1, "queued": 0, "failed": 1}
    assert board.last_seen == {"fig4/a"}
    console = Console(width=120, record=True)
    console.print(board.table())
    text = console.export_text()
    assert "1 done, 1 running, 1 failed" in text
    assert "fig4/a" in text and "1/3" in text and "91.23" in text and "disk full" in text
