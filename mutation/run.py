"""Mutation testing of the NumPy backend, with the conformance suite as the oracle.

    python mutation/run.py [--workdir DIR] [--max-children N]

mutmut (3.x) mutates a package that sits in ``.``, ``src/`` or ``source/`` of the folder it runs in; the backend
lives in ``backends/numpy/``. So this script stages a small project in ``--workdir``: the backend's sources
under ``src/stochmem_numpy``, and a ``tests/`` folder that collects the packaged conformance suite's exact and
statistical tiers against the ``numpy`` backend (the end-to-end tier is left out: it takes minutes and every bug
it could find is found earlier by the exact tier, which compares each step bit for bit). The staged copy shadows
the installed package on ``sys.path``, so the entry point ``stochmem.backends`` loads the mutants.

It then runs ``mutmut run`` there and writes ``mutation/results.json`` (every mutant's status) from
``mutmut results``. The score and the verdict on every survivor are published in
``docs/reference/mutation.md``; ``mutation/verdicts.toml`` holds the verdicts, and
``python mutation/report.py`` checks that every survivor has one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "backends" / "numpy" / "stochmem_numpy"

PYPROJECT = """\
[tool.mutmut]
paths_to_mutate = ["src/stochmem_numpy/"]
tests_dir = ["tests/"]
# plugin.py only registers the backend with pluggy: a mutant there fails registration, not the arithmetic.
do_not_mutate = ["src/stochmem_numpy/plugin.py", "src/stochmem_numpy/__init__.py"]
pytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cacheprovider", "-m", "exact or statistical", "-x", "-q"]
"""

CONFTEST = """\
import os
import resource

# A mutant that sizes an array from a mutated count can ask for tens of GiB; cap each test process so such a
# mutant dies of MemoryError (killed) instead of taking the machine down.
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))

os.environ["STOCHMEM_BACKEND"] = "numpy"  # read by the conformance plugin's option defaults
pytest_plugins = ["stochmem.conformance.plugin"]


def pytest_configure(config):
    config.addinivalue_line("markers", "end_to_end: [SPEC 6.3] (not run as the oracle)")
"""

def oracle_source() -> str:
    """A test module that collects every module of the packaged conformance suite (the tiers are chosen by -m)."""
    import stochmem.conformance

    folder = Path(stochmem.conformance.__file__).resolve().parent
    lines = ['"""The packaged conformance suite, collected as this project\'s tests."""', ""]
    lines += [f"from stochmem.conformance.{path.stem} import *  # noqa: F403"
              for path in sorted(folder.glob("test_*.py"))]
    return "\n".join(lines) + "\n"


def stage(workdir: Path) -> None:
    """Write the staged project: the backend's sources in src/, the oracle in tests/."""
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(PACKAGE, workdir / "src" / "stochmem_numpy", ignore=shutil.ignore_patterns("__pycache__"))
    (workdir / "pyproject.toml").write_text(PYPROJECT)
    (workdir / "tests").mkdir()
    (workdir / "tests" / "conftest.py").write_text(CONFTEST)
    (workdir / "tests" / "test_oracle.py").write_text(oracle_source())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "stochmem-mutation")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    stage(args.workdir)
    mutmut = [sys.executable, "-m", "mutmut"]
    env = dict(os.environ, STOCHMEM_THREADS="1")
    subprocess.run([*mutmut, "run", "--max-children", str(args.max_children)], cwd=args.workdir, env=env,
                   check=False)
    listing = subprocess.run([*mutmut, "results", "--all", "true"], cwd=args.workdir, env=env, text=True,
                             capture_output=True, check=True).stdout
    results = {}
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            results[name] = status
    out = REPO / "mutation" / "results.json"
    out.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")
    print(f"wrote {out}: {len(results)} mutants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
