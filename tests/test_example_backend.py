"""The example third-party backend registers through its own entry point and passes the suite."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO_ROOT, mnist_dir

EXAMPLE_SRC = REPO_ROOT / "examples" / "stochmem-example-backend" / "src"


def test_example_backend_registers_by_entry_point_and_conforms(tmp_path):
    # What `pip install examples/stochmem-example-backend` leaves on sys.path: the package and a dist-info with
    # its entry point. Built by hand so the test needs neither network nor an install step.
    dist_info = tmp_path / "stochmem_example_backend-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: stochmem-example-backend\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text('[stochmem.backends]\nexample = stochmem_example.plugin\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(EXAMPLE_SRC)]))
    env.pop("STOCHMEM_PLUGINS", None)
    data = mnist_dir()
    if data is not None:
        env["STOCHMEM_DATA_DIR"] = str(data)
    listing = subprocess.run([sys.executable, "-m", "stochmem.cli", "backends"], capture_output=True, text=True,
                             env=env, check=True)
    assert "example" in listing.stdout and "statistical" in listing.stdout
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", "conform", "example"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.splitlines()[-1]
    assert "passed" in summary and "failed" not in summary
