"""What a newcomer meets first: the fastest exact backend by default, runs that remember their data, an interruption
that says how to resume, help that shows each default once, threads that share the CPUs, and a numba cache that
never writes into the installed package."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stochmem import cli
from stochmem.backend_api import THREADS_ENV, WORKERS_ENV
from stochmem.plugins import AUTO_PREFERENCE, default_host, resolve_backend_name
from stochmem.runs import RunSpec

from .conftest import REPO_ROOT
from .test_own_data import SIDE, bars

TINY = ["train", "--kind", "stochastic", "--sizes", f"{SIDE * SIDE}-4-3", "--train-size", "30", "--test-size", "20",
        "--data", "idx", "--quiet"]


def write_bars(folder: Path, seed: int) -> Path:
    from stochmem.data import write_idx_split

    write_idx_split(folder, "train", *bars(60, seed), SIDE, SIDE)
    write_idx_split(folder, "test", *bars(30, seed + 1), SIDE, SIDE)
    return folder


def test_auto_backend_is_the_fastest_installed_exact_one():
    entries = default_host().registry.entries
    installed = [name for name in AUTO_PREFERENCE if entries.get(name) and entries[name].load is not None]
    assert resolve_backend_name("auto") == installed[0]
    assert resolve_backend_name("numpy") == "numpy"  # a named backend is never replaced
    assert RunSpec().backend == installed[0], "a run records the backend that runs it, not 'auto'"


def test_a_run_records_its_backend_and_data_folder(tmp_path):
    data = write_bars(tmp_path / "bars", 1)
    run = tmp_path / "run"
    assert cli.main([*TINY, "--data-dir", str(data), "--run-dir", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["arguments"]["backend"] == resolve_backend_name("auto")
    assert config["data"] == {"source": "idx", "folder": str(data.resolve())}


def test_resume_and_evaluate_use_the_runs_own_data(tmp_path, capsys):
    data, other = write_bars(tmp_path / "bars", 1), write_bars(tmp_path / "other", 7)
    run = tmp_path / "run"
    assert cli.main([*TINY, "--data-dir", str(data), "--run-dir", str(run), "--epochs", "1"]) == 0
    assert cli.main(["train", "--run-dir", str(run), "--resume", "--epochs", "2", "--quiet"]) == 0
    assert cli.main(["evaluate", str(run)]) == 0
    capsys.readouterr()
    assert cli.main(["train", "--run-dir", str(run), "--resume", "--epochs", "3", "--data-dir", str(other)]) == 2
    message = capsys.readouterr().err
    assert f"trained on the images in {data.resolve()}" in message and "--allow-data-change" in message
    assert cli.main(["evaluate", str(run), "--data-dir", str(other)]) == 2
    assert cli.main(["train", "--run-dir", str(run), "--resume", "--epochs", "3", "--data-dir", str(data),
                     "--quiet"]) == 0, "naming the run's own folder is fine"
    assert cli.main(["train", "--run-dir", str(run), "--resume", "--epochs", "4", "--data-dir", str(other),
                     "--allow-data-change", "--quiet"]) == 0


def test_an_interrupted_run_prints_the_command_that_resumes_it(tmp_path, monkeypatch, capsys, reproduce_data_args):
    data = write_bars(tmp_path / "bars", 1)
    run = tmp_path / "my run"
    assert cli.main([*TINY, "--data-dir", str(data), "--run-dir", str(run)]) == 0

    def interrupt(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("stochmem.runs.execute", interrupt)
    assert cli.main(["train", "--run-dir", str(run), "--resume", "--epochs", "2"]) == 130
    assert f"resume with: stochmem train --run-dir '{run}' --resume" in capsys.readouterr().err
    assert cli.main([*TINY, "--data-dir", str(data), "--run-dir", str(tmp_path / "new")]) == 130
    assert "before the first checkpoint: nothing to resume" in capsys.readouterr().err
    monkeypatch.setattr("stochmem.reproduce.run_experiment", interrupt)
    assert cli.main(["reproduce", "fig3", "--out", str(tmp_path / "out"), "--set", "train_size=60", "--set",
                     "test_size=40", *reproduce_data_args]) == 130
    assert "run the same command again to resume" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "evaluate", "reproduce"])
def test_help_shows_each_default_once(command, capsys):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text and "(default: False)" not in text
    assert not re.search(r"\(default [^)]*\) \(default:", text)


def test_threads_option_reaches_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    data = write_bars(tmp_path / "bars", 1)
    assert cli.main([*TINY, "--data-dir", str(data), "--threads", "1", "--backend", "numpy"]) == 0
    assert os.environ[THREADS_ENV] == "1"
    with pytest.raises(SystemExit):
        cli.main([*TINY, "--threads", "0"])


def test_default_threads_share_the_cpus_between_workers(monkeypatch):
    threads = pytest.importorskip("stochmem_numba.threads")
    monkeypatch.setattr(threads, "available_cpus", lambda: 4)
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert threads.requested_threads() == 4
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert threads.requested_threads() == 2
    monkeypatch.setenv(WORKERS_ENV, "8")
    assert threads.requested_threads() == 1, "never fewer than one"
    monkeypatch.setenv(THREADS_ENV, "3")
    assert threads.requested_threads() == 3, "an explicit count wins"
    monkeypatch.setenv(THREADS_ENV, "zero")
    with pytest.raises(threads.ThreadsError, match=THREADS_ENV):
        threads.requested_threads()


CONFIGURE = """
import os, numba
from stochmem.plugins import get_backend
backend = get_backend("numba")
print(backend.threads, numba.get_num_threads(), os.environ.get("OMP_WAIT_POLICY"))
"""


def test_numba_backend_takes_its_share_and_sleeps_when_idle():
    pytest.importorskip("numba")
    env = {k: v for k, v in os.environ.items() if k not in (THREADS_ENV, "OMP_WAIT_POLICY", "NUMBA_THREADING_LAYER")}
    env[WORKERS_ENV] = str(os.cpu_count() or 1)  # as many workers as CPUs: one thread each
    out = subprocess.run([sys.executable, "-c", CONFIGURE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1", "PASSIVE"]


INSTALLED_RUN = """
import numpy as np
from stochmem_numba.philox import philox
print(philox(np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4), np.uint64(5), np.uint64(6)))
"""


def listing(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def test_numba_caches_outside_the_installed_package_and_survives_a_reinstall(tmp_path):
    """Install the package (not editable), run a cached kernel, reinstall over it, run again: nothing is written
    into the installed package, the compile cache lands in the user cache folder, and the reinstall works."""
    pytest.importorskip("numba")
    pytest.importorskip("platformdirs")
    site, cache = tmp_path / "site", tmp_path / "cache"

    def install() -> None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                        "--no-index", "--upgrade", "--target", str(site), str(REPO_ROOT)], check=True,
                       capture_output=True, cwd=tmp_path)

    env = dict(os.environ, PYTHONPATH=str(site), XDG_CACHE_HOME=str(cache))
    env.pop("NUMBA_CACHE_DIR", None)
    for attempt in ("first install", "reinstall"):
        install()
        package = site / "stochmem_numba"
        before = listing(package)
        run = subprocess.run([sys.executable, "-c", INSTALLED_RUN], env=env, capture_output=True, text=True,
                             cwd=tmp_path)
        assert run.returncode == 0, f"{attempt}: {run.stderr[-2000:]}"
        assert listing(package) == before, f"{attempt}: the run wrote into the installed package"
        assert list(cache.glob("stochmem/numba/*/*/*.nbi")), f"{attempt}: no compile cache in the user cache"


def test_a_binary_file_given_to_reproduce_is_a_clear_error(tmp_path, capsys):
    binary = tmp_path / "weights.npz"
    binary.write_bytes(bytes(range(256)) * 4)
    assert cli.main(["reproduce", str(binary), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stochmem: error:") and "not a TOML experiment file" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists(), "nothing is written before the input is validated"


def test_conform_reports_its_own_config_and_data(tmp_path):
    """The report header names the suite's own settings file (not /dev/null) and the data the end-to-end tier uses."""
    env = {k: v for k, v in os.environ.items() if k != "STOCHMEM_DATA_DIR"}
    result = subprocess.run([sys.executable, "-m", "stochmem.cli", "conform", "reference", "--collect-only"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "dev/null" not in result.stdout
    assert "end-to-end data:" in result.stdout
