"""CI runs README's commands verbatim: the quick start and the test command, in README's order."""

from __future__ import annotations

import re

from .conftest import REPO_ROOT


def quick_start_commands() -> list[str]:
    """The shell commands of README's "Quick start" section, in order."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_readmes_commands_verbatim_and_in_order():
    commands = quick_start_commands()
    assert len(commands) == 2, f"README's quick start should hold two commands (install+run, install+test): {commands}"
    ci = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()]
    positions = [ci.index(command) for command in commands if command in ci]
    assert len(positions) == 2, f".ci/run must run README's commands verbatim: {commands}"
    assert positions == sorted(positions), ".ci/run must run them in README's order"
    assert ci.count(commands[1]) == 2, ".ci/run runs the test command twice: after the quick start, and alone"
