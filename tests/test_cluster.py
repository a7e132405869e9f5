"""Reproductions on Dask: the same results on any cluster, a killed worker survived, a failing run isolated."""

from __future__ import annotations

import json
import logging
import os
import signal
import time

import pytest

from stochmem import cli, rundir
from stochmem.config import to_dict

from .test_failure_paths import run_cli, write_experiment
from .test_reproduce import SMALL, summary
from .test_rundir import final_arrays, without_seconds


def figures(out, name):
    """Every run's label, seed and per-epoch figures, and every setting's statistics (no timings)."""
    result = summary(out, name)
    runs = [(r["label"], r["seed"], r["test_accuracy"], r["train_error"], r.get("noisy")) for r in result["runs"]]
    settings = [{k: v for k, v in s.items() if k != "seconds"} for s in result["settings"]]
    return runs, settings


def test_a_scheduler_address_and_the_local_default_give_identical_results(tmp_path, reproduce_data_args):
    from distributed import LocalCluster

    common = ["reproduce", "fig4", *SMALL, "--set", "seeds=1,2,3", *reproduce_data_args, "--quiet"]
    assert cli.main([*common, "--out", str(tmp_path / "local")]) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.CRITICAL) as cluster:
        assert cli.main([*common, "--out", str(tmp_path / "remote"), "--scheduler", cluster.scheduler_address]) == 0
    local, remote = figures(tmp_path / "local", "fig4"), figures(tmp_path / "remote", "fig4")
    assert local == remote
    runs, settings = local
    assert len(runs) == 21 and len(settings) == 7 and all(s["seeds"] == [1, 2, 3] for s in settings)
    table = (tmp_path / "local" / "fig4" / "summary.md").read_text()
    assert "95 % confidence interval" in table and "| sigma=0.1B | 3 | 95.31 |" in table


def test_a_killed_worker_costs_only_its_runs_progress(tmp_path, reproduce_data_args):
    config = tmp_path / "crash.toml"
    write_experiment(config, 2)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert cli.main(["reproduce", str(config), "--out", str(whole), "--quiet", *reproduce_data_args]) == 0
    process = run_cli("reproduce", str(config), "--out", str(broken), "--workers", "2", *reproduce_data_args)
    try:
        killed = kill_a_worker_mid_run(broken / "crash")
        _out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:  # the test failed early: stop the reproduction and its workers
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    if not killed:
        pytest.skip("no run was in progress when the test looked: it proved nothing")
    assert process.returncode == 0, err
    assert "Traceback" not in err
    for name in ("seed_1", "seed_2"):
        (arrays_whole, state_whole), (arrays_broken, state_broken) = (final_arrays(f / "crash" / name)
                                                                      for f in (whole, broken))
        assert without_seconds(state_whole) == without_seconds(state_broken), name
        assert arrays_whole.keys() == arrays_broken.keys()
        assert all((arrays_whole[k] == arrays_broken[k]).all() for k in arrays_whole), f"{name}: not bit-identical"
    log = (broken / "crash" / killed[0] / "log.txt").read_text()
    assert "resuming at epoch" in log, "the killed run was restarted from scratch instead of its checkpoint"


