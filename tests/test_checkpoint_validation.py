"""A tampered or corrupt checkpoint is a clear error before any backend sees its arrays: never a native crash,
never a silently wrong accuracy, never another run's file."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest

from stochmem import cli

ARGS = ["train", "--kind", "memristive", "--sizes", "784-6-10", "--train-size", "30", "--test-size", "20",
        "--epochs", "1", "--checkpoint-every", "10", "--quiet"]


@pytest.fixture
def run(tmp_path, data_args):
    folder = tmp_path / "run"
    assert cli.main([*ARGS, *data_args, "--run-dir", str(folder), "--backend", "numba"]) == 0
    return folder


def rewrite_arrays(run_dir, change):
    """Apply ``change`` to the checkpoint's arrays and re-sign them (the SHA-256 then passes: only validation
    of the contents can catch the edit)."""
    document = json.loads((run_dir / "checkpoint.json").read_text())
    with np.load(run_dir / document["arrays"], allow_pickle=False) as stored:
        arrays = {name: stored[name].copy() for name in stored.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (run_dir / document["arrays"]).write_bytes(buffer.getvalue())
    document["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (run_dir / "checkpoint.json").write_text(json.dumps(document))


def edit_state(run_dir, **fields):
    document = json.loads((run_dir / "checkpoint.json").read_text())
    document["state"].update(fields)
    (run_dir / "checkpoint.json").write_text(json.dumps(document))


def fails_cleanly(capsys, argv, *expected):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("stochmem: error:") and "Traceback" not in err, err
    for text in expected:
        assert text in err, err


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a.update(weights_0=a["weights_0"][:, :-3]), "weights_0 has shape (6, 782), expected (6, 785)"),
    (lambda a: a.update(g_plus_1=np.zeros((3, 3))), "g_plus_1 has shape (3, 3), expected (10, 7)"),
    (lambda a: a["g_minus_0"].__setitem__((0, 0), 40.0), "g_minus_0 holds a level outside [0, 31]"),
    (lambda a: a["g_plus_0"].__setitem__((1, 1), -1.0), "g_plus_0 holds a level outside [0, 31]"),
    (lambda a: a["weights_1"].__setitem__((0, 0), np.nan), "weights_1 holds a value that is not finite"),
    (lambda a: a["weights_1"].__setitem__((0, 0), 5.0), "weights_1 are not dw_min (G+ - G-)"),
    (lambda a: a.pop("g_minus_1"), "g_minus_1"),
])
def test_tampered_arrays_are_refused_by_resume_and_evaluate(run, capsys, change, message):
    rewrite_arrays(run, change)
    fails_cleanly(capsys, ["train", "--run-dir", str(run), "--resume", "--epochs", "2", "--backend", "numba"],
                  message if message != "g_minus_1" else "g_minus_1")
    fails_cleanly(capsys, ["evaluate", str(run)], message)


def test_a_checkpoint_cannot_name_another_runs_file(run, tmp_path, capsys, data_args):
    other = tmp_path / "other"
    assert cli.main([*ARGS, *data_args, "--run-dir", str(other), "--backend", "numpy"]) == 0
    theirs = json.loads((other / "checkpoint.json").read_text())["arrays"]
    document = json.loads((run / "checkpoint.json").read_text())
    document["arrays"] = f"../other/{theirs}"
    (run / "checkpoint.json").write_text(json.dumps(document))
    fails_cleanly(capsys, ["train", "--run-dir", str(run), "--resume", "--epochs", "2"],
                  "checkpoint.json: arrays = '../other/checkpoint-")
    assert (other / theirs).is_file(), "the other run's arrays must never be deleted"


@pytest.mark.parametrize(("fields", "message"), [
    ({"epoch": -1}, "state.epoch = -1"),
    ({"position": -5}, "state.position = -5"),
    ({"mistakes": 10**6}, "state.mistakes"),
    ({"loss_sum": "nan"}, "state.loss_sum"),
    ({"position": 10**6}, "beyond the epoch's 30 training images"),
])
def test_out_of_range_counters_are_refused(run, capsys, fields, message):
    edit_state(run, **fields)
    fails_cleanly(capsys, ["train", "--run-dir", str(run), "--resume", "--epochs", "2"], message)


def test_edited_sizes_in_config_json_are_refused_by_evaluate(run, capsys):
    config = json.loads((run / "config.json").read_text())
    config["arguments"]["sizes"] = [784, 9, 10]
    (run / "config.json").write_text(json.dumps(config))
    fails_cleanly(capsys, ["evaluate", str(run)], "config.json: network does not match the network the arguments")
    config["network"]["sizes"] = [784, 9, 10]  # both records edited alike: the checkpoint's shapes give it away
    (run / "config.json").write_text(json.dumps(config))
    fails_cleanly(capsys, ["evaluate", str(run)], "weights_0 has shape (6, 785), expected (9, 785)")


def test_a_config_json_outside_its_schema_is_refused(run, capsys):
    config = json.loads((run / "config.json").read_text())
    config["network"]["device"]["levels"] = 1.5
    (run / "config.json").write_text(json.dumps(config))
    fails_cleanly(capsys, ["evaluate", str(run)], "config.json: network.device.levels = 1.5 is invalid")
