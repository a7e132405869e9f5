"""Fuzzing the parsers and loaders: every input is either accepted as genuinely valid or refused with the
documented error type (ConfigError, DataError, RunDirError), never another exception.

The default suite runs a few hundred examples per parser; ``pytest -m fuzz`` (``tox -e fuzz``) runs 10,000 each.
"""

from __future__ import annotations

import gzip
import json
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stochmem.config import ConfigError
from stochmem.data import DataError, read_idx
from stochmem.reproduce import load_experiment
from stochmem.rundir import RunDirError, load_state

FUZZ_EXAMPLES = 10_000 if os.environ.get("STOCHMEM_FUZZ") else 150
fuzz_settings = settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

KEYS = ["kind", "sizes", "bl", "lr", "lr_decay", "levels", "on_off", "sigma", "reset_every", "noise_mode", "w_max",
        "epochs", "train_size", "test_size", "seed", "data", "backend", "device.levels", "device.sigma",
        "network.sizes", "evaluation.repeats", "evaluation.noise_variances", "nonsense", ""]
VALUES = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.text(max_size=12), st.sampled_from(["784-16-10", "[1, 2]", "[]", "{a = 1}", "inf", "nan", "true", "'x'",
                                           "[[1]]", "-1", "1e400", "[784, 0, 10]", "event", "pulse", "auto"]))


@fuzz_settings
@given(overrides=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=4))
def test_experiment_overrides_are_valid_or_a_config_error(overrides):
    texts = [f"{key}={value}" for key, value in overrides]
    try:
        experiment = load_experiment("fig4", texts)
    except ConfigError:
        return
    for run in experiment.runs:  # accepted: genuinely valid
        assert run.spec.epochs >= 1 and all(size >= 1 for size in run.spec.sizes)


TOML_LINES = st.sampled_from([
    'name = "x"', "name = 3", 'name = "../up"', "version = -1", 'title = "t"', "[defaults]", "epochs = 1",
    "epochs = 0", 'kind = "float"', "sigma = -1.0", "sizes = [784, 10]", 'sizes = "a-b"', "[[runs]]",
    'label = "a"', "label = 1", "paper = 95.0", 'paper = "x"', "read_bl = [10, 100]", "read_bl = [-1]",
    "paper_drop = [1.0, 2.0]", "[evaluation]", "repeats = 2", "noise_variances = [0.0, 0.1]",
    "noise_variances = [-1]", "x = {", "= 1", '"\\u0000" = 1', "[runs]", "bl = 3.5", "seed = 18446744073709551616"])


@fuzz_settings
@given(lines=st.lists(TOML_LINES, max_size=12))
def test_experiment_files_are_valid_or_a_config_error(tmp_path, lines):
    path = tmp_path / "experiment.toml"
    path.write_text("\n".join(lines) + "\n")
    try:
        experiment = load_experiment(str(path))
    except ConfigError:
        return
    assert experiment.runs and all(run.label for run in experiment.runs)  # accepted: genuinely valid


def idx_blob(draw_header: tuple[int, int, int, int], dims: list[int], payload: bytes) -> bytes:
    return bytes(draw_header) + b"".join(struct.pack(">I", d) for d in dims) + payload


@fuzz_settings
@given(header=st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from([8, 9, 13]), st.integers(0, 4)),
       dims=st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 6), max_size=4),
       payload=st.binary(max_size=64), compressed=st.booleans(), cut=st.integers(0, 80))
def test_idx_files_are_valid_or_a_data_error(tmp_path, header, dims, payload, compressed, cut):
    blob = idx_blob(header, dims, payload)
    if compressed:
        blob = gzip.compress(blob, mtime=0)
    blob = blob[: len(blob) - cut] if cut < len(blob) else blob
    path = tmp_path / ("file.gz" if compressed else "file")
    path.write_bytes(blob)
    try:
        found, data = read_idx(path, 3)
    except DataError:
        return
    assert len(found) == 3 and len(data) == found[0] * found[1] * found[2]  # accepted: genuinely valid


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=3), max_leaves=8)


@fuzz_settings
@given(state=st.fixed_dictionaries({}, optional={"epoch": JSON_VALUES, "position": JSON_VALUES,
                                                 "loss_sum": JSON_VALUES, "mistakes": JSON_VALUES,
                                                 "results": JSON_VALUES}),
       extra=st.dictionaries(st.sampled_from(["format", "version", "arrays", "sha256", "crossbars"]), JSON_VALUES))
def test_checkpoint_documents_are_valid_or_a_run_dir_error(tmp_path, state, extra):
    document = {"format": "stochmem-checkpoint", "version": 1, "arrays": "checkpoint-0000000010.npz",
                "sha256": "0" * 64, "crossbars": 2, "state": state, **extra}
    (tmp_path / "checkpoint.json").write_text(json.dumps(document))
    try:
        loaded = load_state(tmp_path)
    except RunDirError:
        return
    assert loaded.epoch >= 0 and 0 <= loaded.mistakes <= loaded.position and len(loaded.results) == loaded.epoch


VALID_CONFIG = {"arguments": {"kind": "memristive", "sizes": [784, 16, 10], "bl": 10, "seed": 3},
                "network": {"kind": "memristive", "sizes": [784, 16, 10], "bit_length": 10, "lr": 0.1,
                            "lr_decay": 0.9, "device": {"levels": 32, "on_off": 15.0, "sigma": 0.1,
                                                        "reset_every": 15, "noise_mode": "event", "w_max": 1.0}},
                "data": {"source": "mnist", "folder": "/data/mnist"}, "checkpoint_every": 100}
CONFIG_PATHS = [("arguments", "kind"), ("arguments", "sizes"), ("arguments", "bl"), ("arguments", "seed"),
                ("arguments", "sigma"), ("arguments", "nonsense"), ("network", "sizes"), ("network", "lr"),
                ("network", "device"), ("data", "source"), ("data", "folder"), ("checkpoint_every",), ("extra",),
                ("network", "device", "levels"), ("network", "device", "noise_mode")]


@fuzz_settings
@given(edits=st.lists(st.tuples(st.sampled_from(CONFIG_PATHS), JSON_VALUES), max_size=3))
def test_config_files_are_valid_or_a_run_dir_error(tmp_path, edits):
    """A run directory's config.json, edited at random: read_spec accepts it only if it is genuinely valid (a
    RunSpec whose network is the one the file records), else a RunDirError names the file."""
    import copy

    from stochmem.runs import RunSpec, read_spec

    document = copy.deepcopy(VALID_CONFIG)
    for path, value in edits:
        target = document
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
    (tmp_path / "config.json").write_text(json.dumps(document))
    try:
        spec = read_spec(tmp_path)
    except RunDirError as error:
        assert str(tmp_path / "config.json") in str(error)
        return
    assert isinstance(spec, RunSpec) and spec == RunSpec.from_json(document["arguments"])


@pytest.mark.fuzz
def test_the_long_fuzz_run_is_selected_by_its_marker():
    """``pytest -m fuzz`` is run with STOCHMEM_FUZZ=1 (tox -e fuzz), which raises every parser to 10,000 inputs."""
    assert os.environ.get("STOCHMEM_FUZZ"), "run the fuzz tier as: STOCHMEM_FUZZ=1 pytest -m 'fuzz or not slow'"
