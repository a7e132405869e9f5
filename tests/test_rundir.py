"""Run directories: atomic checkpoints, validation, and a killed run that resumes bit-identical."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from stochmem import cli, rundir

from .conftest import REPO_ROOT

ARGS = ["train", "--kind", "memristive", "--sizes", "784-16-10", "--train-size", "120", "--test-size", "50",
        "--epochs", "2", "--sigma", "0.3", "--reset-every", "7", "--checkpoint-every", "10"]


def final_arrays(run_dir):
    document = json.loads((run_dir / "checkpoint.json").read_text())
    with np.load(run_dir / document["arrays"], allow_pickle=False) as arrays:
        return {name: arrays[name].copy() for name in arrays.files}, document["state"]


def without_seconds(state):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in state["results"]]


def test_a_killed_run_resumes_bit_identical(tmp_path, data_args):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    common = [*ARGS, *data_args, "--backend", "reference"]
    assert cli.main([*common, "--run-dir", str(whole), "--quiet"]) == 0

    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    process = subprocess.Popen([sys.executable, "-m", "stochmem.cli", *common, "--run-dir", str(broken)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (broken / "checkpoint.json").exists():
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)  # no clean-up, as a power cut or an OOM kill would do
    process.wait()
    interrupted = json.loads((broken / "checkpoint.json").read_text())["state"]
    assert interrupted["epoch"] < 2, "the run finished before it could be killed: the test proved nothing"

    assert cli.main(["train", "--run-dir", str(broken), "--resume", *data_args, "--quiet"]) == 0
    arrays_whole, state_whole = final_arrays(whole)
    arrays_resumed, state_resumed = final_arrays(broken)
    assert arrays_whole.keys() == arrays_resumed.keys()
    for name in arrays_whole:
        assert np.array_equal(arrays_whole[name], arrays_resumed[name]), f"{name} differs after resuming"
    assert without_seconds(state_whole) == without_seconds(state_resumed)
    assert len(list(broken.glob("checkpoint-*.npz"))) == 1 and not list(broken.glob(".*.tmp"))
    assert (broken / "metrics.csv").read_text().count("\n") == 3


def test_a_finished_run_extended_to_more_epochs_equals_the_longer_run(tmp_path, data_args, capsys):
    whole, short = tmp_path / "whole", tmp_path / "short"
    common = [*ARGS, *data_args, "--backend", "numpy", "--quiet"]
    assert cli.main([*common, "--run-dir", str(whole)]) == 0
    assert cli.main([*common, "--epochs", "1", "--run-dir", str(short)]) == 0
    resume = ["train", "--run-dir", str(short), "--resume", *data_args, "--quiet"]
    assert cli.main([*resume, "--epochs", "2"]) == 0
    arrays_whole, state_whole = final_arrays(whole)
    arrays_extended, state_extended = final_arrays(short)
    for name in arrays_whole:
        assert np.array_equal(arrays_whole[name], arrays_extended[name]), f"{name} differs after extending"
    assert without_seconds(state_whole) == without_seconds(state_extended)
    assert rundir.read_config(short)["arguments"]["epochs"] == 2
    assert "extended from 1 to 2 epochs" in (short / "log.txt").read_text()
    capsys.readouterr()
    assert cli.main([*resume, "--epochs", "1"]) == 2  # shortening would lose finished epochs
    assert "already finished 2 epochs" in capsys.readouterr().err


def test_an_existing_run_is_never_overwritten(tmp_path, data_args, capsys):
    common = [*ARGS, "--epochs", "1", "--train-size", "20", *data_args, "--backend", "numpy",
              "--run-dir", str(tmp_path / "run")]
    assert cli.main(common) == 0
    assert cli.main(common) == 2
    assert "already holds a run; continue it with --resume" in capsys.readouterr().err


def test_corrupt_checkpoint_is_detected(tmp_path, data_args, capsys):
    run = tmp_path / "run"
    assert cli.main([*ARGS, "--epochs", "1", "--train-size", "20", *data_args,
                     "--backend", "numpy", "--run-dir", str(run)]) == 0
    npz = next(run.glob("checkpoint-*.npz"))
    blob = bytearray(npz.read_bytes())
    blob[200] ^= 0xFF
    npz.write_bytes(bytes(blob))
    with pytest.raises(rundir.RunDirError, match="SHA-256 does not match"):
        rundir.load_checkpoint(run)
    assert cli.main(["train", "--run-dir", str(run), "--resume", *data_args]) == 2
    assert "corrupt" in capsys.readouterr().err


def test_resume_without_a_run_says_what_is_missing(tmp_path, capsys):
    assert cli.main(["train", "--resume"]) == 2
    assert "--resume needs --run-dir" in capsys.readouterr().err
    assert cli.main(["train", "--resume", "--run-dir", str(tmp_path)]) == 2
    assert "config.json not found" in capsys.readouterr().err


def test_run_dir_records_config_versions_and_log(tmp_path, data_args):
    run = tmp_path / "run"
    assert cli.main([*ARGS, "--epochs", "1", "--train-size", "20", *data_args,
                     "--backend", "numpy", "--run-dir", str(run), "--quiet"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["arguments"]["kind"] == "memristive" and config["network"]["device"]["sigma"] == 0.3
    info = json.loads((run / "versions.json").read_text())
    assert info["backend"] == "numpy" and info["numpy"] == np.__version__
    assert "test accuracy" in (run / "log.txt").read_text()


def test_evaluate_a_trained_run_on_noisy_inputs(tmp_path, data_args, capsys):
    run = tmp_path / "run"
    assert cli.main([*ARGS, "--epochs", "1", "--train-size", "100", *data_args,
                     "--backend", "numpy", "--run-dir", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(run), "--input-noise", "0", "0.2", "--bl", "100", "--repeats", "3"]) == 0
    out = capsys.readouterr().out
    assert "read with BL=100, 3 repeat(s)" in out and "input noise variance 0.2" in out
    rows = json.loads((run / "evaluations.json").read_text())
    assert [r["noise_variance"] for r in rows] == [0.0, 0.2] and all(len(r["accuracies"]) == 3 for r in rows)
    assert rows[1]["std_accuracy"] > 0.0  # independent noise and stream draws per repeat
    assert cli.main(["evaluate", str(run), "--repeats", "0"]) == 2


def test_progress_line_only_on_a_terminal(monkeypatch, capsys):
    from stochmem.runs import ProgressLine
    from stochmem.training import TrainingState

    state = TrainingState(mistakes=1)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    ProgressLine(2, state, enabled=True)(4, 4)
    assert capsys.readouterr().err == ""  # logs and CI get no carriage-return noise
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    ProgressLine(2, state, enabled=True)(4, 4)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "4/4 images" in err and "training accuracy  75.0 %" in err
    ProgressLine(2, state, enabled=False)(4, 4)
    assert capsys.readouterr().err == ""


def test_a_run_directory_has_one_writer(tmp_path, data_args, capsys):
    """A second writer is refused with the holder named; the lock dies with its process (no stale lock)."""
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from stochmem import rundir\n"
         "with rundir.locked(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)", str(run)],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        (run / ".checkpoint.json.abc.tmp").write_text("left by a killed write")
        assert cli.main([*ARGS, "--epochs", "1", "--train-size", "20", *data_args, "--backend", "numpy",
                         "--run-dir", str(run), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert f"{run} is in use by process {holder.pid}" in err and "Traceback" not in err
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding the lock, as a crash would
        holder.communicate()
    assert cli.main([*ARGS, "--epochs", "1", "--train-size", "20", *data_args, "--backend", "numpy",
                     "--run-dir", str(run), "--quiet"]) == 0, "a dead holder's lock must not block the next run"
    assert not list(run.glob(".*.tmp")), "leftover temporary files are removed on the next start"