def kill_a_worker_mid_run(experiment_dir, timeout=300.0):
    """SIGKILL the Dask worker training a run that has checkpointed but not finished; the names of the runs whose
    worker was killed (none if no run was caught in the middle)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for holder in experiment_dir.glob(f"*/{rundir.HOLDER_NAME}"):
            try:
                state = json.loads((holder.parent / "checkpoint.json").read_text())["state"]
                pid = json.loads(holder.read_text())["pid"]
            except (OSError, ValueError, KeyError):
                continue  # not checkpointed yet, or a file being replaced: look again
            if state["epoch"] < 3:
                os.kill(pid, signal.SIGKILL)  # a Dask worker dies, as under the OOM killer
                return [holder.parent.name]
        if len(list(experiment_dir.glob("*/checkpoint.json"))) == 2 and not list(
                experiment_dir.glob(f"*/{rundir.HOLDER_NAME}")):
            return []  # both runs finished before one could be caught
        time.sleep(0.05)
    return []


def test_a_run_that_fails_is_reported_once_and_the_others_finish(tmp_path, reproduce_data_args, capsys):
    config = tmp_path / "crash.toml"
    write_experiment(config, 2)
    out = tmp_path / "out"
    args = ["reproduce", str(config), "--out", str(out), "--workers", "2", *reproduce_data_args]
    assert cli.main([*args, "--set", "epochs=1", "--quiet"]) == 0
    damaged = out / "crash" / "seed_2"
    arrays = json.loads((damaged / "checkpoint.json").read_text())["arrays"]
    (damaged / arrays).write_bytes(b"not an npz file")  # a real failure, found only when the run loads it
    capsys.readouterr()
    assert cli.main([*args, "--set", "epochs=2"]) == 1
    err = capsys.readouterr().err
    assert err.count("crash/seed 2") == 1 and "seed_2" in err and "Traceback" not in err, err
    result = summary(out, "crash")
    assert [row["label"] for row in result["runs"]] == ["seed 1"] and len(result["runs"][0]["test_accuracy"]) == 2
    assert list(result["failed"]) == ["seed 2"]
    assert "Failed runs" in (out / "crash" / "summary.md").read_text()


def test_a_dry_run_lists_runs_and_folders_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["reproduce", "fig4", "--sweep", "seed=1,2", "--dry-run", "--out", str(out),
                     "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert "14 runs would run on a local Dask cluster of 2 worker processes" in text
    assert f"sigma=0.1B seed=2  ->  {out / 'fig4' / 'sigma_0.1B_seed_2'}  (new)" in text
    assert not out.exists()
    assert cli.main(["reproduce", "fig4", "--dry-run", "--scheduler", "tcp://10.1.2.3:8786"]) == 0
    assert "on the Dask cluster at tcp://10.1.2.3:8786" in capsys.readouterr().out


def test_an_unreachable_scheduler_is_exit_code_3_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STOCHMEM_SCHEDULER", "tcp://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setattr("stochmem.cluster.CONNECT_TIMEOUT", "2s")
    assert cli.main(["reproduce", "fig4", *SMALL, "--out", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("stochmem: error: cannot start or reach the Dask cluster at tcp://127.0.0.1:9")
    assert len(err.strip().splitlines()) == 1


def test_everything_is_checked_before_any_work_starts(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    config = tmp_path / "other.toml"
    config.write_text('name = "fig4"\n[[runs]]\nlabel = "x"\n')
    assert cli.main(["reproduce", "fig4", str(config), "--out", str(out)]) == 2
    assert "two experiments are named 'fig4'" in capsys.readouterr().err
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    assert cli.main(["reproduce", "fig4", *SMALL, "--out", str(out), "--data-dir", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stochmem: error:") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists(), "nothing is written before the data is found"
    folder = out / "fig4" / "sigma_0"  # a run started with another configuration and never checkpointed
    folder.mkdir(parents=True)
    other = other_spec("fig4", ["lr=0.3"])
    rundir.start(folder, {"arguments": other.to_json(), "network": to_dict(other.network_config()),
                          "data": {"source": "mnist", "folder": None}, "checkpoint_every": 10000}, {})
    monkeypatch.setenv("STOCHMEM_SCHEDULER", "not an address")
    assert cli.main(["reproduce", "fig4", *SMALL, "--out", str(out)]) == 2
    assert "holds a different run" in capsys.readouterr().err
    folder.joinpath("config.json").unlink()
    assert cli.main(["reproduce", "fig4", *SMALL, "--out", str(out)]) == 3  # a malformed address: one line
    err = capsys.readouterr().err
    assert "cannot start or reach the Dask cluster at not an address" in err and len(err.strip().splitlines()) == 1


def other_spec(name, overrides):
    from stochmem.reproduce import load_experiment

    return load_experiment(name, [*SMALL[1::2], *overrides]).runs[0].spec
