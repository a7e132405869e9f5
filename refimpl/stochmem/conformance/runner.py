"""``stochmem conform NAME``: run the packaged conformance suite against one backend."""

from __future__ import annotations

from pathlib import Path

import pytest


def run_conformance(backend: str, xfails: str | None = None, data_dir: str | None = None,
                    extra_args: list[str] | None = None) -> int:
    """Run the suite with pytest; returns pytest's exit code (0 when the backend conforms)."""
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
    return int(pytest.main(args))
