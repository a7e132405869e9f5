"""The paths a run takes when something goes wrong: each ends in one clear line and a documented exit code, and
nothing is lost (issue 12's list of paths no test reached)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from stochmem import cli, plugins
from stochmem.config import ConfigError

from .conftest import REPO_ROOT

TINY = ["train", "--kind", "float", "--sizes", "784-8-10", "--train-size", "60", "--test-size", "30", "--quiet"]


def run_cli(*args: str, output: int = subprocess.PIPE) -> subprocess.Popen[str]:
    """``stochmem ARGS`` in a new process group (so the test can kill it whole, helpers included)."""
    return subprocess.Popen([sys.executable, "-m", "stochmem.cli", *args], text=True, stdout=output, stderr=output,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), start_new_session=True)


def test_train_on_the_embedded_digits(capsys):
    from stochmem.data import DataError
    from stochmem.embedded import embedded_path

    try:
        embedded_path()
    except DataError as error:
        pytest.skip(f"the [embedded] extra is not installed: {error}")
    assert cli.main([*TINY, "--data", "embedded"]) == 0
    assert capsys.readouterr().out.startswith("test accuracy ")


def test_resume_of_a_run_stopped_before_its_first_checkpoint_starts_it_over(tmp_path, data_args, capsys):
    run = tmp_path / "run"
    whole = tmp_path / "whole"
    assert cli.main([*TINY, *data_args, "--run-dir", str(whole)]) == 0
    expected = capsys.readouterr().out
    assert cli.main([*TINY, *data_args, "--run-dir", str(run)]) == 0
    (run / "checkpoint.json").unlink()  # as if killed after config.json was written, before any checkpoint
    for npz in run.glob("checkpoint-*.npz"):
        npz.unlink()
    capsys.readouterr()
    assert cli.main(["train", "--run-dir", str(run), "--resume", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "has no checkpoint yet: training its run from the start" in out
    assert out.splitlines()[-1] == expected.strip(), "the restarted run must end where an undisturbed one does"


def test_a_backend_without_the_kind_is_refused_before_training(monkeypatch, data_args, capsys):
    monkeypatch.setenv("STOCHMEM_PLUGINS", "tests.plugins_fixtures.float_only")
    plugins.default_host.cache_clear()
    try:
        assert cli.main([*TINY, "--kind", "memristive", "--backend", "float-only", *data_args]) == 2
    finally:
        plugins.default_host.cache_clear()
    err = capsys.readouterr().err
    assert err.startswith("stochmem: error: backend 'float-only' does not implement the memristive kind"), err
    assert "Traceback" not in err


def test_a_backend_whose_load_fails_is_one_line(monkeypatch, data_args, capsys):
    monkeypatch.setenv("STOCHMEM_PLUGINS", "tests.plugins_fixtures.float_only")
    plugins.default_host.cache_clear()
    try:
        assert cli.main([*TINY, "--backend", "fails-to-load", *data_args]) == 2
    finally:
        plugins.default_host.cache_clear()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fails-to-load" in err and "Traceback" not in err, err


def test_debug_shows_the_traceback(capsys):
    assert cli.main(["train", "--seed", "-1"]) == 2
    assert capsys.readouterr().err.startswith("stochmem: error: --seed = -1 is invalid")
    with pytest.raises(ConfigError, match="--seed = -1"):
        cli.main(["--debug", "train", "--seed", "-1"])


def test_a_full_disk_names_the_file_and_keeps_the_last_checkpoint(tmp_path, data_args, monkeypatch, capsys):
    run = tmp_path / "run"
    assert cli.main([*TINY, *data_args, "--epochs", "1", "--run-dir", str(run)]) == 0
    kept = json.loads((run / "checkpoint.json").read_text())

    def full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    capsys.readouterr()
    assert cli.main(["train", "--run-dir", str(run), "--resume", "--epochs", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stochmem: error: cannot write {run}") and "No space left on device" in err, err
    monkeypatch.undo()
    assert json.loads((run / "checkpoint.json").read_text()) == kept, "the last good checkpoint must survive"
    assert not list(run.glob(".*.tmp")), "a failed write leaves no temporary file"
    assert cli.main(["train", "--run-dir", str(run), "--resume", "--epochs", "2", "--quiet"]) == 0


def write_experiment(path, runs: int) -> None:
    lines = ['name = "crash"', "version = 1", 'title = "worker crash"', "[defaults]", 'kind = "memristive"',
             'backend = "reference"', 'sizes = "784-8-10"', "train_size = 300", "test_size = 30", "epochs = 3"]
    for k in range(runs):
        lines += ["[[runs]]", f'label = "seed {k + 1}"', f"seed = {k + 1}"]
    path.write_text("\n".join(lines) + "\n")


def test_an_interrupted_reproduce_resumes_bit_identical(tmp_path, reproduce_data_args):
    config = tmp_path / "crash.toml"
    write_experiment(config, 1)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert cli.main(["reproduce", str(config), "--out", str(whole), "--quiet", *reproduce_data_args]) == 0
    process = run_cli("reproduce", str(config), "--out", str(broken), *reproduce_data_args,
                      output=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(broken.glob("crash/*/checkpoint.json")):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the whole job at once, helper processes too, as a power cut would
    process.wait()
    state = json.loads(next(broken.glob("crash/*/checkpoint.json")).read_text())["state"]
    assert state["epoch"] < 3, "the run finished before it could be killed: the test proved nothing"
    assert cli.main(["reproduce", str(config), "--out", str(broken), "--quiet", *reproduce_data_args]) == 0
    rows = [json.loads((folder / "crash" / "summary.json").read_text())["runs"][0] for folder in (whole, broken)]
    assert rows[0]["test_accuracy"] == rows[1]["test_accuracy"] and rows[0]["train_error"] == rows[1]["train_error"]
