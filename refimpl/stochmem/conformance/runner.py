"""``stochmem conform NAME``: run the packaged conformance suite against one backend."""

from __future__ import annotations

from pathlib import Path

import pytest


def run_conformance(backend: str, xfails: str | None = None, data_dir: str | None = None,
                    extra_args: list[str] | None = None) -> int:
    """Run the suite with pytest; returns 0 when the backend conforms, 1 when a test failed, 2 when the backend
    cannot be loaded or started (pytest's usage error, said in one line), else pytest's exit code."""
    package_dir = Path(__file__).resolve().parent
    args = [
        "-p", "stochmem.conformance.plugin",
        "-c", str(package_dir / "pytest.ini"),  # the suite's own settings, whatever project it is run from
        "--rootdir", str(package_dir),
        "-p", "no:cacheprovider",
        "--stochmem-backend", backend,
        "-ra",
    ]
    if xfails:
        args += ["--stochmem-xfails", xfails]
    if data_dir:
        args += ["--stochmem-data-dir", data_dir]
    args += [*(extra_args or []), str(package_dir)]
    code = int(pytest.main(args))
    return 2 if code == pytest.ExitCode.USAGE_ERROR else code
